#!/usr/bin/env bash
# op_bounds: an operation ends when it must, wherever it waits, and never runs behind anyone's
# back (issue 11, defects 2, 3, 6, 9), on the rig with the real pcscd, TPS and card:
#   - pcscd frozen (SIGSTOP) mid-enrollment: escctl ends within card_timeout and names pcscd;
#     the card (vcard) frozen: it names the card;
#   - a TPS slower than operation_timeout: escctl stops at the deadline;
#   - two escctl enroll at once: the second is told at once that the card is busy, the first
#     completes and its PIN works;
#   - the session agent (esc-agent --pam-serve): pam_esc's deadline passes with pcscd frozen,
#     or the client hangs up: the agent ends the operation there and then, and after pcscd
#     resumes the enrollment is not finished.
# After each case: escctl status tells the card's state, nothing we started is left running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
. "$ESC_TOP/tests/pam/lib.sh"
tps_ready op_bounds
rig_up --card formatted || { fail op_bounds_rig "rig up failed"; exit 0; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 # pam_pkcs11-free, but pam_drive dlopens PAM
secret 11112222; secret 11223344
PCSCD=$(cat "$RIG_DIR/pids/pcscd.pid")
resume() { kill -CONT "$PCSCD" "$(cat "$RIG_DIR/pids/card.pid" 2>/dev/null)" 2>/dev/null; }
trap 'resume; [ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null; rig_cleanup' EXIT

conf() { # conf KEY VALUE...: the rig's esc.conf plus these keys
    cp "$ESC_CONF" "$TMP/bounded.conf"
    while [ $# -gt 0 ]; do echo "$1 = $2" >>"$TMP/bounded.conf"; shift 2; done
    chmod 0644 "$TMP/bounded.conf"
}
# wait_ops N: until the TPS has seen N operations (BEGIN_OP) in all (10 s at most)
wait_ops() { for _ in $(seq 500); do [ "$(tps_stat operations)" -ge "$1" ] 2>/dev/null && return 0; sleep 0.02; done; return 1; }
# status_tells NAME: escctl status names a card state (not an error) within its own bound
status_tells() {
    local s
    s=$(card_state)
    case $s in UNINITIALIZED | ENROLLED | NO_APPLET | PIN_LOCKED) pass "$1_status_after" ;;
    *) fail "$1_status_after" "escctl status says '$s': $("$ESCCTL" status 2>&1 | head -n 2 | tr '\n' ' ')" ;; esac
}
# bounded_op PIN: escctl enroll with $TMP/bounded.conf, never longer than 40 s (before the
# bounds existed it waited for pcscd without end); sets $OUT_JSON, $RC, $MS
bounded_op() {
    local t0=$(date +%s%N)
    ESC_CONF=$TMP/bounded.conf timeout -k 1 40 "$ESCCTL" enroll --user "$RIG_USER" --password-fd 3 \
        --pin-fd 4 --json 3< <(ldap_password) 4< <(echo "$1") >"$2" 2>"$2.err"
    RC=$?
    MS=$((($(date +%s%N) - t0) / 1000000))
}
msg() { json_field "$1" message 2>/dev/null; }

# 1. pcscd frozen mid-enrollment: the APDU in flight gets card_timeout (2 s) and the message
# names pcscd
conf card_timeout 2
echo "latency 100" >"$RIG_TPS_FAULTS"
ops=$(tps_stat operations); ends=$(tps_stat end_ok)
( wait_ops $((ops + 1)) && sleep 0.4 && kill -STOP "$PCSCD" ) &
F=$!
bounded_op 11112222 "$TMP/p.json"
wait $F
m=$(msg "$TMP/p.json")
if [ $RC != 0 ] && [ $RC != 124 ] && [ $MS -lt 8000 ] && [[ $m == "pcscd (the smart card service) did not answer within 2 seconds." ]]; then
    pass op_bounds_pcscd_frozen_named
else
    fail op_bounds_pcscd_frozen_named "exit $RC after $MS ms, message '$m' $(tail -n 2 "$TMP/p.json.err")"
fi
kill -CONT "$PCSCD"; sleep 1
[ "$(tps_stat end_ok)" = "$ends" ] && pass op_bounds_pcscd_frozen_not_finished ||
    fail op_bounds_pcscd_frozen_not_finished "the TPS saw the enrollment end ($ends -> $(tps_stat end_ok))"
status_tells op_bounds_pcscd_frozen

