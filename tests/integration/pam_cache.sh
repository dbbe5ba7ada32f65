#!/usr/bin/env bash
# pam_cache: pam_esc's decision cache on the rig (pam_esc/pe_cache.h, option remember), with the
# real pam_pkcs11 (coolkey) after it. After a successful card login (pam_setcred called), the
# next login with the same card still in decides with no APDU ("remembered"); a login that fails
# leaves the entry untrusted, so a PIN blocked at this very login screen since the card was
# inserted is still handed off (PIN reset); a card removed and inserted again is probed anew.
# In the shipped stack's shape (a second pam_esc line, after_failure, behind pam_pkcs11): a PIN
# blocked by another program while the card stayed in is offered its reset in that same login,
# and a wrong PIN is offered the reset at once also after a mistyped-then-right login (the
# entry keeps the count of tries a right PIN restores). As shipped (no option) the login after
# a successful one reads the PIN tries alone, and catches a PIN blocked by another program at
# once; with no_remember every login probes.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
[ -x "$ESC_BUILD/tests/vcard" ] || { skip pam_cache "virtual card not built"; exit 0; }
rig_up --card enrolled || { fail pam_cache "rig up failed"; exit 0; }
rig_for_helper
# pam_pkcs11 and coolkey leak; pam_esc's leaks are pam_valgrind.sh's business
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
mkdir -p "$TMP/cacerts" "$TMP/crls"
cp "$RIG_CA_DIR/ca.cert.pem" "$TMP/cacerts/" && pkcs11_make_hash_link "$TMP/cacerts" >/dev/null 2>&1
sed -e "s#/etc/pam_pkcs11/cacerts#$TMP/cacerts#; s#/etc/pam_pkcs11/crls#$TMP/crls#" \
    "$ESC_TOP/config/pam.d/pam_pkcs11.conf" >"$TMP/pam_pkcs11.conf"
pam_script marker "dump $OUT/started" "done_fail CANCELLED"
pam_service login \
    "$(pam_esc_line marker timeout=10 remember debug debug_file=stderr)" \
    "auth [success=done default=ignore] pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf" \
    "auth required pam_deny.so"
# login NAME PIN: one card login answering PIN, pam_setcred after a success (as login does)
login() { rm -f "$OUT/started"; pam_run "$TMP/$1" -C -a "$2" login "$RIG_USER" "$SVC"; }
remembered() { grep -q 'remembered' "$TMP/$1.err"; }
probed() { grep -q 'card [A-Z_]* in .*ms): ' "$TMP/$1.err" && ! remembered "$1"; }
entry() { grep -ls "^pcscd=$PCSCLITE_CSOCK_NAME " /run/pam_esc/card-???????? 2>/dev/null | head -n 1; }

login first "$RIG_PIN"
expect first_login_card_login "$TMP/first" test "$PAM_RC" = 0
expect first_login_probes "$TMP/first.err" probed first
expect first_login_confirms_entry "$TMP/first" sh -c "grep -q '^confirmed=1' '$(entry)'"
login second "$RIG_PIN"
expect second_login_card_login "$TMP/second" test "$PAM_RC" = 0
expect second_login_remembered_no_apdu "$TMP/second.err" remembered second
expect second_login_not_handed_off "$TMP/second" test ! -e "$OUT/started"

# Wrong PINs at this login screen until the PIN blocks: the first one after a success is
# decided from the entry, every later one probes (the failure left the entry untrusted); the
# login after the block must hand off the PIN reset.
handed=0 wrong=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    login "wrong$i" 00000000
    if [ -e "$OUT/started" ]; then handed=$i; break; fi
    wrong=$i
    [ "$i" = 1 ] && expect wrong1_remembered "$TMP/wrong1.err" remembered wrong1
    [ "$i" -gt 1 ] && ! probed "wrong$i" && { fail "wrong${i}_probed" "$(tail -c 400 "$TMP/wrong$i.err")"; }
