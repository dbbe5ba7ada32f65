# `make demo` keeps working: the scripted demo enrolls a new card at the first login through
# login(1) on a terminal (or, where login(1) cannot run, at the same stack under the PAM driver)
# and resets a blocked PIN at the screensaver, both ending in a successful login.
. "$(dirname "$0")/../integration/lib.sh"
cd "$ESC_TOP"
# the demo runs the plain build (pam_pkcs11 and coolkey are not ASan-instrumented hosts)
out=$(DEMO_SCRIPTED=1 tests/demo/run-demo --build build 2>&1)
rc=$?
n=$(echo "$out" | grep -c '^authenticate: 0 ')
if echo "$out" | grep -q '^login(1) runs on a terminal'; then
    # the first login is login(1)'s screen: the enrollment, then escctl status in jsmith's shell
    if [ $rc = 0 ] && [ "$n" = 1 ] && echo "$out" | grep -q '^  | The card was enrolled: ' &&
        echo "$out" | grep -q '^  | Rig Virtual PCD 00 00: ENROLLED '; then
        pass "make demo: enrollment at login(1) and PIN reset at the screensaver both log in"
    else
        fail "make demo" "rc=$rc, $n successful screensaver logins: $(echo "$out" | tail -n 8 | tr '\n' '|')"
    fi
elif [ $rc = 0 ] && [ "$n" = 2 ]; then
    pass "make demo: enrollment at login and PIN reset at the screensaver both authenticate"
else
    fail "make demo" "rc=$rc, $n successful logins: $(echo "$out" | tail -n 8 | tr '\n' '|')"
fi
echo "$out" | grep -q 'LDAP Password: \*\*\*\*\*\*\*\*$' && pass "make demo masks the password" ||
    fail "make demo masks the password" "no masked password line"
