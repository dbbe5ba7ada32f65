# shellcheck shell=bash
# fault_matrix.bash: issue 11's fault matrix runner, shared by the tests that walk faults
# (tests/integration/fault_matrix_walk.sh and the other rows). Runs ONE operation (enroll or
# pinreset) end to end through one of three paths with a fault set beforehand, and checks the
# four properties the matrix asks of every case.
#
# Use (after lib.sh, tps_helpers.bash and tests/pam/lib.sh are sourced):
#   pam_need_built; tps_ready NAME
#   rig_up --card formatted || ...
#   fm_setup                        PAM stacks, the session agent (path pam-agent), saved card
#                                   states for each operation's start (formatted / locked)
#   fm_reset OP [CARD_FAULT]        the card back to OP's starting state (the saved state file, no
#                                   re-provisioning), the TPS DB as saved, no TPS fault; the card
#                                   goes in with CARD_FAULT if given (vanish:N: pulled at its N-th
#                                   APDU, counted from its insertion)
#   fm_fault_tps "drop 7"           a line for the TPS's fault file ("" for none)
#   fm_fault_card vanish:12         the same card fault without a reset
# The card is never re-provisioned nor removed between cases: the vcard reads its state file
# and STATE.fault again at SIGHUP (tests/vcard/vc_vpcd.c); only a pulled card is inserted again.
#   fm_run PATH OP                  PATH: escctl | pam-helper | pam-agent; OP: enroll | pinreset
#                                   sets FM_RC, FM_MS (wall ms), FM_SAID (the one sentence, or
#                                   every sentence joined by " | " if more than one),
#                                   FM_NSAID (how many), FM_SUCCESS (1 if the path claimed success),
#                                   FM_PW_OK (PAM: the password module after pam_esc logged in)
#   fm_check NAME                   after fm_run: the four checks; prints PASS/FAIL NAME_...,
#                                   returns non-zero if any failed; sets FM_TRUTH (the card's state
#                                   from the vcard's own state file) and FM_CLASS ("STATE: sentence")
#   fm_teardown                     stop the session agent (also done at exit)
#   fm_card_back                    a pulled card back in (pcscd sees it go, then come back)
# fm_check also sets FM_SILENT (1: pam_esc stayed silent, the card gone at its own probe) and
# FM_CHECK_MS (what the checks cost). A file $RIG_DIR/card.state.trace, if present at the
# next fm_reset, gets the vcard's APDUs ("N CLA INS", fault_matrix_walk.sh's fm_steps).
# The four checks (fm_check):
#   1. one clear sentence: exactly one, capitalised, ending with a full stop, no "Unknown error",
#      not two joined (": The ..."); success is said only if the card really is ENROLLED; on a
#      PAM path a card pulled during pam_esc's own probe (before the hand-off) may leave pam_esc
#      silent (no card at this login), and only then (FM_SILENT=1);
#   2. within FM_DEADLINE_MS (default 15000 ms; the per-message TPS timeout is 90 s);
#   3. no process left: no escctl and no esc-agent other than the session agent; pam_drive
#      reports no child after pam_end, and its snapshot (threads, fds, signals) unchanged;
#   4. escctl status tells the truth: the state it says (the card reinserted if it was pulled)
#      is the one the vcard's own state file holds; and (PAM paths) the password path still
#      works after a failure (pam_matrix after pam_esc, "letmein").
# The card is left in the reader after fm_check (reinserted if it was pulled).

FM_DEADLINE_MS=${FM_DEADLINE_MS:-15000}
FM_PIN=${FM_PIN:-13572468}
FM_PW=letmein

