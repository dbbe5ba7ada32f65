#!/usr/bin/env bash
# tps_server: the reference TPS itself, driven with curl and tests/tps's tps-client:
# HTTP answers as Dogtag's servlet gives them (405, 400), phone-home XML well-formed and
# counted, the TLS port verified with the test CA, the lock-step conversation framed by
# s=<len> (not by chunks), one TCP connection per operation, the fault knobs, and - when the
# virtual card is built - enroll / PIN reset / format against it with the token-DB rules,
# operation 4 answered as Dogtag does, renewal inside enroll under the token's policy.
. "$(dirname "$0")/lib.sh"
TPSBIN=$ESC_BUILD/tests/tps
CLIENT=$ESC_BUILD/tests/tps-client
if [ ! -x "$TPSBIN" ] || [ ! -x "$CLIENT" ]; then
    skip tps_server "the reference TPS or tps-client is not built"
    exit 0
fi
rig_up || { fail tps_server_rig "rig up failed: $(tail -n 3 "$TMP/rig-up.log" | tr '\n' ' ')"; exit 0; }
BASE=${RIG_TPS_URL%/tps/tps}
HTTPS_BASE=${RIG_TPS_HTTPS_URL%/tps/tps}
tstat() { sed -n "s/^$1=//p" "$RIG_TPS_STATS"; } # the stats file: no connection needed
faults() { printf '%s\n' "$@" >"$RIG_TPS_FAULTS"; }
nofaults() { rm -f "$RIG_TPS_FAULTS"; }
client() { "$CLIENT" --url "$RIG_TPS_URL" "$@"; }

# --- HTTP framing as Dogtag's TPSServlet ---
code=$(curl -s -o /dev/null -w '%{http_code}' "$RIG_TPS_URL")
[ "$code" = 405 ] && pass tps_server_get_405 || fail tps_server_get_405 "GET /tps/tps gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary 's=3&x=1' "$RIG_TPS_URL")
[ "$code" = 400 ] && pass tps_server_not_chunked_400 || fail tps_server_not_chunked_400 "gave $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/tps/nothing")
[ "$code" = 404 ] && pass tps_server_unknown_404 || fail tps_server_unknown_404 "gave $code"

# --- phone home ---
ph0=$(tstat phone_home)
curl -s -D "$TMP/ph.hdr" "$RIG_PHONE_HOME_URL?cuid=40906145C9040000ABCD" >"$TMP/ph.xml"
if python3 - "$TMP/ph.xml" "$RIG_TPS_HTTPS_URL" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "ServiceInfo", root.tag
assert root.findtext("IssuerName"), "no IssuerName"
s = root.find("Services")
assert s.findtext("Operation") == sys.argv[2], s.findtext("Operation")
assert s.findtext("TokenType") == "userKey"
PY
then pass tps_server_phone_home_xml; else fail tps_server_phone_home_xml "$(head -c 300 "$TMP/ph.xml")"; fi
grep -qi '^content-type: application/xml' "$TMP/ph.hdr" && pass tps_server_phone_home_type ||
    fail tps_server_phone_home_type "$(grep -i content-type "$TMP/ph.hdr")"
curl -s "$RIG_PHONE_HOME_URL" >/dev/null
[ "$(tstat phone_home)" = $((ph0 + 2)) ] && pass tps_server_phone_home_counted ||
    fail tps_server_phone_home_counted "phone_home $ph0 -> $(tstat phone_home) after 2 requests"

# --- TLS port: verified with the test CA, refused without it ---
if curl -s --cacert "$RIG_CA_DIR/ca.cert.pem" -o "$TMP/phs.xml" "$HTTPS_BASE/tps/phoneHome" &&
    grep -q '<ServiceInfo>' "$TMP/phs.xml"; then
    pass tps_server_tls_verified
else
    fail tps_server_tls_verified "curl --cacert failed on $HTTPS_BASE"
fi
curl -s -o /dev/null "$HTTPS_BASE/tps/phoneHome"
rc=$?
[ $rc = 60 ] && pass tps_server_tls_untrusted_refused || fail tps_server_tls_untrusted_refused "curl exit $rc (want 60)"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$RIG_CA_DIR/ca.cert.pem" "$RIG_TPS_HTTPS_URL")
[ "$code" = 405 ] && pass tps_server_tls_405 || fail tps_server_tls_405 "gave $code"

