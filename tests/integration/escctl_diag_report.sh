#!/usr/bin/env bash
# escctl_diag_report: the report of `escctl diag` and its login check, on the rig.
# Report (--json): every field ESC's diagnostics report has, equal to what the card, the TPS and
# the event log say: client_version as --version, cards_detected and each card's facts as
# `escctl status --json`, its Phone Home fields as the TPS's phone-home XML (fetched with curl),
# its certificates as `escctl certs --json`, events as the last N lines of the log (a line that
# is not an event left out). The text output shows the same facts.
# Login: pam_pkcs11 with the rig's CA linked in ca_dir / absent, the cn mapper matching / not
# matching the user, a mapfile, the uid mapper (x500UniqueIdentifier: absent from the rig's
# certificates), an unchecked mapper (skipped, named); the module detected from a PAM dir;
# SSSD: CA db, no certmap rule, a matchrule that does not match; --import-ca as root from the
# rig's https CAChainUI (link written, then left alone), for SSSD printed.
. "$(dirname "$0")/lib.sh"

if ! [ -x "$ESC_BUILD/tests/vcard" ] || ! [ -x "$ESC_BUILD/tests/tps" ]; then
    skip diag_report "the virtual card or the reference TPS is not built"
    exit 0
fi
# the CA chain server (a stand-in for Dogtag CA's getCAChain page), on a free port
CHAIN_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CHAIN_URL=https://127.0.0.1:$CHAIN_PORT/ca/chain.pem
export RIG_TPS_ARGS="--ca-chain-url $CHAIN_URL"
if ! rig_up --card enrolled; then fail diag_report_rig_up "$(tail -5 "$TMP/rig-up.log")"; exit 0; fi
export XDG_STATE_HOME=$TMP/state ESC_CACHE_DIR=$TMP/cache
USER_=$RIG_USER
HASH=$(openssl x509 -noout -subject_hash -in "$RIG_CA_DIR/ca.cert.pem")

# ---- the event log: 25 events and one line that is not one
mkdir -p "$XDG_STATE_HOME/esc" && chmod 700 "$XDG_STATE_HOME/esc"
for i in $(seq 1 25); do
    printf '{"time":"2024-05-01T09:30:%02d.000Z","event":"insert","reader":"%s","state":"ENROLLED","detail":"event %d"}\n' \
        "$((i % 60))" "$RIG_READER" "$i"
    [ "$i" = 24 ] && echo 'not an event'
done >"$XDG_STATE_HOME/esc/events.log"
chmod 600 "$XDG_STATE_HOME/esc/events.log"

# pam_pkcs11.conf with ca_dir DIR and use_mappers MAPPERS (and mapper blocks of config/)
pkcs11_conf() {
    local f; f=$(mktemp "$TMP/pam_pkcs11.XXXXXX")
    sed -e "s#/etc/pam_pkcs11/cacerts#$1#" -e "s#use_mappers = .*#use_mappers = $2;#" \
        "$ESC_TOP/config/pam.d/pam_pkcs11.conf" >"$f"
    echo "$f"
}
mkdir -p "$TMP/ca-ok" "$TMP/ca-empty"
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/ca-ok/rig.pem" && ln -s rig.pem "$TMP/ca-ok/$HASH.0"
OKCONF=$(pkcs11_conf "$TMP/ca-ok" "cn, uid, null")

J=$(timeout 60 "$ESCCTL" diag --json --pam-module pam_pkcs11 --pam-pkcs11-conf "$OKCONF" --user "$USER_" 2>"$TMP/err"); RC=$?
if [ $RC = 0 ] && python3 -m json.tool <<<"$J" >/dev/null; then pass "diag_report_json_valid (exit 0)"
else fail diag_report_json_valid "exit $RC: $(cat "$TMP/err") $J"; fi

