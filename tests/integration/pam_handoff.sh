#!/usr/bin/env bash
# pam_handoff: pam_esc.so in a real PAM stack (pam_start_confdir) handing off to a real
# `esc-agent --pam` helper that replays a script (ESC_TEST_SCRIPT) instead of talking to a TPS:
# the prompts a user sees, the new PIN reaching the next module, the deadline, the kill and
# reap, cancel, a helper that dies or sends garbage, the helper's clean environment and
# dropped privileges, and the calling process left as it was. The card state is forced with
# test_card_state= (the real probe is covered by pam_probe.sh).
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built

# 0. the module itself: links neither libcurl, libxml2 nor NSS; exports only the PAM entry points
expect module_links_no_network_or_xml "$PAM_MODULE" sh -c "! ldd '$PAM_MODULE' | grep -Eq 'libcurl|libxml2|libnss3|libssl|libnspr'"
expect module_exports_only_pam_sm "$PAM_MODULE" test "$(nm -D --defined-only "$PAM_MODULE" | awk '$2 == "T" {print $3}' | sort | tr '\n' ' ')" = "pam_sm_authenticate pam_sm_setcred "

PIN=4711
PW='Secret pw 99'
ENROLL=(
    "info Contacting the token server"
    "progress 10 PROGRESS_PROCESS_PROFILE"
    "ask_text UID LDAP User ID"
    "ask_secret PASSWORD LDAP Password"
    "progress 40 PROGRESS_KEY_GENERATION"
    "ask_pin 4 8"
    "progress 100 PROGRESS_DONE"
    "done_ok Your smart card is ready."
)

# 1. enrollment: the prompts, progress, the PIN handed to the next module, PAM_USER
pam_script enroll "dump $OUT/env.dump" "${ENROLL[@]}"
pam_service enroll "$(pam_esc_line enroll test_card_state=UNINITIALIZED timeout=20 set_user)" \
    "$(pam_authtok_check_line "$PIN")"
pam_run "$TMP/o1" -S -a jsmith -a "$PW" -a 12 -a "$PIN" -a 9999 -a "$PIN" -a "$PIN" enroll - "$SVC"
o=$TMP/o1
expect enroll_next_module_logs_in_with_new_pin "$o" test "$PAM_RC" = 0
expect enroll_prompt_labels "$o" diff -u <(grep '^PROMPT' "$o") <(printf '%s\n' \
    'PROMPT_ECHO_ON: LDAP User ID: ' 'PROMPT_ECHO_OFF: LDAP Password: ' \
    'PROMPT_ECHO_OFF: New PIN (4-8 characters): ' 'PROMPT_ECHO_OFF: New PIN (4-8 characters): ' \
    'PROMPT_ECHO_OFF: Repeat PIN: ' 'PROMPT_ECHO_OFF: New PIN (4-8 characters): ' \
    'PROMPT_ECHO_OFF: Repeat PIN: ')
expect enroll_pin_rules_and_mismatch_said "$o" grep -q '^ERROR: The PIN must be 4 to 8 characters long.$' "$o"
expect enroll_pin_mismatch_asks_again "$o" grep -q '^ERROR: The two PINs do not match; please try again.$' "$o"
expect enroll_progress_lines "$o" grep -q '^INFO: Enrolling your smart card: 40% (generating keys)$' "$o"
expect enroll_done_line "$o" grep -q '^INFO: Your smart card is ready.$' "$o"
expect enroll_set_user_from_ldap_id "$o" grep -q '^user: jsmith$' "$o"
expect enroll_process_unchanged "$o" grep -q '^snapshot: same' "$o"
expect enroll_no_child_left "$o" grep -q '^children: 0$' "$o"

# 2. the helper: unprivileged, clean environment, nothing inherited, no secret in argv/env
d=$OUT/env.dump
uid=$(id -u "$PAM_AGENT_USER")
expect helper_runs_as_agent_user "$d" grep -Eq "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" "$d"
expect helper_no_supplementary_groups "$d" grep -Eq '^Groups:\s*$' "$d"
expect helper_default_signals "$d" grep -Eq '^SigIgn:\s+0+$' "$d"
expect helper_empty_signal_mask "$d" grep -Eq '^SigBlk:\s+0+$' "$d"
expect helper_clean_environment "$d" test "$(grep '^env: ' "$d" | cut -d= -f1 | sort | tr '\n' ' ')" = \
    "env: ESC_CONF env: ESC_TEST_SCRIPT env: LC_ALL env: PATH "
expect helper_argv "$d" grep -q '^argv: esc-agent --pam $' "$d"
expect helper_no_new_privs "$d" grep -Eq '^NoNewPrivs:\s+1$' "$d"
# fds: 0 = the socket, 1 and 2 = /dev/null, and what the script itself opened (script, dump)
expect helper_no_inherited_fds "$d" test "$(grep '^fd: ' "$d" | grep -v "$TMP/" | sed 's/socket:\[[0-9]*\]/socket/; s/ -> / /' | tr '\n' ' ')" = \
    "fd: 0 socket fd: 1 /dev/null fd: 2 /dev/null "
