#!/usr/bin/env bash
# tps_errors: every failure is one clear sentence and a non-zero exit code, and a refused host
# never gets to ask for a credential: wrong LDAP password (END_OP 14, card unchanged), unknown
# user, TPS down, TLS certificate not trusted, host not allowed, http not allowed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready tps_errors
rig_up --card formatted || { fail tps_errors_rig "rig up failed"; exit 0; }

st0=$(card_state)
# wrong password
OP_PASSWORD=wrong-password escctl_op enroll >"$TMP/o.json" 2>"$TMP/o.err"
rc=$?
msg=$(json_field "$TMP/o.json" message)
if [ $rc = 8 ] && [ "$msg" = "The directory rejected the user ID or password." ] &&
    [ "$(json_field "$TMP/o.json" end_op.message)" = 14 ]; then
    pass tps_errors_wrong_password
else
    fail tps_errors_wrong_password "exit $rc, message '$msg', $(cat "$TMP/o.err")"
fi
st=$(card_state)
[ "$st" = "$st0" ] && pass tps_errors_wrong_password_card_unchanged ||
    fail tps_errors_wrong_password_card_unchanged "state $st0 -> $st"
# human form: the sentence on stderr, no JSON
OP_PASSWORD=wrong-password "$ESCCTL" enroll --user "$RIG_USER" --password-fd 3 --pin-fd 4 \
    3< <(echo wrong) 4< <(echo "$NEW_PIN") >/dev/null 2>"$TMP/h.err"
grep -qx "escctl: The directory rejected the user ID or password." "$TMP/h.err" &&
    pass tps_errors_wrong_password_sentence || fail tps_errors_wrong_password_sentence "$(cat "$TMP/h.err")"

# unknown user
OP_USER=nosuchuser escctl_op enroll >"$TMP/o.json" 2>"$TMP/o.err"
rc=$?
msg=$(json_field "$TMP/o.json" message)
[ $rc != 0 ] && [ -n "$msg" ] && [ "$(json_field "$TMP/o.json" ok)" = false ] &&
    pass tps_errors_unknown_user || fail tps_errors_unknown_user "exit $rc, message '$msg'"

# The remaining cases point the card's cached profile at other token servers.
"$ESCCTL" phone-home --json >"$TMP/ph.json" 2>/dev/null
cuid=$(json_field "$TMP/ph.json" cuid)
[ -n "$cuid" ] || { fail tps_errors_cuid "no CUID from escctl phone-home: $(cat "$TMP/ph.json")"; exit 0; }
mkdir -p "$TMP/cache" && chmod 700 "$TMP/cache"
conf() { # conf KEY VALUE...: a copy of the rig's esc.conf with these keys replaced
    local out=$TMP/esc.conf
    grep -vE '^ *(cache_dir|allowed_hosts|allow_http_hosts|ca_file) *=' "$ESC_CONF" >"$out"
    echo "cache_dir = $TMP/cache" >>"$out"
    while [ $# -gt 0 ]; do echo "$1 = $2" >>"$out"; shift 2; done
    echo "$out"
}
profile() { # profile OPERATION_URL
    umask 077
    printf 'pam_esc-profile 1\ncuid=%s\nsource_url=%s\nissuer=Rig\noperation=%s\nui=\nenrolled_browser_url=\nenrolled_url=\ntoken_type=userKey\nca_chain_ui=\nfetched_at=%s\n' \
        "$cuid" "$RIG_PHONE_HOME_URL" "$1" "$(date +%s)" >"$TMP/cache/$cuid.profile"
}
# run_noninteractive CONF: enroll with no terminal and no preset credentials: a prompt would
# fail with "no terminal to ask"; a refusal must come before any prompt.
run_noninteractive() {
    ESC_CONF=$1 setsid -w "$ESCCTL" enroll --json </dev/null >"$TMP/o.json" 2>"$TMP/o.err"
}
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# TPS down
c=$(conf allowed_hosts "127.0.0.1" allow_http_hosts "127.0.0.1" ca_file "$RIG_CA_DIR/ca.cert.pem")
profile "http://127.0.0.1:$closed_port/tps/tps"
ESC_CONF=$c escctl_op enroll >"$TMP/o.json" 2>"$TMP/o.err"
rc=$?
msg=$(json_field "$TMP/o.json" message)
case "$msg" in *"cannot be reached"*) [ $rc = 5 ] && pass tps_errors_tps_down || fail tps_errors_tps_down "exit $rc: $msg" ;;
*) fail tps_errors_tps_down "exit $rc, message '$msg'" ;; esac

