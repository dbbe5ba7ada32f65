# tests/bench: benchmark programs (run by tests/bench/run-bench via `make bench`, never by make check).
#   bench_probe  the card probe in-process          bench_p11     coolkey's `-L` in-process
#   bench_pam    one timed pam_authenticate          bench_rusage  a command's wall time and own CPU
#   bench_insert wait for a card, then probe it (the peer of the session agent's insertion row)
$(BUILD)/obj/tests/bench/%.o: MOD_CFLAGS = $(PCSC_CFLAGS)
$(BUILD)/tests/bench/bench_probe: $(BUILD)/obj/tests/bench/bench_probe.o $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(COMMON_LIBS)
$(BUILD)/tests/bench/bench_insert: $(BUILD)/obj/tests/bench/bench_insert.o $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(COMMON_LIBS)
$(BUILD)/tests/bench/bench_pam: $(BUILD)/obj/tests/bench/bench_pam.o
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ -lpam
$(BUILD)/tests/bench/bench_p11: $(BUILD)/obj/tests/bench/bench_p11.o
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ -ldl
$(BUILD)/tests/bench/bench_rusage: $(BUILD)/obj/tests/bench/bench_rusage.o
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^
all: $(addprefix $(BUILD)/tests/bench/,bench_probe bench_insert bench_pam bench_p11 bench_rusage)
# bench_cpuclock: processes' exact CPU time (their CPU-time clocks); bench_relay: N APDUs relayed
# through the agent's TPS path or a bare SCardTransmit loop (for callgrind, tests/bench/bench-cost)
$(BUILD)/tests/bench/bench_cpuclock: $(BUILD)/obj/tests/bench/bench_cpuclock.o
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^
$(BUILD)/obj/tests/bench/bench_relay.o: MOD_CFLAGS = -Iagent $(PCSC_CFLAGS) $(CURL_CFLAGS)
$(BUILD)/tests/bench/bench_relay: $(BUILD)/obj/tests/bench/bench_relay.o $(BUILD)/libescengine.a $(BUILD)/libesccommon.a
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(COMMON_LIBS)
all: $(addprefix $(BUILD)/tests/bench/,bench_cpuclock bench_relay)
