#!/usr/bin/env bash
# pam_sss: the pam_sss variant of gdm-smartcard (config/pam.d/gdm-smartcard.sss) against a real
# SSSD 2.8 (tests/rig/sssd: its own namespace, LDAP domain on the rig's slapd, card
# authentication with coolkey and the rig's CA, a certificate mapping rule to the directory
# user), the real card and the real enrollment:
# - an enrolled card: pam_esc steps aside, pam_sss asks for the PIN and logs jsmith in;
# - a wrong PIN, or another user's card: the login fails;
# - the greeter gives no user name: SSSD finds jsmith from the certificate (allow_missing_name);
# - no pam_sss option (use_first_pass, try_cert_auth, require_cert_auth, forward_pass,
#   allow_missing_name) logs in with the PIN pam_esc leaves in PAM_AUTHTOK without asking;
# - a formatted card: pam_esc enrolls it (user ID, password, new PIN, repeat), then pam_sss
#   asks for the PIN once more (SSSD 2.8 cannot use the one pam_esc left in PAM_AUTHTOK, see
#   the stack's comment) and logs jsmith in with the new PIN; the same for a PIN-locked card;
# - why prompt_always: without it pam_sss sends that PIN to SSSD as a password and the login
#   fails with no PIN prompt at all (SSSD got a Password token, not a Smart Card PIN);
# - a card whose CA sssd does not trust is refused.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
for f in "$ESC_BUILD/tests/vcard" "$ESC_BUILD/tests/tps"; do
    [ -x "$f" ] || { skip pam_sss "not built: $f"; exit 0; }
done
SSSD_RIG=$ESC_TOP/tests/rig/sssd
why=$("$SSSD_RIG" check) || { skip pam_sss "sssd cannot run here: $why"; exit 0; }
rig_up --card enrolled || { fail pam_sss "rig up failed"; exit 0; }
rig_for_helper
"$SSSD_RIG" up --debug 6 >"$TMP/sssd-up.log" 2>&1 || { fail pam_sss "sssd up failed: $(tail -n 3 "$TMP/sssd-up.log" | tr '\n' ' ')"; exit 0; }
# pam_sss and coolkey are not ours; pam_esc's leaks are pam_valgrind.sh's business
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0

# the shipped stack, as it is, with only the paths rewritten; pam_sss's SERVICE_IS_GDM_SMARTCARD
# and SSSD's pam_p11_allowed_services want the real service name
printf 'account required pam_permit.so\n' >"$SVC/common-account"
printf 'session required pam_permit.so\n' >"$SVC/common-session"
stack() { # [sed expression for the pam_sss line]
    sed -e "s#pam_esc.so#$PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER timeout=60#" \
        -e "s#^@include #@include $SVC/#" -e "${1:-}" \
        "$ESC_TOP/config/pam.d/gdm-smartcard.sss" >"$SVC/gdm-smartcard"
}
# sss_run OUT pam_drive-ARGS...: pam_drive where pam_sss reaches the rig's sssd; OUT.sssd gets
# what the PAM responder logged meanwhile (debug level 6 says which token type pam_sss sent)
SSSD_PAM_LOG=$RIG_DIR/logs/sssd/sssd_pam.log
sss_run() {
    local out=$1 mark; shift
    mark=$(wc -l <"$SSSD_PAM_LOG" 2>/dev/null || echo 0)
    "$SSSD_RIG" exec "$PAM_DRIVE" "$@" >"$out" 2>"$out.err"
    PAM_RC=$?
    tail -n +"$((mark + 1))" "$SSSD_PAM_LOG" >"$out.sssd" 2>/dev/null
}
# the token types pam_sss sent for SSS_PAM_AUTHENTICATE, e.g. "Smart Card PIN" or "Password"
sent_types() { grep -A7 'command: SSS_PAM_AUTHENTICATE' "$1.sssd" | sed -n 's/.*authtok type: [0-9]* (\(.*\))$/\1/p' | sort -u; }
# pam_sss's PIN prompt names the token: "PIN for <label>: " (the preset card's label is
# "jsmith's Token", the TPS's enrollment writes "jsmith")
PIN_PROMPT="PROMPT_ECHO_OFF: PIN for <token>: "
prompts() { grep '^PROMPT' "$1" | sed -e 's/ (.*characters)//' -e 's/^\(PROMPT_ECHO_OFF: PIN for \).*: $/\1<token>: /'; }
secret "$RIG_PIN"
stack

