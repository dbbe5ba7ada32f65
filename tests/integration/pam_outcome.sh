#!/usr/bin/env bash
# pam_outcome: at a PAM login, what pam_esc says is what the card is (issue 8; issue 11
# defects 4 and 5), with the real agent, TPS and card:
# - an EXPIRED card (operations=renew): pam_esc asks for "renew", the agent renews by an
#   enroll of the card (Dogtag does nothing for operation 4), pam_pkcs11 then logs in;
# - a TPS that ends result=0 without touching the card: no "enrolled", the password still works;
# - the TPS's message deadline (tps_message_timeout = 2) is named, not pam_esc's timeout=.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
pam_need_built
for f in "$ESC_BUILD/tests/vcard" "$ESC_BUILD/tests/tps"; do
    [ -x "$f" ] || { skip pam_outcome "not built: $f"; exit 0; }
done
rig_up --card expired || { fail pam_outcome "rig up failed"; exit 0; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 # pam_pkcs11 and coolkey leak
rig_for_helper

mkdir -p "$TMP/cacerts" "$TMP/crls"
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/cacerts/" && pkcs11_make_hash_link "$TMP/cacerts" >/dev/null 2>&1
sed -e "s#/etc/pam_pkcs11/cacerts#$TMP/cacerts#; s#/etc/pam_pkcs11/crls#$TMP/crls#" \
    "$ESC_TOP/config/pam.d/pam_pkcs11.conf" >"$TMP/pam_pkcs11.conf"
echo "$RIG_USER:letmein:outcome" >"$TMP/passdb"
stack() { # TIMEOUT
    pam_service outcome \
        "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER timeout=$1 operations=renew,enroll" \
        "auth [success=done default=ignore] pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf try_first_pass" \
        "auth required $PAM_MATRIX passdb=$TMP/passdb"
}
PW=(-p 'Password: =letmein')
stack 120

# an EXPIRED card at login: renewed by an enroll, then the card logs the user in. The PIN
# answered is the card's own, so the login works whether or not the TPS asks for a new one.
en=$(tps_stat op_enroll) rn=$(tps_stat op_renew)
pam_run "$TMP/renew" -S -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$RIG_PIN" -a "$RIG_PIN" outcome "$RIG_USER" "$SVC"
o=$TMP/renew
expect expired_renewed_then_card_login "$o" sh -c "[ $PAM_RC = 0 ] && grep -q '^INFO: The certificates were renewed: valid until' '$o' && ! grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"
expect expired_renewal_is_an_enroll_on_the_wire "$o" test "$(tps_stat op_enroll)/$(tps_stat op_renew)" = "$((en + 1))/$rn"
expect expired_card_now_enrolled "$o" test "$(card_state)" = ENROLLED

# a TPS that says result=0 at once: nothing was enrolled, so nothing is said to be
"$RIG" card preset formatted >/dev/null 2>&1
echo "end_op 0" >"$RIG_TPS_FAULTS"
pam_run "$TMP/claim" -S "${PW[@]}" outcome "$RIG_USER" "$SVC"
o=$TMP/claim
expect result0_not_believed "$o" sh -c "! grep -q '^INFO: The card was enrolled' '$o' && grep -q '^ERROR: .*did not happen: it is not enrolled' '$o'"
expect result0_password_still_works "$o" sh -c "[ $PAM_RC = 0 ] && grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"

# the TPS's own deadline fires (2 s) long before pam_esc's (30 s): the 2 s are named
grep -vE '^ *tps_message_timeout *=' "$TMP/esc.conf" >"$TMP/esc.conf.new" &&
    echo "tps_message_timeout = 2" >>"$TMP/esc.conf.new" && cat "$TMP/esc.conf.new" >"$TMP/esc.conf"
echo "stall 2 5" >"$RIG_TPS_FAULTS"
stack 30
pam_run "$TMP/slow" -S "${PW[@]}" outcome "$RIG_USER" "$SVC"
o=$TMP/slow
expect tps_deadline_named "$o" sh -c "grep -q '^ERROR: The token server did not answer within 2 seconds.' '$o' && ! grep -q 'within 30 seconds' '$o'"
expect tps_deadline_password_still_works "$o" sh -c "[ $PAM_RC = 0 ] && grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"
: >"$RIG_TPS_FAULTS"
