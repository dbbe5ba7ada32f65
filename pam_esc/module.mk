# pam_esc/: the PAM module. Links common/ only (never libcurl, libxml2 or NSS).
PAM_SRC := $(wildcard pam_esc/*.c)
PAM_OBJ := $(PAM_SRC:%.c=$(BUILD)/obj/%.o)
$(BUILD)/obj/pam_esc/%.o: MOD_CFLAGS = $(PCSC_CFLAGS) -fvisibility=hidden

$(BUILD)/pam_esc.so: $(PAM_OBJ) $(COMMON_LIB)
	$(CC) -shared -Wl,-z,defs -Wl,--as-needed $(BASE_LDFLAGS) -o $@ $(PAM_OBJ) $(COMMON_LIB) $(COMMON_LIBS) -lpam
all: $(BUILD)/pam_esc.so
