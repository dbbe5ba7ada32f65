#!/usr/bin/env bash
# pam_probe: pam_esc's decision from the real probe, on the rig (real pcscd, the virtual
# CoolKey card behind vpcd): an enrolled card is left alone at once (no prompt, no helper,
# PAM_IGNORE, the process unchanged, no process started); a formatted card and a PIN-locked one
# are handed off (scripted helper, so no TPS is needed); a pulled card is ignored. The decision
# is bounded by the probe's deadline, also when the card or pcscd stops answering. Prints the decision times and pam_pkcs11's time to its PIN prompt on
# the same enrolled card: the design targets (pam_esc in at most 1/10 of it; no card under
# 10 ms) are benchmarks, not pass/fail here, since both hang on the rig's APDU latency.
. "$(dirname "$0")/lib.sh"
. "$ESC_TOP/tests/pam/lib.sh"
pam_need_built
[ -x "$ESC_BUILD/tests/vcard" ] || { skip pam_probe "virtual card not built"; exit 0; }
rig_up --card enrolled || { fail pam_probe "rig up failed"; exit 0; }
rig_for_helper

pam_script marker "dump $OUT/started" "done_fail CANCELLED"
pam_service probe "$(pam_esc_line marker timeout=10)" "auth required pam_deny.so"
ignored() { # NAME: nothing said, no helper
    pam_run "$TMP/$1" -S -n 5 probe jsmith "$SVC"
    expect "$1_ignored" "$TMP/$1" sh -c "[ ! -e '$OUT/started' ] && ! grep -qE '^(PROMPT|INFO|ERROR)' '$TMP/$1'"
    expect "$1_process_unchanged" "$TMP/$1" grep -q '^snapshot: same' "$TMP/$1"
    expect "$1_no_child" "$TMP/$1" grep -q '^children: 0$' "$TMP/$1"
}
handed_off() { # NAME
    rm -f "$OUT/started"
    pam_run "$TMP/$1" -S probe jsmith "$SVC"
    expect "$1_handed_off" "$TMP/$1" test -e "$OUT/started"
    expect "$1_no_child" "$TMP/$1" grep -q '^children: 0$' "$TMP/$1"
}

rm -f "$OUT/started"
ignored enrolled
ms_esc=$(auth_ms "$TMP/enrolled" | sort -n | head -n 1)
# "starts no process nor thread": the probe speaks pcscd's protocol itself, every step bounded
# by poll() (common/pcscd_card.h), so the whole PAM run makes no fork, vfork or clone at all
if command -v strace >/dev/null; then
    # detect_leaks=0: LeakSanitizer's own exit-time check clones a tracer task (the leak
    # checks are pam_valgrind's and every other run's)
    ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 strace -f -qq -o "$TMP/enrolled.strace" \
        -e trace=fork,vfork,clone,clone3 "$PAM_DRIVE" -S probe jsmith "$SVC" >"$TMP/enrolled_traced" 2>&1
    nclone=$(grep -cE 'clone3?\(' "$TMP/enrolled.strace")
    nproc=$(grep -E 'fork\(|clone3?\(' "$TMP/enrolled.strace" | grep -vc CLONE_THREAD)
    expect "enrolled_starts_no_process_nor_thread ($nclone thread(s), $nproc process(es))" \
        "$TMP/enrolled.strace" test "$nproc" = 0 -a "$nclone" = 0
    expect enrolled_traced_ignored "$TMP/enrolled_traced" grep -q '^snapshot: same' "$TMP/enrolled_traced"
else
    skip enrolled_starts_no_process_nor_thread "strace is not installed (tests/rig/debian-packages.txt lists it)"
fi

# Benchmark, with the plain build (the ASan one inflates pam_esc's time, and pam_pkcs11
# reads a NULL PIN under ASan's strlen when the conversation fails): pam_esc's decision and
# pam_pkcs11 (coolkey) to its PIN prompt on the same card. The conversation fails at the PIN
# prompt, so pam_pkcs11's pam_authenticate time is the time to the prompt. pam_pkcs11 crashes
# when run twice in one process: one process per run.
PLAIN=${ESC_BUILD_PLAIN:-$ESC_BUILD}
mkdir -p "$TMP/cacerts" "$TMP/crls"
sed -e "s#/etc/pam_pkcs11/cacerts#$TMP/cacerts#; s#/etc/pam_pkcs11/crls#$TMP/crls#" \
    "$ESC_TOP/config/pam.d/pam_pkcs11.conf" >"$TMP/pam_pkcs11.conf"