# ---- every field, compared with the sources
S=$("$ESCCTL" status --json) C=$("$ESCCTL" certs --json)
cuid=$(jq -r --arg r "$RIG_READER" '.[] | select(.reader == $r) | .cuid' <<<"$S")
curl -s --max-time 5 "$RIG_PHONE_HOME_URL?cuid=$cuid" >"$TMP/ph.xml"
ph() { python3 -c 'import sys, xml.etree.ElementTree as E; e=E.parse(sys.argv[1]).getroot().find(sys.argv[2]); print(e.text if e is not None and e.text else "")' "$TMP/ph.xml" "$1"; }
want_ver=$("$ESCCTL" --version | awk '{print $2}')
check_eq() { # NAME JQ-EXPR WANT
    local got; got=$(jq -r "$2" <<<"$J")
    if [ "$got" = "$3" ] && [ -n "$3" ]; then pass "$1 ($got)"; else fail "$1" "got '$got', want '$3'"; fi
}
card='.cards[] | select(.reader == env.RIG_READER)'
check_eq diag_report_client_version .client_version "$want_ver"
check_eq diag_report_cards_detected .cards_detected \
    "$(jq '[.[] | select(.state | IN("NO_APPLET","UNINITIALIZED","ENROLLED","PIN_LOCKED","EXPIRED"))] | length' <<<"$S")"
for f in reader atr cuid applet_version state pin_tries_left phone_home_url; do
    check_eq "diag_report_card_$f" "$card | .$f" "$(jq -r --arg r "$RIG_READER" ".[] | select(.reader == \$r) | .$f" <<<"$S")"
done
check_eq diag_report_issuer "$card | .issuer" "$(ph IssuerName)"
check_eq diag_report_tps_url "$card | .tps_url" "$(ph Services/Operation)"
check_eq diag_report_tps_phone_home_url "$card | .tps_phone_home_url" "$RIG_PHONE_HOME_URL"
check_eq diag_report_token_type "$card | .token_type" "$(ph Services/TokenType)"
check_eq diag_report_ca_chain_url "$card | .ca_chain_url" "$(ph Services/CAChainUI)"
# the rig's TPS announces an empty <UI> (Dogtag's stock XML): null in the report
[ "$(jq -r "$card | .enrollment_ui_url" <<<"$J")" = null ] && [ -z "$(ph Services/UI)" ] &&
    pass diag_report_enrollment_ui_url_empty_as_in_xml || fail diag_report_enrollment_ui_url_empty_as_in_xml "$(jq -c "$card" <<<"$J")"
certs_of() { jq -c 'map({subject, issuer, serial, not_before, not_after, sha256})' ; }
want=$(certs_of <<<"$C") got=$(jq "[$card | .certificates[]]" <<<"$J" | certs_of)
if [ "$got" = "$want" ] && [ "$(jq length <<<"$C")" -ge 1 ]; then pass "diag_report_certificates_as_certs ($(jq length <<<"$C"))"
else fail diag_report_certificates_as_certs "got $got want $want"; fi
want=$(grep '^{' "$XDG_STATE_HOME/esc/events.log" | tail -n 20 | jq -c '.detail' | tr '\n' ' ')
got=$(jq -c '.events[].detail' <<<"$J" | tr '\n' ' ')
[ "$got" = "$want" ] && [ "$(jq '.events | length' <<<"$J")" = 20 ] &&
    pass "diag_report_last_20_events (${got:0:40}...)" || fail diag_report_last_20_events "got $got want $want"
J3=$("$ESCCTL" diag --json --events 3 --pam-module pam_pkcs11 --pam-pkcs11-conf "$OKCONF" --user "$USER_" 2>/dev/null)
[ "$(jq -c '[.events[].detail]' <<<"$J3")" = '["event 23","event 24","event 25"]' ] &&
    pass diag_report_events_3 || fail diag_report_events_3 "$(jq -c '.events' <<<"$J3")"
"$ESCCTL" diag --pam-module pam_pkcs11 --pam-pkcs11-conf "$OKCONF" --user "$USER_" >"$TMP/text" 2>&1
if grep -q "^escctl $want_ver; 1 card in" "$TMP/text" && grep -qF "ENROLLED, CUID $cuid" "$TMP/text" &&
    grep -qF "TPS $(ph Services/Operation)" "$TMP/text" && grep -q "certificate c1: .*CN=$USER_.*serial" "$TMP/text" &&
    grep -q "event 25" "$TMP/text"; then pass diag_report_text
else fail diag_report_text "$(cat "$TMP/text")"; fi