fm_setup() {
    secret "$FM_PIN"
    secret "$RIG_LDAP_PASSWORD"
    rig_for_helper
    FM_ME=$(id -un)
    printf '%s:%s:fm\n%s:%s:fm\n' "$RIG_USER" "$FM_PW" "$FM_ME" "$FM_PW" >"$TMP/passdb"
    # (a) the PAM-time helper: pam_esc starts esc-agent --pam itself
    pam_service fm_helper \
        "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER timeout=60 debug debug_file=stderr" \
        "auth required $PAM_MATRIX passdb=$TMP/passdb"
    # (b) the session agent serving the hand-off socket; no helper to fall back to
    pam_service fm_agent \
        "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$TMP/no-such-helper timeout=60 debug debug_file=stderr" \
        "auth required $PAM_MATRIX passdb=$TMP/passdb"
    FM_RT=$TMP/fm-rt
    mkdir -p -m 0700 "$FM_RT"
    env -i XDG_RUNTIME_DIR="$FM_RT" ESC_CONF="$TMP/esc.conf" PCSCLITE_CSOCK_NAME="$PCSCLITE_CSOCK_NAME" \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$PAM_HELPER" --pam-serve >"$TMP/fm-agent.log" 2>&1 &
    FM_AGENT=$!
    for _ in $(seq 250); do [ -S "$FM_RT/esc-agent/socket" ] && break; sleep 0.02; done
    [ -S "$FM_RT/esc-agent/socket" ] || { fail fm_setup "the session agent did not start: $(tail -n 3 "$TMP/fm-agent.log")"; return 1; }
    # the starting states: a formatted card (enroll) and a PIN-locked one (pinreset)
    "$RIG" card preset locked >/dev/null 2>&1 || { fail fm_setup "rig card preset locked failed"; return 1; }
    cp "$RIG_DIR/card.state" "$TMP/fm-start.pinreset"
    "$RIG" card preset formatted >/dev/null 2>&1 || { fail fm_setup "rig card preset formatted failed"; return 1; }
    cp "$RIG_DIR/card.state" "$TMP/fm-start.enroll"
    cp "$RIG_TPS_DB" "$TMP/fm-tpsdb" 2>/dev/null || : >"$TMP/fm-tpsdb"
    trap 'fm_teardown; rig_cleanup' EXIT
}

fm_teardown() {
    [ -n "${FM_AGENT:-}" ] || return 0
    kill "$FM_AGENT" 2>/dev/null
    wait "$FM_AGENT" 2>/dev/null
    FM_AGENT=
}

fm_card_pid() { cat "$RIG_DIR/pids/card.pid" 2>/dev/null; }
# a vcard that has exited is out even while it waits, a zombie, for whoever adopted it to reap
# it (that took about a second here: it was most of a pulled case's cost)
fm_card_in() {
    local pid
    pid=$(fm_card_pid)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}
fm_card_stop() { # the vcard process gone (not waiting for pcscd to see the reader empty)
    local pid
    pid=$(fm_card_pid)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    for _ in $(seq 100); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
    rm -f "$RIG_DIR/pids/card.pid"
}

fm_reset() { # OP [CARD_FAULT]
    cat "$TMP/fm-tpsdb" >"$RIG_TPS_DB"
    : >"$RIG_TPS_FAULTS"
    printf '%s\n' "${2:-}" >"$RIG_DIR/card.state.fault"
    cp "$TMP/fm-start.$1" "$RIG_DIR/card.state"
    if fm_card_in; then
        # the card stays in: the vcard reads the saved state and its fault again (SIGHUP)
        # before its next APDU
        kill -HUP "$(fm_card_pid)"
    else
        RIG_CARD_FAULT=${2:-} fm_card_back
    fi
}

fm_fault_tps() { printf '%s\n' "$1" >"$RIG_TPS_FAULTS"; }
fm_fault_card() { # MODE: the card's fault from its next APDU on (its APDU count starts at 0)
    printf '%s\n' "$1" >"$RIG_DIR/card.state.fault"
    if fm_card_in; then kill -HUP "$(fm_card_pid)"; else RIG_CARD_FAULT=$1 fm_card_back; fi
}

# a pulled card goes back in: pcscd must have seen it go first (else it would still show the
# card it had and only then notice the removal), then come back; both are waits on the
# reader's state (rig card remove / insert poll it), no fixed sleep; RIG_CARD_FAULT passes on
fm_card_back() {
    "$RIG" card remove >/dev/null 2>&1
    "$RIG" card insert >/dev/null 2>&1
}

fm_now_ms() { date +%s%3N; }

# the card's real state, from the vcard's own state file (not through PC/SC)
fm_truth() {
    local vc=$ESC_BUILD_PLAIN/tests/vcard # the plain build: a case's checks are its cost
    [ -x "$vc" ] || vc=$ESC_BUILD/tests/vcard
    "$vc" show --state "$RIG_DIR/card.state" --json 2>/dev/null | python3 -c '
import json, sys
c = json.load(sys.stdin)
if not c.get("applet"): print("NO_APPLET")
elif c.get("life_cycle") == 7: print("UNINITIALIZED")
elif c.get("life_cycle") == 15:
    p = [x for x in c.get("pins", []) if x.get("number") == 0]
    print("PIN_LOCKED" if p and p[0].get("tries_left") == 0 else "ENROLLED")
else: print("LIFE_CYCLE_%s" % c.get("life_cycle"))'
}
# what escctl status says of the first reader
fm_status() { "$ESC_BUILD_PLAIN/escctl" status 2>/dev/null | grep -F "$RIG_READER:" | head -n 1 | sed -E 's/^[^:]*: ([A-Z_]+).*/\1/'; }