# --- the conversation with curl: BEGIN_OP in, the first TOKEN_PDU request out ---
begin='s=53&msg_type=2&operation=5&extensions=tokenType%3DuserKey'
curl -s -N --max-time 10 -H 'Transfer-Encoding: chunked' -H 'Expect:' --data-binary "$begin" \
    "$RIG_TPS_URL" >"$TMP/conv.out"
grep -q 's=46&msg_type=9&pdu_size=5&pdu_data=%00%A4%04%00%00' "$TMP/conv.out" &&
    pass tps_server_first_token_pdu || fail tps_server_first_token_pdu "$(head -c 300 "$TMP/conv.out")"
# Expect: 100-continue is answered at once (libcurl would otherwise wait 1 s)
t0=$(date +%s%N)
curl -s -N --max-time 10 -H 'Transfer-Encoding: chunked' --data-binary "$begin" "$RIG_TPS_URL" >/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 900 ] && pass tps_server_100_continue || fail tps_server_100_continue "took $ms ms"
# a first message that is not BEGIN_OP: the connection is dropped without END_OP (TPSSession)
curl -s -N --max-time 10 -H 'Transfer-Encoding: chunked' -H 'Expect:' \
    --data-binary 's=29&msg_type=10&pdu_size=2&pdu_data=%90%00' "$RIG_TPS_URL" >"$TMP/conv2.out"
grep -q 'msg_type=' "$TMP/conv2.out" && fail tps_server_first_not_begin_op "$(cat "$TMP/conv2.out")" ||
    pass tps_server_first_not_begin_op

# --- lock-step with tps-client and a card that answers 6D00 to everything ---
c0=$(tstat connections) t0=$(tstat tps_connections) o0=$(tstat operations)
client --op format --fake-card >"$TMP/fake.out" 2>&1
n_pdu=$(grep -c '^TOKEN_PDU ' "$TMP/fake.out")
if grep -q '^END_OP operation=5 result=1 message=45 ' "$TMP/fake.out" && [ "$n_pdu" -ge 1 ]; then
    pass tps_server_lockstep_end_op
else
    fail tps_server_lockstep_end_op "$(tr '\n' ' ' <"$TMP/fake.out")"
fi
[ $(($(tstat connections) - c0)) = 1 ] && [ $(($(tstat tps_connections) - t0)) = 1 ] &&
    [ $(($(tstat operations) - o0)) = 1 ] && pass tps_server_one_connection_per_operation ||
    fail tps_server_one_connection_per_operation "connections +$(($(tstat connections) - c0)), operations +$(($(tstat operations) - o0))"
[ "$(tstat max_ops_per_connection)" = 1 ] && pass tps_server_max_ops_per_connection ||
    fail tps_server_max_ops_per_connection "max_ops_per_connection=$(tstat max_ops_per_connection)"
# the same conversation over TLS, the server verified with the test CA
"$CLIENT" --url "$RIG_TPS_HTTPS_URL" --cacert "$RIG_CA_DIR/ca.cert.pem" --op format --fake-card >"$TMP/tls.out" 2>&1
grep -q '^END_OP operation=5 result=1 message=45 ' "$TMP/tls.out" && pass tps_server_tls_conversation ||
    fail tps_server_tls_conversation "$(tr '\n' ' ' <"$TMP/tls.out")"
# every message cut into 7-byte chunks: the TPS frames by s=<len>
client --op format --fake-card --split 7 >"$TMP/split.out" 2>&1
grep -q '^END_OP operation=5 result=1 message=45 ' "$TMP/split.out" && pass tps_server_split_chunks ||
    fail tps_server_split_chunks "$(tr '\n' ' ' <"$TMP/split.out")"
# operations the TPS does not implement: result 1, message 0 (as the Java TPS for UNBLOCK)
client --op 2 --fake-card >"$TMP/unblock.out" 2>&1
grep -q '^END_OP operation=2 result=1 message=0 ' "$TMP/unblock.out" && pass tps_server_unblock ||
    fail tps_server_unblock "$(tr '\n' ' ' <"$TMP/unblock.out")"
client --op format --fake-card --type noSuchType >"$TMP/type.out" 2>&1
grep -q '^END_OP operation=5 result=1 message=22 ' "$TMP/type.out" && pass tps_server_unknown_type ||
    fail tps_server_unknown_type "$(tr '\n' ' ' <"$TMP/type.out")"

