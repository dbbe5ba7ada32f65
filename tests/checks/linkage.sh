# The architecture rules that the linker can prove: pam_esc.so needs neither libcurl, libxml2,
# NSS nor libsystemd (the session daemon's D-Bus); common/ uses none of them (nor PAM); the PAM module exports only the PAM entry points; esc-session (the idle session daemon) links libc and libudev only.
. "$(dirname "$0")/../integration/lib.sh"
so=$ESC_BUILD_PLAIN/pam_esc.so
needed=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
if [ -z "$needed" ]; then
    fail "pam_esc.so links no network, XML, certificate or D-Bus library" "cannot read $so"
elif echo "$needed" | grep -Eq 'curl|xml2|nss3|nspr|smime|ssl3|systemd'; then
    fail "pam_esc.so links no network, XML, certificate or D-Bus library" "NEEDED: $needed"
else
    pass "pam_esc.so links no network, XML, certificate or D-Bus library"
fi
exports=$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')
if [ "$exports" = "pam_sm_authenticate pam_sm_setcred " ]; then
    pass "pam_esc.so exports only pam_sm_authenticate and pam_sm_setcred"
else
    fail "pam_esc.so exports only pam_sm_authenticate and pam_sm_setcred" "exports: $exports"
fi
undef=$(nm -u "$ESC_BUILD_PLAIN"/libesccommon.a 2>/dev/null | awk '{ print $2 }' | grep -E '^(curl_|xml|NSS_|PK11_|CERT_|pam_|sd_)' | sort -u | tr '\n' ' ')
if [ -z "$undef" ]; then
    pass "common/ calls neither libcurl, libxml2, NSS nor PAM"
else
    fail "common/ calls neither libcurl, libxml2, NSS nor PAM" "$undef"
fi
# the session daemon's watcher stays small (an idle session holds only it): libc and libudev
watcher=$ESC_BUILD_PLAIN/esc-session
needed=$(readelf -d "$watcher" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [ "$needed" = "libc.so.6 libudev.so.1 " ]; then
    pass "esc-session links libc and libudev only"
else
    fail "esc-session links libc and libudev only" "NEEDED: ${needed:-cannot read $watcher}"
fi
