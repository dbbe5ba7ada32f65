#!/usr/bin/env bash
# fault_matrix_rows: issue 11's fault matrix, the rows for services and servers (the walks of
# "card pulled / TPS dropped after message k" are fault_walk's and the matrix runner's).
# Each row of ROWS below is one fault, run through every path it names:
#   e  escctl enroll (--no-agent: the operation in escctl's own process)
#   h  pam_esc with the PAM-time helper (pam_esc starts esc-agent --pam itself)
#   a  pam_esc handing off to the session agent (esc-agent --pam-serve on $XDG_RUNTIME_DIR)
# and after each run four checks, one PASS/FAIL line each:
#   NAME_PATH_sentence  exactly one sentence, matching the row's pattern (it names what failed)
#   NAME_PATH_deadline  the run ended within the row's deadline (seconds, with margin)
#   NAME_PATH_no_proc   no esc-agent or escctl of this build left (but the session agent, with no
#                       child); pam_drive reports no child of pam_esc left and its process
#                       unchanged (threads, fds, signal dispositions and mask: -S)
#   NAME_PATH_status    escctl status tells the card's real state (the row's state)
# and for the PAM paths NAME_PATH_password: the stack's password module still logs the user in.
# Then every END_OP code Dogtag defines (-1 = the field left out, 0..49) with result 0 and 1
# through escctl (the PAM paths run a representative set as rows: both use the same sentence
# table, tps_end_sentence, and escctl shows it cheaply).
# All runs happen in one private mount namespace (a sleeper made by unshare -m) so that the
# cache directory can be a read-only or a full tmpfs without touching the machine.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
pam_need_built
tps_ready fault_matrix_rows
rig_up --card formatted || { fail fault_matrix_rows_rig "rig up failed"; exit 0; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 # pam_drive dlopens PAM modules
rig_for_helper
pam_service matrix "auth required pam_deny.so" # in login_services before the agent reads esc.conf
PIN=24681357
secret "$PIN"
PCSCD=$(cat "$RIG_DIR/pids/pcscd.pid")
NOBODY=$(id -u "$PAM_AGENT_USER")
# the profile caches: the agent's (its user's) and escctl's (root's, as root runs it)
CACHE=$TMP/cache CACHE_E=$TMP/cache-e
mkdir -m 0700 "$CACHE" "$CACHE_E" && chown "$PAM_AGENT_USER" "$CACHE"
# the test's esc.conf: its own cache, a short TPS message deadline (every row's TPS answers
# at once unless stalled); escctl's the same with its cache
grep -vE '^ *(cache_dir|tps_message_timeout|card_timeout) *=' "$TMP/esc.conf" >"$TMP/c" &&
    printf 'tps_message_timeout = 2\ncard_timeout = 3\n' >>"$TMP/c" &&
    { cat "$TMP/c"; echo "cache_dir = $CACHE"; } >"$TMP/esc.conf" &&
    { cat "$TMP/c"; echo "cache_dir = $CACHE_E"; } >"$TMP/escctl.conf"
# the PAM user is the one running the test: the session agent serves its own user only
PAM_USER=$(id -un)
echo "$PAM_USER:letmein:matrix" >"$TMP/passdb"

# the private mount namespace, and the session agent in it
# (without the right to make one, the cache rows are skipped and the rest runs here)
NS= NSENTER=()
if unshare -m --propagation private true 2>/dev/null; then
    unshare -m --propagation private sleep 100000 &
    NS=$!
    NSENTER=(nsenter -t "$NS" -m --)
fi
in_ns() { "${NSENTER[@]}" "$@"; }
RT=$TMP/rt
mkdir -m 0700 "$RT"
start_agent() {
    "${NSENTER[@]}" env -i XDG_RUNTIME_DIR="$RT" ESC_CONF="$TMP/esc.conf" PCSCLITE_CSOCK_NAME="$PCSCLITE_CSOCK_NAME" \
        ASAN_OPTIONS="$ASAN_OPTIONS" ESC_PAM_DEBUG=stderr "$PAM_HELPER" --pam-serve >>"$TMP/agent.log" 2>&1 &
    AGENT=$!
    for _ in $(seq 200); do [ -S "$RT/esc-agent/socket" ] && return 0; sleep 0.02; done
    return 1
}
sleep 0.1
start_agent || fail fault_matrix_rows_agent "the session agent did not start: $(tail -n 3 "$TMP/agent.log")"
trap 'kill -CONT "$PCSCD" 2>/dev/null; kill "$AGENT" ${NS:+"$NS"} 2>/dev/null; rig_cleanup' EXIT

# ---- fault set-ups (SETUP / UNDO columns) ----
tps() { printf '%s\n' "$1" >"$RIG_TPS_FAULTS"; }
tps_clear() { : >"$RIG_TPS_FAULTS"; }
# phone-home rows need an empty profile cache (else nothing is fetched)
ph() { rm -f "$CACHE"/* "$CACHE_E"/*; tps "$1"; }
pcscd_stop() { kill -STOP "$PCSCD"; }
pcscd_cont() { kill -CONT "$PCSCD"; }
pcscd_kill() { kill -KILL "$PCSCD"; }
pcscd_back() {
    "$RIG" pcscd restart >/dev/null 2>&1
    PCSCD=$(cat "$RIG_DIR/pids/pcscd.pid")
    chmod 0666 "$PCSCLITE_CSOCK_NAME"
}
cache_ro() {
    in_ns mount -t tmpfs -o "ro,size=64k,mode=0700,uid=$NOBODY" matrix-ro "$CACHE" &&
        in_ns mount -t tmpfs -o "ro,size=64k,mode=0700" matrix-ro "$CACHE_E"
}
cache_full() {
    in_ns mount -t tmpfs -o "size=16k,mode=0700,uid=$NOBODY" matrix-full "$CACHE" &&
        in_ns mount -t tmpfs -o "size=16k,mode=0700" matrix-full "$CACHE_E" &&
        in_ns sh -c "dd if=/dev/zero of='$CACHE/fill' bs=4k count=64; dd if=/dev/zero of='$CACHE_E/fill' bs=4k count=64" 2>/dev/null
    return 0
}
# undo a cache row: unmount (the card is formatted again after the checks: the row enrolled it);
# first make sure the fault did bite: no profile was kept
cache_undo() {
    local kept
    kept=$(in_ns sh -c "ls '$CACHE' '$CACHE_E'" 2>/dev/null | grep -c '\.profile$')
    [ "$kept" = 0 ] || fail "fault_matrix_${name}_${p}_cache_faulted" "a profile was kept in the read-only or full cache"
    in_ns umount "$CACHE" "$CACHE_E"
}
reformat() {
    ESC_CONF=$TMP/escctl.conf "$ESCCTL" --no-agent format --user "$RIG_USER" --password-fd 3 --json \
        3< <(ldap_password) >"$TMP/format.json" 2>&1 ||
        fail fault_matrix_reformat "escctl format after ${name:-?}: $(cat "$TMP/format.json")"
}
slapd_stop() { kill "$(cat "$RIG_DIR/pids/slapd.pid")"; sleep 0.3; }
# the phone-home answers a hostile server gives (served by the TPS's phone_home_body knob)
mkdir -p "$TMP/ph" && chmod 0755 "$TMP/ph"
{
    printf '<?xml version="1.0"?>\n<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    for i in 1 2 3 4 5 6 7 8 9; do printf '<!ENTITY %s "%s">' "b$i" "$(printf "&%s;" $([ $i = 1 ] && echo a || echo "b$((i - 1))") | sed 's/.*/&&&&&&&&&&/')"; done
    printf '<!ENTITY x SYSTEM "file:///etc/shadow">]>\n<ServiceInfo><IssuerName>&b9;&x;</IssuerName><Services>'
    printf '<Operation>%s</Operation><TokenType>userKey</TokenType></Services></ServiceInfo>\n' "$RIG_TPS_URL"
} >"$TMP/ph/entities.xml"
head -c 3000000 /dev/zero | tr '\0' '<' >"$TMP/ph/huge.xml"
printf '<ServiceInfo><IssuerName>Elsewhere</IssuerName><Services><Operation>https://tps.example.net/tps/tps</Operation><TokenType>userKey</TokenType></Services></ServiceInfo>\n' >"$TMP/ph/foreign.xml"
chmod 0644 "$TMP/ph"/*.xml

# ---- the matrix ----
# NAME | PATHS | SETUP | UNDO | CLASS | STATE | BOUND | DEADLINE | SENTENCE | AT PAM
# CLASS: fail (the operation fails, the card is not changed) or ok (it completes despite the
# fault). STATE: what escctl status must say afterwards. BOUND: the operation's own deadline,
# seconds (escctl's operation_timeout, pam_esc's timeout=). DEADLINE: the bound the run is
# checked against (with margin for a loaded machine). SENTENCE (ERE): what escctl says (its
# JSON message; with an ok row, also its warning about the cache). AT PAM: what pam_esc shows
# (ERROR for fail, INFO for ok): "=" the same, "-" nothing (pam_esc's probe finds no usable
# pcscd: PAM_IGNORE in silence, by design, see pam_probe.sh). Keep in step with
# docs/security.md, "Fault matrix: services and servers".
ROWS=(
    "tps_stall        | eha | tps 'stall 2 30'   | tps_clear  | fail | UNINITIALIZED | 30 | 15 | ^The token server did not answer within 2 seconds\.$ | ="
    "tps_flood_status | eha | tps 'flood status' | tps_clear  | fail | UNINITIALIZED | 30 | 30 | ^The token server sent more than 4000 messages; the operation was stopped\.$ | ="
    "tps_flood_pdu    | eha | tps 'flood pdu'    | tps_clear  | fail | UNINITIALIZED | 30 | 30 | ^The token server sent more than 4000 messages; the operation was stopped\.$ | ="
    "tps_malformed    | eha | tps 'malformed 3'  | tps_clear  | fail | UNINITIALIZED | 30 | 12 | ^The token server sent a malformed message\.$ | ="
    "tps_oversized    | eha | tps 'oversized 3'  | tps_clear  | fail | UNINITIALIZED | 30 | 12 | ^The token server sent a badly framed message\.$ | ="
    "tps_http_503     | eha | tps 'http_status 503' | tps_clear | fail | UNINITIALIZED | 30 | 12 | ^The token server answered with HTTP status 503 | ="
    "end_op_14_1      | eha | tps 'end_op 14 1'  | tps_clear  | fail | UNINITIALIZED | 30 | 12 | ^The directory rejected the user ID or password\.$ | ="
    "end_op_26_1      | eha | tps 'end_op 26 1'  | tps_clear  | fail | UNINITIALIZED | 30 | 12 | ^This card is disabled on the token server\.$ | ="
    "end_op_0_1       | eha | tps 'end_op 0 1'   | tps_clear  | fail | UNINITIALIZED | 30 | 12 | ^The token server did not perform the operation and gave no reason\.$ | ="
    "end_op_none_1    | eha | tps 'end_op -1 1'  | tps_clear  | fail | UNINITIALIZED | 30 | 12 | ^The token server reported an unknown error\.$ | ="
    "end_op_0_0       | eha | tps 'end_op 0 0'   | tps_clear  | fail | UNINITIALIZED | 30 | 12 | ^The token server reported that the card was enrolled, but it did not happen: it is not enrolled | ="
    "end_op_44_0      | eha | tps 'end_op 44 0'  | tps_clear  | fail | UNINITIALIZED | 30 | 12 | ^The token server reported that the card was enrolled, but it did not happen: it is not enrolled | ="
    "ph_entities      | eha | ph 'phone_home_body $TMP/ph/entities.xml' | tps_clear | fail | UNINITIALIZED | 30 | 12 | ^The phone-home answer carries a DTD, which is not accepted\.$ | ="
    "ph_huge          | eha | ph 'phone_home_body $TMP/ph/huge.xml'     | tps_clear | fail | UNINITIALIZED | 30 | 12 | ^The phone-home answer is too large \(over 65536 bytes\)\.$ | ="
    "ph_foreign_host  | eha | ph 'phone_home_body $TMP/ph/foreign.xml'  | tps_clear | fail | UNINITIALIZED | 30 | 12 | ^The host tps\.example\.net is not in allowed_hosts; the agent will not contact it\.$ | ="
    "ph_redirect      | eha | ph 'phone_home_redirect https://tps.example.net/tps/phoneHome' | tps_clear | fail | UNINITIALIZED | 30 | 12 | ^The phone-home server answered with HTTP status 302\.$ | ="
    "ph_slow          | eha | ph 'phone_home_stall 20' | tps_clear | fail | UNINITIALIZED | 2 | 10 | ^The phone-home server did not answer within [0-9]+ seconds?\.$ | ="
    "pcscd_frozen     | eha | pcscd_stop         | pcscd_cont | fail | UNINITIALIZED | 30 | 12 | ^The smart-card service \(pcscd\) does not answer\.$ | -"
    "pcscd_killed     | eha | pcscd_kill         | pcscd_back | fail | UNINITIALIZED | 30 | 12 | ^The smart-card service \(pcscd\) is not running | -"
    "cache_read_only  | eha | cache_ro           | cache_undo | ok   | ENROLLED      | 30 | 20 | ^The card was enrolled: 2 certificates, valid until [0-9-]+\.$ | ="
    "cache_full       | eha | cache_full         | cache_undo | ok   | ENROLLED      | 30 | 20 | ^The card was enrolled: 2 certificates, valid until [0-9-]+\.$ | ="
    "slapd_down       | eha | slapd_stop         | :          | fail | UNINITIALIZED | 30 | 12 | ^The token server could not reach the directory\.$ | ="
)

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; echo "${s%"${s##*[![:space:]]}"}"; }

# our processes still running: esc-agent and escctl of this build, but the session agent
left_procs() {
    local p exe out=
    for p in $(pgrep -x esc-agent) $(pgrep -x escctl); do
        [ "$p" = "${AGENT:-}" ] && continue
        exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
        case "$exe" in "$PAM_HELPER" | "$(readlink -f "$ESCCTL")") out="$out $p" ;; esac
    done
    [ -n "${AGENT:-}" ] && out="$out $(pgrep -P "$AGENT" | tr '\n' ' ')"
    trim "$out"
}

# run_path PATH BOUND DEADLINE: one enrollment through PATH; sets OUTF, MS, $OUTF.s (the
# sentences shown), PAM_RC
run_path() {
    local path=$1 bound=$2 dl=$3 t0
    OUTF=$TMP/run.$path
    t0=$(date +%s%N)
    case $path in
    e)
        { cat "$TMP/escctl.conf"; echo "operation_timeout = $bound"; } >"$TMP/escctl-run.conf"
        in_ns env ESC_CONF="$TMP/escctl-run.conf" timeout -k 1 $((dl + 30)) "$ESCCTL" --no-agent enroll \
            --user "$RIG_USER" --password-fd 3 --pin-fd 4 --json 3< <(ldap_password) 4< <(echo "$PIN") \
            >"$OUTF" 2>"$OUTF.err"
        json_field "$OUTF" message >"$OUTF.s" 2>/dev/null
        # with --json nothing else is said (stderr holds only the sanitizers' reports, if any)
        [ -s "$OUTF.err" ] && sed 's/^/stderr: /' "$OUTF.err" >>"$OUTF.s"
        ;;
    h | a)
        local helper=$PAM_HELPER rt=
        [ "$path" = a ] && helper=$TMP/no-such-helper rt=$RT
        pam_service matrix \
            "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$helper timeout=$bound" \
            "auth required $PAM_MATRIX passdb=$TMP/passdb"
        in_ns env ${rt:+XDG_RUNTIME_DIR=$rt} timeout -k 1 $((dl + 30)) "$PAM_DRIVE" -S -p 'Password: =letmein' \
            -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN" -a "$PIN" matrix "$PAM_USER" "$SVC" \
            >"$OUTF" 2>"$OUTF.err"
        PAM_RC=$?
        # pam_esc's sentences: its errors, and its closing information (not the progress)
        grep -E '^ERROR: |^INFO: The ' "$OUTF" | sed 's/^[A-Z]*: //' >"$OUTF.s"
        ;;
    esac
    MS=$((($(date +%s%N) - t0) / 1000000))
}

# check_run NAME PATH CLASS STATE ERE PAM_ERE DEADLINE
check_run() {
    local n=$1_$2 class=$3 state=$4 ere=$5 pam_ere=$6 dl=$7 left st want=1
    [ "$2" != e ] && [ "$pam_ere" != = ] && ere=$pam_ere
    # escctl's ok rows: the cache's warning goes with the result
    if [ "$2" = e ] && [ "$class" = ok ]; then
        grep -q '^stderr: escctl: warn: The phone-home cache could not be written' "$OUTF.s" &&
            sed -i '/^stderr: escctl: warn: The phone-home cache could not be written/d' "$OUTF.s" ||
            want=0
    fi
    if [ "$ere" = - ] && [ ! -s "$OUTF.s" ]; then
        pass "${n}_sentence"
    elif [ "$want" = 1 ] && [ "$(wc -l <"$OUTF.s")" = 1 ] && grep -Eq -- "$ere" "$OUTF.s"; then
        pass "${n}_sentence"
    else
        fail "${n}_sentence" "want one sentence matching /$ere/ (cache warning: $want), got: $(tr '\n' '|' <"$OUTF.s") $(tail -c 300 "$OUTF.err" | tr '\n' ' ')"
    fi
    [ "$MS" -lt $((dl * 1000)) ] && pass "${n}_deadline" || fail "${n}_deadline" "$MS ms, deadline $dl s"
    left=$(left_procs)
    if [ -z "$left" ] && { [ "$2" = e ] || { grep -q '^children: 0$' "$OUTF" && grep -q '^snapshot: same' "$OUTF"; }; }; then
        pass "${n}_no_proc"
    else
        fail "${n}_no_proc" "left: '$left'; $(grep -E '^(children|snapshot)' "$OUTF" | tr '\n' ' ')"
        # shellcheck disable=SC2086
        [ -n "$left" ] && kill $left 2>/dev/null
    fi
    st=$(card_state)
    [ "$st" = "$state" ] && pass "${n}_status" || fail "${n}_status" "escctl status says '$st', the card is $state"
    [ "$2" = e ] && return
    if [ "$PAM_RC" = 0 ] && { [ "$class" = ok ] || grep -q '^PROMPT_ECHO_OFF: Password: ' "$OUTF"; }; then
        pass "${n}_password"
    else
        fail "${n}_password" "pam_drive exit $PAM_RC: $(tr '\n' '|' <"$OUTF" | tail -c 300)"
    fi
}

# ---- every END_OP code x both results, through escctl ----
# result 1: exit 7 (8 for 14, the directory's refusal), the code named in the JSON, one
# sentence that claims nothing; result 0: the claim is checked against the card, which is not
# enrolled (exit 5, "did not happen"). The card stays UNINITIALIZED throughout. The runs are
# checked together afterwards (one python3 for all: a process per check would triple the time).
walk_t0=$SECONDS
mkdir -p "$TMP/walk"
for r in 1 0; do
    for c in $(seq -1 49); do
        tps "end_op $c $r"
        f=$TMP/walk/$c.$r
        ESC_CONF=$TMP/escctl.conf "$ESCCTL" --no-agent enroll --user "$RIG_USER" --password-fd 3 --pin-fd 4 \
            --json 3< <(ldap_password) 4< <(echo "$PIN") >"$f.json" 2>"$f.err"
        echo $? >"$f.rc"
    done
done
tps_clear
echo "END_OP walk: 102 runs in $((SECONDS - walk_t0)) s"
python3 - "$TMP/walk" >"$TMP/walk.out" <<'PY'
import json, os, re, sys
d = sys.argv[1]
claims = re.compile(r"was enrolled|succeeded|were renewed|complete", re.I)
for r in (1, 0):
    for c in range(-1, 50):
        f = os.path.join(d, "%d.%d" % (c, r))
        rc = int(open(f + ".rc").read())
        err = open(f + ".err").read()
        why = []
        try:
            j = json.load(open(f + ".json"))
        except Exception as e:
            print("FAIL: fault_matrix_end_op_walk_%d_%d: no JSON (%s) %s" % (c, r, e, err[:200]))
            continue
        m, eo = j.get("message") or "", j.get("end_op") or {}
        if (eo.get("result"), eo.get("message")) != (r, c):
            why.append("END_OP read as %s/%s" % (eo.get("result"), eo.get("message")))
        if j.get("state_after") != "UNINITIALIZED":
            why.append("state_after %s" % j.get("state_after"))
        if not m.endswith(".") or "\n" in m or err:
            why.append("not one sentence: %r %r" % (m, err[:200]))
        if claims.search(m) and "did not happen" not in m:
            why.append("claims success: %r" % m)
        if r == 1 and rc != (8 if c == 14 else 7):
            why.append("exit %d" % rc)
        if r == 0 and (rc != 5 or "did not happen: it is not enrolled" not in m):
            why.append("exit %d, %r" % (rc, m))
        if why:
            print("FAIL: fault_matrix_end_op_walk_%d_%d: %s" % (c, r, "; ".join(why)))
        print("TABLE: %3d %d  %s" % (c, r, m))
PY
grep '^FAIL: ' "$TMP/walk.out"
grep -q '^FAIL: ' "$TMP/walk.out" && fail fault_matrix_end_op_walk "$(grep -c '^FAIL: ' "$TMP/walk.out") of 102 runs wrong (lines above)" ||
    pass fault_matrix_end_op_walk
sed -n 's/^TABLE: //p' "$TMP/walk.out"
st=$(card_state)
[ "$st" = UNINITIALIZED ] && pass fault_matrix_end_op_walk_status || fail fault_matrix_end_op_walk_status "escctl status says '$st'"

printf '%-18s %-5s %6s  %s\n' row path ms sentence >"$TMP/table"
for row in "${ROWS[@]}"; do
    IFS='|' read -r name paths setup undo class state bound dl ere pam_ere <<<"$row"
    name=$(trim "$name") paths=$(trim "$paths") setup=$(trim "$setup") undo=$(trim "$undo")
    class=$(trim "$class") state=$(trim "$state") bound=$(trim "$bound") dl=$(trim "$dl")
    ere=$(trim "$ere") pam_ere=$(trim "$pam_ere")
    if [ -z "$NS" ] && [[ $setup == cache_* ]]; then
        skip "fault_matrix_$name" "no private mount namespace (unshare -m refused): the cache cannot be mounted"
        continue
    fi
    for ((i = 0; i < ${#paths}; i++)); do
        p=${paths:i:1}
        eval "$setup"
        run_path "$p" "$bound" "$dl"
        eval "$undo"
        check_run "fault_matrix_$name" "$p" "$class" "$state" "$ere" "$pam_ere" "$dl"
        [ "$class" = ok ] && reformat
        printf '%-18s %-5s %6d  %s\n' "$name" "$p" "$MS" "$(head -n 1 "$OUTF.s")" >>"$TMP/table"
    done
done
cat "$TMP/table"
