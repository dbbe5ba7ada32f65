# tps_helpers.bash: shared by tests/integration/tps_*.sh (sourced after lib.sh).
# Card checks go through the real coolkey PKCS#11 module (pkcs11-tool) and openssl; TPS
# counters come from the reference TPS's GET /tps/stats.

NEW_PIN=${NEW_PIN:-13572468}

# tps_ready: skip the whole test (exit 0) when the rig has no TPS or no card; registers the
# PIN the tests set, so checks/zz_no_secrets_in_logs.sh looks for it in every log.
tps_ready() {
    local name=$1
    secret "$NEW_PIN"
    if [ ! -x "$ESCCTL" ] || [ ! -x "$ESC_BUILD/tests/tps" ] || [ ! -x "$ESC_BUILD/tests/vcard" ]; then
        skip "$name" "escctl, the reference TPS or the virtual card is not built"
        exit 0
    fi
}

tps_base() { echo "${RIG_TPS_URL%/tps/tps}"; }

# tps_stat KEY: one counter of the reference TPS
tps_stat() {
    curl -s --max-time 5 "$(tps_base)/tps/stats" | sed -n "s/^$1=//p"
}

ldap_password() { echo "${RIG_LDAP_PASSWORD:-${RIG_USER_PASSWORD:-password}}"; }

# escctl_op OP [ARGS...]: run an operation non-interactively as $RIG_USER with $NEW_PIN;
# stdout = the JSON result, exit code = escctl's. The password and PIN travel on fds 3 and 4.
escctl_op() {
    local op=$1; shift
    "$ESCCTL" "$op" --user "${OP_USER:-$RIG_USER}" --password-fd 3 --pin-fd 4 --json "$@" \
        3< <(printf '%s\n' "${OP_PASSWORD:-$(ldap_password)}") 4< <(printf '%s\n' "$NEW_PIN")
}

# json_field FILE KEY: a top-level string/number/bool of a one-line JSON object (python3)
json_field() {
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); 
for k in sys.argv[2].split("."): v=v[k] if v is not None else None
print("" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1" "$2"
}

card_state() { "$ESCCTL" status 2>/dev/null | grep -Eo 'NO_APPLET|UNINITIALIZED|ENROLLED|PIN_LOCKED|EXPIRED|NO_CARD' | head -n1; }

p11() { pkcs11-tool --module "$COOLKEY" "$@" 2>/dev/null; }

# cert_ids: the CKA_ID of each certificate coolkey lists, one per line
cert_ids() { p11 -O --type cert | sed -n 's/^ *ID: *//p'; }

# cert_der ID OUT: read one certificate
cert_der() { p11 --read-object --type cert --id "$1" -o "$2" >/dev/null; }

# sign_verify PIN: 0 if some certificate's key signs with PIN and the signature verifies.
# coolkey offers only RSA-PKCS (and signs whatever it is given, whatever mechanism is asked),
# so the SHA-256 DigestInfo is built here and signed raw; openssl checks a normal signature.
sign_verify() {
    local pin=$1 id
    printf 'pam_esc signature test %s\n' "$RANDOM" >"$TMP/data"
    { printf '3031300d060960864801650304020105000420'; openssl dgst -sha256 -r "$TMP/data" | cut -d' ' -f1; } |
        xxd -r -p >"$TMP/digestinfo"
    for id in $(cert_ids); do
        cert_der "$id" "$TMP/c.der" || continue
        openssl x509 -inform DER -in "$TMP/c.der" -pubkey -noout >"$TMP/pub.pem" || continue
        rm -f "$TMP/sig"
        p11 --login --pin "$pin" --sign --id "$id" -m RSA-PKCS -i "$TMP/digestinfo" -o "$TMP/sig" >/dev/null || continue
        openssl dgst -sha256 -verify "$TMP/pub.pem" -signature "$TMP/sig" "$TMP/data" >/dev/null 2>&1 && return 0
    done
    return 1
}

# certs_ok USER: exactly two certificates, subject names USER, issuer is the test CA
certs_ok() {
    local user=$1 n=0 id ca_subj subj iss
    ca_subj=$(openssl x509 -in "$RIG_CA_DIR/ca.cert.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
    for id in $(cert_ids); do
        cert_der "$id" "$TMP/c.der" || { echo "cannot read certificate $id"; return 1; }
        subj=$(openssl x509 -inform DER -in "$TMP/c.der" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
        iss=$(openssl x509 -inform DER -in "$TMP/c.der" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
        case "$subj" in *"$user"*) ;; *) echo "subject '$subj' does not name $user"; return 1 ;; esac
        [ "$iss" = "$ca_subj" ] || { echo "issuer '$iss' is not the test CA '$ca_subj'"; return 1; }
        n=$((n + 1))
    done
    [ $n = 2 ] || { echo "coolkey lists $n certificates, not 2"; return 1; }
}

# latest_not_after: the latest notAfter of the card's certificates, in epoch seconds
latest_not_after() {
    local id best=0 t
    for id in $(cert_ids); do
        cert_der "$id" "$TMP/c.der" || continue
        t=$(date -d "$(openssl x509 -inform DER -in "$TMP/c.der" -noout -enddate | sed 's/^notAfter=//')" +%s)
        [ "$t" -gt "$best" ] && best=$t
    done
    echo "$best"
}
