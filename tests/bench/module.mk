# tests/bench: benchmark programs (run by tests/bench/run-bench, not by make check).
$(BUILD)/obj/tests/bench/%.o: MOD_CFLAGS = $(PCSC_CFLAGS)
$(BUILD)/tests/bench/bench_probe: $(BUILD)/obj/tests/bench/bench_probe.o $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(COMMON_LIBS)
all: $(BUILD)/tests/bench/bench_probe
