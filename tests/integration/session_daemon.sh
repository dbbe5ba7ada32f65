#!/usr/bin/env bash
# session_daemon: esc-agent --session on the rig, with a private D-Bus session bus and a real
# notification server (dunst, on a headless Xvfb): insertion -> probe, Phone Home (cached
# profile), event log and a notification naming what the card needs, within 1 s; removal; a
# card in the second reader; an enrolled card expiring soon with 2 PIN tries left (one
# notification each); a pam_esc hand-off served by the daemon (events op_start / op_ok); pcscd
# killed and started again (events, cards seen again); idle: one thread (esc-session), no context
# switch over 5 s, no system call at all over 10 s (strace); the hand-off served by an esc-agent
# it started, stopped with it; one daemon per user; escctl log (human and --json); no session bus: events
# logged, notification skipped.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"

AGENT=$ESC_BUILD/esc-agent
for p in dbus-daemon strace python3; do
    command -v "$p" >/dev/null || { skip session_daemon "$p is not installed"; exit 0; }
done
rig_up || { fail session_daemon_rig "rig up failed"; exit 0; }

RT=$TMP/rt
STATE=$TMP/state
LOG=$STATE/esc/events.log
mkdir -m 0700 "$RT"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -f "$TMP/dbus.pid" ] && kill "$(cat "$TMP/dbus.pid")" 2>/dev/null
    rig_cleanup
}
trap cleanup EXIT

# the session bus and a notification server on it
DBUS_SESSION_BUS_ADDRESS=$(dbus-daemon --session --fork --print-address=1 --print-pid=3 3>"$TMP/dbus.pid")
export DBUS_SESSION_BUS_ADDRESS
have_server=0
if command -v Xvfb >/dev/null && command -v dunst >/dev/null; then
    Xvfb -displayfd 3 -nolisten tcp 3>"$TMP/display" >"$TMP/xvfb.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do [ -s "$TMP/display" ] && break; sleep 0.05; done
    DISPLAY=:$(cat "$TMP/display") dunst -conf /dev/null >"$TMP/dunst.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        busctl --user status org.freedesktop.Notifications >/dev/null 2>&1 && { have_server=1; break; }
        sleep 0.05
    done
fi
# the notifications dunst has shown, as "summary | body" lines
shown() {
    dunstctl close-all >/dev/null 2>&1
    dunstctl history 2>/dev/null | python3 -c '
import json, sys
for n in json.load(sys.stdin)["data"][0]:
    print(n["summary"]["data"], "|", n["body"]["data"])'
}

