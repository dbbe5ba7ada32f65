# shellcheck shell=bash
# deb_chroot.bash: the part of tests/checks/deb.sh that runs in the Debian 12 root $ROOT, in
# a private mount namespace (unshare --mount) so its mounts never reach the machine. From
# deb.sh's environment: ROOT, PIN, ESC_TOP, the rig's variables (RIG_DIR, RIG_USER,
# RIG_LDAP_PASSWORD, RIG_CA_DIR, PCSCLITE_CSOCK_NAME). Prints PASS/FAIL lines.
set -uo pipefail
R=$ROOT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
check() {
    local name=$1 out; shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"; fi
}
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

mount -t proc proc "$R/proc"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
# the rig (its pcscd socket, CA, cache, esc.conf) at the same path inside as outside
mkdir -p "$R$RIG_DIR"
mount --bind "$RIG_DIR" "$R$RIG_DIR"

# The administrator's system before our packages: pam_pkcs11 set up for CoolKey cards with
# the profile the usual how-tos write (libpam-pkcs11 ships none) at their priority, 800;
# pam_sss's own profile (128) and pam_unix's (256); a local user with a password.
cat >"$R/usr/share/pam-configs/pkcs11" <<'EOF'
Name: pam_pkcs11 smart-card login
Default: yes
Priority: 800
Auth-Type: Primary
Auth:
	[success=end default=ignore]	pam_pkcs11.so try_first_pass
EOF
in_root pam-auth-update --package
mkdir -p "$R/etc/pam_pkcs11/cacerts" "$R/etc/pam_pkcs11/crls"
cp "$ESC_TOP/config/pam.d/pam_pkcs11.conf" "$R/etc/pam_pkcs11/pam_pkcs11.conf"
cp "$RIG_CA_DIR/ca.cert.pem" "$R/etc/pam_pkcs11/cacerts/rig-ca.pem"
ln -s rig-ca.pem "$R/etc/pam_pkcs11/cacerts/$(openssl x509 -hash -noout -in "$RIG_CA_DIR/ca.cert.pem").0"
in_root useradd --create-home "$RIG_USER"
PASSWORD=letmein-Pw-8642
in_root usermod -p "$(openssl passwd -6 "$PASSWORD")" "$RIG_USER"

# What "as it was" means: every file under /etc and /var/lib/pam (pam-auth-update's state)
# with its checksum, and every path of the root outside the package manager's own records,
# logs and caches. /etc/{passwd,group,shadow,gshadow}- are left out: they are the backups
# useradd/userdel rewrite on every account change (the live files are compared).
etc_sums() {
    (cd "$R" && find etc var/lib/pam -type f ! -name passwd- ! -name group- ! -name shadow- ! -name gshadow- \
        -print0 | sort -z | xargs -0 sha256sum)
}
paths() {
    (cd "$R" && find . \( -path ./proc -o -path ./dev -o -path ./tmp -o -path "./${RIG_DIR#/}" -o -path ./var/log \
        -o -path ./var/cache -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./run \) -prune -o \
        ! -name passwd- ! -name group- ! -name shadow- ! -name gshadow- -print | sort)
}
# common-auth as it was: no difference, or the difference shown
auth_as_before() { diff "$R/tmp/common-auth.before" "$R/etc/pam.d/common-auth"; }
etc_sums >"$R/tmp/etc.before"
paths >"$R/tmp/paths.before"
cp "$R/etc/pam.d/common-auth" "$R/tmp/common-auth.before"

