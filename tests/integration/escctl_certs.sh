#!/usr/bin/env bash
# escctl_certs: `escctl certs` against the rig. What it says about each certificate on the card
# (subject, issuer, serial, notAfter, key size, key usage, SHA-256) is what openssl says about the
# same DER (exported with --pem) and the DER is what coolkey reads from the card; --json parses;
# the expired preset is marked expired, formatted / blank cards say "no certificate" (exit 1),
# no card / no reader / no pcscd exit 4, a card whose certificate NSS cannot decode shows that one
# as such and the others still (exit 4), a misbehaving card is bounded, and no PIN try is spent.
. "$(dirname "$0")/lib.sh"

ms() { date +%s%3N; }
# run_timed CMD...: stdout in $OUT, stderr in $ERR, exit code in $RC, milliseconds in $MS
run_timed() {
    local t0; t0=$(ms)
    OUT=$("$@" 2>"$TMP/stderr"); RC=$?
    ERR=$(cat "$TMP/stderr")
    MS=$(($(ms) - t0))
}
# openssl's notAfter ("Nov 23 11:37:27 2027 GMT") as escctl's JSON writes it
iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

# ---- command line, no rig needed
run_timed "$ESCCTL" certs --bogus
[ "$RC" = 2 ] && grep -q "unknown option '--bogus'" <<<"$ERR" && pass unknown_option_exit_2 ||
    fail unknown_option_exit_2 "rc=$RC err=$ERR"
run_timed "$ESCCTL" certs --json --pem
[ "$RC" = 2 ] && pass json_and_pem_exclusive || fail json_and_pem_exclusive "rc=$RC err=$ERR"
if "$ESCCTL" --help | grep -q '^  certs ' && "$ESCCTL" help certs | grep -q -- '--pem'; then pass help_lists_certs
else fail help_lists_certs "$("$ESCCTL" help certs 2>&1 | head -3)"; fi
run_timed "$ESCCTL" certs --conf "$TMP/none.conf"
[ "$RC" = 3 ] && grep -q none.conf <<<"$ERR" && pass missing_conf_exit_3 || fail missing_conf_exit_3 "rc=$RC err=$ERR"

# ---- no pcscd
run_timed env PCSCLITE_CSOCK_NAME="$TMP/no-such.comm" "$ESCCTL" certs
if [ "$RC" = 4 ] && grep -q "pcscd" <<<"$ERR" && [ -z "$OUT" ] && [ "$MS" -lt 1000 ]; then
    pass "no_pcscd_exit_4 (${MS} ms)"
else fail no_pcscd_exit_4 "rc=$RC ${MS}ms out=$OUT err=$ERR"; fi

# ---- the rig
if ! [ -x "$ESC_BUILD/tests/vcard" ] && ! [ -x "${ESC_BUILD_PLAIN:-/nonexistent}/tests/vcard" ]; then
    skip rig_tests "the virtual card is not built"
    exit 0
fi
if ! rig_up --card enrolled; then fail rig_up "$(tail -5 "$TMP/rig-up.log")"; exit 0; fi
tries0=$("$ESCCTL" status --json | jq -r --arg r "$RIG_READER" '.[] | select(.reader == $r) | .pin_tries_left')

run_timed "$ESCCTL" certs --json
J=$OUT
n=$(jq length <<<"$J" 2>/dev/null)
if [ "$RC" = 0 ] && python3 -m json.tool <<<"$J" >/dev/null && [ "${n:-0}" -ge 1 ] &&
    jq -e --arg r "$RIG_READER" 'all(.[]; .decoded and .reader == $r and (.cuid | test("^[0-9A-F]{20}$"))
        and .expired == false and .days_left > 300 and .key_type == "RSA" and .key_bits == 2048
        and (.label | length > 0))' <<<"$J" >/dev/null; then
    pass "enrolled_json ($n certificates, ${MS} ms)"
else fail enrolled_json "rc=$RC out=$J err=$ERR"; fi

run_timed "$ESCCTL" certs
T=$OUT
if [ "$RC" = 0 ] && grep -q "^$RIG_READER: $n certificates" <<<"$T" &&
    [ "$(grep -c '^Certificate c[0-9]' <<<"$T")" = "$n" ] && [ "$(grep -c 'Validity: *valid, ' <<<"$T")" = "$n" ]; then
    pass enrolled_text
else fail enrolled_text "rc=$RC out=$T"; fi