# ---- login: pam_pkcs11
# login NAME EXIT RESULT REGEX ARGS...: the login check's result, detail and the exit code
login() {
    local name=$1 code=$2 res=$3 re=$4; shift 4
    J=$(timeout 60 "$ESCCTL" diag --json "$@" 2>"$TMP/err"); RC=$?
    local d; d=$(jq -r '.checks[] | select(.check == "login") | "\(.result) \(.detail)"' <<<"$J")
    if [ "$RC" = "$code" ] && grep -Eq -- "^$res .*$re" <<<"$d"; then pass "$name (exit $RC: ${d:0:160})"
    else fail "$name" "exit $RC (want $code): $d $(cat "$TMP/err")"; fi
}
P=(--pam-module pam_pkcs11)
login diag_login_pkcs11_ok 0 ok "cn mapper maps the certificate .* to $USER_" "${P[@]}" --pam-pkcs11-conf "$OKCONF" --user "$USER_"
[ "$(jq -c '.login | [.module, .issuer_trusted, .mapped_by, .user]' <<<"$J")" = "[\"pam_pkcs11\",true,\"cn\",\"$USER_\"]" ] &&
    pass diag_login_json_fields || fail diag_login_json_fields "$(jq -c .login <<<"$J")"
login diag_login_pkcs11_ca_absent 3 problem "ca_dir $TMP/ca-empty .*does not trust.*pam_esc Test CA.*$HASH\.0" \
    "${P[@]}" --pam-pkcs11-conf "$(pkcs11_conf "$TMP/ca-empty" "cn, uid, null")" --user "$USER_"
login diag_login_pkcs11_mapper_other_user 3 problem "No mapper .*$TMP/pam_pkcs11\..* to the user nosuchuser" \
    "${P[@]}" --pam-pkcs11-conf "$(pkcs11_conf "$TMP/ca-ok" "cn, uid, null")" --user nosuchuser
# a mapfile maps the certificate's CN to another login
printf '# cn -> login\n%s -> alice\n' "$USER_" >"$TMP/cn_map"
M=$(pkcs11_conf "$TMP/ca-ok" "cn, uid, null")
sed -i "0,/mapfile = \"none\";/s##mapfile = \"file://$TMP/cn_map\";#" "$M"
login diag_login_pkcs11_mapfile 0 ok "cn mapper maps .* to alice" "${P[@]}" --pam-pkcs11-conf "$M" --user alice
# pam_pkcs11 built with OpenSSL reads UID as x500UniqueIdentifier; the rig's certificates carry
# userId (0.9.2342.19200300.100.1.1), so the uid mapper alone does not map them
login diag_login_pkcs11_uid_mapper_no_match 3 problem "No mapper" \
    "${P[@]}" --pam-pkcs11-conf "$(pkcs11_conf "$TMP/ca-ok" "uid")" --user "$USER_"
login diag_login_pkcs11_unchecked_mapper_skipped 0 skipped "ldap is not checked" \
    "${P[@]}" --pam-pkcs11-conf "$(pkcs11_conf "$TMP/ca-ok" "ldap, null")" --user "$USER_"
# the module found in the PAM stack
mkdir -p "$TMP/pam.d"
printf 'auth optional pam_esc.so\n@include common-auth\n' >"$TMP/pam.d/login"
printf 'auth [success=done default=ignore] pam_pkcs11.so try_first_pass\nauth required pam_unix.so\n' >"$TMP/pam.d/common-auth"
login diag_login_detected_from_pam_dir 0 ok "pam_pkcs11 \($TMP/pam.d/common-auth\)" \
    --pam-dir "$TMP/pam.d" --pam-pkcs11-conf "$OKCONF" --user "$USER_"
login diag_login_no_module_skipped 0 skipped "neither pam_pkcs11 nor pam_sss" --pam-dir "$TMP/ca-empty"