# an enrolled card: pam_esc prompts nothing, pam_sss asks for the PIN and SSSD checks it
sss_run "$TMP/enrolled" -S -a "$RIG_PIN" gdm-smartcard "$RIG_USER" "$SVC"
o=$TMP/enrolled
expect enrolled_card_login "$o" test "$PAM_RC" = 0
expect enrolled_only_pin_prompt "$o" diff -u <(prompts "$o") <(echo "$PIN_PROMPT")
expect enrolled_pam_esc_silent "$o" sh -c "! grep -qiE 'LDAP|New PIN|smart card' '$o'"
expect enrolled_process_unchanged "$o" grep -q '^snapshot: same' "$o"

# a wrong PIN
secret 97979797
sss_run "$TMP/wrong" -a 97979797 gdm-smartcard "$RIG_USER" "$SVC"
expect wrong_pin_refused "$TMP/wrong" sh -c "[ $PAM_RC != 0 ] && grep -q '^PROMPT_ECHO_OFF: PIN for ' '$TMP/wrong'"
# the card of jsmith does not log mjones in
sss_run "$TMP/other" -a "$RIG_PIN" gdm-smartcard "$RIG_LDAP_USER2" "$SVC"
expect other_users_card_refused "$TMP/other" test "$PAM_RC" != 0

# the greeter gives no user name (pam_succeed_if would ask for one: only the pam_sss line)
pam_service gdm-smartcard "$(grep '^auth.*pam_sss.so' "$ESC_TOP/config/pam.d/gdm-smartcard.sss")"
sss_run "$TMP/nouser" -a "$RIG_PIN" gdm-smartcard - "$SVC"
expect no_user_name_set_from_certificate "$TMP/nouser" sh -c "[ $PAM_RC = 0 ] && grep -q '^user: $RIG_USER\$' '$TMP/nouser'"

# Can any pam_sss option take the PIN pam_esc leaves in PAM_AUTHTOK? pam_esc plays a scripted
# enrollment (no TPS) whose "new PIN" is the enrolled card's real PIN, so the only question is
# whether pam_sss logs in with it without asking. SSSD 2.8: no option does (pam_sss sends a
# stacked token as a password: see config/pam.d/gdm-smartcard.sss).
pam_script stack "ask_text UID LDAP User ID" "ask_secret PASSWORD LDAP Password" \
    "ask_pin 4 8" "done_ok Your smart card is ready."
