#!/usr/bin/env bash
# console_vlock: a blocked PIN reset at the terminal lock, through the programs users run:
# Debian 12's vlock (its PAM service `vlock`, here the project's screensaver stack,
# config/pam.d/screensaver: `pam_esc.so operations=pinreset`, pam_pkcs11, then the password)
# in a session that login(1) opened with the card, on a terminal (a tmux pane), in a private
# mount namespace (tests/rig/console). The test types what the user types and checks what the
# terminal shows:
# - jsmith logs in with the card's PIN, then the PIN gets blocked (five wrong PINs through
#   coolkey), then the terminal is locked: at the unlock pam_esc resets the PIN with the TPS
#   (directory user ID and password, new PIN twice), pam_pkcs11 unlocks with the new PIN
#   without asking for it, and `escctl status` says ENROLLED;
# - the next lock: the new PIN unlocks;
# - a forgotten PIN (one wrong PIN, the card not blocked): "Forgot your PIN?", y, the reset,
#   "Try again with the new PIN."; the next attempt unlocks with it;
# - the PIN blocked again and the TPS down: pam_esc says so in one line, and the user's
#   password unlocks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/console_helpers.bash"
console_ready console_vlock
rig_up --card enrolled || { fail console_vlock "rig up failed"; exit 0; }
NEW_PIN=97538642 PW=Vlock-Pw-8642
SECRETS=("$RIG_PIN" "$NEW_PIN" "$PW")
secret "$NEW_PIN"
secret "$PW"
c up --password "$PW" -- /bin/login >"$TMP/console.log" 2>&1 ||
    { fail console_vlock "console up failed: $(tail -n 3 "$TMP/console.log" | tr '\n' ' ')"; exit 0; }
UNLOCKED='echo "unlocked: user=$(id -un)"' # typed into the shell once vlock has returned

# the session: jsmith logs in with the enrolled card and its PIN
s=$TMP/login
at 10 ' login: $' "$RIG_USER" &&
    at 20 'PIN: $' "$RIG_PIN" &&
    at 20 '@console:~\$ $' "$WHO"
at 10 '^user='
shot "$s" "login with the card"
see card_login_before_lock has "^user=$RIG_USER tty=/dev/pts/" "$s"
see pin_blocked_by_wrong_pins block_pin

# 1. the lock with a blocked PIN: PIN reset, then unlocked with the new PIN
s=$TMP/reset
c mark
t0=$SECONDS
c type vlock
at 10 'Please press \[ENTER\] to unlock\.$' &&
    c key Enter &&
    at 20 'LDAP User ID: $' "$RIG_USER" &&
    at 10 'LDAP Password: $' "$RIG_LDAP_PASSWORD" &&
    at 30 'New PIN .*: $' "$NEW_PIN" &&
    at 10 'Repeat PIN: $' "$NEW_PIN" &&
    at 40 '@console:~\$ $' "$UNLOCKED; escctl status" &&
    at 10 ': ENROLLED '
echo "PIN reset at vlock: $((SECONDS - t0)) s from vlock to escctl's answer"
shot "$s" "vlock, blocked PIN"
see reset_prompts_in_order diff <(prompts "$s") <(printf '%s\n' 'LDAP User ID:' 'LDAP Password:' \
    'New PIN (4-10 characters):' 'Repeat PIN:')
see reset_progress_shown has '^Resetting your smart card PIN: [0-9]+% ' "$s"
see reset_says_new_pin has '^The card was given a new PIN \([0-9]+ tries before it blocks\)\.$' "$s"
see reset_unlocks_without_asking_again has "^unlocked: user=$RIG_USER$" "$s"
see reset_no_password_asked no_prompt 'Password:' "$s"
see reset_escctl_status_enrolled has "^$RIG_READER: ENROLLED " "$s"
see reset_no_secret_on_screen no_secret "$s"

# 2. the next lock: pam_esc says nothing, the new PIN unlocks
s=$TMP/next
c mark
c type vlock
at 10 'Please press \[ENTER\] to unlock\.$' &&
    c key Enter &&
    at 20 'PIN: $' "$NEW_PIN" &&
    at 20 '@console:~\$ $' "$UNLOCKED"
at 10 '^unlocked: '
shot "$s" "vlock, the new PIN"
see next_lock_asks_the_pin_only diff <(prompts "$s") <(echo 'Smart card PIN:')
see next_lock_new_pin_unlocks has "^unlocked: user=$RIG_USER$" "$s"
see next_lock_no_secret_on_screen no_secret "$s"

