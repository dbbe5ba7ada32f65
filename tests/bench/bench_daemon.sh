#!/usr/bin/env bash
# bench_daemon.sh --build DIR --out FILE: the session agent's rows of make bench (issue 12),
# on a rig of its own with 8 virtual readers (RIG_READERS=8), a private D-Bus session bus and a
# real notification server (dunst on Xvfb). Writes key=value lines to FILE (run-bench reads them):
#  - idle: esc-agent --session with the readers empty, after 3 s of start-up: VmRSS after
#    BENCH_IDLE_S (60) idle seconds, context switches of every thread during them
#    (/proc/PID/task/*/status), its threads and child processes then, and the system calls
#    strace -f sees over 10 more idle seconds;
#  - insertion: from the card's insertion (the virtual card's process started; it connects to
#    vpcd at once) to the session agent's "notified" event (logged when the notification server
#    has answered Notify), against bench_insert (a program waiting in SCardGetStatusChange, then
#    probe_card) on the same insertion; BENCH_INSERT_RUNS (10), medians;
#  - 8 cards: from 8 cards inserted at once (8 card processes started together) until the agent
#    has logged all 8 "insert" events (each written after the card's probe and Phone Home),
#    against 1 card the same way; BENCH_CARDS_RUNS (20) each, alternating, a random pause (0.1 to
#    0.5 s: pcscd's 400 ms look at each reader) before each insertion; medians. pcscd's look
#    at the readers (0 to 400 ms, another phase each run) is most of that time, what a user
#    waits for too: with 10 runs the median for one card moved from 124 to 278 ms between runs
#    of the same code, hence 20. The agent's own part is timed too, from the moment pcscd
#    reported the first card of the batch (bench_insert --seen watching the same readers) to
#    the last insert event (cards1_seen_us, cards8_seen_us).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$top/build OUT=
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$(cd "$2" && pwd) || exit 1; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: bench_daemon.sh --build DIR --out FILE" >&2; exit 2 ;;
    esac
