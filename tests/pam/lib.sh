# shellcheck shell=bash disable=SC2034
# tests/pam/lib.sh: shared by the pam_*.sh integration tests (sourced after lib.sh).
# A private PAM service directory, the scripted helper, and the checks on pam_drive output.
#   pam_need_built                 skip the whole test unless pam_esc.so, the helpers, pam_drive exist
#   pam_service NAME LINE...       write service NAME (one PAM line per argument), a login at
#                                  the machine: NAME joins login_services of $TMP/*.conf
#   pam_service_unlisted NAME LINE... the same, NAME not in login_services (sshd, sudo)
#   pam_script NAME LINE...        write helper script NAME (commands: tests/pam/scripted_agent.c)
#   pam_esc_line SCRIPT OPTS...    an "auth optional pam_esc.so" line using the scripted helper
#   pam_run OUT ARGS...            run pam_drive ARGS, output in OUT; $PAM_RC its exit code
#   auth_ms OUT                    the milliseconds pam_authenticate took
PAM_BUILD=${PAM_BUILD:-$ESC_BUILD}
PAM_MODULE=$PAM_BUILD/pam_esc.so
PAM_HELPER=$PAM_BUILD/esc-agent
# the same hand-off server with a script in place of the engine (tests/pam/scripted_agent.c)
PAM_SCRIPTED=$PAM_BUILD/tests/esc-agent-scripted
PAM_DRIVE=$PAM_BUILD/tests/pam/pam_drive
PAM_MATRIX=/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_matrix.so
# the unprivileged account the helper runs as (the rig uses the same one for its daemons)
PAM_AGENT_USER=${PAM_AGENT_USER:-nobody}

SVC=$TMP/svc
OUT=$TMP/out # helper-writable (dumps, pids)
mkdir -p "$SVC" "$OUT"
chmod 0755 "$TMP"
chmod 1777 "$OUT"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$SVC/other"
# pam_esc acts only for the services in login_services (issue 14). A stack written with
# pam_service is a login at the machine: its name joins login_services in every $TMP/*.conf
# that has the key; pam_service_unlisted writes one that is not (sshd, sudo).
PAM_SERVICES="login gdm-password gdm-smartcard screensaver"
printf 'agent_user = %s\nlogin_operations = enroll pinreset\nlogin_services = %s\n' \
    "$PAM_AGENT_USER" "$PAM_SERVICES" >"$TMP/esc.conf"
chmod 0644 "$TMP/esc.conf"
printf 'jsmith:letmein:svc\n' >"$TMP/passdb"

pam_need_built() {
    local f
    for f in "$PAM_MODULE" "$PAM_HELPER" "$PAM_SCRIPTED" "$PAM_DRIVE"; do
        [ -e "$f" ] || { skip "$TEST_NAME" "not built: $f"; exit 0; }
    done
    id "$PAM_AGENT_USER" >/dev/null 2>&1 || { skip "$TEST_NAME" "no account $PAM_AGENT_USER"; exit 0; }
}

pam_service() {
    local name=$1 f; shift
    printf '%s\n' "$@" >"$SVC/$name"
    case " $PAM_SERVICES " in *" $name "*) return 0 ;; esac
    PAM_SERVICES="$PAM_SERVICES $name"
    for f in "$TMP"/*.conf; do
        grep -q '^login_services' "$f" 2>/dev/null && sed -i "s/^login_services.*/login_services = $PAM_SERVICES/" "$f"
    done
    return 0
}
pam_service_unlisted() {
    local name=$1; shift
    printf '%s\n' "$@" >"$SVC/$name"
}

pam_script() {
    local name=$1; shift
    printf '%s\n' "$@" >"$TMP/script.$name"
    chmod 0644 "$TMP/script.$name"
}

pam_esc_line() {
    local script=$1; shift
    echo "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$PAM_SCRIPTED test_script=$TMP/script.$script $*"
}

# pam_exec check that PAM_AUTHTOK is VALUE, without prompting (it fails if nothing was set)
pam_authtok_check_line() {
    printf '#!/bin/sh\nread -r tok\n[ "$tok" = "%s" ]\n' "$1" >"$TMP/authtok_check"
    chmod 0755 "$TMP/authtok_check"
    echo "auth required pam_exec.so expose_authtok quiet $TMP/authtok_check"
}

pam_run() {
    local out=$1; shift
    "$PAM_DRIVE" "$@" >"$out" 2>"$out.err"
    PAM_RC=$?
}

auth_ms() { sed -n 's/^authenticate: .* \([0-9]*\) ms$/\1/p' "$1"; }
count() { grep -c "$1" "$2"; }

# expect NAME COND-COMMAND... : pass or fail with the driver output attached
expect() {
    local name=$1 out=$2; shift 2
    if "$@"; then pass "$name"; else fail "$name" "$(tr '\n' '|' <"$out" | tail -c 600)"; fi
}

# After rig_up: the rig's esc.conf with agent_user, and what the unprivileged helper needs to
# reach: the pcscd socket (created 0644 by systemd-socket-activate, whatever the umask) and
# the profile cache directory.
rig_for_helper() {
    cp "$RIG_DIR/esc.conf" "$TMP/esc.conf"
    printf 'agent_user = %s\nlogin_services = %s\n' "$PAM_AGENT_USER" "$PAM_SERVICES" >>"$TMP/esc.conf"
    chmod 0644 "$TMP/esc.conf"
    chmod 0666 "$PCSCLITE_CSOCK_NAME"
    chown "$PAM_AGENT_USER" "$RIG_DIR/cache" 2>/dev/null || chmod 1777 "$RIG_DIR/cache"
}
