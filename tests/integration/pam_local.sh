#!/usr/bin/env bash
# pam_local: pam_esc acts only for the person at the machine, on the reader at their seat
# (issue 14). On the rig, with a formatted card (it needs enrolling) and the real probe:
# - the console login stack copied as `sshd` with PAM_RHOST a network address, and the same
#   stack as `sudo`: no prompt from pam_esc, not one APDU to the card (pcscd's trace), the card
#   still UNINITIALIZED, the password module next asks as usual;
# - as `login` with PAM_RHOST localhost or this machine's own name: pam_esc acts (it asks for
#   the directory user ID; the user cancels);
# - the card's reader on seat1 (test_reader_seat=, the rig has no logind) while the login is
#   on seat0 (PAM_TTY tty1): left alone, no APDU; the same login on seat1 (XDG_SEAT in the PAM
#   environment, as GDM sets it): pam_esc acts;
# - as `login` with no PAM_RHOST: the card is enrolled, as before.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
for f in "$ESC_BUILD/tests/vcard" "$ESC_BUILD/tests/tps"; do
    [ -x "$f" ] || { skip pam_local "not built: $f"; exit 0; }
done
rig_up --card formatted || { fail pam_local "rig up failed"; exit 0; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
rig_for_helper
echo "$RIG_USER:letmein:login" >"$TMP/passdb"
PIN=24681357
TRACE=$RIG_DIR/logs/pcscd.log

# the console login's auth lines (config/pam.d/login: pam_esc, then the password), as NAME
login_stack() { # WRITER NAME [pam_esc options]
    local w=$1 name=$2; shift 2
    "$w" "$name" "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER timeout=120 debug debug_file=stderr $*" \
        "auth required $PAM_MATRIX passdb=$TMP/passdb"
}
apdus() { grep -c 'APDU: ' "$TRACE" 2>/dev/null || echo 0; }
state() {
    "$ESCCTL" status --json 2>/dev/null | grep -o '"state": *"[A-Z_]*"' | head -n 1 | grep -o '[A-Z_]*"$' | tr -d '"'
}
# NAME OUT: pam_esc said nothing, sent nothing, changed nothing; the password module asked
left_alone() {
    local name=$1 o=$2 before=$3
    expect "${name}_no_prompt_from_pam_esc" "$o" sh -c "! grep -Eq '^(PROMPT_ECHO_ON|INFO|ERROR)' '$o' && [ \$(grep -c '^PROMPT' '$o') = 1 ]"
    expect "${name}_password_module_runs" "$o" sh -c "[ $PAM_RC = 0 ] && grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"
    expect "${name}_no_apdu" "$TRACE" test "$(apdus)" = "$before"
    expect "${name}_card_unchanged" "$o" test "$(state)" = UNINITIALIZED
}
# NAME OUT: pam_esc probed the card and asked the directory user ID (the user cancelled)
acted() {
    expect "$1" "$2" grep -q '^PROMPT_ECHO_ON: LDAP User ID' "$2"
}
PW=(-p 'Password: =letmein')

expect card_starts_uninitialized "$TMP/passdb" test "$(state)" = UNINITIALIZED

# a network login: sshd with the console stack, PAM_RHOST as sshd sets it
login_stack pam_service_unlisted sshd
n=$(apdus)
pam_run "$TMP/ssh" "${PW[@]}" -r 192.0.2.7 sshd "$RIG_USER" "$SVC"
left_alone sshd_remote "$TMP/ssh" "$n"
expect sshd_remote_says_why "$TMP/ssh.err" grep -q 'login from 192.0.2.7 (service sshd), not at this machine' "$TMP/ssh.err"
# the same remote host through an allowed service (login -h, telnetd): still not at the machine
login_stack pam_service login
n=$(apdus)
pam_run "$TMP/remote_login" "${PW[@]}" -r 192.0.2.7 login "$RIG_USER" "$SVC"
left_alone login_from_remote_host "$TMP/remote_login" "$n"

# sudo in a running session (no PAM_RHOST): not a login service
login_stack pam_service_unlisted sudo
n=$(apdus)
pam_run "$TMP/sudo" "${PW[@]}" sudo "$RIG_USER" "$SVC"
left_alone sudo "$TMP/sudo" "$n"
expect sudo_says_why "$TMP/sudo.err" grep -q 'service sudo is not in login_services' "$TMP/sudo.err"

# PAM_RHOST naming this machine: a local login
for h in localhost 127.0.0.1 ::1 "$(hostname)"; do
    pam_run "$TMP/local" "${PW[@]}" -a '!cancel' -r "$h" login "$RIG_USER" "$SVC"
    acted "rhost_${h//[^a-z0-9]/_}_is_local" "$TMP/local"
done

# seats: the reader on seat1, the console login on seat0 (tty1)
login_stack pam_service login test_reader_seat=seat1
n=$(apdus)
pam_run "$TMP/seat" "${PW[@]}" -T tty1 login "$RIG_USER" "$SVC"
left_alone reader_on_other_seat "$TMP/seat" "$n"
expect reader_on_other_seat_says_why "$TMP/seat.err" grep -q 'on seat1, not on this login.s seat0: left alone' "$TMP/seat.err"
# a greeter on seat1 (GDM puts XDG_SEAT in the PAM environment)
pam_run "$TMP/seat1" "${PW[@]}" -a '!cancel' -E XDG_SEAT=seat1 login "$RIG_USER" "$SVC"
acted reader_on_own_seat_acted_on "$TMP/seat1"

# the console login as before: enrolled
login_stack pam_service login
pam_run "$TMP/enroll" -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN" -a "$PIN" "${PW[@]}" -T tty1 login "$RIG_USER" "$SVC"
expect console_login_enrolls "$TMP/enroll" sh -c "grep -q '^INFO: Enrolling your smart card' '$TMP/enroll' && [ \"\$(\"$ESCCTL\" status --json | grep -o 'ENROLLED' | head -n 1)\" = ENROLLED ]"