# TLS certificate not trusted: the HTTPS port, without the test CA
if [ -n "${RIG_TPS_HTTPS_URL:-}" ]; then
    c=$(conf allowed_hosts "127.0.0.1" allow_http_hosts "")
    profile "$RIG_TPS_HTTPS_URL"
    ESC_CONF=$c escctl_op enroll >"$TMP/o.json" 2>"$TMP/o.err"
    rc=$?
    msg=$(json_field "$TMP/o.json" message)
    case "$msg" in *"not trusted"*) [ $rc = 5 ] && pass tps_errors_tls_untrusted || fail tps_errors_tls_untrusted "exit $rc: $msg" ;;
    *) fail tps_errors_tls_untrusted "exit $rc, message '$msg'" ;; esac
    # and with the CA it is trusted: the TPS answers (wrong password keeps the card unchanged)
    c=$(conf allowed_hosts "127.0.0.1" allow_http_hosts "" ca_file "$RIG_CA_DIR/ca.cert.pem")
    ESC_CONF=$c OP_PASSWORD=wrong escctl_op enroll >"$TMP/o.json" 2>"$TMP/o.err"
    [ "$(json_field "$TMP/o.json" end_op.message)" = 14 ] && pass tps_errors_tls_trusted_with_ca_file ||
        fail tps_errors_tls_trusted_with_ca_file "$(cat "$TMP/o.json" "$TMP/o.err")"
else
    skip tps_errors_tls_untrusted "the rig exports no RIG_TPS_HTTPS_URL"
fi

# The server's name is checked, not only its chain (tls_conn.c): a certificate from the trusted
# CA, but for another address, is refused; the same server with one for 127.0.0.1 is trusted
# (it is not a TPS, so the operation fails later, for another reason). openssl s_server serves.
# tls_name NAME SAN HOST: serve a certificate for SAN, run an enrollment against it as
# https://HOST:port; exit code and sentence in $TMP/NAME.rc, $TMP/NAME.msg
tls_name() {
    local port pid
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/$1.key" \
        -subj "/CN=$2" -out "$TMP/$1.csr" >/dev/null 2>&1 &&
        openssl x509 -req -in "$TMP/$1.csr" -CA "$RIG_CA_DIR/ca.cert.pem" -CAkey "$RIG_CA_DIR/ca.key.pem" \
            -CAcreateserial -days 1 -extfile <(printf 'subjectAltName=%s\n' "$2") \
            -out "$TMP/$1.pem" >/dev/null 2>&1 || return 1
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$TMP/$1.pem" -key "$TMP/$1.key" \
        -www </dev/null >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
    profile "https://$3:$port/tps/tps"
    # s_server -www does not answer a request that is still coming: the wait is cut to 2 s
    c=$(conf allowed_hosts "127.0.0.1 localhost" allow_http_hosts "" \
        ca_file "$RIG_CA_DIR/ca.cert.pem" tps_message_timeout 2)
    ESC_CONF=$c escctl_op enroll >"$TMP/o.json" 2>"$TMP/o.err"
    echo $? >"$TMP/$1.rc"
    json_field "$TMP/o.json" message >"$TMP/$1.msg"
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
    return 0
}
if tls_name other_ip "IP:127.0.0.2,DNS:other.example" 127.0.0.1 &&
    tls_name other_dns "DNS:other.example,IP:127.0.0.1" localhost &&
    tls_name right_ip "IP:127.0.0.1" 127.0.0.1; then
    case "$(cat "$TMP/other_ip.msg")" in
    *"not trusted"*mismatch*) [ "$(cat "$TMP/other_ip.rc")" = 5 ] && pass tps_errors_tls_wrong_name ||
        fail tps_errors_tls_wrong_name "exit $(cat "$TMP/other_ip.rc"): $(cat "$TMP/other_ip.msg")" ;;
    *) fail tps_errors_tls_wrong_name "exit $(cat "$TMP/other_ip.rc"): $(cat "$TMP/other_ip.msg")" ;;
    esac
    case "$(cat "$TMP/other_dns.msg")" in
    *"not trusted"*mismatch*) [ "$(cat "$TMP/other_dns.rc")" = 5 ] && pass tps_errors_tls_wrong_dns_name ||
        fail tps_errors_tls_wrong_dns_name "exit $(cat "$TMP/other_dns.rc"): $(cat "$TMP/other_dns.msg")" ;;
    *) fail tps_errors_tls_wrong_dns_name "exit $(cat "$TMP/other_dns.rc"): $(cat "$TMP/other_dns.msg")" ;;
    esac
    case "$(cat "$TMP/right_ip.msg")" in
    *"did not answer"*) pass tps_errors_tls_right_name ;; # the handshake passed: HTTP waits
    *) fail tps_errors_tls_right_name "exit $(cat "$TMP/right_ip.rc"): $(cat "$TMP/right_ip.msg")" ;;
    esac