for opts in "require_cert_auth" "require_cert_auth use_first_pass" "try_cert_auth" \
    "try_cert_auth use_first_pass" "require_cert_auth forward_pass" \
    "require_cert_auth allow_missing_name" "use_first_pass"; do
    pam_service gdm-smartcard "$(pam_esc_line stack test_card_state=UNINITIALIZED timeout=20)" \
        "auth required pam_sss.so $opts"
    n=stacked_pin_${opts// /_}
    sss_run "$TMP/$n" -a "$RIG_USER" -a pw -a "$RIG_PIN" -a "$RIG_PIN" -a "$RIG_PIN" gdm-smartcard "$RIG_USER" "$SVC"
    o=$TMP/$n
    echo "# pam_sss $opts after pam_esc: $(sed -n 's/^authenticate: [0-9]* (\(.*\)) .*/\1/p' "$o"), PIN prompts $(grep -c '^PROMPT_ECHO_OFF: PIN for ' "$o"), token sent: $(sent_types "$o" | tr '\n' ' ')"
    expect "${n}_not_used_as_card_pin" "$o" sh -c "grep -q '^INFO: Your smart card is ready' '$o' &&
        ! { [ $PAM_RC = 0 ] && ! grep -q '^PROMPT_ECHO_OFF: PIN for ' '$o'; }"
done
pam_service gdm-smartcard "$(pam_esc_line stack test_card_state=UNINITIALIZED timeout=20)" \
    "auth required pam_sss.so require_cert_auth prompt_always"
sss_run "$TMP/pa" -a "$RIG_USER" -a pw -a "$RIG_PIN" -a "$RIG_PIN" -a "$RIG_PIN" gdm-smartcard "$RIG_USER" "$SVC"
expect stacked_pin_prompt_always_asks_again "$TMP/pa" sh -c "[ $PAM_RC = 0 ] && grep -q '^PROMPT_ECHO_OFF: PIN for ' '$TMP/pa'"
stack

# why prompt_always: without it, the PIN pam_esc leaves goes to SSSD as a password (to the LDAP
# server, which refuses it) and pam_sss never asks for the PIN
PIN=13572468
secret "$PIN"
"$RIG" card preset formatted >/dev/null 2>&1 || { fail pam_sss "rig card preset formatted failed"; exit 0; }
stack 's/ prompt_always//'
sss_run "$TMP/stacked" -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN" -a "$PIN" -a "$PIN" \
    gdm-smartcard "$RIG_USER" "$SVC"
o=$TMP/stacked
expect without_prompt_always_enrolled "$o" grep -q '^INFO: Enrolling your smart card' "$o"
expect without_prompt_always_pin_not_used "$o" sh -c "[ $PAM_RC != 0 ] && ! grep -q '^PROMPT_ECHO_OFF: PIN for ' '$o'"
expect without_prompt_always_pin_sent_as_password "$o" test "$(sent_types "$o")" = Password

# a formatted card: the first login. pam_esc enrolls it, then pam_sss asks for the new PIN
PIN=24681357
secret "$PIN"
"$RIG" card preset formatted >/dev/null 2>&1 || { fail pam_sss "rig card preset formatted failed"; exit 0; }
stack
sss_run "$TMP/first" -S -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN" -a "$PIN" -a "$PIN" \
    gdm-smartcard "$RIG_USER" "$SVC"
o=$TMP/first
expect first_login_enroll_then_card_login "$o" test "$PAM_RC" = 0
expect first_login_prompts "$o" diff -u <(prompts "$o") <(printf '%s\n' \
    'PROMPT_ECHO_ON: LDAP User ID: ' 'PROMPT_ECHO_OFF: LDAP Password: ' \
    'PROMPT_ECHO_OFF: New PIN: ' 'PROMPT_ECHO_OFF: Repeat PIN: ' "$PIN_PROMPT")
expect first_login_progress_shown "$o" grep -q '^INFO: Enrolling your smart card: [0-9]*%' "$o"
expect first_login_helper_gone "$o" grep -q '^children: 0$' "$o"
expect first_login_process_unchanged "$o" grep -q '^snapshot: same' "$o"
expect first_login_pin_sent_as_card_pin "$o" test "$(sent_types "$o")" = "Smart Card PIN"
# the new PIN is the card's PIN from now on
stack
sss_run "$TMP/next" -a "$PIN" gdm-smartcard "$RIG_USER" "$SVC"
expect next_login_new_pin "$TMP/next" sh -c "[ $PAM_RC = 0 ] && ! grep -q LDAP '$TMP/next'"

# a PIN-locked card: pam_esc resets the PIN, then pam_sss asks for it once more
PIN=86420975
secret "$PIN"
if "$RIG" card preset locked >/dev/null 2>&1; then
    sss_run "$TMP/reset" -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN" -a "$PIN" -a "$PIN" \
        gdm-smartcard "$RIG_USER" "$SVC"
    o=$TMP/reset
    expect pinreset_then_card_login "$o" test "$PAM_RC" = 0
    expect pinreset_progress_shown "$o" grep -q '^INFO: Resetting your smart card PIN: [0-9]*%' "$o"
    expect pinreset_pin_asked_again "$o" test "$(prompts "$o" | tail -n 1)" = "$PIN_PROMPT"
else
    fail pinreset_then_card_login "rig card preset locked failed"
fi

# SSSD checks the certificate: trusting another CA only, the same card and PIN are refused
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/other-ca.key" -out "$TMP/other-ca.pem" \
    -subj "/O=elsewhere/CN=Another CA" -days 2 >/dev/null 2>&1
"$SSSD_RIG" up --debug 6 --ca "$TMP/other-ca.pem" >"$TMP/sssd-up2.log" 2>&1
sss_run "$TMP/foreign" -a "$PIN" -a "$PIN" gdm-smartcard "$RIG_USER" "$SVC"
expect untrusted_ca_refused "$TMP/foreign" sh -c "[ $PAM_RC != 0 ] && ! grep -q '^PROMPT_ECHO_OFF: PIN for ' '$TMP/foreign'"
"$SSSD_RIG" down
