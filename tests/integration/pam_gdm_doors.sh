#!/usr/bin/env bash
# pam_gdm_doors: GDM's two doors (issue 10). GDM starts gdm-smartcard only when a PKCS#11
# module reports a token, which a blank card may not, and at the lock screen only for the
# token the session was opened with; everything else goes through gdm-password. So both
# stacks of config/pam.d, loaded as shipped (paths rewritten, common-auth = pam_matrix), must
# serve, on the rig with the real helper, TPS and pam_pkcs11:
#   - the first enrollment of a formatted card;
#   - a swapped card at the lock screen (PKCS11_LOGIN_TOKEN_NAME names the session's token,
#     as in the session's environment): a card to enroll, and another enrolled card.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
for f in "$ESC_BUILD/tests/vcard" "$ESC_BUILD/tests/tps"; do
    [ -x "$f" ] || { skip pam_gdm_doors "not built: $f"; exit 0; }
done
rig_up --card formatted || { fail pam_gdm_doors "rig up failed"; exit 0; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 # pam_pkcs11 and coolkey leak
rig_for_helper
mkdir -p "$TMP/cacerts" "$TMP/crls"
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/cacerts/" && pkcs11_make_hash_link "$TMP/cacerts" >/dev/null 2>&1
sed -e "s#/etc/pam_pkcs11/cacerts#$TMP/cacerts#; s#/etc/pam_pkcs11/crls#$TMP/crls#" \
    "$ESC_TOP/config/pam.d/pam_pkcs11.conf" >"$TMP/pam_pkcs11.conf"
echo "$RIG_USER:letmein:gdm" >"$TMP/passdb"
printf 'auth required %s passdb=%s\n' "$PAM_MATRIX" "$TMP/passdb" >"$SVC/common-auth"
printf 'account required pam_permit.so\n' >"$SVC/common-account"
printf 'session required pam_permit.so\n' >"$SVC/common-session"
printf 'password required pam_deny.so\n' >"$SVC/common-password"
for s in gdm-password gdm-smartcard; do
    sed -e "s#pam_esc.so#$PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER timeout=120#" \
        -e "s#pam_pkcs11.so#pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf#" \
        -e "s#^@include #@include $SVC/#" "$ESC_TOP/config/pam.d/$s" >"$SVC/$s"
done
state() { "$ESCCTL" status 2>/dev/null | grep -o ': [A-Z_]* ' | head -n 1 | tr -d ': '; }
ENROLL=(-a "$RIG_USER" -a "$RIG_LDAP_PASSWORD")
n=0
for s in gdm-password gdm-smartcard; do
    # first enrollment at the greeter (a formatted card)
    n=$((n + 1)) PIN=1357024$n
    "$RIG" card preset formatted >/dev/null 2>&1
    pam_run "$TMP/$s.first" "${ENROLL[@]}" -a "$PIN" -a "$PIN" "$s" "$RIG_USER" "$SVC"
    o=$TMP/$s.first
    expect "${s}_first_enrollment_logs_in" "$o" sh -c "[ $PAM_RC = 0 ] && grep -q '^INFO: The card was enrolled' '$o' && ! grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"
    expect "${s}_first_enrollment_card_enrolled" "$o" test "$(state)" = ENROLLED
    label=$(sed -n "s/^INFO: Welcome \(.*\)!$/\1/p" "$o" | head -n 1)
    # the lock screen of that session, a swapped card to enroll (formatted afresh: a new one)
    n=$((n + 1)) PIN=1357024$n
    "$RIG" card preset formatted >/dev/null 2>&1
    PKCS11_LOGIN_TOKEN_NAME=${label:-jsmith} pam_run "$TMP/$s.swap" "${ENROLL[@]}" -a "$PIN" -a "$PIN" "$s" "$RIG_USER" "$SVC"
    o=$TMP/$s.swap
    expect "${s}_swapped_card_enrolled_then_unlocks" "$o" sh -c "[ $PAM_RC = 0 ] && grep -q '^INFO: The card was enrolled' '$o' && ! grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"
    # a swapped card that is already enrolled, with another label than the session's: pam_pkcs11
    # looks only for the session's token ("No smart card found"), pam_esc says nothing, the
    # password unlocks. Not at gdm-smartcard: GDM opens that door at the lock screen only for
    # the session's token, and pam_pkcs11 (wait_for_card card_only) would wait for it.
    [ "$s" = gdm-password ] || continue
    "$RIG" card preset enrolled >/dev/null 2>&1
    PKCS11_LOGIN_TOKEN_NAME="another user's Token" pam_run "$TMP/$s.swap2" -p 'Password: =letmein' "$s" "$RIG_USER" "$SVC"
    o=$TMP/$s.swap2
    expect "${s}_swapped_enrolled_card_password_unlocks" "$o" sh -c "[ $PAM_RC = 0 ] && ! grep -qE 'LDAP|Forgot|Renew|tries left' '$o' && grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"
done
# the password door without a card: the password alone
"$RIG" card remove >/dev/null 2>&1
pam_run "$TMP/nocard" -a letmein gdm-password "$RIG_USER" "$SVC"
expect gdm-password_no_card_password "$TMP/nocard" sh -c "[ $PAM_RC = 0 ] && ! grep -qE 'LDAP|Forgot|Renew|tries left|Enrolling' '$TMP/nocard'"