# events NAME [READER]: the log lines of that event (and reader)
events() { grep -F "\"event\":\"$1\"" "$LOG" 2>/dev/null | grep -F "${2:+\"reader\":\"$2\"}"; }
# has NAME READER PATTERN: an event NAME (of READER, "" for any) whose line matches PATTERN
has() { events "$1" "$2" | grep -q -- "$3"; }
# wait_event SECONDS NAME [READER] [N]: until N (default 1) such events are in the log
wait_event() {
    local end=$((SECONDS + $1)) n=${4:-1}
    until [ "$(events "$2" "${3:-}" | wc -l)" -ge "$n" ]; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.02
    done
}
ms_of() { python3 -c 'import sys, datetime; t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc); print(int(t.timestamp() * 1000))' "$1"; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

R0="Rig Virtual PCD 00 00"
R1="Rig Virtual PCD 00 01"
start_daemon() {
    env XDG_RUNTIME_DIR="$RT" XDG_STATE_HOME="$STATE" HOME="$TMP" "$@" "$AGENT" --session \
        >>"$TMP/agent.log" 2>&1 &
    DAEMON=$!
    PIDS+=("$DAEMON")
}
start_daemon
wait_event 5 reader_added "$R1" || fail session_daemon_starts "no reader_added event: $(tail -3 "$TMP/agent.log")"
expect session_daemon_serves_the_socket "$TMP/agent.log" test -S "$RT/esc-agent/socket"

# one daemon per user
env XDG_RUNTIME_DIR="$RT" XDG_STATE_HOME="$STATE" HOME="$TMP" "$AGENT" --session >"$TMP/second.log" 2>&1
rc=$?
expect session_second_instance_exits "$TMP/second.log" sh -c "[ $rc = 1 ] && grep -q 'already runs for this user (pid $DAEMON)' '$TMP/second.log'"

# a formatted card: provision it, then time one insertion
# (the preset's own insertion is seen and notified first: its events, late, must not pass for
# the timed insertion's, so each wait counts the events already there)
n=$(events notified "$R0" | wc -l)
"$RIG" card preset formatted >/dev/null
wait_event 5 notified "$R0" $((n + 1))
n=$(events remove "$R0" | wc -l)
"$RIG" card remove >/dev/null
wait_event 5 remove "$R0" $((n + 1))
n=$(events notified "$R0" | wc -l)
t0=$(date +%s%3N)
"$RIG" card insert >/dev/null
wait_event 3 notified "$R0" $((n + 1))
ins=$(events insert "$R0" | tail -n 1)
ph=$(events phone_home "$R0" | tail -n 1)
note=$(events notified "$R0" | tail -n 1)
cuid=$(field cuid <<<"$ins")
t_ins=$(ms_of "$(field time <<<"$ins")")
t_note=$(ms_of "$(field time <<<"$note")")
echo "insertion to notification: $((t_note - t0)) ms (insert event at $((t_ins - t0)) ms)"
expect session_insert_event_names_state "$LOG" sh -c "echo '$ins' | grep -q '\"state\":\"UNINITIALIZED\"'"
expect session_phone_home_event "$LOG" sh -c "echo '$ph' | grep -q 'profile from $RIG_PHONE_HOME_URL'"
expect session_profile_cached "$LOG" test -f "$RIG_DIR/cache/$cuid.profile"
# the card again: esc-card reports it from the cached profile alone (no esc-agent, no network)
n=$(events remove "$R0" | wc -l)
"$RIG" card remove >/dev/null
wait_event 5 remove "$R0" $((n + 1))
n=$(events notified "$R0" | wc -l)
"$RIG" card insert >/dev/null
wait_event 3 notified "$R0" $((n + 1))
ph2=$(events phone_home "$R0" | tail -n 1)
expect session_again_from_cached_profile "$LOG" sh -c "echo '$ph2' | grep -q 'cached profile from $RIG_PHONE_HOME_URL'"
expect session_notified_within_1s "$LOG" test $((t_note - t0)) -lt 1000
if [ $have_server = 1 ]; then
    shown >"$TMP/shown1"
    expect session_notification_shown_names_state "$TMP/shown1" grep -q "^Smart card needs to be set up | The card in $R0 (issued by pam_esc rig) is formatted but not enrolled.*escctl enroll" "$TMP/shown1"
else
    skip session_notification_shown_names_state "no notification server here (Xvfb and dunst)"
fi
"$RIG" card remove >/dev/null
expect session_remove_event "$LOG" wait_event 2 remove "$R0" 2

# the second reader: an enrolled card due for renewal with 2 PIN tries left
"$RIG" card --slot 1 preset enrolled --key-bits 1024 --valid-days 5 --pin-tries-left 2 >/dev/null
wait_event 3 notified "$R1" 2
expect session_second_reader_insert "$LOG" has insert "$R1" '"state":"ENROLLED"'
expect session_pin_tries_notified_once "$LOG" test "$(events notified "$R1" | grep -c '"code":"pin_tries"')" = 1
expect session_expiring_notified_once "$LOG" test "$(events notified "$R1" | grep -c '"code":"expiring"')" = 1
if [ $have_server = 1 ]; then
    shown >"$TMP/shown2"
    expect session_pin_tries_shown "$TMP/shown2" grep -q "^Smart card PIN: 2 tries left | The PIN of the card in $R1 has 2 tries left" "$TMP/shown2"
    expect session_expiring_shown "$TMP/shown2" grep -q "^Smart card certificates expire in 5 days | .*escctl renew" "$TMP/shown2"
fi

# a pam_esc hand-off served by the daemon: the locked card in the first reader, PIN reset
if [ -e "$PAM_MODULE" ] && [ -e "$PAM_DRIVE" ]; then
    PIN=135792
    secret "$PIN"
    secret "$RIG_LDAP_PASSWORD"
    "$RIG" card preset locked >/dev/null
    wait_event 3 notified "$R0" 2
    pam_service xscreensaver "auth optional $PAM_MODULE conf=$RIG_DIR/esc.conf helper=$TMP/no-such-helper timeout=30" \
        "$(pam_authtok_check_line "$PIN")"
    XDG_RUNTIME_DIR=$RT pam_run "$TMP/h1" -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN" -a "$PIN" xscreensaver "$(id -un)" "$SVC"
    expect session_handoff_pin_reset "$TMP/h1" test "$PAM_RC" = 0
    handoff_logged() { has op_start "$R0" 'pinreset for' && has op_ok "$R0" '"code":"OK"'; }
    expect session_handoff_events "$LOG" handoff_logged
else
    skip session_handoff_pin_reset "pam_esc.so or pam_drive not built"
fi

# the hand-off was served by an esc-agent the daemon started (handed the socket), still there
server=
if [ -e "$PAM_MODULE" ] && [ -e "$PAM_DRIVE" ]; then
    server=$(pgrep -P "$DAEMON" -f -- '--pam-serve --idle-exit' | head -1)
    expect session_handoff_server_is_a_worker "$TMP/agent.log" test -n "$server"
fi

# idle: one thread (esc-session, the small watcher), no context switch over 5 s, then no system
# call at all for 10 s (it sleeps in poll(2) with no timeout, pcscd's socket among its fds)
sleep 0.5
ctxt() { cat /proc/"$DAEMON"/task/*/status | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'; }
c0=$(ctxt)
sleep 5
c1=$(ctxt)
echo "idle: $((c1 - c0)) context switches in 5 s"
expect session_idle_watcher_is_small "$TMP/agent.log" sh -c "[ \"\$(cat /proc/$DAEMON/comm)\" = esc-session ] && [ \"\$(ls /proc/$DAEMON/task | wc -l)\" = 1 ]"
expect session_idle_no_wakeups "$TMP/agent.log" test "$((c1 - c0))" = 0
timeout -s INT 10 strace -f -tt -p "$DAEMON" -o "$TMP/strace.txt" 2>/dev/null
calls=$(grep -vE 'restart_syscall\(<\.\.\. resuming|<detached \.\.\.>|^[0-9]+ +[0-9:.]+ +\+\+\+' "$TMP/strace.txt" | grep -c .)
threads=$(ls "/proc/$DAEMON/task" | wc -l)
echo "idle: $threads threads, $calls system calls in 10 s; RSS $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$DAEMON/status")"
expect session_idle_no_syscalls "$TMP/strace.txt" test "$calls" = 0

# pcscd killed and started again: lost, connected, both cards seen again
n_ins=$(events insert | wc -l)
"$RIG" pcscd restart >/dev/null
wait_event 10 pcscd_connected
wait_event 5 insert "" $((n_ins + 2))
expect session_pcscd_lost_event "$LOG" has pcscd_lost "" 'lost the connection to pcscd'
expect session_pcscd_reconnected_event "$LOG" has pcscd_connected "" .
expect session_cards_seen_after_restart "$LOG" sh -c "sed -n '/pcscd_connected/,\$p' '$LOG' | grep -q '\"event\":\"insert\",\"reader\":\"$R0\"' && sed -n '/pcscd_connected/,\$p' '$LOG' | grep -q '\"event\":\"insert\",\"reader\":\"$R1\"'"

# escctl log
XDG_STATE_HOME=$STATE "$ESCCTL" log >"$TMP/log.txt" 2>&1
expect escctl_log_human "$TMP/log.txt" grep -qE "^[0-9-]+ [0-9:]+  $R1 +insert +ENROLLED cuid=[0-9A-F]+: PIN tries left 2" "$TMP/log.txt"
XDG_STATE_HOME=$STATE "$ESCCTL" log --json >"$TMP/log.json" 2>&1
expect escctl_log_json_lines_valid "$TMP/log.json" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) > 10
for l in lines:
    e = json.loads(l)
    assert "time" in e and "event" in e' "$TMP/log.json"
expect session_event_log_private "$LOG" test "$(stat -c %a "$LOG")" = 600

# SIGTERM: a clean exit (the ASan build checks for leaks at exit)
kill -TERM "$DAEMON"
wait "$DAEMON"
rc=$?
expect session_sigterm_clean_exit "$TMP/agent.log" test "$rc" = 0
expect session_sigterm_stops_workers "$TMP/agent.log" sh -c "[ -z '$server' ] || ! kill -0 '$server' 2>/dev/null"

# no session bus: the events are logged, the notification is skipped with one warning
STATE=$TMP/state2
LOG=$STATE/esc/events.log
env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$RT" XDG_STATE_HOME="$STATE" HOME="$TMP" \
    "$AGENT" --session >"$TMP/nobus.log" 2>&1 &
DAEMON=$!
PIDS+=("$DAEMON")
wait_event 5 notify_failed
nobus_ok() {
    has insert "" . && has notify_failed "" 'no session bus' &&
        [ "$(grep -c 'not shown' "$TMP/nobus.log")" = 1 ] && kill -0 "$DAEMON"
}
expect session_without_bus_carries_on "$TMP/nobus.log" nobus_ok
