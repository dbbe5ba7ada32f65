#!/usr/bin/env bash
# pam_enroll: the whole first login on the rig, nothing scripted: a formatted card at a PAM
# login; pam_esc probes it, starts `esc-agent --pam` (as the unprivileged account) which runs
# the real TPS enrollment (phone home, extended login against slapd, key generation on the
# virtual card) while pam_esc relays the conversation; then pam_pkcs11 with coolkey logs the
# user in with the new PIN without asking for it. Then the failures, each with the password
# login (pam_matrix) still working after it: TPS down, TPS stalled past the deadline, LDAP
# rejects the password, the user cancels at the PIN prompt, the card is pulled mid-enrollment.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
for f in "$ESC_BUILD/tests/vcard" "$ESC_BUILD/tests/tps"; do
    [ -x "$f" ] || { skip pam_enroll "not built: $f"; exit 0; }
done
rig_up --card formatted || { fail pam_enroll "rig up failed"; exit 0; }
# pam_pkcs11 and coolkey leak; pam_esc's leaks are pam_valgrind.sh's business
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
rig_for_helper

PIN=13572468
mkdir -p "$TMP/cacerts" "$TMP/crls"
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/cacerts/" && pkcs11_make_hash_link "$TMP/cacerts" >/dev/null 2>&1
sed -e "s#/etc/pam_pkcs11/cacerts#$TMP/cacerts#; s#/etc/pam_pkcs11/crls#$TMP/crls#" \
    "$ESC_TOP/config/pam.d/pam_pkcs11.conf" >"$TMP/pam_pkcs11.conf"
echo "$RIG_USER:letmein:enroll" >"$TMP/passdb"
stack() { # TIMEOUT
    pam_service enroll \
        "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER timeout=$1" \
        "auth [success=done default=ignore] pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf try_first_pass" \
        "auth required $PAM_MATRIX passdb=$TMP/passdb"
}
# the card's state as escctl sees it (asked again while the card is busy or the probe erred)
state() {
    local s
    for _ in 1 2 3 4 5; do
        s=$("$ESCCTL" status --json 2>/dev/null | grep -o '"state": *"[A-Z_]*"' | head -n 1 | grep -o '[A-Z_]*"$' | tr -d '"')
        case $s in UNINITIALIZED | ENROLLED | PIN_LOCKED | NO_APPLET | EXPIRED) break ;; esac
        sleep 0.3
    done
    echo "$s" | tee -a "$TMP/states"
}
# pam_esc's own error lines (pam_pkcs11 adds its "Error 23xx" ones)
esc_errors() { grep '^ERROR' "$1" | grep -vc '^ERROR: Error 23'; }
password_after() { # NAME OUT
    expect "$1_password_still_works" "$2" sh -c "[ $PAM_RC = 0 ] && grep -q '^PROMPT_ECHO_OFF: Password: ' '$2'"
    expect "$1_helper_gone" "$2" grep -q '^children: 0$' "$2"
    expect "$1_one_error_line" "$2" test "$(esc_errors "$2")" = 1
}
PW=(-p 'Password: =letmein') # the password module after pam_esc and pam_pkcs11
stack 120

# the failures first, on the formatted card
# LDAP rejects the password: the TPS asks again (the user cancels the second try) or ends
pam_run "$TMP/ldap" -S "${PW[@]}" -a "$RIG_USER" -a wrong-password -a '!cancel' enroll "$RIG_USER" "$SVC"
password_after ldap_rejects "$TMP/ldap"
expect ldap_rejects_card_unchanged "$TMP/ldap" test "$(state)" = UNINITIALIZED

# cancel at the new PIN prompt
pam_run "$TMP/cancel" -S -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a '!cancel' "${PW[@]}" enroll "$RIG_USER" "$SVC"
password_after cancel_at_pin "$TMP/cancel"
expect cancel_at_pin_card_unchanged "$TMP/cancel" test "$(state)" = UNINITIALIZED

# TPS stalled past the deadline (timeout=6)
echo "stall 3 60" >"$RIG_TPS_FAULTS"
stack 6
pam_run "$TMP/stall" -S "${PW[@]}" -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN" -a "$PIN" enroll "$RIG_USER" "$SVC"
ms=$(auth_ms "$TMP/stall")
password_after tps_stalled "$TMP/stall"
expect tps_stalled_ends_at_deadline "$TMP/stall" test "${ms:-99999}" -lt 6600
: >"$RIG_TPS_FAULTS"
stack 120

# card pulled mid-enrollment: remove it at the first progress line past the login
(
    for _ in $(seq 600); do
        grep -q '^INFO: Enrolling your smart card: [1-9]' "$TMP/pulled" 2>/dev/null && break
        sleep 0.02
    done
    "$RIG" card remove >/dev/null 2>&1
) &
watcher=$!
pam_run "$TMP/pulled" -S "${PW[@]}" -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN" -a "$PIN" enroll "$RIG_USER" "$SVC"
wait $watcher
password_after card_pulled "$TMP/pulled"
"$RIG" card preset formatted >/dev/null 2>&1