# --- faults, re-read per connection ---
faults "end_op 14"
client --op enroll --fake-card >"$TMP/f1.out" 2>&1
grep -q '^END_OP operation=1 result=1 message=14 ' "$TMP/f1.out" && pass tps_server_fault_end_op ||
    fail tps_server_fault_end_op "$(tr '\n' ' ' <"$TMP/f1.out")"
faults "drop 2"
client --op format --fake-card >"$TMP/f2.out" 2>&1
rc=$?
[ $rc = 3 ] && grep -q 'closed the connection without END_OP' "$TMP/f2.out" &&
    [ "$(grep -c '^TOKEN_PDU ' "$TMP/f2.out")" = 2 ] && pass tps_server_fault_drop ||
    fail tps_server_fault_drop "exit $rc: $(tr '\n' ' ' <"$TMP/f2.out")"
faults "reset 1"
client --op format --fake-card >"$TMP/f3.out" 2>&1
rc=$?
[ $rc = 3 ] && pass tps_server_fault_reset || fail tps_server_fault_reset "exit $rc: $(tr '\n' ' ' <"$TMP/f3.out")"
faults "malformed 2"
client --op format --fake-card >"$TMP/f4.out" 2>&1
rc=$?
[ $rc = 3 ] && grep -q 'undecodable\|malformed' "$TMP/f4.out" && pass tps_server_fault_malformed ||
    fail tps_server_fault_malformed "exit $rc: $(tr '\n' ' ' <"$TMP/f4.out")"
faults "stall 2 3"
t0=$(date +%s%N)
client --op format --fake-card --timeout 1 >"$TMP/f5.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc = 3 ] && grep -q 'no message from the TPS' "$TMP/f5.out" && [ $ms -lt 2500 ] &&
    pass tps_server_fault_stall || fail tps_server_fault_stall "exit $rc after $ms ms: $(tr '\n' ' ' <"$TMP/f5.out")"
faults "latency 150"
t0=$(date +%s%N)
client --op format --fake-card >"$TMP/f6.out" 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
n=$(($(grep -c '^TOKEN_PDU ' "$TMP/f6.out") + 1))
[ $ms -ge $((n * 150)) ] && grep -q '^END_OP' "$TMP/f6.out" && pass tps_server_fault_latency ||
    fail tps_server_fault_latency "$n messages in $ms ms"
faults "http_status 503"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary "$begin" "$RIG_TPS_URL")
[ "$code" = 503 ] && pass tps_server_fault_http_status || fail tps_server_fault_http_status "gave $code"
faults "phone_home_status 500"
code=$(curl -s -o /dev/null -w '%{http_code}' "$RIG_PHONE_HOME_URL")
[ "$code" = 500 ] && pass tps_server_fault_phone_home || fail tps_server_fault_phone_home "gave $code"
nofaults
client --op format --fake-card >"$TMP/f7.out" 2>&1
grep -q '^END_OP operation=5 result=1 message=45 ' "$TMP/f7.out" && pass tps_server_faults_cleared ||
    fail tps_server_faults_cleared "$(tr '\n' ' ' <"$TMP/f7.out")"

# --- against the virtual card (when built): enroll, PIN reset, format and the DB rules ---
if [ ! -x "$ESC_BUILD/tests/vcard" ]; then
    skip tps_server_card "the virtual card is not built"
    exit 0
fi
if ! "$RIG" card preset formatted >"$TMP/preset.log" 2>&1; then
    fail tps_server_card "card preset failed: $(tail -n 3 "$TMP/preset.log" | tr '\n' ' ')"
    exit 0
fi
export TPSCLIENT_PASSWORD=$RIG_LDAP_PASSWORD TPSCLIENT_PIN=24681357
# wrong password: END_OP 14, before anything is written to the card
TPSCLIENT_PASSWORD=wrong client --op enroll --user "$RIG_LDAP_USER" --ext-login >"$TMP/e0.out" 2>&1
grep -q '^END_OP operation=1 result=1 message=14 ' "$TMP/e0.out" && pass tps_server_wrong_password ||
    fail tps_server_wrong_password "$(tail -n 3 "$TMP/e0.out" | tr '\n' ' ')"