fm_run() { # PATH OP
    local path=$1 op=$2 t0 o=$TMP/fm.out cmd=$2
    FM_PATH=$path FM_OP=$op FM_SAID= FM_NSAID=0 FM_SUCCESS=0 FM_PW_OK=
    [ "$op" = pinreset ] && cmd=reset-pin
    t0=$(fm_now_ms)
    case $path in
    escctl)
        "$ESCCTL" "$cmd" --user "$RIG_USER" --password-fd 3 --pin-fd 4 --json \
            3< <(printf '%s\n' "$RIG_LDAP_PASSWORD") 4< <(printf '%s\n' "$FM_PIN") >"$o" 2>"$o.err"
        FM_RC=$?
        FM_MS=$(($(fm_now_ms) - t0))
        local okj
        read -r okj FM_SAID < <(python3 -c 'import json, sys
try: v = json.load(open(sys.argv[1]))
except Exception: v = {}
print("true" if v.get("ok") is True else "false", v.get("message") or "")' "$o" 2>/dev/null)
        [ -n "$FM_SAID" ] && FM_NSAID=1
        [ "$FM_RC" = 0 ] && [ "$okj" = true ] && FM_SUCCESS=1
        ;;
    pam-helper | pam-agent)
        # the session agent serves its own user only: the PAM user is the one running this
        local svc=fm_helper user=$RIG_USER
        [ $path = pam-agent ] && svc=fm_agent user=$FM_ME
        XDG_RUNTIME_DIR=${FM_RT:-} pam_run "$o" -S -p "Password: =$FM_PW" -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" \
            -a "$FM_PIN" -a "$FM_PIN" "$svc" "$user" "$SVC"
        FM_RC=$PAM_RC
        FM_MS=$(($(fm_now_ms) - t0))
        # pam_esc's sentences: its ERROR lines, and the agent's closing INFO line (escctl's
        # sentence: "The card was enrolled: ...", "The card was given a new PIN ...")
        local ok_re='^INFO: The card was (enrolled|given a new PIN)'
        FM_NSAID=$(($(grep -c '^ERROR: ' "$o") + $(grep -Ec "$ok_re" "$o")))
        FM_SAID=$(grep -E "^ERROR: |$ok_re" "$o" | sed -E 's/^(ERROR|INFO): //' | paste -sd'|' | sed 's/|/ | /g')
        grep -Eq "$ok_re" "$o" && ! grep -q '^ERROR: ' "$o" && FM_SUCCESS=1
        if grep -q '^PROMPT_ECHO_OFF: Password: ' "$o" && [ "$PAM_RC" = 0 ]; then FM_PW_OK=1; else FM_PW_OK=0; fi
        ;;
    *) echo "fm_run: unknown path $path" >&2; return 2 ;;
    esac
    return 0
}

# processes left of ours: escctl, or esc-agent other than the session agent
fm_left() {
    local p exe
    for p in $(pidof escctl esc-agent); do
        exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
        case $exe in "$ESC_BUILD/escctl" | "$ESC_BUILD/esc-agent" | "$ESC_BUILD_PLAIN/escctl" | "$ESC_BUILD_PLAIN/esc-agent") ;; *) continue ;; esac
        [ "$p" = "${FM_AGENT:-}" ] && continue
        grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && continue
        echo "$p"
    done
}