else
    fail tps_errors_tls_name "openssl could not make the test certificates"
fi

# A server that takes the TCP connection and never starts TLS: the handshake is bounded like
# any wait for the TPS (tls_conn.c; tps_message_timeout, 2 s here), not left to hang.
silent_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
conns = []
while True:
    conns.append(s.accept()[0])' "$silent_port" &
silent_pid=$!
for _ in $(seq 100); do (: </dev/tcp/127.0.0.1/"$silent_port") 2>/dev/null && break; sleep 0.05; done
profile "https://127.0.0.1:$silent_port/tps/tps"
c=$(conf allowed_hosts "127.0.0.1" allow_http_hosts "" ca_file "$RIG_CA_DIR/ca.cert.pem" tps_message_timeout 2)
t0=$(date +%s%N)
ESC_CONF=$c escctl_op enroll >"$TMP/o.json" 2>"$TMP/o.err"
rc=$?
t_ms=$((($(date +%s%N) - t0) / 1000000))
kill $silent_pid 2>/dev/null
wait $silent_pid 2>/dev/null
msg=$(json_field "$TMP/o.json" message)
case "$msg" in
*"did not answer"*) [ $t_ms -lt 30000 ] && pass tps_errors_tls_silent_server ||
    fail tps_errors_tls_silent_server "took $t_ms ms: $msg" ;;
*) fail tps_errors_tls_silent_server "exit $rc after $t_ms ms: $msg" ;;
esac

# host not allowed: no prompt, exit 6
c=$(conf allowed_hosts "localhost" allow_http_hosts "127.0.0.1")
profile "http://127.0.0.1:$closed_port/tps/tps"
run_noninteractive "$c"
rc=$?
msg=$(json_field "$TMP/o.json" message)
if [ $rc = 6 ] && grep -q "allowed_hosts" <<<"$msg" && ! grep -qi "no terminal" "$TMP/o.err"; then
    pass tps_errors_host_not_allowed
else
    fail tps_errors_host_not_allowed "exit $rc, message '$msg', stderr $(cat "$TMP/o.err")"
fi
# http not allowed: no prompt, exit 6
c=$(conf allowed_hosts "127.0.0.1" allow_http_hosts "")
profile "$RIG_TPS_URL"
run_noninteractive "$c"
rc=$?
msg=$(json_field "$TMP/o.json" message)
if [ $rc = 6 ] && grep -q "https" <<<"$msg" && ! grep -qi "no terminal" "$TMP/o.err"; then
    pass tps_errors_http_not_allowed
else
    fail tps_errors_http_not_allowed "exit $rc, message '$msg', stderr $(cat "$TMP/o.err")"
fi
# a card whose phone-home URL points elsewhere is refused before anything is fetched
rm -f "$TMP/cache/$cuid.profile"
c=$(conf allowed_hosts "tps.example.com" allow_http_hosts "")
ph=$(tps_stat phone_home)
ESC_CONF=$c setsid -w "$ESCCTL" phone-home --json </dev/null >"$TMP/o.json" 2>"$TMP/o.err"
rc=$?
[ $rc = 6 ] && [ "$(tps_stat phone_home)" = "$ph" ] && pass tps_errors_phone_home_host_refused ||
    fail tps_errors_phone_home_host_refused "exit $rc, TPS phone_home $ph -> $(tps_stat phone_home)"
