#!/usr/bin/env bash
# tps_archive: server-side key generation (token type userKeyArchive): the encryption key the
# TPS generated and archived is recovered onto a replacement card, which then decrypts what
# was encrypted to the first card's certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready tps_archive
rig_up --card formatted || { fail tps_archive_rig "rig up failed"; exit 0; }

if escctl_op enroll --token-type userKeyArchive >"$TMP/e1.json" 2>"$TMP/e1.err"; then
    pass tps_archive_enroll_first
else
    fail tps_archive_enroll_first "exit $?: $(cat "$TMP/e1.err") $(cat "$TMP/e1.json")"
    exit 0
fi
cuid1=$(json_field "$TMP/e1.json" cuid)
[ -n "$(ls "$RIG_TPS_ARCHIVE" 2>/dev/null)" ] && pass tps_archive_key_archived ||
    fail tps_archive_key_archived "nothing in $RIG_TPS_ARCHIVE"

# encrypt a secret to each certificate of the first card
printf 'archived-key secret %s\n' "$RANDOM$RANDOM" >"$TMP/plain"
n=0
for id in $(cert_ids); do
    cert_der "$id" "$TMP/c.der" || continue
    openssl x509 -inform DER -in "$TMP/c.der" -out "$TMP/c.pem"
    openssl pkeyutl -encrypt -certin -inkey "$TMP/c.pem" -pkeyopt rsa_padding_mode:pkcs1 \
        -in "$TMP/plain" -out "$TMP/enc.$id" && n=$((n + 1))
done
[ $n -ge 1 ] || { fail tps_archive_encrypt "no certificate to encrypt to"; exit 0; }

# the replacement card: a fresh formatted card, enrolled for the same user
"$RIG" card preset formatted >"$TMP/preset.log" 2>&1 || { fail tps_archive_second_card "$(tail -3 "$TMP/preset.log")"; exit 0; }
[ -z "$(cert_ids)" ] || { fail tps_archive_second_card "the replacement card already has certificates"; exit 0; }
if escctl_op enroll --token-type userKeyArchive --refresh >"$TMP/e2.json" 2>"$TMP/e2.err"; then
    pass tps_archive_enroll_replacement
else
    fail tps_archive_enroll_replacement "exit $?: $(cat "$TMP/e2.err") $(cat "$TMP/e2.json")"
    exit 0
fi
cuid2=$(json_field "$TMP/e2.json" cuid)
[ "$cuid1" != "$cuid2" ] || echo "note: the replacement card has the same CUID $cuid1" >&2

ok=0
for f in "$TMP"/enc.*; do
    for id in $(cert_ids); do
        rm -f "$TMP/dec"
        p11 --login --pin "$NEW_PIN" --decrypt --id "$id" -m RSA-PKCS -i "$f" -o "$TMP/dec" >/dev/null || continue
        cmp -s "$TMP/dec" "$TMP/plain" && ok=1
    done
done
[ $ok = 1 ] && pass tps_archive_recovered_key_decrypts ||
    fail tps_archive_recovered_key_decrypts "no key on the replacement card decrypts the message"
