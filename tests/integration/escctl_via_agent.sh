#!/usr/bin/env bash
# escctl_via_agent: escctl with a session agent (esc-agent --pam-serve on the test's own
# $XDG_RUNTIME_DIR) and without one gives the same results: `escctl status` byte-identical
# (text; --json but for elapsed_ms), a wrong password -> exit 8 and the directory's sentence,
# enroll and format through the agent (its event log shows op_start / op_ok, escctl -v says
# "through the session agent"), then enroll in-process: the same exit code and sentence, the
# card ENROLLED and the new PIN accepted by coolkey; the new PIN never printed. Agent stopped:
# in-process again. reset-pin the same through the agent and with ESC_NO_AGENT=1; the thin escctl
# serves status and reset-pin without escctl-local, and hands the rest over (its answers on
# --password-fd / --pin-fd too). Measures `escctl status` wall and CPU time both ways.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready escctl_via_agent
command -v jq >/dev/null || { skip escctl_via_agent "jq is not installed"; exit 0; }
rig_up --card formatted || { fail escctl_via_agent_rig "rig up failed"; exit 0; }
secret "$(ldap_password)"

RT=$TMP/rt
STATE=$TMP/state
LOG=$STATE/esc/events.log
mkdir -m 0700 "$RT"
AGENT_PID=
cleanup() {
    [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null
    rig_cleanup
}
trap cleanup EXIT
env XDG_STATE_HOME="$STATE" HOME="$TMP" XDG_RUNTIME_DIR="$RT" "$ESC_BUILD/esc-agent" --pam-serve \
    >"$TMP/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 100); do [ -S "$RT/esc-agent/socket" ] && break; sleep 0.05; done
[ -S "$RT/esc-agent/socket" ] || { fail escctl_via_agent_starts "no socket: $(tail -3 "$TMP/agent.log")"; exit 0; }
export XDG_RUNTIME_DIR=$RT

# ---- status / list: through the agent and in-process, the same bytes and exit code
for cmd in status list; do
    a=$("$ESCCTL" $cmd 2>&1); arc=$?
    b=$("$ESCCTL" --no-agent $cmd 2>&1); brc=$?
    [ "$a" = "$b" ] && [ $arc = $brc ] && [ -n "$a" ] && pass "via_agent_${cmd}_same" ||
        fail "via_agent_${cmd}_same" "agent ($arc): $a | in-process ($brc): $b"
done
a=$("$ESCCTL" status --json | jq -S 'map(del(.elapsed_ms))'); b=$(ESC_NO_AGENT=1 "$ESCCTL" status --json | jq -S 'map(del(.elapsed_ms))')
[ "$a" = "$b" ] && grep -q '"state": "UNINITIALIZED"' <<<"$a" && pass via_agent_status_json_same ||
    fail via_agent_status_json_same "agent: $a | in-process: $b"
"$ESCCTL" -v status 2>&1 >/dev/null | grep -q "through the session agent" &&
    ! "$ESCCTL" -v --no-agent status 2>&1 >/dev/null | grep -q "through the session agent" &&
    ! ESC_NO_AGENT=1 "$ESCCTL" -v status 2>&1 >/dev/null | grep -q "through the session agent" &&
    pass via_agent_status_served_by_agent ||
    fail via_agent_status_served_by_agent "$("$ESCCTL" -v status 2>&1 >/dev/null | tail -2)"

# op NAME [escctl options]: an operation as $RIG_USER, answers on fds; stdout/stderr/rc in $TMP
op() {
    local name=$1 pin=$NEW_PIN; shift
    "$ESCCTL" "$@" "$name" --user "$RIG_USER" --password-fd 3 --pin-fd 4 >"$TMP/out" 2>"$TMP/err" \
        3< <(printf '%s\n' "${OP_PASSWORD:-$(ldap_password)}") 4< <(printf '%s\n' "$pin")
    echo $? >"$TMP/rc"
}
events() { grep -F "\"event\":\"$1\"" "$LOG" 2>/dev/null; }
no_pin() { ! grep -qF "$NEW_PIN" "$TMP/out" "$TMP/err"; }

# ---- a wrong password: exit 8 and the sentence, both ways, card unchanged
OP_PASSWORD=wrong-password op enroll -v
ag="$(cat "$TMP/rc") $(grep '^escctl: ' "$TMP/err" | grep -v 'through the session agent')"
grep -q "through the session agent" "$TMP/err" || ag="$ag (not through the agent)"
OP_PASSWORD=wrong-password op enroll --no-agent
ip="$(cat "$TMP/rc") $(cat "$TMP/err")"
[ "$ag" = "8 escctl: The directory rejected the user ID or password." ] && [ "$ag" = "$ip" ] &&
    events op_failed | grep -q AUTH_FAILED && pass via_agent_wrong_password ||
    fail via_agent_wrong_password "agent: $ag | in-process: $ip | $(events op_failed)"
[ "$(card_state)" = UNINITIALIZED ] && pass via_agent_wrong_password_card_unchanged ||
    fail via_agent_wrong_password_card_unchanged "state $(card_state)"

# ---- a PIN of the wrong length on --pin-fd: exit 9 both ways, the sentence said once (after
# the progress lines of the applet load the TPS may start with), card unchanged
said() { echo "$(cat "$TMP/rc") $(grep -c 'characters long' "$TMP/err") $(tail -n1 "$TMP/err")"; }
NEW_PIN=12 op enroll
ag=$(said)
NEW_PIN=12 op enroll --no-agent
ip=$(said)
case "$ag|$ip" in
"9 1 escctl: The PIN must be "*" characters long.|9 1 escctl: The new PIN must be "*" characters long.")
    [ "$(card_state)" = UNINITIALIZED ] && pass via_agent_bad_pin ||
        fail via_agent_bad_pin "state $(card_state)" ;;