# ---- login: SSSD
issuer=$(openssl x509 -in "$RIG_CA_DIR/ca.cert.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
sssd_conf() { # CA-DB MATCHRULE (empty: no certmap section)
    { printf '[sssd]\nservices = pam\ndomains = rig\n\n[pam]\npam_cert_auth = True\npam_cert_db_path = %s\n' "$1"
      [ -n "$2" ] && printf '\n[certmap/rig/rig_card_uid]\nmatchrule = %s\nmaprule = LDAPU1:(uid={subject_dn_component.uid})\n' "$2"
    } >"$TMP/sssd.conf"
    echo "$TMP/sssd.conf"
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/other.key" -out "$TMP/other.pem" \
    -subj "/CN=Some Other CA" -days 2 >/dev/null 2>&1
Q=(--pam-module pam_sss --user "$USER_")
login diag_login_sssd_ok 0 ok "rule \[certmap/rig/rig_card_uid\] matches" "${Q[@]}" \
    --sssd-conf "$(sssd_conf "$RIG_CA_DIR/ca.cert.pem" "&&<ISSUER>^$issuer\$<KU>digitalSignature<EKU>clientAuth")"
login diag_login_sssd_ca_db_other_ca 3 problem "CA db $TMP/other.pem does not trust" "${Q[@]}" \
    --sssd-conf "$(sssd_conf "$TMP/other.pem" "<ISSUER>^$issuer\$")"
login diag_login_sssd_no_certmap 3 problem "$TMP/sssd.conf has no \[certmap" "${Q[@]}" \
    --sssd-conf "$(sssd_conf "$RIG_CA_DIR/ca.cert.pem" "")"
login diag_login_sssd_matchrule_no_match 3 problem "matchrule in .* matches" "${Q[@]}" \
    --sssd-conf "$(sssd_conf "$RIG_CA_DIR/ca.cert.pem" "<ISSUER>^CN=Another CA\$")"

# ---- --import-ca from the rig's https CAChainUI
if [ "$(id -u)" != 0 ]; then
    skip diag_import_ca "needs root"
    exit 0
fi
mkdir -p "$TMP/www/ca"
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/www/ca/chain.pem"
cat "$TMP/other.pem" >>"$TMP/www/ca/chain.pem" # not on the card's path: left out
openssl req -new -newkey rsa:2048 -nodes -keyout "$TMP/www.key" -out "$TMP/www.csr" -subj "/CN=127.0.0.1" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/san.ext"
openssl x509 -req -in "$TMP/www.csr" -CA "$RIG_CA_DIR/ca.cert.pem" -CAkey "$RIG_CA_DIR/ca.key.pem" \
    -CAcreateserial -out "$TMP/www.pem" -days 2 -extfile "$TMP/san.ext" >/dev/null 2>&1
python3 - "$TMP/www" "$CHAIN_PORT" "$TMP/www.pem" "$TMP/www.key" >"$TMP/www.log" 2>&1 <<'PY' &
import functools, http.server, ssl, sys
d, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)
srv = http.server.HTTPServer(("127.0.0.1", port), h)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PY
www_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null --cacert "$RIG_CA_DIR/ca.cert.pem" --max-time 1 "$CHAIN_URL" && break; sleep 0.05; done
mkdir -p "$TMP/ca-import"
IMP=$(pkcs11_conf "$TMP/ca-import" "cn, uid, null")
login diag_import_ca_pkcs11 0 ok "Imported 1 CA certificate from $CHAIN_URL .*linked as $HASH\.0.*will accept the card" \
    "${P[@]}" --pam-pkcs11-conf "$IMP" --user "$USER_" --import-ca
if [ -L "$TMP/ca-import/$HASH.0" ] && cmp -s <(openssl x509 -in "$TMP/ca-import/$HASH.0" -outform DER) \
    <(openssl x509 -in "$RIG_CA_DIR/ca.cert.pem" -outform DER) && [ "$(ls "$TMP/ca-import" | wc -l)" = 2 ] &&
    [ "$(stat -c %a "$(readlink -f "$TMP/ca-import/$HASH.0")")" = 644 ]; then
    pass "diag_import_ca_link_is_the_rig_ca ($(ls "$TMP/ca-import" | tr '\n' ' '))"
else fail diag_import_ca_link_is_the_rig_ca "$(ls -la "$TMP/ca-import")"; fi
login diag_import_ca_again_left_alone 0 ok "already there as $HASH\.0" \
    "${P[@]}" --pam-pkcs11-conf "$IMP" --user "$USER_" --import-ca
[ "$(ls "$TMP/ca-import" | wc -l)" = 2 ] && pass diag_import_ca_no_second_copy || fail diag_import_ca_no_second_copy "$(ls "$TMP/ca-import")"
login diag_import_ca_sssd_printed 3 problem "Printed on stderr 1 CA certificate.*CA db $TMP/other.pem" "${Q[@]}" \
    --sssd-conf "$(sssd_conf "$TMP/other.pem" "<ISSUER>^$issuer\$")" --import-ca
grep -q "append these certificates to $TMP/other.pem" "$TMP/err" && grep -q "BEGIN CERTIFICATE" "$TMP/err" &&
    pass diag_import_ca_sssd_says_what_to_do || fail diag_import_ca_sssd_says_what_to_do "$(cat "$TMP/err")"
kill "$www_pid" 2>/dev/null
wait "$www_pid" 2>/dev/null || true