c0=$(tstat tps_connections)
t0=$(date +%s%N)
client --op enroll --user "$RIG_LDAP_USER" --ext-login --status >"$TMP/e1.out" 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
if grep -q '^END_OP operation=1 result=0 message=0 ' "$TMP/e1.out"; then
    pass tps_server_enroll
    echo "enroll: $ms ms, $(grep '^END_OP' "$TMP/e1.out")"
else
    fail tps_server_enroll "$(grep -v '^TOKEN_PDU' "$TMP/e1.out" | tail -n 5 | tr '\n' ' ') (see $RIG_TPS_LOG)"
fi
[ $(($(tstat tps_connections) - c0)) = 1 ] && pass tps_server_enroll_one_connection ||
    fail tps_server_enroll_one_connection "tps_connections +$(($(tstat tps_connections) - c0))"
grep -q '^EXTENDED_LOGIN_REQUEST LDAP Authentication' "$TMP/e1.out" && pass tps_server_extended_login ||
    fail tps_server_extended_login "no EXTENDED_LOGIN_REQUEST"
grep -q '^NEW_PIN_REQUEST min=4 max=10' "$TMP/e1.out" && pass tps_server_new_pin_request ||
    fail tps_server_new_pin_request "$(grep NEW_PIN "$TMP/e1.out")"
grep '^STATUS_UPDATE' "$TMP/e1.out" | awk '{print $2}' | tr '\n' ' ' >"$TMP/progress"
grep -q '10 .*92 98 99 100 $' "$TMP/progress" && pass tps_server_status_updates ||
    fail tps_server_status_updates "progress: $(cat "$TMP/progress")"
cuid=$(grep -o 'card [0-9A-F]\{20\}' "$RIG_TPS_LOG" | tail -n 1 | cut -d' ' -f2)
grep -q "^$cuid status=active owner=$RIG_LDAP_USER " "$RIG_TPS_DB" && pass tps_server_tokendb_active ||
    fail tps_server_tokendb_active "$(cat "$RIG_TPS_DB")"
if pkcs11-tool --module "$COOLKEY" -O --type cert 2>/dev/null | grep -q "$RIG_LDAP_USER"; then
    pass tps_server_coolkey_lists_certs
else
    fail tps_server_coolkey_lists_certs "$(pkcs11-tool --module "$COOLKEY" -O 2>&1 | head -n 5 | tr '\n' ' ')"
fi
# PIN reset: plain LOGIN; by the other user -> 43; by the owner -> 0
TPSCLIENT_PASSWORD=$RIG_LDAP_PASSWORD2 client --op reset-pin --user "$RIG_LDAP_USER2" >"$TMP/r1.out" 2>&1
grep -q '^END_OP operation=3 result=1 message=43 ' "$TMP/r1.out" && pass tps_server_reset_pin_not_owner ||
    fail tps_server_reset_pin_not_owner "$(tail -n 2 "$TMP/r1.out" | tr '\n' ' ')"
TPSCLIENT_PIN=11223344 client --op reset-pin --user "$RIG_LDAP_USER" >"$TMP/r2.out" 2>&1
grep -q '^LOGIN_REQUEST' "$TMP/r2.out" && grep -q '^END_OP operation=3 result=0 message=0 ' "$TMP/r2.out" &&
    pass tps_server_reset_pin || fail tps_server_reset_pin "$(tail -n 2 "$TMP/r2.out" | tr '\n' ' ')"
# format, then PIN reset is refused (27): the token is no longer active
client --op format --user "$RIG_LDAP_USER" >"$TMP/fm.out" 2>&1
grep -q '^END_OP operation=5 result=0 message=0 ' "$TMP/fm.out" && pass tps_server_format ||
    fail tps_server_format "$(tail -n 2 "$TMP/fm.out" | tr '\n' ' ')"
grep -q "^$cuid status=formatted " "$RIG_TPS_DB" && pass tps_server_tokendb_formatted ||
    fail tps_server_tokendb_formatted "$(cat "$RIG_TPS_DB")"
client --op reset-pin --user "$RIG_LDAP_USER" >"$TMP/r3.out" 2>&1
grep -q '^END_OP operation=3 result=1 message=27 ' "$TMP/r3.out" && pass tps_server_reset_pin_not_active ||
    fail tps_server_reset_pin_not_active "$(tail -n 2 "$TMP/r3.out" | tr '\n' ' ')"
