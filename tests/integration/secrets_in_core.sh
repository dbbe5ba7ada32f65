#!/usr/bin/env bash
# secrets_in_core: after a real enrollment (pam_esc -> the real engine -> reference TPS, LDAP,
# virtual card) with a distinctive directory password and new PIN, the memory of the agent holds
# neither: not as text, UTF-16, hex or %-encoded. Both ways in are cored:
#   - the PAM-time helper `esc-agent --pam`, run under gdb by a wrapper given to pam_esc as
#     helper=: the core is taken when it calls exit(), after DONE (DONE itself carries the new
#     PIN to pam_esc, for PAM_AUTHTOK); pam_esc gives it 500 ms to exit, gcore needs less;
#   - the user's session agent `esc-agent --pam-serve`, cored (gcore) after the hand-off, while
#     it waits for the next one; it runs with no_new_privs (/proc/PID/status).
# The shipped (plain) build runs here: an ASan process maps terabytes of shadow memory.
. "$(dirname "$0")/lib.sh"
PAM_BUILD=$ESC_BUILD_PLAIN
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
command -v gdb >/dev/null && command -v gcore >/dev/null || { skip secrets_in_core "gdb is not installed"; exit 0; }
for f in "$ESC_BUILD/tests/vcard" "$ESC_BUILD/tests/tps"; do
    [ -x "$f" ] || { skip secrets_in_core "not built: $f"; exit 0; }
done
PW_SECRET='Qz7core-Lw!8513'
PIN_SECRET=80714263
secret "$PW_SECRET"
secret "$PIN_SECRET"
RIG_LDAP_PASSWORD=$PW_SECRET rig_up --card formatted || { fail secrets_in_core "rig up failed"; exit 0; }
rig_for_helper

# found CORE SECRET...: the forms of each secret present in CORE ("" when none)
found() {
    python3 - "$@" <<'EOF'
import sys, urllib.parse
core = open(sys.argv[1], 'rb').read()
hits = []
for s in sys.argv[2:]:
    b = s.encode()
    forms = {
        'text': b,
        'utf-16le': s.encode('utf-16-le'),
        'utf-16be': s.encode('utf-16-be'),
        'HEX': b.hex().upper().encode(),
        'hex': b.hex().encode(),
        '%-encoded': urllib.parse.quote(s, safe='').encode(),
        '%-encoded ESC': ''.join(c if c.isalnum() else '%%%02X' % ord(c) for c in s).encode(),
    }
    for name, f in forms.items():
        n = core.count(f)
        if n:
            hits.append('%d-char secret as %s x%d at %#x' % (len(s), name, n, core.find(f)))
print('; '.join(hits))
EOF
}
cored() { # NAME CORE
    local hit
    if [ ! -s "$2" ]; then
        fail "$1" "no core was taken ($2)"
        return
    fi
    hit=$(found "$2" "$PW_SECRET" "$PIN_SECRET")
    if [ -z "$hit" ]; then pass "$1"; else fail "$1" "$hit"; fi
}
# the finder finds: a core of a process that holds both secrets
python3 -c 'import time; time.sleep(60)' "$PW_SECRET" "$PIN_SECRET" &
holder=$!
gcore -o "$TMP/holder.core" "$holder" >/dev/null 2>&1
kill "$holder"
if [ -n "$(found "$TMP/holder.core.$holder" "$PW_SECRET" "$PIN_SECRET")" ]; then
    pass secrets_finder_finds_planted_secrets
else
    fail secrets_finder_finds_planted_secrets "neither secret found in a process holding both"
fi
rm -f "$TMP/holder.core.$holder"

mkdir -p "$TMP/cacerts" "$TMP/crls"
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/cacerts/" && pkcs11_make_hash_link "$TMP/cacerts" >/dev/null 2>&1
sed -e "s#/etc/pam_pkcs11/cacerts#$TMP/cacerts#; s#/etc/pam_pkcs11/crls#$TMP/crls#" \
    "$ESC_TOP/config/pam.d/pam_pkcs11.conf" >"$TMP/pam_pkcs11.conf"

# 1. the helper, under gdb (as agent_user, with pam_esc's empty environment)
cat >"$TMP/helper-gdb" <<EOF
#!/bin/sh
exec $(command -v gdb) -nx -batch -q -ex 'set startup-with-shell off' -ex 'set breakpoint pending on' \\
    -ex 'break exit' -ex run -ex 'gcore $OUT/helper.core' -ex 'delete' -ex continue \\
    --args $PAM_HELPER --pam >$OUT/gdb.log 2>&1
EOF
chmod 0755 "$TMP/helper-gdb"
pam_service enroll \
    "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$TMP/helper-gdb timeout=120" \
    "auth [success=done default=ignore] pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf try_first_pass" \
    "auth required pam_deny.so"
pam_run "$TMP/helper" -S -a "$RIG_USER" -a "$PW_SECRET" -a "$PIN_SECRET" -a "$PIN_SECRET" enroll "$RIG_USER" "$SVC"
expect helper_enrolled_then_card_login "$TMP/helper" sh -c "[ $PAM_RC = 0 ] && grep -q '^INFO: Enrolling your smart card' '$TMP/helper'"
cored helper_core_holds_no_pin_or_password "$OUT/helper.core"

# 2. the session agent, as the user (here root), cored after the hand-off
if "$RIG" card preset formatted >/dev/null 2>&1; then
    RT=$TMP/rt
    mkdir -m 0700 "$RT"
    env -i XDG_RUNTIME_DIR="$RT" ESC_CONF="$TMP/esc.conf" PCSCLITE_CSOCK_NAME="$PCSCLITE_CSOCK_NAME" \
        "$PAM_HELPER" --pam-serve >"$TMP/agent.log" 2>&1 &
    agent=$!
    for _ in $(seq 100); do [ -S "$RT/esc-agent/socket" ] && break; sleep 0.02; done
    expect session_agent_no_new_privs "$TMP/agent.log" grep -Eq '^NoNewPrivs:\s+1$' "/proc/$agent/status"
    pam_service session \
        "auth optional $PAM_MODULE conf=$TMP/esc.conf helper=$TMP/no-such-helper timeout=120" \
        "auth [success=done default=ignore] pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf try_first_pass" \
        "auth required pam_deny.so"
    XDG_RUNTIME_DIR=$RT pam_run "$TMP/sess" -S -a "$RIG_USER" -a "$PW_SECRET" -a "$PIN_SECRET" -a "$PIN_SECRET" \
        session "$(id -un)" "$SVC"
    expect session_agent_enrolled "$TMP/sess" grep -q '^INFO: Enrolling your smart card' "$TMP/sess"
    gcore -o "$TMP/agent.core" "$agent" >/dev/null 2>&1
    cored session_agent_core_holds_no_pin_or_password "$TMP/agent.core.$agent"
    kill "$agent" 2>/dev/null
    wait "$agent" 2>/dev/null || true
else
    fail session_agent_core_holds_no_pin_or_password "rig card preset formatted failed"
fi