expect helper_env_argv_hold_no_secret "$d" sh -c "! grep -qF -e '$PIN' -e '$PW' '$d'"

# 3. PAM_SILENT: no progress or info, prompts still
pam_run "$TMP/o2" -s -a jsmith -a "$PW" -a "$PIN" -a "$PIN" enroll - "$SVC"
expect silent_no_info_lines "$TMP/o2" test "$(count '^INFO' "$TMP/o2")" = 0
expect silent_still_prompts "$TMP/o2" test "$(count '^PROMPT' "$TMP/o2")" = 4

# 4. deadline: a helper that hangs (and has a child of its own) is killed at timeout=2
pam_script hang "info Contacting the token server" "spawn_child $OUT/grandchild" "hang"
pam_service hang "$(pam_esc_line hang test_card_state=UNINITIALIZED timeout=2)" \
    "auth required $PAM_MATRIX passdb=$TMP/passdb"
pam_run "$TMP/o3" -S -a letmein hang jsmith "$SVC"
o=$TMP/o3
ms=$(auth_ms "$o")
expect deadline_password_still_works "$o" test "$PAM_RC" = 0
expect deadline_ends_on_time "$o" test "${ms:-99999}" -ge 1900 -a "${ms:-99999}" -lt 2300
expect deadline_one_error_line "$o" test "$(count '^ERROR' "$o")" = 1
expect deadline_error_says_why "$o" grep -q '^ERROR: Setting up your smart card did not finish within 2 seconds' "$o"
expect deadline_helper_reaped "$o" grep -q '^children: 0$' "$o"
expect deadline_process_unchanged "$o" grep -q '^snapshot: same' "$o"
gc=$(cat "$OUT/grandchild" 2>/dev/null)
# killed with the helper's process group: gone, or a zombie waiting for init
expect deadline_no_live_orphan "$o" sh -c "[ -n '$gc' ] && { [ ! -e /proc/$gc ] || grep -q '^State:.*Z' /proc/$gc/status; }"

# 5. failures: each ends at once with one error line, and the password path still works
fails=(
    "tps_down|progress 5 start;done_fail NETWORK The token server could not be reached.|The token server could not be reached."
    "ldap_rejects|ask_text UID LDAP User ID;ask_secret PASSWORD LDAP Password;done_fail AUTH_FAILED The directory rejected your user ID or password.|The directory rejected your user ID or password."
    "card_pulled|progress 30 start;done_fail CARD_REMOVED The card was removed during the operation; it was left as it was.|The card was removed"
    "helper_dies|progress 5 start;exit 3|the smart card helper stopped unexpectedly."
    "helper_garbage|raw 0901000000|the smart card helper stopped unexpectedly."
    "cancel_at_pin|ask_text UID LDAP User ID;ask_pin 4 8;done_ok|cancelled"
)
for f in "${fails[@]}"; do
    IFS='|' read -r name lines want <<<"$f"
    IFS=';' read -r -a arr <<<"$lines"
    pam_script "$name" "${arr[@]}"
    pam_service "$name" "$(pam_esc_line "$name" test_card_state=UNINITIALIZED timeout=10)" \
        "auth required $PAM_MATRIX passdb=$TMP/passdb"
    # answers: user ID, password (if asked), then "!cancel" where the PIN would be; the
    # password module after pam_esc gets "letmein"
    case $name in
    cancel_at_pin) answers=(-a jsmith -a '!cancel' -a letmein) ;;
    ldap_rejects) answers=(-a jsmith -a wrong -a letmein) ;;
    *) answers=(-a letmein) ;;
    esac
    pam_run "$TMP/o.$name" -S "${answers[@]}" "$name" jsmith "$SVC"
    o=$TMP/o.$name
    ms=$(auth_ms "$o")
    expect "${name}_one_clear_error_line" "$o" sh -c "[ \$(grep -c '^ERROR' '$o') = 1 ] && grep '^ERROR' '$o' | grep -qF '$want'"
    expect "${name}_ends_quickly" "$o" test "${ms:-99999}" -lt 1500
    expect "${name}_password_still_works" "$o" sh -c "[ $PAM_RC = 0 ] && grep -q '^PROMPT_ECHO_OFF: Password: ' '$o'"
    expect "${name}_helper_gone" "$o" grep -q '^children: 0$' "$o"
    expect "${name}_process_unchanged" "$o" grep -q '^snapshot: same' "$o"
done

