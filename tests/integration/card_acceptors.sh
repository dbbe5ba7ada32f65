#!/usr/bin/env bash
# card_acceptors: the virtual CoolKey card (tests/vcard) against the real acceptors through the
# real pcscd: coolkey's PKCS#11 module via pkcs11-tool, openssl for the signature, scriptor for
# raw (also malformed) APDUs. Covers every preset, removal/re-insertion and the PIN counter.
. "$(dirname "$0")/lib.sh"

VCARD=$ESC_BUILD/tests/vcard
P11=(pkcs11-tool --module "$COOLKEY")
for t in pkcs11-tool scriptor openssl python3; do
    command -v "$t" >/dev/null || { skip card_acceptors "$t is not installed"; exit 0; }
done
[ -x "$VCARD" ] || { skip card_acceptors "$VCARD is not built"; exit 0; }

rig_up --card formatted || { fail card_acceptors_rig "rig up failed"; exit 0; }

tries() { "$VCARD" show --state "$RIG_DIR/card.state" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["pins"][0]["tries_left"])'; }
preset() { "$RIG" card preset "$1" >"$TMP/preset.log" 2>&1 || { cat "$TMP/preset.log"; return 1; }; }
# preset1024 PRESET: the same with 1024-bit keys (2048-bit generation dominates the test time)
preset1024() {
    "$RIG" card remove >/dev/null 2>&1
    "$VCARD" provision --preset "$1" --state "$RIG_DIR/card.state" --ca-dir "$RIG_CA_DIR" \
        --phone-home "$RIG_PHONE_HOME_URL" --user "$RIG_USER" --pin "$RIG_PIN" --key-bits 1024 \
        >"$TMP/preset.log" 2>&1 && "$RIG" card insert >>"$TMP/preset.log" 2>&1 ||
        { cat "$TMP/preset.log"; return 1; }
}
# apdus "HEX APDU" ...: sends them in one connection, prints one line per answer (scriptor
# wraps long answers over several lines; the line with " : " ends an answer)
apdus() {
    printf '%s\n' "$@" | timeout 20 scriptor -r "$RIG_READER" 2>/dev/null |
        awk '/^< /{buf=""; on=1; $0=substr($0,3)} /^> /{on=0}
             on{buf=buf" "$0; if (/ : /) {sub(/ : .*/,"",buf); print buf; on=0}}'
}
# sw_of N ANSWERS: the status word (last two bytes) of the N-th answer
sw_of() { echo "$2" | sed -n "$1p" | awk '{print $(NF-1) $NF}'; }
digest_info() { # SHA-256 DigestInfo of $1 into $2
    printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20' >"$2"
    openssl dgst -sha256 -binary "$1" >>"$2"
}
sign_verify() { # sign_verify CERT_OUT: sign with key 01, verify with the card's certificate
    echo "card_acceptors $RANDOM" >"$TMP/data"
    digest_info "$TMP/data" "$TMP/di"
    "${P11[@]}" --login --pin "$RIG_PIN" --sign -m RSA-PKCS --id 01 -i "$TMP/di" -o "$TMP/sig" \
        >"$TMP/sign.log" 2>&1 || { cat "$TMP/sign.log"; return 1; }
    "${P11[@]}" -r --type cert --id 01 -o "$TMP/cert.der" >/dev/null 2>&1 || return 1
    openssl x509 -inform der -in "$TMP/cert.der" -pubkey -noout >"$1" || return 1
    openssl pkeyutl -verify -pubin -inkey "$1" -in "$TMP/di" -sigfile "$TMP/sig"
}

# --- formatted: coolkey sees an uninitialized token
out=$("${P11[@]}" -L 2>&1)
if echo "$out" | grep -q "token state: *uninitialized"; then pass formatted_uninitialized_token
else fail formatted_uninitialized_token "$(echo "$out" | tr '\n' ' ')"; fi

# --- blank: no applet, so no CoolKey token at all
preset blank
out=$("${P11[@]}" -L 2>&1)
if echo "$out" | grep -A1 "Rig Virtual PCD 00 00" | grep -q "(empty)"; then pass blank_no_token
else fail blank_no_token "$(echo "$out" | tr '\n' ' ')"; fi
ans=$(apdus "00 A4 04 00 00" "80 CA 9F 7F 2D" "00 A4 04 00 07 62 76 01 FF 00 00 00")
if [ "$(sw_of 1 "$ans")" = 9000 ] && [ "$(echo "$ans" | sed -n 2p | wc -w)" -ge 47 ] &&
    [ "$(sw_of 3 "$ans")" = 6A82 ]; then pass blank_card_manager_only
else fail blank_card_manager_only "$(echo "$ans" | tr '\n' ' ')"; fi

# --- enrolled: initialized token, login required, 2 certs + 2 private keys with matching IDs
preset enrolled
out=$("${P11[@]}" -L 2>&1)
if echo "$out" | grep "token flags" | grep -q "login required" &&
    echo "$out" | grep "token flags" | grep -q "token initialized"; then
    pass enrolled_initialized_login_required