# 2. the card frozen (pcscd answers): the message names the card
"$RIG" card preset formatted >/dev/null 2>&1
CARD=$(cat "$RIG_DIR/pids/card.pid")
ops=$(tps_stat operations)
( wait_ops $((ops + 1)) && sleep 0.4 && kill -STOP "$CARD" ) &
F=$!
bounded_op 11112222 "$TMP/c.json"
wait $F
m=$(msg "$TMP/c.json")
[ $RC != 0 ] && [ $RC != 124 ] && [ $MS -lt 8000 ] && [[ $m == "The card did not answer within 2 seconds." ]] &&
    pass op_bounds_card_frozen_named || fail op_bounds_card_frozen_named "exit $RC after $MS ms, message '$m'"
kill -CONT "$CARD"; sleep 0.5
status_tells op_bounds_card_frozen

# 3. a TPS slower than operation_timeout (300 ms before each of ~60 messages): stopped at 2 s
"$RIG" card preset formatted >/dev/null 2>&1
conf operation_timeout 2
echo "latency 300" >"$RIG_TPS_FAULTS"
ends=$(tps_stat end_ok)
bounded_op 11112222 "$TMP/t.json"
m=$(msg "$TMP/t.json")
[ $RC = 5 ] && [ $MS -lt 4500 ] && [[ $m == "The operation did not finish within 2 seconds and was stopped." ]] &&
    pass op_bounds_operation_timeout || fail op_bounds_operation_timeout "exit $RC after $MS ms, message '$m'"
sleep 0.5
[ "$(tps_stat end_ok)" = "$ends" ] && pass op_bounds_operation_timeout_not_finished ||
    fail op_bounds_operation_timeout_not_finished "the TPS saw the enrollment end"
status_tells op_bounds_operation_timeout

# 4. two escctl enroll at once on one card: the second is busy at once, the first completes
# (cases 1-3 never reach the directory; say whether slapd still answers, for the log)
echo "slapd before case 4: $(ldapsearch -x -H "$RIG_LDAP_URL" -s base -b "$RIG_LDAP_BASE" dn >/dev/null 2>&1 && echo answers || echo "does not answer (pid $(cat "$RIG_DIR/pids/slapd.pid" 2>/dev/null): $(kill -0 "$(cat "$RIG_DIR/pids/slapd.pid" 2>/dev/null)" 2>/dev/null && echo alive || echo gone))")"
"$RIG" card preset formatted >/dev/null 2>&1
conf
echo "latency 40" >"$RIG_TPS_FAULTS"
PIN_A=24682468 PIN_B=13571357
secret "$PIN_A"; secret "$PIN_B"
ops=$(tps_stat operations)
bounded_op "$PIN_A" "$TMP/a.json" &
A=$!
wait_ops $((ops + 1))
bounded_op "$PIN_B" "$TMP/b.json"
wait $A
rcA=$(json_field "$TMP/a.json" ok); m=$(msg "$TMP/b.json")
[ "$(json_field "$TMP/b.json" error)" = CARD_IN_USE ] && [ $MS -lt 1500 ] && [[ $m == "The card is busy with another operation"* ]] &&
    pass op_bounds_second_is_busy || fail op_bounds_second_is_busy "after $MS ms: $(cat "$TMP/b.json")"
[ "$rcA" = true ] && pass op_bounds_first_completes || fail op_bounds_first_completes "$(cat "$TMP/a.json")"
: >"$RIG_TPS_FAULTS"
sign_verify "$PIN_A" && pass op_bounds_first_pin_works || fail op_bounds_first_pin_works "the card does not sign with the first enrollment's PIN"
status_tells op_bounds_two_at_once

# agent_done: the agent has logged the end of its operation (at most 10 s)
agent_done() { for _ in $(seq 200); do tail -n +$((${lines:-0} + 1)) "$TMP/agent.log" | grep -q 'esc-agent: info: enroll: ' && return; sleep 0.05; done; }

# 5. the session agent, pcscd frozen mid-enrollment, pam_esc's deadline (timeout=6) passes
"$RIG" card preset formatted >/dev/null 2>&1
rig_for_helper
RT=$TMP/rt
mkdir -m 0700 "$RT"
env -i XDG_RUNTIME_DIR="$RT" ESC_CONF="$TMP/esc.conf" PCSCLITE_CSOCK_NAME="$PCSCLITE_CSOCK_NAME" \
    ESC_PAM_DEBUG=stderr "$PAM_HELPER" --pam-serve >"$TMP/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 100); do [ -S "$RT/esc-agent/socket" ] && break; sleep 0.02; done
pam_service session "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$TMP/no-such-helper timeout=6" \
    "auth required pam_deny.so"
