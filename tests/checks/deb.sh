#!/usr/bin/env bash
# deb (`make check-deb`, and part of `make check`): the Debian packages as an administrator
# meets them. `make deb` builds libpam-esc and esc-agent, lintian finds no error or warning,
# then in a throwaway Debian 12 root (mmdebstrap, the machine's own mirror; this machine's /etc
# is never touched) apt installs them, pam-auth-update enables the profile, a login through
# the installed common-auth enrolls the rig's card, and apt purge leaves the root as it was.
# The steps in the root are tests/checks/deb_chroot.bash, run in a private mount namespace.
# The root's tarball is cached in build/deb/ (built once per package list and mirror).
. "$(dirname "$0")/../integration/lib.sh"
# the rig runs the plain build (the packages carry their own programs); `make check-deb`
# builds no ASan tree
export ESC_BUILD=$ESC_BUILD_PLAIN
T0=$SECONDS
OUT=$ESC_TOP/build/deb

[ "$(id -u)" = 0 ] || { skip deb "needs root (chroot, mounts)"; exit 0; }
for tool in dpkg-buildpackage dh lintian mmdebstrap unshare chroot; do
    command -v "$tool" >/dev/null || { skip deb "$tool is not installed (make deps)"; exit 0; }
done

# 1. the packages
if make -C "$ESC_TOP" --no-print-directory deb BUILD=build >"$TMP/make-deb.log" 2>&1; then
    pass "make deb builds the packages"
else
    fail "make deb builds the packages" "$(tail -n 8 "$TMP/make-deb.log" | tr '\n' '|')"
    exit 0
fi
debs=("$OUT"/libpam-esc_*.deb "$OUT"/esc-agent_*.deb)
DEB_PAM=${debs[0]} DEB_AGENT=${debs[1]}
check "make deb leaves libpam-esc and esc-agent in build/deb" test -f "$DEB_PAM" -a -f "$DEB_AGENT"
echo "sizes: $(stat -c '%n %s' "$DEB_PAM" "$DEB_AGENT" | sed "s#$OUT/##" | tr '\n' ' ')"
echo "build: $((SECONDS - T0)) s"

# 2. lintian, on the .changes (both packages and the buildinfo); info tags are shown, not fatal
if lintian --fail-on error,warning --display-info "$OUT"/pam-esc_*.changes >"$TMP/lintian.log" 2>&1; then
    pass "lintian: no error and no warning"
else
    fail "lintian: no error and no warning" "$(grep -E '^[EW]: ' "$TMP/lintian.log" | head -n 8 | tr '\n' '|')"
fi
grep -E '^[EWIP]: ' "$TMP/lintian.log" | sed 's/^/lintian: /'

# 3. the Debian 12 root: the packages our two need from the archive, the card stack an
# administrator has (pam_pkcs11 with coolkey, pam_sss's profile), pamtester for the logins
ROOT_PKGS=adduser,libpam-pkcs11,libpam-sss,coolkey,pamtester,libcurl4,libxml2,libnss3,libnspr4,libpcsclite1
# this machine's Debian sources (deb822 or one-line), as one-line entries for mmdebstrap
sources() {
    awk 'BEGIN { RS = ""; FS = "\n" }
         /(^|\n)Suites:[^\n]*bookworm/ && !/(^|\n)Enabled: *no/ {
             u = s = c = ""
             for (i = 1; i <= NF; i++) {
                 if ($i ~ /^URIs:/) { sub(/^URIs: */, "", $i); u = $i }
                 if ($i ~ /^Suites:/) { sub(/^Suites: */, "", $i); s = $i }
                 if ($i ~ /^Components:/) { sub(/^Components: */, "", $i); c = $i }
             }
             n = split(s, a, " "); split(u, b, " ")
             for (j = 1; j <= n; j++) print "deb " b[1] " " a[j] " " c
         }' /etc/apt/sources.list.d/*.sources 2>/dev/null
    grep -hE '^deb [^ ]+ bookworm' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
}
mapfile -t SOURCES < <(sources | sort -u)
[ ${#SOURCES[@]} -gt 0 ] || SOURCES=("deb http://deb.debian.org/debian bookworm main")
key=$(printf '%s\n' "$ROOT_PKGS" "${SOURCES[@]}" | sha256sum | cut -c1-16)
TARBALL=$OUT/chroot-bookworm-$key.tar
if [ ! -f "$TARBALL" ]; then
    t=$SECONDS
    rm -f "$OUT"/chroot-bookworm-*.tar
    # mmdebstrap picks the output format from the name: *.tar
    if mmdebstrap --variant=apt --include="$ROOT_PKGS" bookworm "$TARBALL.part.tar" "${SOURCES[@]}" \
        >"$TMP/mmdebstrap.log" 2>&1; then
        mv "$TARBALL.part.tar" "$TARBALL"
        echo "chroot tarball built in $((SECONDS - t)) s: $TARBALL"
    else
        rm -f "$TARBALL.part.tar"
        skip "deb chroot" "mmdebstrap could not build a Debian 12 root from ${SOURCES[0]} (no mirror?): $(tail -n 3 "$TMP/mmdebstrap.log" | tr '\n' '|')"
        exit 0
    fi
fi

# 4. the rig: a formatted card for the first login, reachable by the account the helper runs as
rig_up --card formatted || { fail deb "rig up failed"; exit 0; }
chmod 0666 "$PCSCLITE_CSOCK_NAME"
chmod 1777 "$RIG_DIR/cache"
PIN=52781436
secret "$PIN"
secret "$RIG_LDAP_PASSWORD"

mkdir "$TMP/root"
tar -xf "$TARBALL" -C "$TMP/root" || { fail deb "cannot unpack $TARBALL"; rm -f "$TARBALL"; exit 0; }
mkdir -p "$TMP/root/tmp/debs"
cp "$DEB_PAM" "$DEB_AGENT" "$TMP/root/tmp/debs/"
export ROOT=$TMP/root PIN
# the mounts live and die with this namespace: nothing is mounted on the machine itself
unshare --mount --propagation private bash "$ESC_TOP/tests/checks/deb_chroot.bash"
echo "deb test: $((SECONDS - T0)) s"
