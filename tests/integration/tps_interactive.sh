#!/usr/bin/env bash
# tps_interactive: escctl enroll on a terminal (a pty from script(1)): the TPS's own labels as
# prompts, the password and the PIN never echoed, the PIN asked twice (a mismatch asks again),
# a progress bar, then the result sentence; the card is ENROLLED with the typed PIN.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready tps_interactive
rig_up --card formatted || { fail tps_interactive_rig "rig up failed"; exit 0; }
PIN=24680135
secret "$PIN"
# A pty driver: wait for each prompt, then type the answer (a mismatched PIN first).
python3 - "$ESCCTL" "$RIG_USER" "$RIG_LDAP_PASSWORD" "$PIN" >"$TMP/tty.out" 2>&1 <<'PY'
import os, pty, sys, time
esc, user, pw, pin = sys.argv[1:5]
script = [(b"LDAP User ID: ", user), (b"LDAP Password: ", pw), (b"characters): ", pin),
          (b"Repeat the new PIN: ", "99999999"), (b"characters): ", pin),
          (b"Repeat the new PIN: ", pin)]
pid, fd = pty.fork()
if pid == 0:
    os.execv(esc, [esc, "enroll"])
out, pos, deadline = b"", 0, time.time() + 60
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    # answer prompt `pos` once it has appeared as often as the script has asked it so far
    while pos < len(script):
        want = sum(1 for s in script[:pos + 1] if s[0] == script[pos][0])
        if out.count(script[pos][0]) < want:
            break
        time.sleep(0.05)
        os.write(fd, (script[pos][1] + "\n").encode())
        pos += 1
sys.stdout.write(out.decode(errors="replace"))
os.waitpid(pid, 0)
PY
tr -d '\r' <"$TMP/tty.out" >"$TMP/tty.txt"
grep -q "^LDAP User ID: $RIG_USER\$" "$TMP/tty.txt" && grep -q '^LDAP Password: $' "$TMP/tty.txt" &&
    pass tps_interactive_tps_labels || fail tps_interactive_tps_labels "$(head -c 400 "$TMP/tty.txt")"
if grep -qF "$RIG_LDAP_PASSWORD" "$TMP/tty.txt" || grep -qF "$PIN" "$TMP/tty.txt"; then
    fail tps_interactive_no_echo "a secret appeared on the terminal"
else
    pass tps_interactive_no_echo
fi
[ "$(grep -c '^Repeat the new PIN: $' "$TMP/tty.txt")" = 2 ] && grep -q 'The two PINs differ' "$TMP/tty.txt" &&
    pass tps_interactive_pin_twice || fail tps_interactive_pin_twice "$(grep -i pin "$TMP/tty.txt" | head -5)"
grep -q '\[#*  *\] *[0-9]*% ' "$TMP/tty.txt" && grep -q '100% done enrollment' "$TMP/tty.txt" &&
    pass tps_interactive_progress_bar || fail tps_interactive_progress_bar "no bar in the output"
grep -q '^The card was enrolled: 2 certificates, valid until [0-9-]*\.$' "$TMP/tty.txt" && pass tps_interactive_result ||
    fail tps_interactive_result "$(tail -c 300 "$TMP/tty.txt")"
check tps_interactive_pin_signs sign_verify "$PIN"