# 2b. a forgotten PIN, the card not blocked: one wrong PIN, "Forgot your PIN?" -> y, the reset
# (the other tries are not spent), this attempt ends; the next one unlocks with the newest PIN
FORGOT_PIN=86421357
SECRETS+=("$FORGOT_PIN")
secret "$FORGOT_PIN"
s=$TMP/forgot
c mark
c type vlock
at 10 'Please press \[ENTER\] to unlock\.$' &&
    c key Enter &&
    at 20 'PIN: $' 11112222 &&
    at 20 'Reset it with your directory password\? \[y/N\] $' y &&
    at 20 'LDAP User ID: $' "$RIG_USER" &&
    at 10 'LDAP Password: $' "$RIG_LDAP_PASSWORD" &&
    at 30 'New PIN .*: $' "$FORGOT_PIN" &&
    at 10 'Repeat PIN: $' "$FORGOT_PIN" &&
    at 40 'Try again with the new PIN\.$'
shot "$s" "vlock, a wrong PIN, then the reset"
see forgot_question_after_wrong_pin has '^Forgot your PIN\? Reset it with your directory password\? \[y/N\]' "$s"
see forgot_prompts_in_order diff <(prompts "$s") <(printf '%s\n' 'Smart card PIN:' 'LDAP User ID:' \
    'LDAP Password:' 'New PIN (4-10 characters):' 'Repeat PIN:')
see forgot_says_new_pin has 'The card was given a new PIN \(5 tries before it blocks\)\.$' "$s"
see forgot_says_try_again has '^Your PIN was reset\. Try again with the new PIN\.$' "$s"
see forgot_no_password_asked no_prompt 'Password:' "$s"
s=$TMP/forgot2
# vlock follows a failed attempt with root's, as after any wrong password: empty answers end
# that one, and vlock asks for ENTER again
c mark
for _ in $(seq 20); do
    c screen | grep -q 'Please press \[ENTER\] to unlock\.$' && break
    c screen | tail -n 1 | grep -q ': $' && c key Enter
    sleep 0.5
done
c screen >"$TMP/forgot-root"
echo "--- the terminal (vlock, root's attempt after the failed one):"
sed 's/^/  | /' "$TMP/forgot-root"
c mark
c key Enter &&
    at 20 'PIN: $' "$FORGOT_PIN" &&
    at 20 '@console:~\$ $' "$UNLOCKED"
at 10 '^unlocked: '
shot "$s" "vlock, again with the new PIN"
see forgot_next_attempt_asks_the_pin_only diff <(prompts "$s") <(echo 'Smart card PIN:')
see forgot_new_pin_unlocks has "^unlocked: user=$RIG_USER$" "$s"
cat "$TMP/forgot" "$TMP/forgot-root" "$s" >"$s.all"
see forgot_no_secret_on_screen no_secret "$s.all"

# 3. the PIN blocked again, the TPS down: one line says why; pam_pkcs11 still asks for the PIN
# of the blocked card, and what is typed there is also what pam_unix checks (pam_pkcs11 keeps
# the answer in PAM_AUTHTOK, and pam_unix takes PAM_AUTHTOK when it is set): the user's password,
# typed at that prompt, unlocks (an empty answer fails: "Empty smartcard PIN not allowed")
see pin_blocked_again block_pin
kill_tps || fail tps_down "the TPS did not stop"
s=$TMP/down
c mark
c type vlock
at 10 'Please press \[ENTER\] to unlock\.$' && c key Enter
t0=$SECONDS
at 30 'Smart card PIN: $' && secs=$((SECONDS - t0)) && c type "$PW" &&
    at 20 '@console:~\$ $' "$UNLOCKED"
at 10 '^unlocked: '
shot "$s" "vlock, blocked PIN, TPS down"
echo "TPS down: the PIN prompt came ${secs:-?} s after Enter"
# what pam_esc said: the lines between vlock's "<user>'s " and pam_pkcs11's first line
sed -n "/^$RIG_USER's /,/^Smart card found\.\$/p" "$s" | sed '$d' >"$s.esc"
see tps_down_one_line_says_why sh -c "[ \$(wc -l <'$s.esc') = 1 ] && grep -q 'cannot be reached' '$s.esc'"
see tps_down_no_new_pin_asked no_prompt 'New PIN (4-10 characters):' "$s"
see tps_down_password_at_the_pin_prompt_unlocks has "^unlocked: user=$RIG_USER$" "$s"
see tps_down_quick test "${secs:-99}" -le 10
see tps_down_no_secret_on_screen no_secret "$s"
