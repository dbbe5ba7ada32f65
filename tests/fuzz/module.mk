# tests/fuzz: one libFuzzer program per fuzz_*.c, linked against every library of the project.
# Built only in the fuzz tree: make CC=clang SAN=fuzz BUILD=build/fuzz fuzzers
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/obj/tests/fuzz/%.o: MOD_CFLAGS = $(PCSC_CFLAGS) $(CURL_CFLAGS) $(XML_CFLAGS) $(NSS_CFLAGS) $(SSL_CFLAGS) -Itests/lib -Iagent -Itests/vcard -Itests/tps -Ipam_esc

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(VCARD_LIB) $(TPS_LIB) $(AGENT_LIB) $(COMMON_LIB) $(TESTLIB)
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined $(FUZZ_LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(AGENT_LIBS) $(COMMON_LIBS) $(TESTLIB_LIBS) $(LDAP_LIBS) -lpam
# fuzz_tps_op drives the engine through a fake conversation: tps_op_run's call to tps_conv_run
# lands in the harness's __wrap_tps_conv_run. fuzz_pe_cfg takes pam_esc's option parser, which
# is no library of its own.
$(BUILD)/fuzz/fuzz_tps_op: FUZZ_LDFLAGS = -Wl,--wrap=tps_conv_run
$(BUILD)/fuzz/fuzz_pe_cfg: $(BUILD)/obj/pam_esc/pe_cfg.o
$(BUILD)/fuzz/fuzz_pe_cache: $(BUILD)/obj/pam_esc/pe_cache.o
.PHONY: fuzzers
fuzzers: $(FUZZ_BINS)
