# tests/lib: code shared by the virtual card and the reference TPS (GlobalPlatform
# secure channel crypto, the z0 object builder, the test CA). OpenSSL libcrypto is
# fine here: these are test tools, never linked into the product.
TESTLIB_SRC := $(wildcard tests/lib/*.c)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
TESTLIB     := $(BUILD)/libesctest.a
TESTLIB_LIBS := $(SSL_LIBS) $(ZLIB_LIBS)
$(BUILD)/obj/tests/lib/%.o: MOD_CFLAGS = $(SSL_CFLAGS) -Itests/lib

$(TESTLIB): $(TESTLIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
all: $(TESTLIB)