# --pem, then openssl about the same DER
run_timed "$ESCCTL" certs --pem
printf '%s\n' "$OUT" >"$TMP/certs.pem"
(cd "$TMP" && csplit -s -z -f pem- certs.pem '/-----BEGIN CERTIFICATE-----/' '{*}')
pems=("$TMP"/pem-*)
if [ "$RC" = 0 ] && [ "${#pems[@]}" = "$n" ]; then pass "pem_exports_every_certificate ($n)"
else fail pem_exports_every_certificate "rc=$RC ${#pems[@]} PEM blocks for $n certificates"; fi
for i in $(seq 0 $((n - 1))); do
    f=${pems[$i]:-/nonexistent}
    o=$(openssl x509 -in "$f" -noout -nameopt RFC2253 -subject -issuer -serial -enddate -fingerprint -sha256 \
        -ext keyUsage -text 2>&1)
    want_subject=$(sed -n 's/^subject=//p' <<<"$o")
    want_issuer=$(sed -n 's/^issuer=//p' <<<"$o")
    want_serial=$(sed -n 's/^serial=//p' <<<"$o")
    want_na=$(iso "$(sed -n 's/^notAfter=//p' <<<"$o")")
    want_fp=$(sed -n 's/^sha256 Fingerprint=//p' <<<"$o")
    want_bits=$(sed -n 's/.*Public-Key: (\([0-9]*\) bit).*/\1/p' <<<"$o" | head -1)
    want_ku=$(grep -A1 'X509v3 Key Usage' <<<"$o" | tail -1 | sed 's/^ *//')
    got=$(jq -c ".[$i]" <<<"$J")
    diffs=
    for k in subject issuer serial; do
        w=want_$k
        [ "$(jq -r ".$k" <<<"$got")" = "${!w}" ] || diffs="$diffs $k(escctl=$(jq -r ".$k" <<<"$got") openssl=${!w})"
    done
    [ "$(jq -r .not_after <<<"$got")" = "$want_na" ] || diffs="$diffs not_after"
    [ "$(jq -r .sha256 <<<"$got")" = "$want_fp" ] || diffs="$diffs sha256"
    [ "$(jq -r .key_bits <<<"$got")" = "$want_bits" ] || diffs="$diffs key_bits"
    [ "$(jq -r '.key_usage | join(", ")' <<<"$got")" = "$want_ku" ] || diffs="$diffs key_usage"
    grep -qF "SHA-256:        $want_fp" <<<"$T" || diffs="$diffs text_sha256"
    if [ -n "$want_subject" ] && [ -n "$want_fp" ] && [ -z "$diffs" ]; then
        pass "cert_${i}_matches_openssl ($(jq -r .id <<<"$got"): $want_subject)"
    else fail "cert_${i}_matches_openssl" "differs:$diffs openssl: $(head -3 <<<"$o" | tr '\n' ' ')"; fi
done

# the DER escctl read is what coolkey (PKCS#11) reads from the card: same fingerprints
ours=$(jq -r '.[].sha256' <<<"$J" | tr -d : | tr A-F a-f | sort)
theirs=
for id in $(pkcs11-tool --module "$COOLKEY" -O --type cert 2>/dev/null | awk '/^ *ID:/ { print $2 }'); do
    if pkcs11-tool --module "$COOLKEY" --read-object --type cert --id "$id" -o "$TMP/p11.der" >/dev/null 2>&1; then
        theirs="$theirs$(sha256sum "$TMP/p11.der" | cut -d' ' -f1)"$'\n'
    fi
done
theirs=$(sed '/^$/d' <<<"$theirs" | sort)
if [ -n "$theirs" ] && [ "$ours" = "$theirs" ]; then pass "same_der_as_coolkey ($(wc -l <<<"$theirs") certificates)"
else fail same_der_as_coolkey "escctl: $(tr '\n' ' ' <<<"$ours") coolkey: $(tr '\n' ' ' <<<"$theirs")"; fi

tries1=$("$ESCCTL" status --json | jq -r --arg r "$RIG_READER" '.[] | select(.reader == $r) | .pin_tries_left')
[ "$tries0" -ge 1 ] 2>/dev/null && [ "$tries0" = "$tries1" ] && pass "no_pin_try_spent ($tries0)" ||
    fail no_pin_try_spent "before=$tries0 after=$tries1"

run_timed "$ESCCTL" certs --reader "No Such Reader"
[ "$RC" = 4 ] && grep -q "No Such Reader" <<<"$ERR" && pass absent_reader_exit_4 || fail absent_reader_exit_4 "rc=$RC err=$ERR"
run_timed "$ESCCTL" certs --reader "$RIG_READER" --json
[ "$RC" = 0 ] && [ "$(jq length <<<"$OUT")" = "$n" ] && pass reader_option || fail reader_option "rc=$RC out=$OUT"

# ---- the other presets
"$RIG" card preset expired >/dev/null 2>&1
run_timed "$ESCCTL" certs --json
if [ "$RC" = 0 ] && jq -e 'length >= 1 and all(.[]; .decoded and .expired and .days_left < 0)' <<<"$OUT" >/dev/null; then
    pass expired_marked_expired_json
else fail expired_marked_expired_json "rc=$RC out=$OUT"; fi
"$ESCCTL" certs --pem >"$TMP/expired.pem"
if ! openssl x509 -in "$TMP/expired.pem" -noout -checkend 0 >/dev/null 2>&1 &&
    "$ESCCTL" certs | grep -Eq 'Validity: *EXPIRED [0-9]+ days ago'; then
    pass expired_marked_expired_text
else fail expired_marked_expired_text "$("$ESCCTL" certs 2>&1 | grep Validity)"; fi

