#!/usr/bin/env bash
# escctl_diag: `escctl diag` on the rig. An enrolled card with the rig up: every check ok, exit 0.
# Then each fault shows up as the right check, with the right exit code and a sentence saying
# what to do, every check before it ok and every one after it skipped (none claims ok): a bad
# esc.conf line (3), no pcscd / pcscd stopped (4), card removed (4), PIN locked (4, reset-pin;
# the servers are checked anyway, since resetting the PIN needs them),
# phone-home host not in allowed_hosts (6, and the TPS counts no request), a cached TPS URL not
# allowed (6), the TPS's certificate from another CA (5), the TPS down (5), a phone-home server
# answering 404 (5), the TPS down behind a working phone-home server (5). --json parses.
# The login check (9) runs against a pam_pkcs11.conf whose ca_dir holds the rig's CA
# (escctl_diag_login.sh tests it); the report's fields are in escctl_diag_report.sh.
. "$(dirname "$0")/lib.sh"

ms() { date +%s%3N; }
NCHECKS=9
# the login check: pam_pkcs11 with the rig's CA linked in its ca_dir (written after rig_up)
LOGIN=(--pam-module pam_pkcs11 --pam-pkcs11-conf "$TMP/pam_pkcs11.conf" --user jsmith)
# diag ARGS...: escctl diag --json; the JSON in $J, the exit code in $RC, stderr in $ERR, $MS
diag() {
    local t0; t0=$(ms)
    J=$(timeout 60 "$ESCCTL" diag --json "${LOGIN[@]}" "$@" 2>"$TMP/diag.err"); RC=$?
    MS=$(($(ms) - t0))
    ERR=$(cat "$TMP/diag.err")
}
detail() { jq -r --arg c "$1" '.checks[] | select(.check == $c) | .detail' <<<"$J"; }
# expect NAME CHECK CODE REGEX ARGS...: the first problem is CHECK, exit CODE, its detail
# matches REGEX; the checks before it are ok, the ones after it skipped.
expect() {
    local name=$1 check=$2 code=$3 re=$4; shift 4
    diag "$@"
    if [ "$RC" = "$code" ] && jq -e --arg c "$check" --argjson n $NCHECKS '.checks |
        (map(.check) | index($c)) as $i | length == $n and $i != null and
        .[$i].result == "problem" and ([.[:$i][] | .result == "ok"] | all) and
        ([.[$i + 1:][] | .result == "skipped"] | all)' <<<"$J" >/dev/null &&
        grep -Eq -- "$re" <<<"$(detail "$check")"; then
        pass "$name (exit $RC, ${MS} ms: $(detail "$check"))"
    else
        fail "$name" "exit $RC (want $code), stderr '$ERR', json $(tr -d '\n' <<<"$J")"
    fi
}

# ---- command line, no rig needed
"$ESCCTL" diag --bogus >/dev/null 2>"$TMP/e"
[ $? = 2 ] && grep -q 'usage: escctl diag' "$TMP/e" && pass diag_unknown_option_exit_2 ||
    fail diag_unknown_option_exit_2 "$(cat "$TMP/e")"
"$ESCCTL" diag --timeout 0 >/dev/null 2>&1
[ $? = 2 ] && pass diag_bad_timeout_exit_2 || fail diag_bad_timeout_exit_2 "accepted --timeout 0"
if "$ESCCTL" --help | grep -q '^  diag ' && "$ESCCTL" help diag | grep -q -- '--timeout'; then
    pass diag_in_help
else fail diag_in_help "$("$ESCCTL" help diag 2>&1)"; fi
expect diag_missing_conf conf 3 "none\.conf" --conf "$TMP/none.conf"

if ! [ -x "$ESC_BUILD/tests/vcard" ] || ! [ -x "$ESC_BUILD/tests/tps" ]; then
    skip diag_rig "the virtual card or the reference TPS is not built"
    exit 0
