# Every fuzz harness builds with libFuzzer+ASan+UBSan and survives a fixed number of runs
# (a count, not a time limit) from its seed corpus without a crash, leak or UB report.
. "$(dirname "$0")/../integration/lib.sh"
cd "$ESC_TOP"
RUNS=${FUZZ_RUNS:-20000}
if ! out=$(make -s -j2 CC=clang SAN=fuzz BUILD=build/fuzz fuzzers 2>&1); then
    fail "fuzz harnesses build" "$(echo "$out" | grep -m3 -E 'error|warning')"
    exit 0
fi
pass "fuzz harnesses build"
for f in build/fuzz/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    n=$(basename "$f")
    corpus=tests/fuzz/corpus/${n#fuzz_}
    work=$TMP/$n; mkdir -p "$work"
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
    runs=$RUNS
    # a run of this one connects a socket and steps an event loop (about 2 ms, 100x the
    # others): a fifth of the count keeps fuzz_smoke's time, the count is still fixed
    [ "$n" = fuzz_session_watch ] && runs=$((RUNS / 5))
    if out=$("$f" -runs="$runs" -max_len=8192 "$work" 2>&1); then
        pass "$n: $runs runs, no crash"
    else
        fail "$n" "$(echo "$out" | grep -m3 -E 'ERROR|SUMMARY|==')"
    fi
done
