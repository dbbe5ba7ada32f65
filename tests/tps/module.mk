# tests/tps: the reference TPS (HTTP/1.1 + TLS, the TPS wire protocol, LDAP bind, test CA).
# Everything but main_tps.c is a library so unit tests can reach its parts.
TPS_CORE_SRC := $(filter-out tests/tps/main_%.c,$(wildcard tests/tps/*.c))
TPS_CORE_OBJ := $(TPS_CORE_SRC:%.c=$(BUILD)/obj/%.o)
TPS_LIB  := $(BUILD)/libtps.a
LDAP_LIBS := -lldap -llber
SSLFULL_LIBS := $(call pc,--libs openssl)
$(BUILD)/obj/tests/tps/%.o: MOD_CFLAGS = $(SSL_CFLAGS) -Itests/lib -Itests/tps

$(TPS_LIB): $(TPS_CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/tests/tps: $(BUILD)/obj/tests/tps/main_tps.o $(TPS_LIB) $(COMMON_LIB) $(TESTLIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(SSLFULL_LIBS) $(TESTLIB_LIBS) $(LDAP_LIBS) $(COMMON_LIBS)
all: $(BUILD)/tests/tps