pam_service pkcs11 "auth required pam_pkcs11.so config_file=$TMP/pam_pkcs11.conf"
sed "s#$PAM_MODULE#$PLAIN/pam_esc.so#" "$SVC/probe" >"$SVC/probe_plain"
if [ -e "$PLAIN/pam_esc.so" ] && [ -x "$PLAIN/tests/pam/pam_drive" ]; then
    "$PLAIN/tests/pam/pam_drive" -n 5 probe_plain jsmith "$SVC" >"$TMP/bench_esc" 2>&1
    for _ in 1 2 3; do "$PLAIN/tests/pam/pam_drive" pkcs11 jsmith "$SVC" >>"$TMP/pkcs11" 2>&1; done
    b_esc=$(auth_ms "$TMP/bench_esc" | sort -n | head -n 1)
    ms_p11=$(auth_ms "$TMP/pkcs11" | sort -n | head -n 1)
    echo "BENCH: decision on an enrolled card: pam_esc ${b_esc:-?} ms (best of 5); pam_pkcs11 to its PIN prompt ${ms_p11:-?} ms (best of 3)"
fi
expect enrolled_decision_within_probe_deadline "$TMP/enrolled" test "${ms_esc:-99999}" -lt 2500

# A card that stops answering, and a pcscd that stops answering: the decision still ends at
# the probe deadline (esc.conf probe_timeout_ms), PAM_IGNORE, nothing said, no thread or fd
# left, and no process started to get there.
sed -i 's/^probe_timeout_ms.*/probe_timeout_ms = 500/' "$TMP/esc.conf"
bounded() { # NAME
    pam_run "$TMP/$1" -S probe jsmith "$SVC"
    local ms; ms=$(auth_ms "$TMP/$1")
    expect "$1_bounded (${ms:-?} ms for a 500 ms probe deadline)" "$TMP/$1" test "${ms:-99999}" -lt 1500
    expect "$1_ignored" "$TMP/$1" sh -c "[ ! -e '$OUT/started' ] && ! grep -qE '^(PROMPT|INFO|ERROR)' '$TMP/$1'"
    expect "$1_process_unchanged" "$TMP/$1" grep -q '^snapshot: same' "$TMP/$1"
}
"$RIG" card remove >/dev/null 2>&1
if RIG_CARD_FAULT=slow:5000 "$RIG" card insert >/dev/null 2>&1; then
    rm -f "$OUT/started"
    bounded stalled_card
    "$RIG" card remove >/dev/null 2>&1
else fail stalled_card_bounded "card insert failed"; fi
"$RIG" card insert >/dev/null 2>&1
pcscd_pid=$(cat "$RIG_DIR/pids/pcscd.pid")
kill -STOP "$pcscd_pid"
bounded pcscd_stopped
kill -CONT "$pcscd_pid"
sed -i 's/^probe_timeout_ms.*/probe_timeout_ms = 2000/' "$TMP/esc.conf"

"$RIG" card preset formatted >/dev/null 2>&1 && handed_off formatted || fail formatted_handed_off "preset formatted failed"
"$RIG" card preset locked >/dev/null 2>&1 && handed_off locked || fail locked_handed_off "preset locked failed"
# Every certificate past notAfter: the decision reads the certificates only when renew is
# offered; then the card is handed off, otherwise it is an enrolled card like any other.
if "$RIG" card preset expired >/dev/null 2>&1; then
    rm -f "$OUT/started"
    ignored expired_no_renew
    pam_service probe_renew "$(pam_esc_line marker timeout=10 operations=renew)" "auth required pam_deny.so"
    pam_run "$TMP/expired_renew" -S probe_renew jsmith "$SVC"
    expect expired_renew_handed_off "$TMP/expired_renew" test -e "$OUT/started"
    "$RIG" card preset enrolled >/dev/null 2>&1
    rm -f "$OUT/started"
    pam_run "$TMP/enrolled_renew" probe_renew jsmith "$SVC"
    expect enrolled_renew_offered_ignored "$TMP/enrolled_renew" test ! -e "$OUT/started"
else
    fail expired_handed_off "preset expired failed"
fi
"$RIG" card remove >/dev/null 2>&1
rm -f "$OUT/started"
ignored no_card
ms=$(auth_ms "$TMP/no_card" | sort -n | head -n 1)
if [ -e "$PLAIN/pam_esc.so" ] && [ -x "$PLAIN/tests/pam/pam_drive" ]; then
    "$PLAIN/tests/pam/pam_drive" -n 5 probe_plain jsmith "$SVC" >"$TMP/bench_nocard" 2>&1
    echo "BENCH: decision with no card in the reader: $(auth_ms "$TMP/bench_nocard" | sort -n | head -n 1) ms (best of 5)"
fi
expect no_card_decision_within_probe_deadline "$TMP/no_card" test "${ms:-99999}" -lt 2500
