#!/usr/bin/env bash
# tls_ca_change: a long-lived session agent keeps its trust anchors and its TLS sessions
# between operations (agent/engine/tls_anchors.h), yet follows a change of esc.conf's ca_file
# at once: when the admin replaces the CA that issued the TPS's certificate, the next PIN reset
# through the same agent is refused as untrusted (neither the parsed store nor a TLS session
# resumed from before the change may let it through), and putting the CA back makes it work
# again. The TPS counts the handshakes that resume a session: the second operation does, the
# first after the CA came back does not.
. "$(dirname "$0")/lib.sh"
AGENT=$ESC_BUILD/esc-agent
rig_up --card enrolled || { fail tls_ca_change_rig "rig up failed"; exit 0; }
[ -n "${RIG_TPS_HTTPS_URL:-}" ] || { skip tls_ca_change "the rig exports no RIG_TPS_HTTPS_URL"; exit 0; }

# a private esc.conf whose ca_file is a copy we can edit
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/ca.pem"
# older than TLS_ANCHORS_RACY_S: a file just written is read again at every connection
touch -d "1 minute ago" "$TMP/ca.pem"
grep -vE '^ *ca_file *=' "$ESC_CONF" >"$TMP/esc.conf"
echo "ca_file = $TMP/ca.pem" >>"$TMP/esc.conf"
# another CA, which did not issue the TPS's certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/other.key" \
    -out "$TMP/other.pem" -days 1 -subj "/CN=Some Other CA" >/dev/null 2>&1 ||
    { fail tls_ca_change_other_ca "openssl req failed"; exit 0; }

RT=$TMP/rt
mkdir -m 700 "$RT"
printf '%s' "$RIG_LDAP_PASSWORD" >"$TMP/pw"
printf '%s' "$RIG_PIN" >"$TMP/pin"
env XDG_RUNTIME_DIR="$RT" HOME="$TMP" ESC_CONF="$TMP/esc.conf" "$AGENT" --session >"$TMP/agent.log" 2>&1 &
AGENT_PID=$!
trap 'kill $AGENT_PID 2>/dev/null; wait $AGENT_PID 2>/dev/null; rig_cleanup' EXIT
for _ in $(seq 100); do [ -S "$RT/esc-agent/socket" ] && break; sleep 0.05; done

# reset_pin NAME: a PIN reset through the session agent; its exit code and sentence in $TMP/NAME
reset_pin() {
    XDG_RUNTIME_DIR="$RT" ESC_CONF="$TMP/esc.conf" "$ESCCTL" -v reset-pin --user "$RIG_LDAP_USER" \
        --password-fd 3 --pin-fd 4 --quiet 3<"$TMP/pw" 4<"$TMP/pin" >"$TMP/$1" 2>&1
}
through_agent() { grep -q "through the session agent" "$TMP/$1"; }
# the reference TPS's count of TLS handshakes that resumed a session (tpsd_stats.h)
resumed() { sed -n 's/^tls_resumed=//p' "$RIG_TPS_STATS"; }

# two operations: the second resumes the first one's TLS session
reset_pin r1 && through_agent r1 && res1=$(resumed) && reset_pin r2 && through_agent r2 &&
    pass tls_ca_change_trusted_twice || fail tls_ca_change_trusted_twice "$(cat "$TMP/r1" "$TMP/r2")"
res2=$(resumed)
[ -n "$res1" ] && [ "$res2" = $((res1 + 1)) ] && pass tls_ca_change_session_resumed ||
    fail tls_ca_change_session_resumed "the TPS counted $res1 then $res2 resumed handshakes"

# the admin replaces the CA in place (same path, same agent)
cat "$TMP/other.pem" >"$TMP/ca.pem"
reset_pin r3
rc=$?
if [ $rc = 5 ] && grep -q "not trusted" "$TMP/r3" && through_agent r3; then
    pass tls_ca_change_removed_ca_refused
else
    fail tls_ca_change_removed_ca_refused "exit $rc: $(cat "$TMP/r3")"
fi

# and back: the TPS's CA trusted again, by an atomic replace this time
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/ca.new" && mv "$TMP/ca.new" "$TMP/ca.pem"
reset_pin r4 && through_agent r4 && pass tls_ca_change_restored_ca_trusted ||
    fail tls_ca_change_restored_ca_trusted "$(cat "$TMP/r4")"
# no session made before the change was offered after it: r4 was a full handshake
res4=$(resumed)
[ -n "$res4" ] && [ "$res4" = "$res2" ] && pass tls_ca_change_no_session_across_change ||
    fail tls_ca_change_no_session_across_change "resumed handshakes: $res2 before the change, $res4 after"
kill -0 $AGENT_PID 2>/dev/null && pass tls_ca_change_agent_alive ||
    fail tls_ca_change_agent_alive "$(tail -5 "$TMP/agent.log")"