done
expect pin_blocked_since_insertion_handed_off "$TMP/wrong$handed" test "$handed" -gt 1
expect pin_blocked_handoff_after_probe "$TMP/wrong$handed.err" sh -c "grep -q 'card PIN_LOCKED in .*: pinreset' '$TMP/wrong$handed.err'"
expect pin_blocked_wrong_pins_failed "$TMP/wrong$wrong" sh -c "grep -q '^authenticate: [1-9]' '$TMP/wrong$wrong'"
expect pin_blocked_entry_forgotten "$TMP/wrong$handed" test -z "$(entry)"

# a card removed and inserted again is another card until probed
"$RIG" card preset enrolled >/dev/null 2>&1
login again "$RIG_PIN"
login reinserted "$RIG_PIN"
"$RIG" card remove >/dev/null 2>&1
"$RIG" card insert >/dev/null 2>&1
login after_reinsert "$RIG_PIN"
expect reinserted_card_probed "$TMP/after_reinsert.err" probed after_reinsert

# an operation by escctl changes the card: it removes the entry of its pcscd, and only that one
login before_op "$RIG_PIN"
other=/run/pam_esc/card-00000000
printf 'another pcscd\n' >"$other" && chmod 0600 "$other"
printf '%s\n' "$RIG_LDAP_PASSWORD" >"$TMP/pw"
printf '%s\n' "$RIG_PIN" >"$TMP/pin"
had=$(entry)
"$ESCCTL" reset-pin --user "$RIG_LDAP_USER" --password-fd 3 --pin-fd 4 --quiet 3<"$TMP/pw" 4<"$TMP/pin" >"$TMP/op" 2>&1
expect escctl_operation_forgets_entry "$TMP/op" sh -c "[ -n '$had' ] && [ -z \"\$(grep -ls '^pcscd=$PCSCLITE_CSOCK_NAME ' /run/pam_esc/card-* 2>/dev/null)\" ]"
expect escctl_operation_leaves_other_pcscd "$TMP/op" test -e "$other"
rm -f "$other"

# What the cache cannot see (pam_esc(8)): wrong PINs from another program (here pkcs11-tool
# through coolkey, as a browser would) after a successful login, the card left in. The next
# login is decided from the entry and fails at pam_pkcs11; the one after it probes and hands
# the PIN reset off: caught one login late, never more.
login before_block "$RIG_PIN"
for i in 1 2 3 4 5 6 7 8; do
    pkcs11-tool --module "$COOLKEY" --login --pin "0000000$i" -O >/dev/null 2>&1
    "$ESCCTL" status 2>/dev/null | grep -q ": PIN_LOCKED " && break
done
login outside1 "$RIG_PIN"
login outside2 "$RIG_PIN"
expect pin_blocked_outside_pam_first_login_fails "$TMP/outside1" sh -c "grep -q '^authenticate: [1-9]' '$TMP/outside1' && grep -q remembered '$TMP/outside1.err'"
expect pin_blocked_outside_pam_next_login_handed_off "$TMP/outside2" test -e "$OUT/started"

# The shipped stack's shape: pam_esc, pam_pkcs11, pam_esc after_failure (config/pam.d/login).
# Prompts are answered by their text: the card's PIN, then "Forgot your PIN? ... [y/N]".
p11="auth [success=done default=ignore] pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf"
pam_service login-af "$(pam_esc_line marker timeout=10 remember debug debug_file=stderr)" "$p11" \
    "auth [auth_err=die default=ignore] $PAM_MODULE conf=$TMP/esc.conf helper=$PAM_SCRIPTED test_script=$TMP/script.marker after_failure remember timeout=10 debug debug_file=stderr" \
    "auth required pam_deny.so"
