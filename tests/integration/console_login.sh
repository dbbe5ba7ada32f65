#!/usr/bin/env bash
# console_login: the first login at a console, through the program users run: Debian 12's
# login(1) (package `login`) on a terminal (a tmux pane), in a private mount namespace where
# /etc/pam.d holds the project's login stack (config/pam.d/login, only the paths rewritten)
# and the user is a throwaway account (tests/rig/console). The test types what the user types
# and checks what the terminal shows:
# - a new (formatted) card: login asks the user name, pam_esc relays the TPS's questions
#   (LDAP User ID, LDAP Password, New PIN, Repeat PIN) and the progress, pam_pkcs11 logs in
#   with the new PIN without asking for it, the user's shell starts, and `escctl status` in it
#   says ENROLLED;
# - the next login with that card: only its PIN is asked;
# - the TPS down (a new card again): pam_esc says so in one line, and the password logs in.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/console_helpers.bash"
console_ready console_login
rig_up --card formatted || { fail console_login "rig up failed"; exit 0; }
PIN=24681357 PW=Console-Pw-9753
SECRETS=("$PIN" "$PW")
secret "$PIN"
secret "$PW"
c up --password "$PW" -- /bin/login >"$TMP/console.log" 2>&1 ||
    { fail console_login "console up failed: $(tail -n 3 "$TMP/console.log" | tr '\n' ' ')"; exit 0; }

# 1. the first login with a new card
s=$TMP/first
t0=$SECONDS
at 10 ' login: $' "$RIG_USER" &&
    at 10 '^LDAP User ID: $' "$RIG_USER" &&
    at 10 '^LDAP Password: $' "$RIG_LDAP_PASSWORD" &&
    at 30 '^New PIN .*: $' "$PIN" &&
    at 10 '^Repeat PIN: $' "$PIN" &&
    at 40 '@console:~\$ $' "$WHO; escctl status" &&
    at 10 ': ENROLLED '
echo "first login: $((SECONDS - t0)) s from the login prompt to escctl's answer"
shot "$s" "first login"
see first_login_prompts_in_order diff <(prompts "$s") <(printf '%s\n' 'LDAP User ID:' 'LDAP Password:' \
    'New PIN (4-10 characters):' 'Repeat PIN:')
see first_login_progress_shown has '^Enrolling your smart card: [0-9]+% ' "$s"
see first_login_says_enrolled has '^The card was enrolled: 2 certificates, valid until [0-9-]*\.$' "$s"
see first_login_shell_of_the_user has "^user=$RIG_USER tty=/dev/pts/" "$s"
see first_login_escctl_status_enrolled has "^$RIG_READER: ENROLLED " "$s"
see first_login_no_secret_on_screen no_secret "$s"

# 2. the next login with the card: pam_esc says nothing, pam_pkcs11 asks for the PIN
c type exit
c run -- /bin/login
s=$TMP/next
at 10 ' login: $' "$RIG_USER" &&
    at 20 'PIN: $' "$PIN" &&
    at 20 '@console:~\$ $' "$WHO"
at 10 '^user='
shot "$s" "next login"
see next_login_asks_the_pin_only diff <(prompts "$s") <(echo 'Smart card PIN:')
see next_login_shell_of_the_user has "^user=$RIG_USER tty=/dev/pts/" "$s"
see next_login_no_secret_on_screen no_secret "$s"

# 3. the TPS is down and the card is new: one line says why, the password logs in
c type exit
"$RIG" card preset formatted >/dev/null 2>&1 || fail tps_down "rig card preset formatted failed"
kill_tps || fail tps_down "the TPS did not stop"
c run -- /bin/login
s=$TMP/down
at 10 ' login: $' "$RIG_USER"
t0=$SECONDS
at 30 '^Password: $' && secs=$((SECONDS - t0)) && c type "$PW" &&
    at 20 '@console:~\$ $' "$WHO"
at 10 '^user='
shot "$s" "TPS down"
echo "TPS down: the password prompt came ${secs:-?} s after the user name"
see tps_down_password_login has "^user=$RIG_USER tty=/dev/pts/" "$s"
see tps_down_no_pin_asked sh -c "! grep -q PIN '$s'"
# what pam_esc said: the lines between the user name and pam_pkcs11's first line
sed -En '/^[^ ]+ login: [^ ]*$/,/^Smart card found\.$/p' "$s" | sed '1d;$d' >"$s.esc"
see tps_down_one_line_says_why sh -c "[ \$(wc -l <'$s.esc') = 1 ] && grep -q 'cannot be reached' '$s.esc'"
see tps_down_quick test "${secs:-99}" -le 10
see tps_down_no_secret_on_screen no_secret "$s"
c type exit
