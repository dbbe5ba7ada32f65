#!/usr/bin/env bash
# pam_valgrind: pam_esc.so under valgrind (memcheck) in the PAM driver, several stacks run
# three times each in one process: the fast path (no pcscd), a full scripted enrollment that
# hands the new PIN on, a cancel, a helper that dies, a deadline kill. Uses the plain build
# ($ESC_BUILD_PLAIN): the ASan build cannot run under valgrind. Any definite leak or memory
# error fails the test.
. "$(dirname "$0")/lib.sh"
PAM_BUILD=${ESC_BUILD_PLAIN:-$ESC_TOP/build}
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
command -v valgrind >/dev/null || { skip pam_valgrind "valgrind not installed"; exit 0; }

PIN=135790
pam_script enroll "progress 10 PROGRESS_START" "ask_text UID LDAP User ID" \
    "ask_secret PASSWORD LDAP Password" "ask_pin 4 8" "done_ok Your smart card is ready."
pam_script dies "progress 5 start" "exit 3"
pam_script hang "info hello" "hang"
pam_service vg_nopcscd "auth optional $PAM_MODULE conf=$TMP/esc.conf" "auth required $PAM_MATRIX passdb=$TMP/passdb"
pam_service vg_enroll "$(pam_esc_line enroll test_card_state=UNINITIALIZED set_user timeout=30)" \
    "$(pam_authtok_check_line "$PIN")"
pam_service vg_cancel "$(pam_esc_line enroll test_card_state=UNINITIALIZED timeout=30)" "auth required pam_deny.so"
pam_service vg_dies "$(pam_esc_line dies test_card_state=PIN_LOCKED timeout=30)" "auth required pam_deny.so"
pam_service vg_hang "$(pam_esc_line hang test_card_state=UNINITIALIZED timeout=2)" "auth required pam_deny.so"

vg() { # NAME DRIVER-ARGS...
    local name=$1; shift
    PCSCLITE_CSOCK_NAME=$TMP/no-pcscd valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite --error-exitcode=42 --log-file="$TMP/vg.$name.log" \
        "$PAM_DRIVE" -n 3 "$@" >"$TMP/vg.$name.out" 2>&1
    local rc=$?
    if [ $rc = 42 ] || [ -s "$TMP/vg.$name.log" ]; then
        fail "valgrind_$name" "$(head -c 800 "$TMP/vg.$name.log" | tr '\n' '|')"
    else
        pass "valgrind_$name"
    fi
}
vg nopcscd -a letmein -a letmein -a letmein vg_nopcscd jsmith "$SVC"
a=(-a jsmith -a pw -a "$PIN" -a "$PIN")
vg enroll "${a[@]}" "${a[@]}" "${a[@]}" vg_enroll - "$SVC"
expect valgrind_enroll_worked "$TMP/vg.enroll.out" test "$(grep -c '^authenticate: 0 ' "$TMP/vg.enroll.out")" = 3
vg cancel -a jsmith -a '!cancel' -a jsmith -a '!cancel' -a jsmith -a '!cancel' vg_cancel jsmith "$SVC"
vg dies vg_dies jsmith "$SVC"
vg hang vg_hang jsmith "$SVC"
expect valgrind_hang_killed "$TMP/vg.hang.out" test "$(grep -c '^ERROR: Setting up your smart card did not finish' "$TMP/vg.hang.out")" = 3

# the real probe (with its deadline thread) and a real enrollment through the helper, on the rig
if [ -x "$ESC_BUILD/tests/vcard" ] && [ -x "$ESC_BUILD/tests/tps" ] && rig_up --card enrolled; then
    rig_for_helper
    pam_service vg_rig "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER timeout=60" \
        "auth required pam_deny.so"
    vg_rig() { # NAME DRIVER-ARGS... (no PCSCLITE_CSOCK_NAME override: the rig's pcscd)
        local name=$1; shift
        valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
            --error-exitcode=42 --log-file="$TMP/vg.$name.log" "$PAM_DRIVE" "$@" >"$TMP/vg.$name.out" 2>&1
        if [ $? = 42 ] || [ -s "$TMP/vg.$name.log" ]; then
            fail "valgrind_$name" "$(head -c 800 "$TMP/vg.$name.log" | tr '\n' '|')"
        else
            pass "valgrind_$name"
        fi
    }
    vg_rig rig_enrolled_probe -n 3 vg_rig jsmith "$SVC"
    "$RIG" card preset formatted >/dev/null 2>&1
    vg_rig rig_real_enroll -a "$RIG_USER" -a "$RIG_LDAP_PASSWORD" -a 24681357 -a 24681357 vg_rig jsmith "$SVC"
    expect valgrind_rig_real_enroll_worked "$TMP/vg.rig_real_enroll.out" grep -Eq '^INFO: The card was enrolled: 2 certificates, valid until [0-9-]+\.$' "$TMP/vg.rig_real_enroll.out"
fi