# a disabled token (edited in the DB) cannot be enrolled: 26
sed -i "s/^$cuid status=formatted/$cuid status=disabled/" "$RIG_TPS_DB"
client --op enroll --user "$RIG_LDAP_USER" >"$TMP/e2.out" 2>&1
grep -q '^END_OP operation=1 result=1 message=26 ' "$TMP/e2.out" && pass tps_server_disabled_token ||
    fail tps_server_disabled_token "$(tail -n 2 "$TMP/e2.out" | tr '\n' ' ')"

# --- key archival: userKeyArchive generates the encryption key on the TPS, archives it, and a
# replacement card enrolled for the same user gets the same key back ---
sed -i "/^$cuid /d" "$RIG_TPS_DB"
"$RIG" card preset formatted >"$TMP/preset2.log" 2>&1 || fail tps_server_archive "preset failed"
# the modulus of each certificate on the card, one per line
moduli() {
    local id
    for id in $(pkcs11-tool --module "$COOLKEY" -O --type cert 2>/dev/null | sed -n 's/^ *ID: *//p'); do
        pkcs11-tool --module "$COOLKEY" --read-object --type cert --id "$id" -o "$TMP/c.der" >/dev/null 2>&1 &&
            openssl x509 -inform DER -in "$TMP/c.der" -noout -modulus
    done
}
client --op enroll --user "$RIG_LDAP_USER" --type userKeyArchive >"$TMP/a1.out" 2>&1
archived=$RIG_TPS_ARCHIVE/$RIG_LDAP_USER.pem
if grep -q '^END_OP operation=1 result=0 message=0 ' "$TMP/a1.out" && [ -f "$archived" ]; then
    pass tps_server_archive_enroll
else
    fail tps_server_archive_enroll "$(tail -n 2 "$TMP/a1.out" | tr '\n' ' ')"
fi
[ "$(stat -c %a "$archived" 2>/dev/null)" = 600 ] && pass tps_server_archive_mode ||
    fail tps_server_archive_mode "mode $(stat -c %a "$archived" 2>/dev/null)"
want=$(openssl rsa -in "$archived" -noout -modulus 2>/dev/null)
moduli >"$TMP/m1"
grep -qx "$want" "$TMP/m1" && pass tps_server_archive_key_on_card ||
    fail tps_server_archive_key_on_card "archived modulus not among the card's certificates"
"$RIG" card preset formatted >"$TMP/preset3.log" 2>&1
sed -i "/^$cuid /d" "$RIG_TPS_DB" # a replacement card is a card the TPS has not seen
client --op enroll --user "$RIG_LDAP_USER" --type userKeyArchive >"$TMP/a2.out" 2>&1
moduli >"$TMP/m2"
if grep -q '^END_OP operation=1 result=0 message=0 ' "$TMP/a2.out" && grep -qx "$want" "$TMP/m2" &&
    grep -q "archived encryption key of '$RIG_LDAP_USER' recovered" "$RIG_TPS_LOG"; then
    pass tps_server_archive_recovered
else
    fail tps_server_archive_recovered "$(tail -n 2 "$TMP/a2.out" | tr '\n' ' ')"
fi

# --- cards provisioned by the rig (not enrolled through this TPS) are adopted ---
sed -i "/^$cuid /d" "$RIG_TPS_DB"
"$RIG" card preset locked >"$TMP/preset4.log" 2>&1
TPSCLIENT_PIN=86427531 client --op reset-pin --user "$RIG_LDAP_USER" --ext-login >"$TMP/l1.out" 2>&1
grep -q '^END_OP operation=3 result=0 message=0 ' "$TMP/l1.out" && pass tps_server_locked_card_reset ||
    fail tps_server_locked_card_reset "$(tail -n 2 "$TMP/l1.out" | tr '\n' ' ')"
sed -i "/^$cuid /d" "$RIG_TPS_DB"
"$RIG" card preset expired >"$TMP/preset5.log" 2>&1
before=$(moduli | sort | md5sum)
# operation 4: Dogtag's TPSSession does nothing and answers END_OP 4/1/0 at once
client --op renew --user "$RIG_LDAP_USER" >"$TMP/n0.out" 2>&1
grep -q '^END_OP operation=4 result=1 message=0 messages=1 apdus=0' "$TMP/n0.out" && pass tps_server_op4_as_dogtag ||
    fail tps_server_op4_as_dogtag "$(tail -n 2 "$TMP/n0.out" | tr '\n' ' ')"
