#!/usr/bin/env bash
# pam_stacks: the stacks shipped in config/pam.d, loaded as they are (pam_start_confdir) with
# only the paths rewritten (our pam_esc.so, the pam_pkcs11.conf beside them, common-auth
# replaced by pam_matrix as the password stand-in). @include gets an absolute path: Linux-PAM
# 1.5.2 resolves a relative @include against /etc/pam.d even under pam_start_confdir. With no card, each stack is a plain
# password login: it succeeds with the right password, fails with a wrong one, and pam_esc
# says nothing. With a card that needs enrolling, pam_esc runs first (scripted helper) and
# its new PIN reaches the module after it.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built

STACKS=(login gdm-password screensaver)
printf 'auth required %s passdb=%s\n' "$PAM_MATRIX" "$TMP/passdb" >"$SVC/common-auth"
printf 'account required pam_permit.so\n' >"$SVC/common-account"
printf 'session required pam_permit.so\n' >"$SVC/common-session"
printf 'password required pam_deny.so\n' >"$SVC/common-password"
cp "$ESC_TOP/config/pam.d/pam_pkcs11.conf" "$TMP/pam_pkcs11.conf"
: >"$TMP/passdb"
for s in "${STACKS[@]}"; do echo "jsmith:letmein:$s" >>"$TMP/passdb"; done
rewrite() { # STACK EXTRA-PAM_ESC-OPTIONS [HELPER]
    sed -e "s#pam_esc.so#$PAM_MODULE conf=$TMP/esc.conf helper=${3:-$PAM_HELPER} $2#" \
        -e "s#pam_pkcs11.so#pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf#" \
        -e "s#^@include #@include $SVC/#" \
        "$ESC_TOP/config/pam.d/$1" >"$SVC/$1"
}
export PCSCLITE_CSOCK_NAME=$TMP/no-pcscd.comm # no pcscd: no card anywhere
# pam_pkcs11 and coolkey leak (unloaded by pam_end, so LeakSanitizer cannot even name them);
# leaks of pam_esc are what pam_valgrind.sh checks
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
for s in "${STACKS[@]}"; do
    rewrite "$s" ""
    pam_run "$TMP/$s.ok" -S -a letmein "$s" jsmith "$SVC"
    expect "${s}_no_card_password_login" "$TMP/$s.ok" test "$PAM_RC" = 0
    expect "${s}_no_card_pam_esc_silent" "$TMP/$s.ok" sh -c "! grep -qiE 'smart card|LDAP' '$TMP/$s.ok'"
    expect "${s}_process_unchanged" "$TMP/$s.ok" grep -q '^snapshot: same' "$TMP/$s.ok"
    pam_run "$TMP/$s.bad" -a wrong "$s" jsmith "$SVC"
    expect "${s}_wrong_password_refused" "$TMP/$s.bad" test "$PAM_RC" != 0
done

# a card to enroll: the stack's pam_pkcs11 line is the next module; here it is replaced by
# a PAM_AUTHTOK check so the test needs no card (tests/integration/pam_enroll*.sh use one)
PIN=97531
pam_script enroll "ask_text UID LDAP User ID" "ask_secret PASSWORD LDAP Password" \
    "ask_pin 4 8" "done_ok Your smart card is ready."
for s in login gdm-password; do
    rewrite "$s" "test_script=$TMP/script.enroll test_card_state=UNINITIALIZED" "$PAM_SCRIPTED"
    sed -i "s#^auth .*pam_pkcs11.so.*#$(pam_authtok_check_line "$PIN" | sed 's/required/[success=done default=ignore]/')#" "$SVC/$s"
    pam_run "$TMP/$s.enr" -a jsmith -a pw -a "$PIN" -a "$PIN" "$s" jsmith "$SVC"
    expect "${s}_enroll_then_logged_in_with_pin" "$TMP/$s.enr" sh -c "[ $PAM_RC = 0 ] && ! grep -q '^PROMPT_ECHO_OFF: Password' '$TMP/$s.enr'"
done
