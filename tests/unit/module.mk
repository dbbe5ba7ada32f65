# tests/unit: one program per test_*.c; each links every library of the project.
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
$(BUILD)/obj/tests/unit/%.o: MOD_CFLAGS = $(PCSC_CFLAGS) $(CURL_CFLAGS) $(XML_CFLAGS) $(NSS_CFLAGS) $(SSL_CFLAGS) -Itests/lib -Iagent -Itests/vcard -Itests/tps

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(VCARD_LIB) $(TPS_LIB) $(AGENT_LIB) $(COMMON_LIB) $(TESTLIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(COMMON_LIBS) $(TESTLIB_LIBS) $(LDAP_LIBS) -lpam
all: $(UNIT_BINS)
# test_seat also tests pam_esc's pe_local (is this a login at the machine?)
$(BUILD)/tests/unit/test_seat: $(BUILD)/obj/pam_esc/pe_local.o
$(BUILD)/obj/tests/unit/test_seat.o: MOD_CFLAGS += -Ipam_esc
# test_pe_offer tests pam_esc's pe_offer (the renewal offer's "not now" memory)
$(BUILD)/tests/unit/test_pe_offer: $(BUILD)/obj/pam_esc/pe_offer.o
$(BUILD)/obj/tests/unit/test_pe_offer.o: MOD_CFLAGS += -Ipam_esc
# test_pe_cache tests pam_esc's decision cache
$(BUILD)/tests/unit/test_pe_cache: $(BUILD)/obj/pam_esc/pe_cache.o
$(BUILD)/tests/unit/test_pe_cache: AGENT_LIBS += $(COMMON_LIB)
$(BUILD)/obj/tests/unit/test_pe_cache.o: MOD_CFLAGS += -Ipam_esc
