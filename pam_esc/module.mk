# pam_esc/: the PAM module. Links common/ only (never libcurl, libxml2 or NSS).
# Only pam_sm_* are exported: pam_esc objects are built with hidden visibility and the
# symbols of the static common library are kept out of the dynamic table (--exclude-libs), so
# the module can never interpose on (or be interposed by) the application's own symbols.
PAM_SRC := $(wildcard pam_esc/*.c)
PAM_OBJ := $(PAM_SRC:%.c=$(BUILD)/obj/%.o)
$(BUILD)/obj/pam_esc/%.o: MOD_CFLAGS = $(PCSC_CFLAGS) -fvisibility=hidden

$(BUILD)/pam_esc.so: $(PAM_OBJ) $(COMMON_LIB)
	$(CC) -shared -Wl,-z,defs -Wl,-z,now -Wl,--as-needed -Wl,--exclude-libs,ALL $(BASE_LDFLAGS) -o $@ $(PAM_OBJ) $(COMMON_LIB) $(COMMON_LIBS) -lpam
all: $(BUILD)/pam_esc.so
