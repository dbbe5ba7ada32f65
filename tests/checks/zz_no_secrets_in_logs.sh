# No PIN or password used by the run appears in any log it produced: the test logs, and the
# logs of every rig (pcscd, the card, the TPS, slapd, the agent). Secrets come from the rig's
# defaults and from tests that registered theirs with `secret` (integration/lib.sh). Runs last.
. "$(dirname "$0")/../integration/lib.sh"
cd "$ESC_TOP"
mapfile -t secrets < <({
    sed -n 's/.*RIG_PIN=\${RIG_PIN:-\([^}]*\)}.*/\1/p; s/.*RIG_LDAP_PASSWORD[0-9]*=\${RIG_LDAP_PASSWORD[0-9]*:-\([^}]*\)}.*/\1/p' tests/rig/rig
    cat build/test-secrets.txt 2>/dev/null
} | awk 'length($0) >= 4' | sort -u)
# the logs of this very check would list the secrets it looks for
mapfile -t logs < <(find build/test-logs build/rig-* -type f \( -name '*.log' -o -path '*/logs/*' \) \
    ! -name 'checks_zz_no_secrets_in_logs.log' ! -name 'pcscd.log' 2>/dev/null)
if [ ${#secrets[@]} = 0 ]; then
    fail "no secret in any log" "no secrets known to look for (tests/rig/rig defines none?)"
    exit 0
fi
leaks=
for s in "${secrets[@]}"; do
    hit=$(grep -lF -- "$s" "${logs[@]}" /dev/null 2>/dev/null | head -3 | tr '\n' ' ')
    [ -n "$hit" ] && leaks="$leaks [${#s}-char secret in: $hit]"
done
if [ -z "$leaks" ]; then
    pass "no secret in any log (${#secrets[@]} secrets, ${#logs[@]} logs)"
else
    fail "no secret in any log" "$leaks"
fi
