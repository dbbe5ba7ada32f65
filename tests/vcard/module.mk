# tests/vcard: the virtual CoolKey card (vpcd client). Everything but main_vcard.c is
# a library so unit tests can drive the card without pcscd.
VCARD_CORE_SRC := $(filter-out tests/vcard/main_%.c,$(wildcard tests/vcard/*.c))
VCARD_CORE_OBJ := $(VCARD_CORE_SRC:%.c=$(BUILD)/obj/%.o)
VCARD_LIB := $(BUILD)/libvcard.a
$(BUILD)/obj/tests/vcard/%.o: MOD_CFLAGS = $(SSL_CFLAGS) -Itests/lib -Itests/vcard

$(VCARD_LIB): $(VCARD_CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/tests/vcard: $(BUILD)/obj/tests/vcard/main_vcard.o $(VCARD_LIB) $(TESTLIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(TESTLIB_LIBS)
all: $(BUILD)/tests/vcard
