#!/usr/bin/env bash
# escctl_renew_policy: `escctl renew` against a TPS that behaves as Dogtag's (issue 8): the
# renewal is an enroll of the active token, and what the token policy allows decides it:
# - RENEW=YES: the certificates are renewed for the same keys, later notAfter, exit 0;
# - RENEW=NO, RE_ENROLL=YES: the card is enrolled again, new keys, exit 0;
# - neither: the TPS refuses (END_OP 26), escctl says so in one sentence, exit 7, the card is
#   untouched (same certificates, still EXPIRED).
# Each case brings the rig up with its default token policy (RIG_TPS_POLICY), an EXPIRED card.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready escctl_renew_policy
trap rig_cleanup EXIT

# moduli: the card's public keys, one per line, sorted (what "the same keys" means)
moduli() {
    local id
    for id in $(cert_ids); do
        cert_der "$id" "$TMP/m.der" && openssl x509 -inform DER -in "$TMP/m.der" -noout -modulus
    done | sort
}
# fingerprints: the certificates themselves
fingerprints() {
    local id
    for id in $(cert_ids); do
        cert_der "$id" "$TMP/f.der" && openssl x509 -inform DER -in "$TMP/f.der" -noout -fingerprint -sha256
    done | sort
}

# case NAME POLICY: rig up with POLICY and an EXPIRED card, then escctl renew; sets rc, msg,
# and the card's keys, certificates and latest notAfter before and after
renew_case() {
    local name=$1
    [ -n "${RIG_DIR:-}" ] && "$RIG" down >/dev/null 2>&1
    RIG_TPS_POLICY="$2" rig_up --card expired || { fail "${name}_rig" "rig up failed"; return 1; }
    secret "$RIG_PIN"
    keys0=$(moduli) certs0=$(fingerprints) na0=$(latest_not_after) st0=$(card_state)
    NEW_PIN=$RIG_PIN escctl_op renew >"$TMP/$name.json" 2>"$TMP/$name.err"
    rc=$?
    msg=$(json_field "$TMP/$name.json" message 2>/dev/null)
    keys1=$(moduli) certs1=$(fingerprints) na1=$(latest_not_after) st1=$(card_state)
    echo "$name: exit $rc, $st0 -> $st1, notAfter $na0 -> $na1: $msg"
    [ "$st0" = EXPIRED ] || { fail "${name}_card_expired_before" "the card was $st0"; return 1; }
}
if renew_case renew_allowed "RE_ENROLL=YES;RENEW=YES;FORCE_FORMAT=NO;PIN_RESET=YES;RESET_PIN_RESET_TO_NO=NO"; then
    [ $rc = 0 ] && grep -q '^The certificates were renewed: valid until' <<<"$msg" &&
        pass renew_allowed_says_renewed || fail renew_allowed_says_renewed "exit $rc, '$msg'"
    [ -n "$keys0" ] && [ "$keys0" = "$keys1" ] && pass renew_allowed_same_keys ||
        fail renew_allowed_same_keys "the card's keys changed"
    [ "$na1" -gt "$na0" ] && [ "$st1" = ENROLLED ] && pass renew_allowed_later_not_after ||
        fail renew_allowed_later_not_after "notAfter $na0 -> $na1, state $st1"
    check renew_allowed_pin_still_signs sign_verify "$RIG_PIN"
fi

if renew_case reenroll_only "RE_ENROLL=YES;RENEW=NO;FORCE_FORMAT=NO;PIN_RESET=YES;RESET_PIN_RESET_TO_NO=NO"; then
    [ $rc = 0 ] && [ "$st1" = ENROLLED ] && [ "$na1" -gt "$na0" ] && pass reenroll_only_card_usable_again ||
        fail reenroll_only_card_usable_again "exit $rc, state $st1, notAfter $na0 -> $na1, '$msg'"
    [ -n "$keys1" ] && [ "$keys0" != "$keys1" ] && pass reenroll_only_new_keys ||
        fail reenroll_only_new_keys "the card kept its keys: no re-enrollment"
    check reenroll_only_pin_signs sign_verify "$RIG_PIN"
fi

if renew_case neither "RE_ENROLL=NO;RENEW=NO;FORCE_FORMAT=NO;PIN_RESET=YES;RESET_PIN_RESET_TO_NO=NO"; then
    [ $rc = 7 ] && [ "$(json_field "$TMP/neither.json" end_op.message)" = 26 ] &&
        grep -qi 'not allow' <<<"$msg" && ! grep -qiE 'were renewed|was enrolled|success' <<<"$msg" &&
        pass neither_one_clear_sentence || fail neither_one_clear_sentence "exit $rc, '$msg'"
    [ "$certs0" = "$certs1" ] && [ "$st1" = EXPIRED ] && pass neither_card_untouched ||
        fail neither_card_untouched "state $st1, certificates changed: $([ "$certs0" = "$certs1" ] && echo no || echo yes)"
fi