else fail enrolled_initialized_login_required "$(echo "$out" | tr '\n' ' ')"; fi

objs=$("${P11[@]}" -O 2>/dev/null)
cert_ids=$(echo "$objs" | awk '/^Certificate Object/{c=1} /^(Public|Private)/{c=0} c&&/ID:/{print $2}' | sort | tr '\n' ' ')
key_ids=$(echo "$objs" | awk '/^Private Key Object/{c=1} /^(Public|Certificate)/{c=0} c&&/ID:/{print $2}' | sort | tr '\n' ' ')
if [ "$cert_ids" = "01 02 " ] && [ "$key_ids" = "01 02 " ]; then pass enrolled_objects_match
else fail enrolled_objects_match "certs [$cert_ids] keys [$key_ids]"; fi

if out=$(sign_verify "$TMP/pub1.pem" 2>&1) && echo "$out" | grep -q "Verified Successfully"; then
    pass enrolled_sign_verifies
else fail enrolled_sign_verifies "$(echo "$out" | tail -3 | tr '\n' ' ')"; fi

# --- removal and re-insertion without restarting pcscd: same keys, same certificate
pcscd_pid=$(cat "$RIG_DIR/pids/pcscd.pid")
if "$RIG" card remove >/dev/null 2>&1 && "$RIG" card insert >/dev/null 2>&1 &&
    [ "$(cat "$RIG_DIR/pids/pcscd.pid")" = "$pcscd_pid" ] && kill -0 "$pcscd_pid" &&
    out=$(sign_verify "$TMP/pub2.pem" 2>&1) && cmp -s "$TMP/pub1.pem" "$TMP/pub2.pem"; then
    pass reinsert_keeps_keys
else fail reinsert_keeps_keys "$(echo "$out" | tail -3 | tr '\n' ' ')"; fi

# --- wrong PINs: each lowers the tries (GET PIN REMAINING TRIES on the card); at 0 PIN_LOCKED
t0=$(tries)
"${P11[@]}" --login --pin 000000 -O >"$TMP/wrong.log" 2>&1
t1=$(tries)
ans=$(apdus "00 A4 04 00 07 62 76 01 FF 00 00 00" "B0 4A 00 00 01")
card_t1=$(echo "$ans" | sed -n 2p | awk '{print $1}')
if grep -q CKR_PIN_INCORRECT "$TMP/wrong.log" && [ "$t1" -eq $((t0 - 1)) ] &&
    [ "$((16#$card_t1))" -eq "$t1" ]; then pass wrong_pin_lowers_tries
else fail wrong_pin_lowers_tries "tries $t0 -> $t1 (card says $card_t1): $(tr '\n' ' ' <"$TMP/wrong.log")"; fi
n=$t1
while [ "$n" -gt 0 ]; do "${P11[@]}" --login --pin 000000 -O >/dev/null 2>&1; n=$((n - 1)); done
out=$("${P11[@]}" --login --pin "$RIG_PIN" -O 2>&1)
if [ "$(tries)" = 0 ] && echo "$out" | grep -q CKR_PIN_LOCKED; then pass pin_locked_at_zero
else fail pin_locked_at_zero "tries $(tries): $(echo "$out" | grep CKR)"; fi

# --- locked preset: locked from the start, even with the right PIN
preset1024 locked
out=$("${P11[@]}" --login --pin "$RIG_PIN" -O 2>&1)
if echo "$out" | grep -q CKR_PIN_LOCKED; then pass locked_preset_pin_locked
else fail locked_preset_pin_locked "$(echo "$out" | grep -i error)"; fi

# --- expired preset: the card works, its certificates are past notAfter
preset1024 expired
"${P11[@]}" -r --type cert --id 01 -o "$TMP/exp.der" >/dev/null 2>&1
if [ -s "$TMP/exp.der" ] && ! openssl x509 -inform der -in "$TMP/exp.der" -noout -checkend 0 >/dev/null &&
    out=$(sign_verify "$TMP/pub3.pem" 2>&1); then pass expired_preset_certs_expired
else fail expired_preset_certs_expired "$(echo "$out" | tail -2 | tr '\n' ' ')"; fi

