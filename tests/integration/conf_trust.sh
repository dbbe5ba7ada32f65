#!/usr/bin/env bash
# conf_trust: pam_esc (root) acts on an esc.conf only if root alone can change it, and neither
# it nor escctl hangs on a FIFO put in its place (issue 11, defects 1 and 7).
# - a conf (or a directory above it, or the ca_file it names) that another user owns or that
#   group or others may write: pam_esc logs why, starts nothing and lets the stack go on;
#   the same file root-owned and 0644 in root's 0755 directory: the hand-off happens;
# - a FIFO as esc.conf: escctl status and pam_esc return at once with "not a regular file".
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
[ "$(id -u)" = 0 ] || { skip conf_trust "the rule is root's; run as root"; exit 0; }

pam_script go "done_ok Your smart card is ready."
# STACK CONF: pam_esc with a scripted hand-off on an UNINITIALIZED card, then pam_matrix
stack() {
    pam_service trust "auth optional $PAM_MODULE conf=$1 helper=$PAM_SCRIPTED test_script=$TMP/script.go test_card_state=UNINITIALIZED timeout=10 debug_file=stderr" \
        "auth required $PAM_MATRIX passdb=$TMP/passdb"
}
printf 'jsmith:letmein:trust\n' >"$TMP/passdb"
stack "$TMP/esc.conf" # the service joins login_services before the conf is copied below
ran() { grep -q '^INFO: Your smart card is ready.$' "$1"; }
# CONF NAME: the hand-off did not happen, the password login did, pam_esc said why
refused() {
    local conf=$1 name=$2 o=$TMP/$2
    stack "$conf"
    pam_run "$o" -p 'Password: =letmein' trust jsmith "$SVC"
    expect "${name}_not_acted_on" "$o" sh -c "! grep -q '^INFO: Your smart card is ready.' '$o'"
    expect "${name}_password_login_goes_on" "$o" test "$PAM_RC" = 0
    expect "${name}_says_why" "$o.err" grep -q "refused: .*\(not owned by root\|writable by group or others\)" "$o.err"
}

D=$TMP/etc # root's, 0755
mkdir -m 0755 "$D"
conf=$D/esc.conf
cp "$TMP/esc.conf" "$conf"
chmod 0644 "$conf"

# the control: root's file in root's directories is used
stack "$conf"
pam_run "$TMP/ok" trust jsmith "$SVC"
expect trusted_conf_acted_on "$TMP/ok" ran "$TMP/ok"

chmod 0664 "$conf"
refused "$conf" group_writable_conf
chmod 0646 "$conf"
refused "$conf" world_writable_conf
chmod 0644 "$conf"
chown "$PAM_AGENT_USER" "$conf"
refused "$conf" conf_owned_by_another_user
chown 0 "$conf"
chmod 0775 "$D"
refused "$conf" conf_in_group_writable_dir
chmod 0755 "$D"

# a ca_file others can write: the CAs the helper would trust for the TPS connection
printf -- '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n' >"$D/ca.pem"
chmod 0666 "$D/ca.pem"
{ cat "$conf"; echo "ca_file = $D/ca.pem"; } >"$D/ca.conf"
chmod 0644 "$D/ca.conf"
refused "$D/ca.conf" writable_ca_file

# a FIFO as esc.conf: bounded, clear message (nobody ever writes to it)
mkfifo -m 0644 "$D/fifo.conf"
t0=$(date +%s%N)
ESC_CONF=$D/fifo.conf timeout 20 "$ESCCTL" status >"$TMP/fifo.escctl" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect fifo_conf_escctl_returns_at_once "$TMP/fifo.escctl" test "$rc" != 124 -a "$ms" -lt 5000
expect fifo_conf_escctl_says_why "$TMP/fifo.escctl" grep -q 'fifo.conf: not a regular file' "$TMP/fifo.escctl"
stack "$D/fifo.conf"
t0=$(date +%s%N)
PAM_RC=124
timeout 20 "$PAM_DRIVE" -p 'Password: =letmein' trust jsmith "$SVC" >"$TMP/fifo.pam" 2>"$TMP/fifo.pam.err" && PAM_RC=0
ms=$((($(date +%s%N) - t0) / 1000000))
expect fifo_conf_pam_returns_at_once "$TMP/fifo.pam" test "$PAM_RC" = 0 -a "$ms" -lt 5000
expect fifo_conf_pam_says_why "$TMP/fifo.pam.err" grep -q 'fifo.conf: not a regular file' "$TMP/fifo.pam.err"