*) fail via_agent_bad_pin "agent: $ag | in-process: $ip" ;;
esac

# ---- enroll through the agent
op enroll
e_rc=$(cat "$TMP/rc"); e_out=$(cat "$TMP/out")
if [ "$e_rc" = 0 ] && [ "$(card_state)" = ENROLLED ] && events op_start | grep -q 'enroll for' &&
    events op_ok | grep -q '"code":"OK"' && no_pin; then
    pass via_agent_enroll
else fail via_agent_enroll "rc $e_rc, state $(card_state), out '$e_out', err '$(tail -2 "$TMP/err")', events $(tail -2 "$LOG" 2>/dev/null)"; fi
p11 --login --pin "$NEW_PIN" -O >/dev/null && pass via_agent_enroll_pin_works ||
    fail via_agent_enroll_pin_works "coolkey refused the new PIN"

# ---- format through the agent, then enroll in-process: the same outcome as through the agent
n_ok=$(events op_ok | wc -l)
op format
[ "$(cat "$TMP/rc")" = 0 ] && [ "$(events op_ok | wc -l)" -gt "$n_ok" ] && no_pin &&
    [ "$(card_state)" != ENROLLED ] && pass via_agent_format ||
    fail via_agent_format "rc $(cat "$TMP/rc"), state $(card_state), $(tail -2 "$TMP/err")"
n_ok=$(events op_ok | wc -l)
op enroll --no-agent
if [ "$(cat "$TMP/rc")" = "$e_rc" ] && [ "$(cat "$TMP/out")" = "$e_out" ] &&
    [ "$(card_state)" = ENROLLED ] && [ "$(events op_ok | wc -l)" = "$n_ok" ]; then
    pass via_agent_enroll_same_in_process
else fail via_agent_enroll_same_in_process "rc $(cat "$TMP/rc") vs $e_rc, '$(cat "$TMP/out")' vs '$e_out'"; fi
p11 --login --pin "$NEW_PIN" -O >/dev/null && pass via_agent_in_process_pin_works ||
    fail via_agent_in_process_pin_works "coolkey refused the new PIN"

# ---- reset-pin: through the agent (the thin escctl relays it itself) and with ESC_NO_AGENT=1
# (it execs escctl-local, which runs it in-process): the same exit code and sentence
n_ok=$(events op_ok | wc -l)
op reset-pin
r_rc=$(cat "$TMP/rc"); r_out=$(cat "$TMP/out")
[ "$r_rc" = 0 ] && [ -n "$r_out" ] && [ "$(events op_ok | wc -l)" -gt "$n_ok" ] && no_pin &&
    pass via_agent_reset_pin ||
    fail via_agent_reset_pin "rc $r_rc, out '$r_out', $(tail -2 "$TMP/err")"
n_ok=$(events op_ok | wc -l)
ESC_NO_AGENT=1 op reset-pin
[ "$(cat "$TMP/rc")" = "$r_rc" ] && [ "$(cat "$TMP/out")" = "$r_out" ] &&
    [ "$(events op_ok | wc -l)" = "$n_ok" ] && no_pin && pass via_agent_reset_pin_same_in_process ||
    fail via_agent_reset_pin_same_in_process "rc $(cat "$TMP/rc") vs $r_rc, '$(cat "$TMP/out")' vs '$r_out', $(tail -2 "$TMP/err")"
p11 --login --pin "$NEW_PIN" -O >/dev/null && pass via_agent_reset_pin_works ||
    fail via_agent_reset_pin_works "coolkey refused the new PIN"