fi
if ! rig_up --card enrolled; then fail diag_rig_up "$(tail -5 "$TMP/rig-up.log")"; exit 0; fi
mkdir -p "$TMP/cacerts"
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/cacerts/rig-ca.pem"
ln -s rig-ca.pem "$TMP/cacerts/$(openssl x509 -noout -subject_hash -in "$RIG_CA_DIR/ca.cert.pem").0"
sed "s#/etc/pam_pkcs11/cacerts#$TMP/cacerts#" "$ESC_TOP/config/pam.d/pam_pkcs11.conf" >"$TMP/pam_pkcs11.conf"
tps_stat() { curl -s --max-time 5 "$RIG_TPS_STATS_URL" | sed -n "s/^$1=//p"; }
mkdir -p "$TMP/cache" && chmod 700 "$TMP/cache"
conf() { # conf KEY VALUE...: a copy of the rig's esc.conf with these keys replaced
    local out=$TMP/esc.conf
    grep -vE '^ *(cache_dir|allowed_hosts|allow_http_hosts|ca_file) *=' "$ESC_CONF" >"$out"
    echo "cache_dir = $TMP/cache" >>"$out"
    while [ $# -gt 0 ]; do echo "$1 = $2" >>"$out"; shift 2; done
    echo "$out"
}

# ---- all ok, text and JSON; a look only: nothing is cached, no operation started
ops0=$(tps_stat operations) tps0=$(tps_stat tps_connections) ph0=$(tps_stat phone_home)
t0=$(ms)
"$ESCCTL" diag "${LOGIN[@]}" >"$TMP/text" 2>&1
RC=$? MS=$(($(ms) - t0))
if [ $RC = 0 ] && [ "$(grep -c '^ok ' "$TMP/text")" = $NCHECKS ] &&
    grep -q "^ok  *card  *ENROLLED: CUID [0-9A-F]\{20\}, applet [0-9.]*, [0-9]* PIN tries left" "$TMP/text" &&
    grep -qF "$RIG_PHONE_HOME_URL (from the card's issuer info)" "$TMP/text" &&
    grep -q "^ok  *tps  *https://127.0.0.1:[0-9]*/tps/tps: TCP connection and TLS handshake made, certificate verified" "$TMP/text"; then
    pass "diag_all_ok_text (${MS} ms)"
else fail diag_all_ok_text "exit $RC: $(cat "$TMP/text")"; fi
diag
if [ $RC = 0 ] && jq -e --argjson n $NCHECKS '.checks | length == $n and all(.[]; .result == "ok" and
        (.detail | length > 0)) and (map(.check) == ["conf","pcscd","reader","card",
        "phone_home_url","trust","phone_home","tps","login"])' <<<"$J" >/dev/null; then
    pass "diag_all_ok_json (${MS} ms)"
else fail diag_all_ok_json "exit $RC: $J"; fi
if [ "$(tps_stat operations)" = "$ops0" ] && [ "$(tps_stat tps_connections)" = "$tps0" ] &&
    [ "$(tps_stat phone_home)" = $((ph0 + 2)) ] && [ -z "$(find "$TMP/cache" "$RIG_DIR/cache" -type f)" ]; then
    pass diag_starts_no_operation_caches_nothing
else
    fail diag_starts_no_operation_caches_nothing "operations $ops0->$(tps_stat operations), tps_connections $tps0->$(tps_stat tps_connections), phone_home $ph0->$(tps_stat phone_home), cache: $(find "$TMP/cache" "$RIG_DIR/cache" -type f)"
fi

# ---- esc.conf: a bad line names file:line
{ cat "$ESC_CONF"; echo "probe_timout_ms = 5"; } >"$TMP/bad.conf"
n=$(wc -l <"$TMP/bad.conf")
expect diag_bad_conf_line conf 3 "bad\.conf:$n: probe_timout_ms: unknown key" --conf "$TMP/bad.conf"
ESC_CONF=$TMP/bad.conf expect diag_bad_conf_via_env conf 3 "bad\.conf:$n:"

# ---- pcscd: not running (no socket), stopped (bounded by --timeout)
PCSCLITE_CSOCK_NAME=$TMP/no-such.comm expect diag_no_pcscd pcscd 4 "not running.*start it"
pid=$(cat "$RIG_DIR/pids/pcscd.pid")
kill -STOP "$pid"
expect diag_pcscd_stopped pcscd 4 "does not answer within 500 ms.*restart" --timeout 500
kill -CONT "$pid"
[ "$MS" -lt 3000 ] && pass "diag_pcscd_stopped_bounded (${MS} ms for 500 ms)" ||
    fail diag_pcscd_stopped_bounded "${MS} ms"
diag
[ $RC = 0 ] && pass diag_ok_after_pcscd_continues || fail diag_ok_after_pcscd_continues "exit $RC: $J"

# ---- readers: a reader that is not there, no card
expect diag_reader_absent reader 4 "\"No Such Reader\" is not connected.*Rig Virtual PCD" --reader "No Such Reader"
"$RIG" card remove >/dev/null 2>&1
expect diag_card_removed reader 4 "No card .*insert the card"
"$ESCCTL" diag "${LOGIN[@]}" >"$TMP/text" 2>&1
RC=$?
[ $RC = 4 ] && grep -q '^problem  *reader ' "$TMP/text" && ! grep -q '^ok  *card' "$TMP/text" &&
    pass diag_card_removed_text || fail diag_card_removed_text "exit $RC: $(cat "$TMP/text")"

# ---- the card's state: PIN locked. The fix (reset-pin) needs the servers, so they are
# checked all the same; the exit code is still the card's.
if "$RIG" card preset locked >"$TMP/preset.log" 2>&1; then
    diag
    if [ "$RC" = 4 ] && grep -Eq "PIN locked.*escctl reset-pin" <<<"$(detail card)" &&
        jq -e --argjson n $NCHECKS '.checks | length == $n and
            ([.[] | select(.check == "card") | .result == "problem"] | all) and
            ([.[] | select(.check != "card") | .result == "ok"] | all)' <<<"$J" >/dev/null; then
        pass "diag_pin_locked_servers_still_checked (exit $RC: $(detail card))"
    else fail diag_pin_locked_servers_still_checked "exit $RC, json $(tr -d '\n' <<<"$J")"; fi
