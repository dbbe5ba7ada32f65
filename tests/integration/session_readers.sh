#!/usr/bin/env bash
# session_readers: esc-agent --session on a rig of 8 virtual readers (RIG_READERS=8): every
# reader is seen, 8 cards inserted at the same moment are all probed (one insert event each,
# with the card's state, in the right reader), and pulled at once, 8 removals.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh" # expect

AGENT=$ESC_BUILD/esc-agent
RIG_READERS=8 rig_up || { fail session_readers_rig "rig up with 8 readers failed"; exit 0; }
RT=$TMP/rt
LOG=$TMP/state/esc/events.log
mkdir -m 0700 "$RT"
DAEMON=
cleanup() {
    [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null
    rig_cleanup
}
trap cleanup EXIT

reader() { if [ "$1" -lt 2 ]; then echo "Rig Virtual PCD 00 0$1"; else echo "Rig Virtual PCD $(($1 / 2)) 00 0$(($1 % 2))"; fi; }
count() { cat "$LOG" 2>/dev/null | grep -c "\"event\":\"$1\""; }
wait_count() { # wait_count SECONDS EVENT N
    local end=$((SECONDS + $1))
    until [ "$(count "$2")" -ge "$3" ]; do [ $SECONDS -lt $end ] || return 1; sleep 0.05; done
}

# the cards: slots 0-3 formatted, 4-7 enrolled; provisioned, then out
for s in $(seq 0 7); do
    [ "$s" -lt 4 ] && p=formatted || p=enrolled
    "$RIG" card --slot "$s" preset "$p" >/dev/null 2>&1 || { fail session_readers_cards "preset $p in slot $s failed"; exit 0; }
    "$RIG" card --slot "$s" remove >/dev/null 2>&1
done

env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$RT" XDG_STATE_HOME="$TMP/state" HOME="$TMP" \
    "$AGENT" --session >"$TMP/agent.log" 2>&1 &
DAEMON=$!
wait_count 10 reader_added 8
all_readers() { for s in $(seq 0 7); do grep -qF "\"event\":\"reader_added\",\"reader\":\"$(reader "$s")\"" "$LOG" || return 1; done; }
expect session_readers_all_seen "$LOG" all_readers

# 8 cards at once
jobs=()
for s in $(seq 0 7); do "$RIG" card --slot "$s" insert >/dev/null 2>&1 & jobs+=($!); done
wait "${jobs[@]}"
wait_count 30 insert 8
all_probed() {
    local s st
    for s in $(seq 0 7); do
        [ "$s" -lt 4 ] && st=UNINITIALIZED || st=ENROLLED
        grep -qF "\"event\":\"insert\",\"reader\":\"$(reader "$s")\",\"state\":\"$st\"" "$LOG" || return 1
    done
    [ "$(count insert)" = 8 ]
}
expect session_readers_8_cards_probed "$LOG" all_probed

# and pulled at once
jobs=()
for s in $(seq 0 7); do "$RIG" card --slot "$s" remove >/dev/null 2>&1 & jobs+=($!); done
wait "${jobs[@]}"
wait_count 10 remove 8
expect session_readers_8_removals "$LOG" test "$(count remove)" = 8