fm_check() { # NAME
    local name=$1 bad=0 why=() st pulled=0 left
    # 4a. the card pulled: it goes back in as it was left (not waiting for pcscd to see the
    # reader empty first: escctl itself said the card was removed, check 1)
    # the vcard closes the connection (escctl may say so at once) before it saves and exits
    if fm_card_in && tail -n 2 "$RIG_DIR/logs/vcard.log" | grep -Eq 'fault: vanishing|removed \(fault'; then
        for _ in $(seq 100); do fm_card_in || break; sleep 0.02; done
    fi
    local tc0; tc0=$(fm_now_ms)
    # the operation is over: the card's fault goes, or the APDUs of the checks below (escctl
    # status probes the card too) would meet it: a "vanish:N" past the operation's last APDU
    # pulled the card during the status check and made it say NO_CARD (a rig matter, not a lie)
    : >"$RIG_DIR/card.state.fault"
    if ! fm_card_in; then
        pulled=1
        fm_card_back
    else
        kill -HUP "$(fm_card_pid)" # the vcard reads its (empty) fault again before its next APDU
    fi
    FM_TRUTH=$(fm_truth)
    # one look: the card is in the reader and pcscd has seen it (rig card insert waits for
    # that), so escctl status must tell the truth at once
    st=$(fm_status)
    [ "$st" = "$FM_TRUTH" ] || why+=("escctl status says '$st', the card is $FM_TRUTH")
    FM_CHECK_MS=$(($(fm_now_ms) - tc0))
    # 1. one clear sentence; success only if the card is enrolled. One exception: on a PAM
    # path, a card pulled during pam_esc's own decision probe (before any hand-off) is no card
    # at this login: pam_esc steps aside silently and the password logs in (checked below);
    # its debug lines (debug_file=stderr) say the probe decided "nothing to do" and nothing
    # was handed off
    FM_SILENT=0
    if [ "$FM_PATH" != escctl ] && [ "$FM_NSAID" = 0 ] && [ $pulled = 1 ] &&
        grep -Eq '^pam_esc: card [A-Z_]+ in .*: nothing to do$' "$TMP/fm.out.err" &&
        ! grep -Eq '^pam_esc: (helper .* started|using the session agent)' "$TMP/fm.out.err"; then
        FM_SILENT=1
    elif [ "$FM_NSAID" != 1 ]; then
        why+=("$FM_NSAID sentences: '$FM_SAID'")
    elif ! grep -Eq '^[A-Z].*[a-z0-9)][.!]$' <<<"$FM_SAID" || grep -qi 'unknown error' <<<"$FM_SAID"; then
        why+=("not a clear sentence: '$FM_SAID'")
    elif grep -Eq ': [A-Z][a-z]|[a-z)]\. [A-Z]' <<<"$FM_SAID"; then
        # one sentence, not two glued ("...afterwards: The smart card was removed...")
        why+=("two sentences joined: '$FM_SAID'")
    fi
    if [ "$FM_SUCCESS" = 1 ] && [ "$FM_TRUTH" != ENROLLED ]; then
        why+=("success said ('$FM_SAID') but the card is $FM_TRUTH")
    fi
    if [ "$FM_SUCCESS" = 0 ] && grep -Eqi '^The card was (enrolled|given a new PIN)' <<<"$FM_SAID"; then
        why+=("a failure (exit $FM_RC) that says success: '$FM_SAID'")
    fi
    # 2. the deadline
    [ "$FM_MS" -lt "$FM_DEADLINE_MS" ] || why+=("took $FM_MS ms (deadline $FM_DEADLINE_MS ms)")
    # 3. nothing left
    left=$(fm_left | paste -sd' ')
    [ -z "$left" ] || why+=("processes left: $left ($(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline"; done))")
    if [ "$FM_PATH" != escctl ]; then
        grep -q '^children: 0$' "$TMP/fm.out" || why+=("pam_drive: $(grep '^children' "$TMP/fm.out")")
        grep -q '^snapshot: same' "$TMP/fm.out" || why+=("the calling process changed: $(grep -A3 '^snapshot' "$TMP/fm.out" | paste -sd' ')")
        # 4b. the password path still works after a failure
        [ "$FM_SUCCESS" = 1 ] || [ "$FM_PW_OK" = 1 ] || why+=("the password login failed after the fault (authenticate rc $FM_RC)")
    fi
    [ -n "${FM_AGENT:-}" ] && [ "$FM_PATH" = pam-agent ] && ! kill -0 "$FM_AGENT" 2>/dev/null &&
        why+=("the session agent died")
    FM_CLASS="$FM_TRUTH: $(sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}/DATE/g; s/[0-9]+ seconds/N seconds/g' <<<"$FM_SAID")"
    [ $FM_SILENT = 1 ] && FM_CLASS="$FM_TRUTH: (pam_esc silent: the card was gone at its probe; the password logged in)"
    [ $pulled = 1 ] && FM_CLASS="pulled, $FM_CLASS"
    if [ ${#why[@]} = 0 ]; then
        return 0
    fi
    fail "$name" "$(printf '%s; ' "${why[@]}")[$FM_PATH $FM_OP, exit $FM_RC, $FM_MS ms]"
    bad=1
    return $bad
}