# renewal is an enroll of an ACTIVE token whose policy says RENEW=YES: same keys, later notAfter.
# (Each preset has its own CUID: an enroll with a wrong password makes the TPS adopt the card.)
TPSCLIENT_PASSWORD=wrong client --op enroll --user "$RIG_LDAP_USER" >"$TMP/n00.out" 2>&1
cuid=$(sed -n 's/.*adopted token \([0-9A-F]\{20\}\),.*/\1/p' "$RIG_TPS_LOG" | tail -n 1)
grep -q "^$cuid status=active owner=$RIG_LDAP_USER .* policy=RE_ENROLL=YES;RENEW=NO;" "$RIG_TPS_DB" &&
    pass tps_server_enroll_adopts || fail tps_server_enroll_adopts "$(cat "$RIG_TPS_DB")"
sed -i "s/^\($cuid .*\) policy=.*/\1 policy=RENEW=YES/" "$RIG_TPS_DB"
# earliest_not_after: the earliest notAfter among the card's certificates (epoch seconds)
earliest_not_after() {
    local id
    for id in $(pkcs11-tool --module "$COOLKEY" -O --type cert 2>/dev/null | sed -n 's/^ *ID: *//p'); do
        pkcs11-tool --module "$COOLKEY" --read-object --type cert --id "$id" -o "$TMP/c.der" >/dev/null 2>&1 &&
            date -d "$(openssl x509 -inform DER -in "$TMP/c.der" -noout -enddate | sed 's/^notAfter=//')" +%s
    done | sort -n | head -n 1
}
na_before=$(earliest_not_after)
TPSCLIENT_PIN=86427531 client --op enroll --user "$RIG_LDAP_USER" >"$TMP/n1.out" 2>&1
grep -q '^END_OP operation=1 result=0 message=0 ' "$TMP/n1.out" && grep -q 'certificate(s) renewed' "$RIG_TPS_LOG" &&
    pass tps_server_renew_in_enroll || fail tps_server_renew_in_enroll "$(tail -n 2 "$TMP/n1.out" | tr '\n' ' ')"
[ "$(moduli | sort | md5sum)" = "$before" ] && pass tps_server_renew_same_keys ||
    fail tps_server_renew_same_keys "the renewed certificates carry other keys"
na_after=$(earliest_not_after)
[ "${na_after:-0}" -gt "$(date +%s)" ] && [ "${na_before:-0}" -lt "$(date +%s)" ] && pass tps_server_renew_later_not_after ||
    fail tps_server_renew_later_not_after "earliest notAfter $na_before -> $na_after"
grep -q '^TOKEN_PDU 84 0C ' "$TMP/n1.out" && fail tps_server_renew_no_keygen "GENERATE KEY sent" ||
    pass tps_server_renew_no_keygen
# neither RE_ENROLL nor RENEW: 26 before the login
sed -i "s/^\($cuid .*\) policy=.*/\1 policy=RE_ENROLL=NO;RENEW=NO/" "$RIG_TPS_DB"
client --op enroll --user "$RIG_LDAP_USER" >"$TMP/n2.out" 2>&1
grep -q '^END_OP operation=1 result=1 message=26 ' "$TMP/n2.out" && ! grep -q 'LOGIN_REQUEST' "$TMP/n2.out" &&
    pass tps_server_enroll_policy_disabled || fail tps_server_enroll_policy_disabled "$(tail -n 2 "$TMP/n2.out" | tr '\n' ' ')"
[ "$(moduli | sort | md5sum)" = "$before" ] && pass tps_server_enroll_policy_disabled_untouched ||
    fail tps_server_enroll_policy_disabled_untouched "the card's certificates changed"

# --- the directory down: END_OP 25 (STATUS_ERROR_LDAP_CONN) ---
kill "$(cat "$RIG_DIR/pids/slapd.pid")" 2>/dev/null
sleep 0.3
client --op reset-pin --user "$RIG_LDAP_USER" >"$TMP/d1.out" 2>&1
grep -q '^END_OP operation=3 result=1 message=25 ' "$TMP/d1.out" && pass tps_server_ldap_down ||
    fail tps_server_ldap_down "$(tail -n 2 "$TMP/d1.out" | tr '\n' ' ')"