# TPS down
tps_pid=$(cat "$RIG_DIR/pids/tps.pid" 2>/dev/null)
kill "$tps_pid" 2>/dev/null
sleep 0.2
pam_run "$TMP/down" -S "${PW[@]}" enroll "$RIG_USER" "$SVC"
password_after tps_down "$TMP/down"
ms=$(auth_ms "$TMP/down")
expect tps_down_ends_quickly "$TMP/down" test "${ms:-99999}" -lt 5000
# the TPS comes back for the success case
rig_up --card formatted || { fail pam_enroll "rig up (again) failed"; exit 0; }
rig_for_helper
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/cacerts/" && pkcs11_make_hash_link "$TMP/cacerts" >/dev/null 2>&1

# the first login: enroll, then pam_pkcs11 logs in with the new PIN, asking nothing
pam_run "$TMP/ok" -S -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN" -a "$PIN" enroll "$RIG_USER" "$SVC"
o=$TMP/ok
expect enroll_then_card_login "$o" test "$PAM_RC" = 0
expect enroll_prompts "$o" diff -u <(grep '^PROMPT' "$o" | sed 's/ (.*characters)//') <(printf '%s\n' \
    'PROMPT_ECHO_ON: LDAP User ID: ' 'PROMPT_ECHO_OFF: LDAP Password: ' \
    'PROMPT_ECHO_OFF: New PIN: ' 'PROMPT_ECHO_OFF: Repeat PIN: ')
expect enroll_progress_shown "$o" grep -q '^INFO: Enrolling your smart card: [0-9]*%' "$o"
expect enroll_no_password_asked "$o" sh -c "! grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"
expect enroll_card_now_enrolled "$o" test "$(state)" = ENROLLED
expect enroll_process_unchanged "$o" grep -q '^snapshot: same' "$o"
expect enroll_helper_gone "$o" grep -q '^children: 0$' "$o"
# next login: pam_esc leaves the enrolled card alone; pam_pkcs11 asks for the PIN
pam_run "$TMP/next" -a "$PIN" enroll "$RIG_USER" "$SVC"
expect next_login_card_pin_only "$TMP/next" sh -c "[ $PAM_RC = 0 ] && ! grep -q LDAP '$TMP/next' && grep -q 'PIN: ' '$TMP/next'"

# a PIN-locked card: PIN reset at login, then the card login with the new PIN
PIN2=86420
if "$RIG" card preset locked >/dev/null 2>&1; then
    pam_run "$TMP/reset" -S -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN2" -a "$PIN2" enroll "$RIG_USER" "$SVC"
    o=$TMP/reset
    expect pinreset_then_card_login "$o" test "$PAM_RC" = 0
    expect pinreset_progress_shown "$o" grep -q '^INFO: Resetting your smart card PIN: [0-9]*%' "$o"
    expect pinreset_no_password_asked "$o" sh -c "! grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"
    expect pinreset_card_enrolled_again "$o" test "$(state)" = ENROLLED
    expect pinreset_helper_gone "$o" grep -q '^children: 0$' "$o"
else
    fail pinreset_then_card_login "rig card preset locked failed"
fi

# path (b): the user's session agent (`esc-agent --pam-serve`, as the user: here root) does the
# enrollment with its own profile cache; the helper path does not exist, so it must be this
PIN3=11223344
if "$RIG" card preset formatted >/dev/null 2>&1; then
    RT=$TMP/rt
    mkdir -m 0700 "$RT"
    env -i XDG_RUNTIME_DIR="$RT" ESC_CONF="$TMP/esc.conf" PCSCLITE_CSOCK_NAME="$PCSCLITE_CSOCK_NAME" \
        "$PAM_HELPER" --pam-serve >"$TMP/agent.log" 2>&1 &
    agent=$!
    for _ in $(seq 100); do [ -S "$RT/esc-agent/socket" ] && break; sleep 0.02; done
    pam_service session \
        "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$TMP/no-such-helper timeout=120" \
        "auth [success=done default=ignore] pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf try_first_pass" \
        "auth required pam_deny.so"
    me=$(id -un)
    XDG_RUNTIME_DIR=$RT pam_run "$TMP/sess" -S -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN3" -a "$PIN3" session "$me" "$SVC"
    o=$TMP/sess
    expect session_agent_enrolls_then_card_login "$o" sh -c "grep -q '^INFO: Enrolling your smart card' '$o' && grep -q '^INFO: Welcome' '$o'"
    expect session_agent_card_enrolled "$o" test "$(state)" = ENROLLED
    expect session_agent_no_child "$o" grep -q '^children: 0$' "$o"
    kill "$agent" 2>/dev/null
    wait "$agent" 2>/dev/null || true
else
    fail session_agent_enrolls_then_card_login "rig card preset formatted failed"
fi

# the greeter knows no user yet: with set_user, PAM_USER comes from the directory user ID and
# pam_pkcs11 logs that user in with the new PIN
PIN4=55667788
if "$RIG" card preset formatted >/dev/null 2>&1; then
    pam_service nouser \
        "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER timeout=120 set_user" \
        "auth [success=done default=ignore] pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf try_first_pass" \
        "auth required pam_deny.so"
    pam_run "$TMP/nouser" -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a "$PIN4" -a "$PIN4" nouser - "$SVC"
    expect set_user_then_card_login "$TMP/nouser" sh -c "[ $PAM_RC = 0 ] && grep -q '^user: $RIG_USER$' '$TMP/nouser'"
else
    fail set_user_then_card_login "rig card preset formatted failed"
fi
