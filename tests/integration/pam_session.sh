#!/usr/bin/env bash
# pam_session: the hand-off path (b): a session agent already runs (the screensaver case) and
# serves $XDG_RUNTIME_DIR/esc-agent/socket; pam_esc connects to it instead of starting a
# helper, after checking the directory (0700, owned by the user) and the peer (SO_PEERCRED).
# The agent replays a script (ESC_TEST_SCRIPT). A helper path that does not exist proves no
# helper was started; a directory others can enter, or owned by someone else, is refused.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built

PIN=2468
RT=$TMP/rt
mkdir -m 0700 "$RT"
pam_script sess "dump $OUT/sess.dump" "ask_text UID LDAP User ID" "ask_secret PASSWORD LDAP Password" \
    "progress 50 writing certificates" "ask_pin 4 8" "done_ok Your smart card is ready."
env -i XDG_RUNTIME_DIR="$RT" ESC_CONF="$TMP/esc.conf" ESC_TEST_SCRIPT="$TMP/script.sess" \
    "$PAM_SCRIPTED" --pam-serve >"$TMP/agent.log" 2>&1 &
AGENT=$!
trap 'kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null; rig_cleanup' EXIT
for _ in $(seq 100); do [ -S "$RT/esc-agent/socket" ] && break; sleep 0.02; done

line="auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$TMP/no-such-helper test_card_state=PIN_LOCKED timeout=20"
pam_service sess "$line" "$(pam_authtok_check_line "$PIN")"
me=$(id -un)
XDG_RUNTIME_DIR=$RT pam_run "$TMP/s1" -S -a "$me" -a pw -a "$PIN" -a "$PIN" sess "$me" "$SVC"
o=$TMP/s1
expect session_agent_served_it "$o" grep -Eq "^Pid:\s+$AGENT$" "$OUT/sess.dump"
expect session_new_pin_reaches_next_module "$o" test "$PAM_RC" = 0
expect session_prompts "$o" test "$(grep -c '^PROMPT' "$o")" = 4
expect session_progress_verb_for_pin_reset "$o" grep -q '^INFO: Resetting your smart card PIN: 50% (writing certificates)$' "$o"
expect session_no_child "$o" grep -q '^children: 0$' "$o"
expect session_process_unchanged "$o" grep -q '^snapshot: same' "$o"

# a second hand-off on the same agent
rm -f "$OUT/sess.dump"
XDG_RUNTIME_DIR=$RT pam_run "$TMP/s2" -a "$me" -a pw -a "$PIN" -a "$PIN" sess "$me" "$SVC"
expect session_agent_serves_again "$TMP/s2" sh -c "[ $PAM_RC = 0 ] && [ -e '$OUT/sess.dump' ]"

# refused: a directory others can enter; then one owned by someone else
chmod 0755 "$RT/esc-agent"
rm -f "$OUT/sess.dump"
XDG_RUNTIME_DIR=$RT pam_run "$TMP/s3" -a "$me" sess "$me" "$SVC"
expect session_open_dir_refused "$TMP/s3" sh -c "[ ! -e '$OUT/sess.dump' ] && grep -q '^ERROR: Your smart card could not be set up' '$TMP/s3' && ! grep -q LDAP '$TMP/s3'"
chmod 0700 "$RT/esc-agent"
if [ "$(id -u)" = 0 ]; then
    chown "$PAM_AGENT_USER" "$RT/esc-agent"
    XDG_RUNTIME_DIR=$RT pam_run "$TMP/s4" -a "$me" sess "$me" "$SVC"
    expect session_foreign_dir_refused "$TMP/s4" sh -c "[ ! -e '$OUT/sess.dump' ] && ! grep -q LDAP '$TMP/s4'"
    chown 0 "$RT/esc-agent"
fi

