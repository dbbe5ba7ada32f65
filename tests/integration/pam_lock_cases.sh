#!/usr/bin/env bash
# pam_lock_cases: what users still hit at the greeter and the lock screen (issue 10), on the
# rig with the real helper, TPS, virtual card and pam_pkcs11, through the stack shape of
# config/pam.d (pam_esc, pam_pkcs11, pam_esc after_failure, the password):
#   - few PIN tries left: one line before the PIN prompt (not under PAM_SILENT);
#   - a wrong PIN: "Forgot your PIN?" offers a reset without spending the other tries, the
#     attempt ends, the next one unlocks with the new PIN; "no" leaves the password path;
#   - certificates expiring within renew_days: one yes/no offer; "not now" is remembered for
#     a day; "yes" renews and logs in with the new PIN.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
for f in "$ESC_BUILD/tests/vcard" "$ESC_BUILD/tests/tps"; do
    [ -x "$f" ] || { skip pam_lock_cases "not built: $f"; exit 0; }
done
rig_up --card enrolled || { fail pam_lock_cases "rig up failed"; exit 0; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 # pam_pkcs11 and coolkey leak
rig_for_helper
mkdir -p "$TMP/cacerts" "$TMP/crls" "$TMP/state"
chmod 0700 "$TMP/state"
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/cacerts/" && pkcs11_make_hash_link "$TMP/cacerts" >/dev/null 2>&1
sed -e "s#/etc/pam_pkcs11/cacerts#$TMP/cacerts#; s#/etc/pam_pkcs11/crls#$TMP/crls#" \
    "$ESC_TOP/config/pam.d/pam_pkcs11.conf" >"$TMP/pam_pkcs11.conf"
echo "$RIG_USER:letmein:lock" >"$TMP/passdb"
ESC="$PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER timeout=120 state_dir=$TMP/state"
pam_service lock \
    "auth optional $ESC" \
    "auth [success=done default=ignore] pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf try_first_pass" \
    "auth [auth_err=die default=ignore] $ESC after_failure" \
    "auth required $PAM_MATRIX passdb=$TMP/passdb"
preset() { "$RIG" card preset enrolled "$@" >/dev/null 2>&1; }
prompts() { grep -E '^PROMPT' "$1" | sed 's/ (.*characters)//'; }
has() { grep -qF -- "$2" "$1"; }

# --- few tries left (pin_warn_tries, default 2) ---
preset --pin-tries-left 2
pam_run "$TMP/warn" -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
first_line() { grep -nE "^$2" "$1" | head -n 1 | cut -d: -f1; }
expect warn_two_tries_line_before_pin "$TMP/warn" sh -c "[ $PAM_RC = 0 ] && [ \"\$(grep -E '^(INFO|PROMPT)' '$TMP/warn' | head -n 1)\" = 'INFO: 2 PIN tries left on your smart card' ] && [ $(first_line "$TMP/warn" 'INFO: 2 PIN tries') -lt $(first_line "$TMP/warn" 'PROMPT_ECHO_OFF: Smart card PIN') ]"
pam_run "$TMP/warn-s" -s -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
expect warn_not_under_pam_silent "$TMP/warn-s" sh -c "[ $PAM_RC = 0 ] && ! grep -q 'tries left' '$TMP/warn-s'"
preset --pin-tries-left 1
pam_run "$TMP/warn1" -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
expect warn_one_try_line "$TMP/warn1" has "$TMP/warn1" 'INFO: 1 PIN try left on your smart card'
preset --pin-tries-left 3
pam_run "$TMP/warn3" -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
expect warn_none_with_three_tries "$TMP/warn3" sh -c "[ $PAM_RC = 0 ] && ! grep -q 'tries left' '$TMP/warn3'"

# --- forgotten PIN, card not blocked ---
preset
pam_run "$TMP/right" -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
expect right_pin_no_extra_prompt "$TMP/right" sh -c "[ $PAM_RC = 0 ] && [ \"\$(grep -c '^PROMPT' '$TMP/right')\" = 1 ] && ! grep -q Forgot '$TMP/right'"
# a wrong PIN and "no": the password path as before
pam_run "$TMP/no" -a 00000000 -a n -a letmein lock "$RIG_USER" "$SVC"
expect forgot_no_password_path "$TMP/no" sh -c "[ $PAM_RC = 0 ] && grep -q '^PROMPT_ECHO_ON: Forgot your PIN? Reset it with your directory password? \[y/N\] ' '$TMP/no' && grep -q '^PROMPT_ECHO_OFF: Password: ' '$TMP/no'"
# a wrong PIN and "yes": the reset, the attempt ends, the new PIN unlocks
NEWPIN=24682468
pam_run "$TMP/yes" -a 00000000 -a y -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$NEWPIN" -a "$NEWPIN" lock "$RIG_USER" "$SVC"
expect forgot_yes_reset_prompts "$TMP/yes" diff -u <(prompts "$TMP/yes") <(printf '%s\n' \
    'PROMPT_ECHO_OFF: Smart card PIN: ' \
    'PROMPT_ECHO_ON: Forgot your PIN? Reset it with your directory password? [y/N] ' \
    'PROMPT_ECHO_ON: LDAP User ID: ' 'PROMPT_ECHO_OFF: LDAP Password: ' \
    'PROMPT_ECHO_OFF: New PIN: ' 'PROMPT_ECHO_OFF: Repeat PIN: ')
expect forgot_yes_closing_lines "$TMP/yes" diff -u <(grep '^INFO' "$TMP/yes" | tail -n 2) <(printf '%s\n' \
    'INFO: The card was given a new PIN (5 tries before it blocks).' \
    'INFO: Your PIN was reset. Try again with the new PIN.')
expect forgot_yes_attempt_ends "$TMP/yes" sh -c "[ $PAM_RC != 0 ] && ! grep -q '^PROMPT_ECHO_OFF: Password: ' '$TMP/yes' && grep -q 'The card was given a new PIN' '$TMP/yes'"
expect forgot_yes_helper_gone "$TMP/yes" grep -q '^children: 0$' "$TMP/yes"
pam_run "$TMP/again" -a "$NEWPIN" lock "$RIG_USER" "$SVC"
expect forgot_new_pin_unlocks "$TMP/again" sh -c "[ $PAM_RC = 0 ] && [ \"\$(grep -c '^PROMPT' '$TMP/again')\" = 1 ]"

# --- renewal ahead of expiry (renew offered: login_operations has renew) ---
sed -i 's/^login_operations.*//' "$TMP/esc.conf"
echo 'login_operations = enroll pinreset renew' >>"$TMP/esc.conf"
preset --valid-days 100
pam_run "$TMP/far" -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
expect renew_not_offered_far_from_expiry "$TMP/far" sh -c "[ $PAM_RC = 0 ] && ! grep -q Renew '$TMP/far'"
preset --valid-days 5
day=$(date -u -d '+5 days' +%Y-%m-%d)
day2=$(date -u -d '+4 days' +%Y-%m-%d)
pam_run "$TMP/later" -a n -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
expect renew_offered_once "$TMP/later" sh -c "[ $PAM_RC = 0 ] && grep -E '^PROMPT_ECHO_ON: Your smart card.s certificates expire on ($day|$day2)\. Renew them now\? \[y/N\] ' '$TMP/later' && [ \"\$(grep -c Renew '$TMP/later')\" = 1 ]"
expect renew_declined_remembered_file "$TMP/later" test -f "$TMP/state/renew-declined-$RIG_USER"
pam_run "$TMP/later2" -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
expect renew_not_asked_again_that_day "$TMP/later2" sh -c "[ $PAM_RC = 0 ] && ! grep -q Renew '$TMP/later2'"
# a day later (the file's time says when), or a link in its place: asked again
touch -d '-25 hours' "$TMP/state/renew-declined-$RIG_USER"
pam_run "$TMP/dayafter" -a n -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
expect renew_asked_again_a_day_later "$TMP/dayafter" grep -q 'Renew them now' "$TMP/dayafter"
rm -f "$TMP/state/renew-declined-$RIG_USER"
ln -s /etc/passwd "$TMP/state/renew-declined-$RIG_USER"
pam_run "$TMP/link" -a n -a "$RIG_PIN" lock "$RIG_USER" "$SVC"
expect renew_link_counts_for_nothing "$TMP/link" sh -c "grep -q 'Renew them now' '$TMP/link' && [ ! -L '$TMP/state/renew-declined-$RIG_USER' ]"
rm -f "$TMP/state/renew-declined-$RIG_USER"
PIN3=13571357
pam_run "$TMP/renew" -a y -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN3" -a "$PIN3" lock "$RIG_USER" "$SVC"
expect renew_yes_then_card_login "$TMP/renew" sh -c "[ $PAM_RC = 0 ] && grep -q '^INFO: The certificates were renewed: valid until' '$TMP/renew' && ! grep -q '^PROMPT_ECHO_OFF: Password: ' '$TMP/renew'"
pam_run "$TMP/renewed" -a "$PIN3" lock "$RIG_USER" "$SVC"
expect renew_not_offered_after_renewal "$TMP/renewed" sh -c "[ $PAM_RC = 0 ] && ! grep -q Renew '$TMP/renewed'"