# ---- the thin escctl (libc only) serves status and reset-pin itself: a copy of it with no
# escctl-local beside it gives the same output through the agent; with ESC_NO_AGENT=1 it hands
# the command on and, escctl-local missing, says so
mkdir "$TMP/front" && cp "$ESCCTL" "$TMP/front/escctl"
a=$("$TMP/front/escctl" status 2>&1); arc=$?
b=$(ESC_NO_AGENT=1 "$ESCCTL" status 2>&1); brc=$?
[ "$a" = "$b" ] && [ $arc = $brc ] && pass via_agent_front_status_alone ||
    fail via_agent_front_status_alone "front alone ($arc): $a | escctl-local ($brc): $b"
ESCCTL=$TMP/front/escctl op reset-pin
[ "$(cat "$TMP/rc")" = "$r_rc" ] && [ "$(cat "$TMP/out")" = "$r_out" ] && no_pin &&
    pass via_agent_front_reset_pin_alone ||
    fail via_agent_front_reset_pin_alone "rc $(cat "$TMP/rc"), '$(cat "$TMP/out")', $(tail -2 "$TMP/err")"
out=$(ESC_NO_AGENT=1 "$TMP/front/escctl" status 2>&1); rc=$?
[ $rc = 1 ] && grep -q "^escctl: cannot run /.*/escctl-local: " <<<"$out" &&
    ! grep -qF "$TMP/front" <<<"$out" && pass via_agent_front_hands_over ||
    fail via_agent_front_hands_over "rc $rc: $out"

# ---- the cost of `escctl status`: wall and CPU (escctl's, and the agent's) per run
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks
measure() { # measure N ARGS...: "wall_ms escctl_cpu_ms agent_cpu_ms" per run
    local n=$1 t0 t1 a0 a1 hz; shift
    hz=$(getconf CLK_TCK)
    a0=$(cpu_of "$AGENT_PID")
    t0=$(date +%s%N)
    TIMEFORMAT='%U %S'
    { time (for _ in $(seq "$n"); do "$ESCCTL" "$@" status >/dev/null 2>&1; done); } 2>"$TMP/time"
    t1=$(date +%s%N)
    a1=$(cpu_of "$AGENT_PID")
    awk -v w=$(((t1 - t0) / 1000000)) -v n="$n" -v a=$((a1 - a0)) -v hz="$hz" \
        '{printf "%.1f %.1f %.1f", w / n, ($1 + $2) * 1000 / n, a * 1000 / hz / n}' "$TMP/time"
}
read -r aw ac aa <<<"$(measure 20)"
read -r iw ic ia <<<"$(measure 20 --no-agent)"
pass "via_agent_status_cost (through the agent: wall ${aw} ms, escctl CPU ${ac} ms, agent CPU ${aa} ms; in-process: wall ${iw} ms, CPU ${ic} ms; per run, 20 runs)"

# ---- agent gone: in-process, silently
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null; AGENT_PID=
out=$("$ESCCTL" -v status 2>"$TMP/err"); rc=$?
in_process=$("$ESCCTL" --no-agent status 2>&1)
[ $rc = 0 ] && grep -q ENROLLED <<<"$out" && ! grep -q "through the session agent" "$TMP/err" &&
    [ "$out" = "$in_process" ] && pass via_agent_down_in_process ||
    fail via_agent_down_in_process "rc $rc, $out, $(cat "$TMP/err")"

# ---- agent gone: an operation with its answers on one file descriptor, read by the thin
# escctl, then handed to escctl-local on a pipe at the same number: it still works
"$ESCCTL" reset-pin --user "$RIG_USER" --password-fd 3 --pin-fd 3 >"$TMP/out" 2>"$TMP/err" \
    3< <(printf '%s\n%s\n' "$(ldap_password)" "$NEW_PIN")
rc=$?
[ $rc = "$r_rc" ] && [ "$(cat "$TMP/out")" = "$r_out" ] && no_pin &&
    p11 --login --pin "$NEW_PIN" -O >/dev/null && pass via_agent_down_reset_pin_one_fd ||
    fail via_agent_down_reset_pin_one_fd "rc $rc, '$(cat "$TMP/out")', $(tail -2 "$TMP/err")"

# ---- the session daemon (esc-agent --session) answers status the same way
rm -f "$RT/esc-agent/socket" # the stopped agent's
env XDG_STATE_HOME="$STATE" HOME="$TMP" XDG_RUNTIME_DIR="$RT" DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
    "$ESC_BUILD/esc-agent" --session >"$TMP/session.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 100); do [ -S "$RT/esc-agent/socket" ] && break; sleep 0.05; done
out=$("$ESCCTL" -v status 2>"$TMP/err")
[ "$out" = "$in_process" ] && grep -q "through the session agent" "$TMP/err" && pass via_session_daemon_status ||
    fail via_session_daemon_status "$out | $(cat "$TMP/err") | $(tail -2 "$TMP/session.log")"