done
[ -n "$OUT" ] || { echo "bench_daemon.sh: --out FILE" >&2; exit 2; }
export ESC_BUILD=$BUILD RIG_DIR=$BUILD/rig-bench-daemon
RIG=$top/tests/rig/rig
VCARD=$BUILD/tests/vcard
IDLE_S=${BENCH_IDLE_S:-60}
INS_RUNS=${BENCH_INSERT_RUNS:-10}
CARDS_RUNS=${BENCH_CARDS_RUNS:-20}
TMP=$(mktemp -d /tmp/esc-bench-daemon.XXXXXX)
PIDS=() DAEMON=
: >"$OUT"
put() { echo "$1=$2" >>"$OUT"; }
note() { echo "bench_daemon: $*" >&2; }
cleanup() {
    local p
    [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -f "$TMP/dbus.pid" ] && kill "$(cat "$TMP/dbus.pid")" 2>/dev/null
    "$RIG" down >/dev/null 2>&1
    if [ -n "${BENCH_KEEP:-}" ]; then echo "bench_daemon: raw data kept in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note "rig with 8 readers"
RIG_READERS=8 RIG_PCSCD_FLAGS= "$RIG" up >"$TMP/rig.log" 2>&1 || { note "rig up failed: $(tail -2 "$TMP/rig.log")"; exit 1; }
eval "$("$RIG" env)"
. "$RIG_DIR/rig.vars"
put load_start "$(cut -d' ' -f1-3 /proc/loadavg)"

# the session bus and a notification server on it
DBUS_SESSION_BUS_ADDRESS=$(dbus-daemon --session --fork --print-address=1 --print-pid=3 3>"$TMP/dbus.pid")
export DBUS_SESSION_BUS_ADDRESS
server=none
if command -v Xvfb >/dev/null && command -v dunst >/dev/null; then
    Xvfb -displayfd 3 -nolisten tcp 3>"$TMP/display" >/dev/null 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do [ -s "$TMP/display" ] && break; sleep 0.05; done
    DISPLAY=:$(cat "$TMP/display") dunst -conf /dev/null >/dev/null 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        busctl --user status org.freedesktop.Notifications >/dev/null 2>&1 && { server=dunst; break; }
        sleep 0.05
    done
fi
put notification_server "$server"

# slot N: its reader's name, port and card state (every card formatted: it gets a notification)
reader() { if [ "$1" -lt 2 ]; then echo "Rig Virtual PCD 00 0$1"; else echo "Rig Virtual PCD $(($1 / 2)) 00 0$(($1 % 2))"; fi; }
port() { if [ "$1" -lt 2 ]; then echo $((VPCD_PORT + $1)); else echo $((VPCD_PORT + 4 + 2 * ($1 / 2) + $1 % 2)); fi; }
state() { [ "$1" = 0 ] && echo "$RIG_DIR/card.state" || echo "$RIG_DIR/card$1.state"; }
for s in $(seq 0 7); do
    "$RIG" card --slot "$s" preset formatted >/dev/null 2>&1 || { note "preset on slot $s failed"; exit 1; }
done
for s in $(seq 0 7); do "$RIG" card --slot "$s" remove >/dev/null 2>&1; done
CARD_PIDS=()
insert() { # insert SLOT...: start the cards' processes (the insertion)
    local s
    for s in "$@"; do
        setsid "$VCARD" run --state "$(state "$s")" --port "$(port "$s")" >>"$RIG_DIR/logs/vcard.log" 2>&1 &
        CARD_PIDS+=($!)
    done
}
pull_all() { local p; for p in "${CARD_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; CARD_PIDS=(); }
now_us() { date +%s%6N; }

LOG=$TMP/state/esc/events.log
count() { cat "$LOG" 2>/dev/null | awk -v e="\"event\":\"$1\"" 'index($0, e) { n++ } END { print n + 0 }'; }
wait_count() { # wait_count EVENT N SECONDS
    local end=$((SECONDS + $3))
    until [ "$(count "$1")" -ge "$2" ]; do [ $SECONDS -lt $end ] || return 1; sleep 0.005; done
}
# last_ms EVENT K: the time (ms since the epoch) of the last of the last K such events
last_ms() { grep "\"event\":\"$1\"" "$LOG" | tail -n "$2" | sed 's/.*"time":"\([^"]*\)".*/\1/' | sort | tail -1 | xargs -I{} date -d {} +%s%3N; }
start_daemon() {
    local n; n=$(count reader_added)
    mkdir -p -m 0700 "$TMP/rt"
    env -i PATH=/usr/bin:/bin HOME="$TMP" XDG_RUNTIME_DIR="$TMP/rt" XDG_STATE_HOME="$TMP/state" \
        DBUS_SESSION_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS" ESC_CONF="$ESC_CONF" \
        PCSCLITE_CSOCK_NAME="$PCSCLITE_CSOCK_NAME" "$BUILD/esc-agent" --session >>"$TMP/agent.log" 2>&1 &
    DAEMON=$!
    wait_count reader_added $((n + 8)) 10
}
stop_daemon() { kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; DAEMON=; }
med() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'; }

# ---- idle --------------------------------------------------------------------------------------
note "idle agent, $IDLE_S s"
ctxt() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'; }
start_daemon || { note "the agent did not start: $(tail -2 "$TMP/agent.log")"; exit 1; }
sleep 3
c0=$(ctxt "$DAEMON")
sleep "$IDLE_S"
put idle_wake $(($(ctxt "$DAEMON") - c0))
put idle_rss "$(awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON/status")"
put idle_threads "$(awk '/^Threads:/ { print $2 }' "/proc/$DAEMON/status")"
put idle_children "$(pgrep -c -P "$DAEMON" || true)"
put idle_s "$IDLE_S"
if command -v strace >/dev/null; then
    timeout -s INT 10 strace -f -p "$DAEMON" -o "$TMP/strace.txt" 2>/dev/null
    put idle_syscalls "$(grep -vE 'restart_syscall\(<\.\.\. resuming|<detached \.\.\.>|^[0-9]+ +\+\+\+' "$TMP/strace.txt" | grep -c .)"
fi

# ---- insertion to notification vs. the probe alone ---------------------------------------------
# Both from the same insertion: bench_insert waits beside the agent (pcscd looks at a vpcd reader
# every 400 ms, so the moment it reports a card is a matter of phase; measured together, both
# see the same report). bench_insert probes at once; the agent's worker starts a moment later, so
# any wait for the card is the agent's. A random pause before each insertion spreads the phase.
note "insertion to notification, $INS_RUNS runs"
R0=$(reader 0)
pause() { sleep "0.$((RANDOM % 400 + 100))"; }
for _ in $(seq "$INS_RUNS"); do
    rm -f "$TMP/bi.err"
    "$BUILD/tests/bench/bench_insert" "$R0" >"$TMP/bi.out" 2>"$TMP/bi.err" &
    bp=$!
    for _ in $(seq 500); do grep -q ready "$TMP/bi.err" 2>/dev/null && break; sleep 0.01; done
    pause
    n=$(count notified)
    t0=$(now_us)
    insert 0
    if wait "$bp" && read -r seen probed _ <"$TMP/bi.out" && wait_count notified $((n + 1)) 10; then
        echo "$((seen - t0)) $((probed - t0))" >>"$TMP/peer"
        echo "$(($(last_ms notified 1) * 1000 - t0)) $(($(last_ms insert 1) * 1000 - t0))" >>"$TMP/ours"
    fi
    n=$(count remove)
    pull_all
    wait_count remove $((n + 1)) 10
done
put ins_ours_us "$(awk '{ print $1 }' "$TMP/ours" | med)"
put ins_ours_insert_us "$(awk '{ print $2 }' "$TMP/ours" | med)"
put ins_ours_n "$(wc -l <"$TMP/ours")"
put ins_peer_us "$(awk '{ print $2 }' "$TMP/peer" | med)"
put ins_peer_seen_us "$(awk '{ print $1 }' "$TMP/peer" | med)"
put ins_probe_us "$(awk '{ print $2 - $1 }' "$TMP/peer" | med)"
put ins_peer_n "$(wc -l <"$TMP/peer")"

# ---- 8 cards at once vs. 1 ---------------------------------------------------------------------
note "8 cards at once vs 1, $CARDS_RUNS runs each"
one() { # one K SLOT...: insert K cards together, time until K insert events; pull them again
    local k=$1 n t0 bp s first last rs=(); shift
    n=$(count insert)
    for s in "$@"; do rs+=("$(reader "$s")"); done
    rm -f "$TMP/seen.err"
    "$BUILD/tests/bench/bench_insert" --seen "${rs[@]}" >"$TMP/seen.out" 2>"$TMP/seen.err" &
    bp=$!
    for _ in $(seq 500); do grep -q ready "$TMP/seen.err" 2>/dev/null && break; sleep 0.01; done
    pause
    t0=$(now_us)
    insert "$@"
    if wait "$bp" && read -r first last <"$TMP/seen.out" && wait_count insert $((n + k)) 20; then
        echo "$(($(last_ms insert "$k") * 1000 - first)) $(($(last_ms insert "$k") * 1000 - t0))"
    fi
    n=$(count remove)
    pull_all
    wait_count remove $((n + k)) 20
}
for _ in $(seq "$CARDS_RUNS"); do
    one 1 0 >>"$TMP/one"
    one 8 0 1 2 3 4 5 6 7 >>"$TMP/eight"
done
put cards1_us "$(awk '{ print $2 }' "$TMP/one" | med)"
put cards8_us "$(awk '{ print $2 }' "$TMP/eight" | med)"
put cards1_seen_us "$(awk '{ print $1 }' "$TMP/one" | med)"
put cards8_seen_us "$(awk '{ print $1 }' "$TMP/eight" | med)"
put cards_n "$(wc -l <"$TMP/eight")"
put load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
stop_daemon
exit 0