echo "latency 40" >"$RIG_TPS_FAULTS"
ends=$(tps_stat end_ok)
# frozen once every question is answered: the new PIN is the last (key generation follows)
(
    for _ in $(seq 500); do grep -q '^PROMPT_ECHO_OFF: Repeat PIN' "$TMP/s1" 2>/dev/null && break; sleep 0.02; done
    sleep 0.2 && kill -STOP "$PCSCD"
) &
F=$!
XDG_RUNTIME_DIR=$RT pam_run "$TMP/s1" -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a 11223344 -a 11223344 session "$(id -un)" "$SVC"
wait $F
# the agent has ended the operation while pcscd is still frozen
for _ in $(seq 100); do grep -q 'enroll: \(TIMEOUT\|CANCELLED\)' "$TMP/agent.log" && break; sleep 0.05; done
expect op_bounds_session_deadline_stops_agent "$TMP/agent.log" grep -q 'enroll: \(TIMEOUT\|CANCELLED\)' "$TMP/agent.log"
expect op_bounds_session_deadline_said "$TMP/s1" grep -q '^ERROR: .*\(within\|stopped\)' "$TMP/s1"
kill -CONT "$PCSCD"
agent_done # (an agent that went on would finish now)
[ "$(tps_stat end_ok)" = "$ends" ] && pass op_bounds_session_deadline_not_finished ||
    fail op_bounds_session_deadline_not_finished "the agent finished the enrollment after pcscd resumed"
[ "$(card_state)" != ENROLLED ] && pass op_bounds_session_deadline_card_not_enrolled ||
    fail op_bounds_session_deadline_card_not_enrolled "the card is enrolled"
status_tells op_bounds_session_deadline
[ -z "$(pgrep -P "$AGENT")" ] && kill -0 "$AGENT" && pass op_bounds_session_agent_serves_on ||
    fail op_bounds_session_agent_serves_on "agent gone or with children: $(pgrep -P "$AGENT" | tr '\n' ' ')"

# 6. the same agent, a client that hangs up mid-enrollment (pam_esc closes the socket when it
# gives up): with pcscd frozen and a one-minute deadline, only the hang-up can end it
"$RIG" card preset formatted >/dev/null 2>&1
ends=$(tps_stat end_ok)
lines=$(wc -l <"$TMP/agent.log")
# frozen once the new PIN is answered (the client says so), then the client hangs up
(
    for _ in $(seq 500); do [ -e "$TMP/pinned" ] && break; sleep 0.02; done
    sleep 0.2 && kill -STOP "$PCSCD" && sleep 0.5 && touch "$TMP/frozen"
) &
F=$!
python3 - "$RT/esc-agent/socket" "$RIG_USER" "$RIG_LDAP_PASSWORD" 11223344 "$TMP/frozen" "$TMP/pinned" <<'PY'
import os, socket, struct, sys, time
path, user, pw, pin, frozen, pinned = sys.argv[1:7]
s = socket.socket(socket.AF_UNIX); s.connect(path)
def frame(t, fields):
    p = b"".join(struct.pack(">BH", tag, len(v)) + v for tag, v in fields)
    return struct.pack(">BBH", t, 1, len(p)) + p
s.sendall(frame(1, [(2, b"enroll"), (9, struct.pack(">I", 60000))]))  # REQUEST, 60 s
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: sys.exit("agent hung up")
        b += c
    return b
s.settimeout(0.2)
end = time.time() + 30
while not os.path.exists(frozen) and time.time() < end:
    try:
        t, _, n = struct.unpack(">BBH", recv(4)); p = recv(n)
    except socket.timeout:
        continue
    if t in (2, 3):  # a prompt: answer by its id
        fid = b""; i = 0
        while i < len(p):
            tag, l = struct.unpack(">BH", p[i:i + 3]); v = p[i + 3:i + 3 + l]; i += 3 + l
            if tag == 2: fid = v
        ans = {b"UID": user, b"PASSWORD": pw}.get(fid, pin).encode()
        s.sendall(frame(7, [(5, b"\x01"), (6, ans)]))
        if fid == b"new_pin_again":
            open(pinned, "w").close()
s.close()  # hang up while the agent waits for the frozen pcscd
PY
wait $F
for _ in $(seq 60); do tail -n +$((lines + 1)) "$TMP/agent.log" | grep -q 'enroll: CANCELLED' && break; sleep 0.05; done
expect op_bounds_hangup_cancels_agent "$TMP/agent.log" sh -c "tail -n +$((lines + 1)) '$TMP/agent.log' | grep -q 'enroll: CANCELLED'"
kill -CONT "$PCSCD"
agent_done
[ "$(tps_stat end_ok)" = "$ends" ] && pass op_bounds_hangup_not_finished ||
    fail op_bounds_hangup_not_finished "the agent finished the enrollment after the client left"
status_tells op_bounds_hangup
[ -z "$(pgrep -P "$AGENT")" ] && kill -0 "$AGENT" && pass op_bounds_hangup_agent_serves_on ||
    fail op_bounds_hangup_agent_serves_on "agent gone or with children"
kill "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=
