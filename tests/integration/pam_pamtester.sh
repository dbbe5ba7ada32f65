#!/usr/bin/env bash
# pam_pamtester: the same module in a PAM application that is not ours (pamtester) under
# pam_wrapper (LD_PRELOAD, a private service directory, no /etc/pam.d): a scripted
# enrollment through pamtester's own terminal conversation ends with the next module
# reading the new PIN from PAM_AUTHTOK, and an enrolled card leaves the password login alone.
# Plain build: the ASan module cannot be preloaded into an uninstrumented program.
. "$(dirname "$0")/lib.sh"
PAM_BUILD=${ESC_BUILD_PLAIN:-$ESC_TOP/build}
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
command -v pamtester >/dev/null || { skip pam_pamtester "pamtester not installed"; exit 0; }
WRAP=$(ls /usr/lib/x86_64-linux-gnu/libpam_wrapper.so* 2>/dev/null | head -n 1)
[ -n "$WRAP" ] || { skip pam_pamtester "pam_wrapper not installed"; exit 0; }

PIN=864200
printf 'password required pam_deny.so\nsession required pam_deny.so\n' >>"$SVC/other"
pam_script enroll "ask_text UID LDAP User ID" "ask_secret PASSWORD LDAP Password" \
    "progress 40 generating keys" "ask_pin 6 8" "done_ok Your smart card is ready."
pam_service pt_enroll "$(pam_esc_line enroll test_card_state=UNINITIALIZED timeout=20)" \
    "$(pam_authtok_check_line "$PIN")" "account required pam_permit.so"
pam_service pt_enrolled "$(pam_esc_line enroll test_card_state=ENROLLED)" \
    "auth required $PAM_MATRIX passdb=$TMP/passdb" "account required pam_permit.so"
sed -i 's/:svc$/:pt_enrolled/' "$TMP/passdb"

pt() { # SERVICE STDIN
    printf '%s' "$2" | LD_PRELOAD=$WRAP PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$SVC \
        pamtester -v "$1" jsmith authenticate >"$TMP/pt.$1" 2>&1
}
pt pt_enroll "jsmith
ldap pw
$PIN
$PIN
"
expect pamtester_enroll_then_next_module_has_pin "$TMP/pt.pt_enroll" grep -q 'successfully authenticated' "$TMP/pt.pt_enroll"
expect pamtester_enroll_prompts "$TMP/pt.pt_enroll" grep -q 'LDAP User ID: LDAP Password: New PIN (6-8 characters): Repeat PIN: ' "$TMP/pt.pt_enroll"
expect pamtester_enroll_progress "$TMP/pt.pt_enroll" grep -q 'Enrolling your smart card: 40% (generating keys)$' "$TMP/pt.pt_enroll"
pt pt_enrolled "letmein
"
expect pamtester_enrolled_card_password_login "$TMP/pt.pt_enrolled" sh -c "grep -q 'successfully authenticated' '$TMP/pt.pt_enrolled' && ! grep -q 'LDAP' '$TMP/pt.pt_enrolled'"