# --- malformed and refused APDUs get the applet's status words (coolkey-card.md §2)
preset1024 enrolled
ans=$(apdus "00 A4 04 00 07 62 76 01 FF 00 00 00" \
    "B0 58 00 00 05 01 02" \
    "B0 F2 00" \
    "B0 56 00 00 09 7A 30 00 00 00 00 00 00 10" \
    "B0 56 00 00 0A 7A 30 00 00 00 00 00 00 10 00" \
    "B0 56 00 00 11 7A 30 00 00 00 00 00 00 10 01 02 03 04 05 06 07 08" \
    "B0 56 00 00 11 7A 30 00 00 00 00 FF F0 20 00 00 00 00 00 00 00 00" \
    "B0 56 00 00 11 41 41 00 00 00 00 00 00 10 00 00 00 00 00 00 00 00" \
    "B0 42 07 00 04 31 32 33 34" \
    "B0 F6 00 00 10" \
    "B0 58 00 00 08" \
    "B0 5A 00 00 16 41 41 00 00 00 00 00 10 FF FF FF FF FF FF 00 00 00 00 00 00 00 00" \
    "84 0C 00 00 08 00 00 00 00 00 00 00 00" \
    "C0 00 00 00 00" \
    "B0 99 00 00 00" \
    "B0 3C 01 00" \
    "80 CA 9F 7F 2D")
want="9000 6700 6700 9C06 9C06 9C06 9C0F 9C07 9C10 6700 6700 9C06 6982 6E00 6D00 6D00 6D00"
got=""
for i in $(seq 1 17); do got="$got $(sw_of "$i" "$ans")"; done
if [ "${got# }" = "$want" ]; then pass malformed_apdus_right_sw
else fail malformed_apdus_right_sw "want [$want] got [${got# }]"; fi


# --- fault modes (vcard run --fault) for the reader side's bad-input tests
with_fault() { "$RIG" card remove >/dev/null 2>&1; RIG_CARD_FAULT=$1 "$RIG" card insert >/dev/null 2>&1; }
SEL="00 A4 04 00 07 62 76 01 FF 00 00 00"
with_fault garbage
ans=$(apdus "$SEL" "B0 F2 00 00 04" "B0 3C 00 00 10")
sw2=$(sw_of 2 "$ans") sw3=$(sw_of 3 "$ans")
if [ "$(sw_of 1 "$ans")" = 9000 ] && [ "${sw2:0:1}" = 1 ] && [ "${sw3:0:1}" = 1 ]; then
    pass fault_garbage
else fail fault_garbage "$(echo "$ans" | tr '\n' '|')"; fi
with_fault short
ans=$(apdus "$SEL" "B0 F2 00 00 04")
if [ "$(echo "$ans" | sed -n 2p | wc -w)" = 1 ]; then pass fault_short
else fail fault_short "$(echo "$ans" | tr '\n' '|')"; fi
with_fault long
ans=$(apdus "$SEL" "B0 F2 00 00 04")
if [ "$(echo "$ans" | sed -n 2p | wc -w)" -ge 302 ] && [ "$(sw_of 2 "$ans")" = 9000 ]; then
    pass fault_long
else fail fault_long "$(echo "$ans" | sed -n 2p | wc -w) bytes"; fi
with_fault vanish:2
apdus "$SEL" "B0 F2 00 00 04" >/dev/null
sleep 1
if opensc-tool -l 2>/dev/null | grep -Eq "^0 +No"; then pass fault_vanish_pulls_card
else fail fault_vanish_pulls_card "$(opensc-tool -l 2>&1 | tr '\n' '|')"; fi
with_fault slow:400
s0=$(date +%s%N)
ans=$(apdus "$SEL" "B0 F2 00 00 04")
ms=$((($(date +%s%N) - s0) / 1000000))
if [ "$ms" -ge 800 ] && [ "$(sw_of 2 "$ans")" = 9000 ]; then pass fault_slow
else fail fault_slow "2 APDUs took $ms ms: $(echo "$ans" | tr '\n' '|')"; fi
"$RIG" card remove >/dev/null 2>&1

# --- a GP 2.0.1 (SCP01) card through the reference TPS: GET DATA 0066 fails, INITIALIZE UPDATE
# answers key info 01 01, C-MAC/C-DEC of SCP01, keygen, z0, life cycle 0F
if [ -x "$ESCCTL" ] && [ -x "$ESC_BUILD/tests/tps" ] && [ -f "$RIG_DIR/pids/tps.pid" ]; then
    "$VCARD" provision --preset formatted --scp 1 --state "$RIG_DIR/card.state" \
        --ca-dir "$RIG_CA_DIR" --phone-home "$RIG_PHONE_HOME_URL" >/dev/null 2>&1
    "$RIG" card insert >/dev/null 2>&1
    out=$("$ESCCTL" enroll --user "$RIG_USER" --password-fd 3 --pin-fd 4 --json \
        3< <(echo "$RIG_LDAP_PASSWORD") 4< <(echo 13572468) 2>&1)
    st=$("$VCARD" show --state "$RIG_DIR/card.state" --json)
    if echo "$out" | grep -q '"ok": true' && echo "$st" | grep -q '"scp": 1' &&
        echo "$st" | grep -q '"life_cycle": 15'; then pass scp01_card_enrolls_through_tps
    else fail scp01_card_enrolls_through_tps "$(echo "$out" | head -c 300)"; fi
    "$RIG" card remove >/dev/null 2>&1
else
    skip scp01_card_enrolls_through_tps "escctl or the reference TPS is not built"
fi
