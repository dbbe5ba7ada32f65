# `make demo` keeps working: the scripted demo enrolls a new card at a real PAM login and
# resets a blocked PIN at the screensaver, both ending with pam_pkcs11's PAM_SUCCESS.
. "$(dirname "$0")/../integration/lib.sh"
cd "$ESC_TOP"
# the demo runs the plain build (pam_pkcs11 and coolkey are not ASan-instrumented hosts)
out=$(DEMO_SCRIPTED=1 tests/demo/run-demo --build build 2>&1)
rc=$?
n=$(echo "$out" | grep -c '^authenticate: 0 ')
if [ $rc = 0 ] && [ "$n" = 2 ]; then
    pass "make demo: enrollment at login and PIN reset at the screensaver both authenticate"
else
    fail "make demo" "rc=$rc, $n successful logins: $(echo "$out" | tail -n 8 | tr '\n' '|')"
fi
echo "$out" | grep -q 'LDAP Password: \*\*\*\*\*\*\*\*$' && pass "make demo masks the password" ||
    fail "make demo masks the password" "no masked password line"