# 6. the decision: which card states hand off, with which operations
pam_script marker "dump $OUT/started" "done_fail CANCELLED"
decide() { # NAME STATE OPTIONS EXPECT(started|ignored)
    rm -f "$OUT/started"
    pam_service "d_$1" "$(pam_esc_line marker "test_card_state=$2" $3)" "auth required pam_deny.so"
    pam_run "$TMP/d.$1" "d_$1" jsmith "$SVC"
    if [ "$4" = started ]; then
        expect "decide_$1" "$TMP/d.$1" test -e "$OUT/started"
    else
        expect "decide_$1" "$TMP/d.$1" sh -c "[ ! -e '$OUT/started' ] && ! grep -qE '^(PROMPT|INFO|ERROR)' '$TMP/d.$1'"
    fi
}
decide enrolled_ignored ENROLLED "" ignored
decide no_card_ignored NO_CARD "" ignored
decide no_reader_ignored NO_READER "" ignored
decide no_pcscd_ignored NO_PCSCD "" ignored
decide probe_error_ignored ERROR "" ignored
decide blank_enrolls NO_APPLET "" started
decide uninitialized_enrolls UNINITIALIZED "" started
decide locked_resets_pin PIN_LOCKED "" started
decide locked_not_offered PIN_LOCKED "operations=enroll" ignored
decide expired_not_by_default EXPIRED "" ignored
decide expired_renews_when_listed EXPIRED "operations=renew,enroll" started
decide operations_none UNINITIALIZED "operations=none" ignored

# 7. no PIN or password in any log: debug to stderr, the helper's too
pam_service dbg "$(pam_esc_line enroll test_card_state=UNINITIALIZED timeout=20 debug debug_file=stderr)" \
    "$(pam_authtok_check_line "$PIN")"
pam_run "$TMP/o7" -a jsmith -a "$PW" -a "$PIN" -a "$PIN" dbg jsmith "$SVC"
expect debug_log_written "$TMP/o7" grep -q 'pam_esc: card UNINITIALIZED' "$TMP/o7.err"
expect debug_log_has_no_secret "$TMP/o7" sh -c "! grep -qF -e '$PIN' -e '$PW' '$TMP/o7.err'"

# 8. the real operation engine behind the helper (no script): with no pcscd for it to use it
# ends at once with the engine's own sentence
pam_service real "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$PAM_HELPER test_card_state=UNINITIALIZED timeout=10" \
    "auth required $PAM_MATRIX passdb=$TMP/passdb"
sed -i 's/:svc$/:svc\njsmith:letmein:real/' "$TMP/passdb"
PCSCLITE_CSOCK_NAME=$TMP/no-pcscd.comm pam_run "$TMP/o8" -S -a letmein real jsmith "$SVC"
o=$TMP/o8
expect engine_no_pcscd_one_error "$o" sh -c "[ \$(grep -c '^ERROR' '$o') = 1 ] && grep -q '^ERROR: The smart-card service (pcscd) is not running.$' '$o'"
expect engine_no_pcscd_password_still_works "$o" test "$PAM_RC" = 0
expect engine_no_pcscd_helper_gone "$o" grep -q '^children: 0$' "$o"

# 9. the application's own SIGCHLD handling is left alone and does not confuse pam_esc:
# SIGCHLD ignored (children reap themselves), or a handler that reaps every child
for c in ign reap; do
    pam_run "$TMP/c.$c" -c "$c" -S -a letmein hang jsmith "$SVC"
    o=$TMP/c.$c
    ms=$(auth_ms "$o")
    expect "sigchld_${c}_deadline_on_time" "$o" test "${ms:-99999}" -lt 2300
    expect "sigchld_${c}_password_still_works" "$o" test "$PAM_RC" = 0
    expect "sigchld_${c}_process_unchanged" "$o" grep -q '^snapshot: same' "$o"
    expect "sigchld_${c}_no_child" "$o" grep -q '^children: 0$' "$o"
    pam_run "$TMP/e.$c" -c "$c" -S -a jsmith -a "$PW" -a "$PIN" -a "$PIN" enroll - "$SVC"
    # (with SIGCHLD ignored pam_exec, the PIN check after pam_esc, cannot wait for its own
    # child: there only pam_esc's part is checked)
    rc=$PAM_RC
    [ "$c" = ign ] && rc=0
    expect "sigchld_${c}_enroll_works" "$TMP/e.$c" sh -c "[ $rc = 0 ] && grep -q '^INFO: Your smart card is ready.$' '$TMP/e.$c' && grep -q '^snapshot: same' '$TMP/e.$c'"
done

# esc.conf's log_level reaches pam_esc itself: at info it logs its decision (to stderr here,
# debug_file=stderr; syslog otherwise), at the default (warn) it says nothing about it
{ cat "$TMP/esc.conf"; echo "log_level = info"; } >"$TMP/esc.info.conf"
pam_service loginfo "auth optional $PAM_MODULE conf=$TMP/esc.info.conf debug_file=stderr test_card_state=ENROLLED" "auth required pam_deny.so"
pam_service logwarn "auth optional $PAM_MODULE conf=$TMP/esc.conf debug_file=stderr test_card_state=ENROLLED" "auth required pam_deny.so"
pam_run "$TMP/loginfo" loginfo jsmith "$SVC"
expect log_level_info_logs_the_decision "$TMP/loginfo.err" grep -q '^pam_esc: card ENROLLED .*nothing to do' "$TMP/loginfo.err"
pam_run "$TMP/logwarn" logwarn jsmith "$SVC"
expect log_level_warn_keeps_quiet "$TMP/logwarn.err" sh -c "! grep -q '^pam_esc: card' '$TMP/logwarn.err'"