# install, as an administrator would (offline: the root has every dependency; pcscd, which
# the packages recommend, is the rig's, through the bind-mounted socket)
debs=("$R"/tmp/debs/*.deb)
if in_root apt-get install -y --no-install-recommends "${debs[@]#"$R"}" \
    >"$R/tmp/install.log" 2>&1; then
    pass "apt installs libpam-esc and esc-agent"
else
    fail "apt installs libpam-esc and esc-agent" "$(tail -n 6 "$R/tmp/install.log" | tr '\n' '|')"
    exit 0
fi
in_root dpkg-query -L libpam-esc esc-agent | sort -u >"$R/tmp/ours"
system_account() { chroot "$R" getent passwd esc-agent | awk -F: '$3 < 1000 && $6 == "/nonexistent" && $7 == "/usr/sbin/nologin"' | grep -q .; }
check "install creates the esc-agent system account (no shell, no home)" system_account
pkgver=$(chroot "$R" dpkg-query -W -f='${Version}' esc-agent)
check "escctl --version and esc-agent --version print the package's version ($pkgver)" \
    sh -c "chroot '$R' escctl --version | grep -qF ' $pkgver' && chroot '$R' /usr/libexec/pam_esc/esc-agent --version | grep -qF ' $pkgver'"
check "esc.conf is a conffile" sh -c "chroot '$R' dpkg-query -W -f='\${Conffiles}' esc-agent | grep -q '/etc/pam_esc/esc.conf '"
check "the user socket is enabled for every session" test -L "$R/etc/systemd/user/sockets.target.wants/esc-agent.socket"
check "the session daemon starts at every login" test -L "$R/etc/systemd/user/default.target.wants/esc-agent.service"
check "the XDG autostart entry is installed" test -f "$R/etc/xdg/autostart/esc-agent.desktop"
check "installing changes no PAM stack (Default: no)" auth_as_before

# enable: pam_esc first in common-auth, ahead of pam_pkcs11 and pam_sss, its result ignored
in_root pam-auth-update --enable esc
grep '^auth' "$R/etc/pam.d/common-auth" | sed 's/^/common-auth: /'
order() {
    local o
    o=$(grep -oE 'pam_(esc|pkcs11|unix|sss)\.so' "$R/etc/pam.d/common-auth" | tr '\n' ' ')
    [ "$o" = "pam_esc.so pam_pkcs11.so pam_unix.so pam_sss.so " ] || { echo "order: $o"; return 1; }
}
check "pam-auth-update --enable esc: pam_esc before pam_pkcs11, pam_unix and pam_sss" order
check "pam_esc's result is ignored ([success=ignore default=ignore])" \
    grep -qE '^auth\s+\[success=ignore default=ignore\]\s+pam_esc\.so' "$R/etc/pam.d/common-auth"

# the administrator points esc.conf at the TPS (the rig's settings)
grep -v '^#' "$RIG_DIR/esc.conf" >>"$R/etc/pam_esc/esc.conf"

login() { # OUT PCSCD-SOCKET ANSWER...: pamtester on the root's /etc/pam.d/login
    local out=$1 sock=$2; shift 2
    printf '%s\n' "$@" | timeout 180 chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        PCSCLITE_CSOCK_NAME="$sock" pamtester -v login "$RIG_USER" authenticate >"$out" 2>&1
}
NO_PCSCD=/run/no-pcscd.comm # no pcscd: neither pam_esc nor pam_pkcs11 finds a card
ok() { grep -q 'successfully authenticated' "$1"; }
show() { tr '\n' '|' <"$1" | tail -c 400; }

# the first login with a formatted card: enrolled through the installed stack, then
# pam_pkcs11 logs in with the new PIN pam_esc left in PAM_AUTHTOK
t=$SECONDS
login "$R/tmp/first" "$PCSCLITE_CSOCK_NAME" "$RIG_USER" "$RIG_LDAP_PASSWORD" "$PIN" "$PIN"
sed 's/^/first login: /' "$R/tmp/first"
# pam_unix's "Password: " (not "LDAP Password: ") would mean pam_pkcs11 did not take the PIN
if ok "$R/tmp/first" && grep -q 'New PIN' "$R/tmp/first" && ! grep -qE '(^|[^P] )Password: ' "$R/tmp/first"; then
    pass "first login through the installed common-auth enrolls the card and logs in with the new PIN ($((SECONDS - t)) s)"
else
    fail "first login through the installed common-auth enrolls the card and logs in with the new PIN" "$(show "$R/tmp/first")"
fi
state=$(in_root env PCSCLITE_CSOCK_NAME="$PCSCLITE_CSOCK_NAME" escctl status --json 2>&1 | grep -o '"state": *"[A-Z_]*"' | head -n 1)
check "the installed escctl sees the card enrolled" sh -c "echo '$state' | grep -q ENROLLED"
login "$R/tmp/second" "$PCSCLITE_CSOCK_NAME" "$PIN"
if ok "$R/tmp/second" && ! grep -q 'LDAP' "$R/tmp/second"; then
    pass "next login: pam_esc says nothing, pam_pkcs11 takes the PIN"
else
    fail "next login: pam_esc says nothing, pam_pkcs11 takes the PIN" "$(show "$R/tmp/second")"
fi

# never a lock-out: with the profile enabled and the module gone or not loadable, the
# password login works, and a wrong password is still refused 
SO=$(grep '/pam_esc.so$' "$R/tmp/ours")
mv "$R$SO" "$R$SO.aside"
login "$R/tmp/missing" "$NO_PCSCD" "$PASSWORD"
if ok "$R/tmp/missing"; then pass "module missing: the password login works"; else fail "module missing: the password login works" "$(show "$R/tmp/missing")"; fi
login "$R/tmp/missing-bad" "$NO_PCSCD" wrong-password
if ! ok "$R/tmp/missing-bad"; then pass "module missing: a wrong password is refused"; else fail "module missing: a wrong password is refused" "$(show "$R/tmp/missing-bad")"; fi
echo 'not a module' >"$R$SO"
login "$R/tmp/broken" "$NO_PCSCD" "$PASSWORD"
if ok "$R/tmp/broken"; then pass "module not loadable: the password login works"; else fail "module not loadable: the password login works" "$(show "$R/tmp/broken")"; fi
mv "$R$SO.aside" "$R$SO"

# disable: common-auth as before
in_root pam-auth-update --disable esc
check "pam-auth-update --disable esc: common-auth as before" auth_as_before

# purge with the profile enabled and esc.conf edited: the root as it was
in_root pam-auth-update --enable esc
if in_root apt-get purge -y libpam-esc esc-agent >"$R/tmp/purge.log" 2>&1; then
    pass "apt purge libpam-esc esc-agent"
else
    fail "apt purge libpam-esc esc-agent" "$(tail -n 6 "$R/tmp/purge.log" | tr '\n' '|')"
fi
check "purge: common-auth as before" auth_as_before
etc_sums >"$R/tmp/etc.after"
check "purge: every file of /etc and /var/lib/pam as before (checksums)" diff "$R/tmp/etc.before" "$R/tmp/etc.after"
paths >"$R/tmp/paths.after"
check "purge: no path added or removed in the root" diff "$R/tmp/paths.before" "$R/tmp/paths.after"
left=$(while read -r f; do [ -e "$R$f" ] && [ ! -d "$R$f" ] && echo "$f"; done <"$R/tmp/ours")
check "purge: no file of the packages is left" test -z "$left"
check "purge: the esc-agent account and group are gone" \
    sh -c "! chroot '$R' getent passwd esc-agent && ! chroot '$R' getent group esc-agent"
