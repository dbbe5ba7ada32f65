# The architecture rules that the linker can prove: pam_esc.so needs neither libcurl, libxml2,
# NSS nor libsystemd (the session daemon's D-Bus); common/ uses none of them (nor PAM); the PAM
# module exports only the PAM entry points; esc-session (the idle session daemon) links libc and
# libudev only; escctl (the thin front that relays to the session agent, escctl_local.h) links
# libc only, escctl-local (the full program it execs) the rest.
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
# esc-card, the worker for each inserted card: no libcurl, NSS, libxml2 nor OpenSSL (their
# dynamic loading was most of a card's CPU; esc-agent --session-card has them for the network)
needed=$(readelf -d "$ESC_BUILD_PLAIN/esc-card" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [ -n "$needed" ] && ! echo "$needed" | grep -qE 'libcurl|libnss3|libxml2|libssl|libcrypto'; then
    pass "esc-card links neither libcurl, NSS, libxml2 nor OpenSSL"
else
    fail "esc-card links neither libcurl, NSS, libxml2 nor OpenSSL" "NEEDED: ${needed:-cannot read esc-card}"
fi
# escctl, the thin front: libc only, so that a command through the session agent does not pay
# the dynamic loading of libcurl, NSS, libxml2 and OpenSSL (~7 ms of CPU); escctl-local has them
front=$ESC_BUILD_PLAIN/escctl
needed=$(readelf -d "$front" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [ "$needed" = "libc.so.6 " ]; then
    pass "escctl links libc only (no libcurl, libnss3, libxml2, libssl, libcrypto, libpcsclite)"
else
    fail "escctl links libc only (no libcurl, libnss3, libxml2, libssl, libcrypto, libpcsclite)" "NEEDED: ${needed:-cannot read $front}"
fi
needed=$(readelf -d "$ESC_BUILD_PLAIN/escctl-local" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
if echo "$needed" | grep -q libcurl && echo "$needed" | grep -q libnss3; then
    pass "escctl-local, the full program escctl execs, is the one with libcurl and NSS"
else
    fail "escctl-local, the full program escctl execs, is the one with libcurl and NSS" "NEEDED: ${needed:-cannot read $ESC_BUILD_PLAIN/escctl-local}"
fi
