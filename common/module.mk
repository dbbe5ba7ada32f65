# common/: what pam_esc and the agent both need. Knows neither PAM, libcurl, libxml2 nor NSS.
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
COMMON_LIB := $(BUILD)/libesccommon.a
COMMON_LIBS := $(PCSC_LIBS) $(ZLIB_LIBS)
$(BUILD)/obj/common/%.o: MOD_CFLAGS = $(PCSC_CFLAGS)

$(COMMON_LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
all: $(COMMON_LIB)