for p in formatted blank; do
    "$RIG" card preset "$p" >/dev/null 2>&1
    run_timed "$ESCCTL" certs
    if [ "$RC" = 1 ] && [ -z "$OUT" ] && grep -q "holds no certificate" <<<"$ERR"; then pass "${p}_no_certificates_exit_1"
    else fail "${p}_no_certificates_exit_1" "rc=$RC out=$OUT err=$ERR"; fi
    run_timed "$ESCCTL" certs --json
    [ "$RC" = 1 ] && [ "$(jq length <<<"$OUT")" = 0 ] && pass "${p}_json_empty_array" ||
        fail "${p}_json_empty_array" "rc=$RC out=$OUT"
done

# ---- no card
"$RIG" card remove >/dev/null 2>&1
run_timed "$ESCCTL" certs
[ "$RC" = 4 ] && grep -qi "no smart card" <<<"$ERR" && pass "no_card_exit_4 (${MS} ms)" || fail no_card_exit_4 "rc=$RC err=$ERR"

# ---- a certificate NSS cannot decode: the enrolled card with the first certificate's
# TBSCertificate tag broken inside z0 (inflate, patch, deflate; the card is out meanwhile)
"$RIG" card preset enrolled >/dev/null 2>&1
"$RIG" card remove >/dev/null 2>&1
if python3 - "$RIG_DIR/card.state" >"$TMP/patch.log" 2>&1 <<'EOF'; then
import sys, zlib
# z0 header (reference/coolkey-card.md §4.3): format(2) version(2) cuid(10) compression(2)
# comp_size(2) comp_offset(2); then the zlib stream holding the records with the DER
path = sys.argv[1]
lines = open(path).read().split("\n")
for i, l in enumerate(lines):
    f = l.split(" ")
    if f[0] == "object" and f[1] == "7a300000":
        obj = bytes.fromhex(f[5])
        assert obj[14:16] == b"\x00\x01", "z0 not compressed"
        size, off = int.from_bytes(obj[16:18], "big"), int.from_bytes(obj[18:20], "big")
        data = bytearray(zlib.decompress(obj[off:off + size]))
        at = data.find(b"\x30\x82")  # the first certificate: 30 82 LL LL 30 82 (TBSCertificate)
        assert at >= 0 and data[at + 4] == 0x30, "no certificate found"
        data[at + 4] = 0x04  # an OCTET STRING where the TBSCertificate SEQUENCE must be
        comp = zlib.compress(bytes(data), 9)
        obj = obj[:16] + len(comp).to_bytes(2, "big") + obj[18:off] + comp
        f[5] = obj.hex()
        lines[i] = " ".join(f)
        break
else:
    sys.exit("no z0 object in the card state")
open(path, "w").write("\n".join(lines))
EOF
    "$RIG" card insert >/dev/null 2>&1
    run_timed "$ESCCTL" certs
    bad=$(grep -c 'NSS cannot decode it' <<<"$OUT")
    good=$(grep -c 'Validity: *valid' <<<"$OUT")
    if [ "$RC" = 4 ] && [ "$bad" = 1 ] && [ "$good" = $((n - 1)) ]; then
        pass "undecodable_certificate_reported ($(grep 'NSS cannot' <<<"$OUT" | cut -c1-90))"
    else fail undecodable_certificate_reported "rc=$RC out=$OUT err=$ERR"; fi
    run_timed "$ESCCTL" certs --json
    if [ "$RC" = 4 ] && jq -e '[.[] | select(.decoded == false)] | length == 1' <<<"$OUT" >/dev/null &&
        jq -e '.[0].error | test("NSS cannot decode")' <<<"$OUT" >/dev/null; then pass undecodable_certificate_json
    else fail undecodable_certificate_json "rc=$RC out=$OUT"; fi
    run_timed "$ESCCTL" certs --pem
    [ "$RC" = 4 ] && [ "$(grep -c 'BEGIN CERTIFICATE' <<<"$OUT")" = $((n - 1)) ] && grep -q "not exported" <<<"$ERR" &&
        pass undecodable_certificate_not_exported || fail undecodable_certificate_not_exported "rc=$RC err=$ERR"
else
    fail undecodable_certificate_reported "cannot patch the card state: $(tail -2 "$TMP/patch.log")"
fi

# ---- a misbehaving card: a clear error, exit 4, within a bound
for fault in garbage vanish:4 slow:5000; do
    "$RIG" card preset enrolled >/dev/null 2>&1
    "$RIG" card remove >/dev/null 2>&1
    if ! RIG_CARD_FAULT=$fault "$RIG" card insert >/dev/null 2>&1; then
        run_timed timeout 20 "$ESCCTL" certs --timeout 1000
        [ "$RC" = 4 ] && pass "fault_${fault}_never_present_exit_4" || fail "fault_${fault}_never_present_exit_4" "rc=$RC"
        continue
    fi
    run_timed timeout 20 "$ESCCTL" certs --timeout 1000
    if [ "$RC" = 4 ] && [ -n "$ERR" ] && [ "$MS" -lt 3000 ]; then pass "fault_${fault}_exit_4 (${MS} ms: $ERR)"
    else fail "fault_${fault}_exit_4" "rc=$RC ${MS}ms out=$OUT err=$ERR"; fi
done
"$RIG" card remove >/dev/null 2>&1