else fail diag_pin_locked_servers_still_checked "rig card preset locked: $(tail -2 "$TMP/preset.log")"; fi
"$RIG" card preset enrolled >/dev/null 2>&1
diag
[ $RC = 0 ] && pass diag_ok_enrolled_again || fail diag_ok_enrolled_again "exit $RC: $J"

# ---- trust: the phone-home host not allowed; nothing is requested
ph=$(tps_stat phone_home) phc=$(tps_stat phone_home_connections)
expect diag_host_not_allowed trust 6 "127\.0\.0\.1 is not in allowed_hosts.*Nothing was sent" \
    --conf "$(conf allowed_hosts localhost allow_http_hosts localhost ca_file "$RIG_CA_DIR/ca.cert.pem")"
if [ "$(tps_stat phone_home)" = "$ph" ] && [ "$(tps_stat phone_home_connections)" = "$phc" ]; then
    pass "diag_host_not_allowed_no_request (phone_home stays $ph)"
else fail diag_host_not_allowed_no_request "phone_home $ph -> $(tps_stat phone_home)"; fi
expect diag_http_not_allowed trust 6 "https" \
    --conf "$(conf allowed_hosts 127.0.0.1 ca_file "$RIG_CA_DIR/ca.cert.pem")"
# a cached profile whose TPS is not allowed is refused before anything is sent
cuid=$(jq -r '.[] | select(.reader == env.RIG_READER) | .cuid' <<<"$("$ESCCTL" status --json)")
printf 'pam_esc-profile 1\ncuid=%s\nsource_url=%s\nissuer=Rig\noperation=%s\nui=\nenrolled_browser_url=\nenrolled_url=\ntoken_type=userKey\nca_chain_ui=\nfetched_at=%s\n' \
    "$cuid" "$RIG_PHONE_HOME_URL" "https://tps.example.com/tps/tps" "$(date +%s)" >"$TMP/cache/$cuid.profile"
chmod 600 "$TMP/cache/$cuid.profile"
ph=$(tps_stat phone_home)
expect diag_cached_tps_not_allowed trust 6 "cached TPS URL.*tps\.example\.com" \
    --conf "$(conf allowed_hosts 127.0.0.1 allow_http_hosts 127.0.0.1 ca_file "$RIG_CA_DIR/ca.cert.pem")"
[ "$(tps_stat phone_home)" = "$ph" ] && pass diag_cached_tps_not_allowed_no_request ||
    fail diag_cached_tps_not_allowed_no_request "phone_home $ph -> $(tps_stat phone_home)"
rm -f "$TMP/cache/$cuid.profile"

# ---- TLS: ca_file names another CA, so the TPS's certificate is not trusted
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/other.key" -out "$TMP/other.pem" \
    -subj "/CN=Some Other CA" -days 2 >/dev/null 2>&1
expect diag_untrusted_ca tps 5 "not trusted.*(certificate|SSL).*ca_file" \
    --conf "$(conf allowed_hosts 127.0.0.1 allow_http_hosts 127.0.0.1 ca_file "$TMP/other.pem")"

# ---- the TPS (and its phone-home server) down
mkdir -p "$TMP/www/tps"
curl -s --max-time 5 "$RIG_PHONE_HOME_URL?cuid=$cuid" >"$TMP/phoneHome.xml"
tpid=$(cat "$RIG_DIR/pids/tps.pid")
kill "$tpid"
for _ in $(seq 100); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.05; done
expect diag_tps_down phone_home 5 "Phone home to http://127\.0\.0\.1:[0-9]+/tps/phoneHome failed: .*cannot be reached \(Couldn't connect to server\); check that the server is up"

# ---- a stand-in phone-home server on the TPS's port: first it answers 404, then the TPS's own
# ServiceInfo, whose TPS (the stopped one) cannot be reached
port=${RIG_PHONE_HOME_URL#http://127.0.0.1:}
port=${port%%/*}
python3 -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$port" >"$TMP/www.log" 2>&1 &
www_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" && break; sleep 0.05; done
expect diag_phone_home_http_404 phone_home 5 "HTTP status 404.*check the phone-home URL"
cp "$TMP/phoneHome.xml" "$TMP/www/tps/phoneHome"
expect diag_tps_operation_down tps 5 "The TPS cannot be reached \(https://127\.0\.0\.1:[0-9]+/tps/tps: .*onnect.*\): check that it is running"
kill "$www_pid" 2>/dev/null
wait "$www_pid" 2>/dev/null || true # killed by us: 143