# Socket activation, as config/systemd/esc-agent.socket sets it up for the user's systemd: the
# socket exists before any agent runs; the first hand-off starts the agent, which takes the
# socket it is given (LISTEN_FDS) and serves it, then the next one too.
if command -v systemd-socket-activate >/dev/null; then
    RT2=$TMP/rt2
    mkdir -m 0700 "$RT2" "$RT2/esc-agent"
    env -i XDG_RUNTIME_DIR="$RT2" ESC_CONF="$TMP/esc.conf" ESC_TEST_SCRIPT="$TMP/script.sess" \
        systemd-socket-activate -E XDG_RUNTIME_DIR -E ESC_CONF -E ESC_TEST_SCRIPT \
        -l "$RT2/esc-agent/socket" "$PAM_SCRIPTED" --pam-serve >"$TMP/sa.log" 2>&1 &
    SA=$!
    trap 'kill $AGENT $SA 2>/dev/null; wait $AGENT $SA 2>/dev/null; rig_cleanup' EXIT
    for _ in $(seq 100); do [ -S "$RT2/esc-agent/socket" ] && break; sleep 0.02; done
    before=$(readlink "/proc/$SA/exe")
    rm -f "$OUT/sess.dump"
    XDG_RUNTIME_DIR=$RT2 pam_run "$TMP/sa1" -a "$me" -a pw -a "$PIN" -a "$PIN" sess "$me" "$SVC"
    expect activated_agent_not_running_before "$TMP/sa.log" sh -c "[ -n '$before' ] && [ '$before' != \"\$(readlink -f '$PAM_SCRIPTED')\" ]"
    expect activated_agent_served_it "$TMP/sa1" sh -c "[ $PAM_RC = 0 ] && grep -Eq '^Pid:\s+$SA$' '$OUT/sess.dump'"
    rm -f "$OUT/sess.dump"
    XDG_RUNTIME_DIR=$RT2 pam_run "$TMP/sa2" -a "$me" -a pw -a "$PIN" -a "$PIN" sess "$me" "$SVC"
    expect activated_agent_serves_again "$TMP/sa2" sh -c "[ $PAM_RC = 0 ] && grep -Eq '^Pid:\s+$SA$' '$OUT/sess.dump'"
else
    skip activated_agent_served_it "systemd-socket-activate is not installed (package systemd)"
fi

# A root process unlocking another user's screen (GDM's session worker does): pam_esc looks for
# that user's agent in /run/user/<uid>, not in its own XDG_RUNTIME_DIR (here: root's agent
# above, which must not be used). Only where /run/user/<uid> is not in use already.
uid=$(id -u "$PAM_AGENT_USER")
URT=/run/user/$uid
if [ "$(id -u)" = 0 ] && [ -d /run ] && [ ! -e "$URT" ]; then
    mkdir -p /run/user && install -d -m 0700 -o "$PAM_AGENT_USER" "$URT"
    env -i XDG_RUNTIME_DIR="$URT" ESC_CONF="$TMP/esc.conf" ESC_TEST_SCRIPT="$TMP/script.sess" \
        setpriv --reuid "$uid" --regid "$(id -g "$PAM_AGENT_USER")" --clear-groups \
        "$PAM_SCRIPTED" --pam-serve >"$TMP/uagent.log" 2>&1 &
    UAGENT=$!
    trap 'kill $AGENT $UAGENT ${SA:-} 2>/dev/null; wait $AGENT $UAGENT ${SA:-} 2>/dev/null; rm -rf "$URT"; rig_cleanup' EXIT
    for _ in $(seq 100); do [ -S "$URT/esc-agent/socket" ] && break; sleep 0.02; done
    rm -f "$OUT/sess.dump"
    XDG_RUNTIME_DIR=$RT pam_run "$TMP/u1" -a "$PAM_AGENT_USER" -a pw -a "$PIN" -a "$PIN" sess "$PAM_AGENT_USER" "$SVC"
    expect root_worker_uses_the_users_agent "$TMP/u1" sh -c "[ $PAM_RC = 0 ] && grep -Eq '^Pid:\s+$UAGENT$' '$OUT/sess.dump'"
    kill "$UAGENT" 2>/dev/null
    wait "$UAGENT" 2>/dev/null
    rm -rf "$URT"
else
    skip root_worker_uses_the_users_agent "needs root and a free /run/user/$uid"
fi