# af NAME PIN ANSWER: a card login through login-af, ANSWER to the reset offer
af() {
    rm -f "$OUT/started"
    pam_run "$TMP/$1" -C -p "Smart card PIN: =$2" -p "Forgot your PIN?=$3" login-af "$RIG_USER" "$SVC"
}
offered() { grep -q 'Forgot your PIN?' "$TMP/$1"; }
tries_of() { sed -n 's/^tries=//p' "$(entry)"; }
"$RIG" card preset enrolled >/dev/null 2>&1
af af_ok "$RIG_PIN" n
full=$(tries_of)
af af_typo1 00000000 n
expect typo_after_success_remembered "$TMP/af_typo1.err" remembered af_typo1
expect typo_after_success_offered "$TMP/af_typo1" offered af_typo1
af af_right "$RIG_PIN" n
expect right_after_typo_probed "$TMP/af_right.err" probed af_right
expect right_after_typo_keeps_full_count "$TMP/af_right" sh -c "[ -n '$full' ] && [ \"\$(sed -n 's/^tries=//p' '$(entry)')\" = '$full' ]"
af af_typo2 00000000 n
expect typo_after_typo_then_right_offered "$TMP/af_typo2" offered af_typo2

# blocked by another program after a successful login, the card left in: the same login
af af_before_block "$RIG_PIN" n
for i in 1 2 3 4 5 6 7 8; do
    pkcs11-tool --module "$COOLKEY" --login --pin "0000000$i" -O >/dev/null 2>&1
    "$ESCCTL" status 2>/dev/null | grep -q ": PIN_LOCKED " && break
done
af af_blocked "$RIG_PIN" y
expect pin_blocked_outside_same_login_remembered "$TMP/af_blocked.err" remembered af_blocked
expect pin_blocked_outside_same_login_offered "$TMP/af_blocked" offered af_blocked
expect pin_blocked_outside_same_login_handed_off "$TMP/af_blocked" test -e "$OUT/started"

# as shipped (neither remember nor no_remember): the login after a successful one reads the PIN
# tries alone (SELECT and GET PIN TRIES), so a PIN blocked by another program in between is
# handed off at once, before any PIN prompt
tries_read() { grep -q 'remembered, PIN tries read' "$TMP/$1.err"; }
"$RIG" card preset enrolled >/dev/null 2>&1
pam_service login-def "$(pam_esc_line marker timeout=10 debug debug_file=stderr)" "$p11" \
    "auth required pam_deny.so"
for n in def1 def2; do
    rm -f "$OUT/started"
    pam_run "$TMP/$n" -C -a "$RIG_PIN" login-def "$RIG_USER" "$SVC"
done
expect default_logins_succeed "$TMP/def2" test "$PAM_RC" = 0
expect default_first_login_probed "$TMP/def1.err" probed def1
expect default_second_login_reads_tries "$TMP/def2.err" tries_read def2
for i in 1 2 3 4 5 6 7 8; do
    pkcs11-tool --module "$COOLKEY" --login --pin "0000000$i" -O >/dev/null 2>&1
    "$ESCCTL" status 2>/dev/null | grep -q ": PIN_LOCKED " && break
done
rm -f "$OUT/started"
pam_run "$TMP/def_blocked" -C -a "$RIG_PIN" login-def "$RIG_USER" "$SVC"
expect default_blocked_outside_handed_off_at_once "$TMP/def_blocked.err" sh -c "grep -q 'card PIN_LOCKED in .*remembered, PIN tries read.*: pinreset' '$TMP/def_blocked.err' && test -e '$OUT/started'"
# the scripted hand-off ends cancelled, so pam_pkcs11 asks after it: the hand-off came first
expect default_blocked_outside_handed_off_before_pin_prompt "$TMP/def_blocked" sh -c "awk '/cancelled/ && !c { c = NR } /PIN: / && !p { p = NR } END { exit !(c && (!p || c < p)) }' '$TMP/def_blocked'"

# no_remember: every login probes
"$RIG" card preset enrolled >/dev/null 2>&1
pam_service login-nr "$(pam_esc_line marker timeout=10 no_remember debug debug_file=stderr)" "$p11" \
    "auth required pam_deny.so"
for n in nr1 nr2; do
    pam_run "$TMP/$n" -C -a "$RIG_PIN" login-nr "$RIG_USER" "$SVC"
done
expect no_remember_logins_succeed "$TMP/nr2" test "$PAM_RC" = 0
expect no_remember_second_login_probed "$TMP/nr2.err" probed nr2
