#!/usr/bin/env bash
# tps_outcome: what escctl tells the user is what the card is, whatever the TPS claims
# (issue 8; issue 11 defects 4, 5, 8, 10):
# - a TPS that ends result=0 without touching the card: no "enrolled", non-zero exit;
# - END_OP 44 / 36 with result=1: failure sentences, exit 7;
# - renew is an enroll on the wire (Dogtag does nothing for operation 4): later notAfter, the
#   same PIN, shown to the user; the same for an EXPIRED card;
# - the connection lost after the card was written: the card is enrolled, and the user is told;
# - the TPS's per-message deadline is reported with its own seconds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready tps_outcome
rig_up --card formatted || { fail tps_outcome_rig "rig up failed"; exit 0; }

# run OP NAME: escctl_op into $TMP/NAME.json / .err; exit code in $rc, sentence in $msg
run() {
    escctl_op "$1" >"$TMP/$2.json" 2>"$TMP/$2.err"
    rc=$?
    msg=$(json_field "$TMP/$2.json" message 2>/dev/null)
}
claims() { grep -qiE 'success|complete|was enrolled|were renewed|were recovered' <<<"$1"; }

# defect 4: END_OP result=0 message=0 at once, no card work
echo "end_op 0" >"$RIG_TPS_FAULTS"
run enroll e0
st=$(card_state)
if [ $rc != 0 ] && ! grep -q '^The card was enrolled' <<<"$msg" && [ "$st" = UNINITIALIZED ] &&
    [ "$(json_field "$TMP/e0.json" state_after)" = UNINITIALIZED ] && grep -q 'not enrolled' <<<"$msg"; then
    pass tps_outcome_result0_without_card_work
else
    fail tps_outcome_result0_without_card_work "exit $rc, card $st, message '$msg'"
fi

# defect 8: the "processed" codes with result=1 are failures
for c in 44 36; do
    echo "end_op $c" >"$RIG_TPS_FAULTS"
    run enroll e$c
    if [ $rc = 7 ] && [ "$(json_field "$TMP/e$c.json" end_op.result)" = 1 ] && ! claims "$msg" &&
        grep -q 'reported a failure' <<<"$msg"; then
        pass tps_outcome_end_op_${c}_result1_is_failure
    else
        fail tps_outcome_end_op_${c}_result1_is_failure "exit $rc, message '$msg'"
    fi
done
: >"$RIG_TPS_FAULTS"

# enroll for real: the sentence says what the card now holds
run enroll ok
rounds=$(json_field "$TMP/ok.json" stats.round_trips)
if [ $rc = 0 ] && grep -qE '^The card was enrolled: 2 certificates, valid until [0-9]{4}-' <<<"$msg" &&
    [ "$(card_state)" = ENROLLED ]; then
    pass tps_outcome_enroll_says_what_card_holds
else
    fail tps_outcome_enroll_says_what_card_holds "exit $rc, message '$msg' $(cat "$TMP/ok.err")"
fi

# issue 8: renew = an enroll of the active token (BEGIN_OP operation=1), later notAfter, same PIN
na_before=$(latest_not_after)
sleep 1.1 # notAfter has a one-second resolution
en=$(tps_stat op_enroll) rn=$(tps_stat op_renew)
run renew rw
na_after=$(latest_not_after)
if [ $rc = 0 ] && [ "$na_after" -gt "$na_before" ] && grep -q '^The certificates were renewed: valid until' <<<"$msg"; then
    pass tps_outcome_renew_later_not_after
else
    fail tps_outcome_renew_later_not_after "exit $rc, notAfter $na_before -> $na_after, message '$msg'"
fi
[ "$(tps_stat op_enroll)" = $((en + 1)) ] && [ "$(tps_stat op_renew)" = "$rn" ] &&
    pass tps_outcome_renew_is_an_enroll_on_the_wire ||
    fail tps_outcome_renew_is_an_enroll_on_the_wire "TPS op_enroll $en -> $(tps_stat op_enroll), op_renew $rn -> $(tps_stat op_renew)"
check tps_outcome_renew_same_pin sign_verify "$NEW_PIN"

# defect 10: the connection is lost after the card was written (right before END_OP) on a
# formatted card the TPS does not know (the same conversation as the enroll above)
cuid=$(json_field "$TMP/ok.json" cuid)
if [ -n "$rounds" ] && [ "$rounds" -gt 2 ] && "$RIG" card preset formatted >/dev/null 2>&1; then
    grep -vi "^$cuid " "$RIG_TPS_DB" >"$TMP/db" && cat "$TMP/db" >"$RIG_TPS_DB"
    echo "drop $((rounds - 1))" >"$RIG_TPS_FAULTS"
    t0=$SECONDS
    run enroll lost
    lost_s=$((SECONDS - t0))
    : >"$RIG_TPS_FAULTS"
    st=$(card_state)
    # the TPS closed at once: noticed at once, not after the 90 s per-message timeout
    if [ $rc != 0 ] && [ $lost_s -lt 15 ] && [ "$st" = ENROLLED ] && [ "$(json_field "$TMP/lost.json" state_after)" = ENROLLED ] &&
        grep -q 'it is enrolled' <<<"$msg" && grep -q 'may not have recorded it' <<<"$msg"; then
        pass tps_outcome_lost_after_write_says_enrolled
    else
        fail tps_outcome_lost_after_write_says_enrolled "exit $rc after $lost_s s, card $st, message '$msg'"
    fi
else
    fail tps_outcome_lost_after_write_says_enrolled "no round-trip count ($rounds) or preset failed"
fi

# an EXPIRED card: escctl renew keeps its PIN (the one the user gives) and makes it usable
if "$RIG" card preset expired >/dev/null 2>&1; then
    grep -vi "^$cuid " "$RIG_TPS_DB" >"$TMP/db" && cat "$TMP/db" >"$RIG_TPS_DB"
    na_before=$(latest_not_after)
    st0=$(card_state)
    NEW_PIN=$RIG_PIN run renew exp
    na_after=$(latest_not_after)
    if [ "$st0" = EXPIRED ] && [ $rc = 0 ] && [ "$na_after" -gt "$(date +%s)" ] &&
        [ "$na_after" -gt "$na_before" ] && [ "$(card_state)" = ENROLLED ]; then
        pass tps_outcome_expired_card_renewed
    else
        fail tps_outcome_expired_card_renewed "state $st0, exit $rc, notAfter $na_before -> $na_after, message '$msg'"
    fi
    check tps_outcome_expired_card_same_pin sign_verify "$RIG_PIN"
else
    fail tps_outcome_expired_card_renewed "rig card preset expired failed"
fi

# defect 5: the deadline named is the TPS's per-message one (tps_message_timeout = 2)
c=$TMP/esc.conf
grep -vE '^ *tps_message_timeout *=' "$ESC_CONF" >"$c"
echo "tps_message_timeout = 2" >>"$c"
echo "stall 2 5" >"$RIG_TPS_FAULTS"
t0=$SECONDS
ESC_CONF=$c run enroll slow
: >"$RIG_TPS_FAULTS"
if [ $rc = 5 ] && [ "$msg" = "The token server did not answer within 2 seconds." ] &&
    [ "$(json_field "$TMP/slow.json" error)" = TPS_TIMEOUT ] && [ $((SECONDS - t0)) -lt 5 ]; then
    pass tps_outcome_timeout_names_its_deadline
else
    fail tps_outcome_timeout_names_its_deadline "exit $rc after $((SECONDS - t0)) s, message '$msg'"
fi
