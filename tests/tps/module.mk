# tests/tps: the reference TPS (HTTP/1.1 + TLS, the TPS wire protocol, LDAP bind, test CA).
# Everything but main_tps.c is a library so unit tests can reach its parts.
TPS_CORE_SRC := $(filter-out tests/tps/main_%.c,$(wildcard tests/tps/*.c))
TPS_CORE_OBJ := $(TPS_CORE_SRC:%.c=$(BUILD)/obj/%.o)
TPS_LIB  := $(BUILD)/libtps.a
SSLFULL_LIBS := $(call pc,--libs openssl)
# Every program that links $(TPS_LIB) (the TPS, unit tests, fuzzers) adds $(LDAP_LIBS): it
# carries all libtps needs beyond libcrypto/zlib, i.e. libldap and libssl (TLS server).
LDAP_LIBS := -lldap -llber $(SSLFULL_LIBS) -pthread
$(BUILD)/obj/tests/tps/%.o: MOD_CFLAGS = $(SSL_CFLAGS) $(PCSC_CFLAGS) -Itests/lib -Itests/tps

$(TPS_LIB): $(TPS_CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/tests/tps: $(BUILD)/obj/tests/tps/main_tps.o $(TPS_LIB) $(COMMON_LIB) $(TESTLIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(SSLFULL_LIBS) $(TESTLIB_LIBS) $(LDAP_LIBS) $(COMMON_LIBS)
all: $(BUILD)/tests/tps
# tps-client: a small ESC-like test client (HTTP/HTTPS, PC/SC card relay) for tests/integration.
$(BUILD)/tests/tps-client: $(BUILD)/obj/tests/tps/main_tpsclient.o $(TPS_LIB) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(SSLFULL_LIBS) $(COMMON_LIBS)
all: $(BUILD)/tests/tps-client
