# tests/fuzz: one libFuzzer program per fuzz_*.c, linked against every library of the project.
# Built only in the fuzz tree: make CC=clang SAN=fuzz BUILD=build/fuzz fuzzers
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/obj/tests/fuzz/%.o: MOD_CFLAGS = $(PCSC_CFLAGS) $(CURL_CFLAGS) $(XML_CFLAGS) $(NSS_CFLAGS) $(SSL_CFLAGS) -Itests/lib -Iagent -Itests/vcard -Itests/tps -Ipam_esc

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(VCARD_LIB) $(TPS_LIB) $(AGENT_LIB) $(COMMON_LIB) $(TESTLIB)
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(AGENT_LIBS) $(COMMON_LIBS) $(TESTLIB_LIBS) $(LDAP_LIBS) -lpam
.PHONY: fuzzers
fuzzers: $(FUZZ_BINS)
