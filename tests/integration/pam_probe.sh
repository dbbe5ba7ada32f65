#!/usr/bin/env bash
# pam_probe: pam_esc's decision from the real probe, on the rig (real pcscd, the virtual
# CoolKey card behind vpcd): an enrolled card is left alone at once (no prompt, no helper,
# PAM_IGNORE, the process unchanged); a formatted card and a PIN-locked one are handed off
# (scripted helper, so no TPS is needed); a pulled card is ignored. The decision is bounded by
# the probe's deadline. Prints the decision times and pam_pkcs11's time to its PIN prompt on
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

"$RIG" card preset formatted >/dev/null 2>&1 && handed_off formatted || fail formatted_handed_off "preset formatted failed"
"$RIG" card preset locked >/dev/null 2>&1 && handed_off locked || fail locked_handed_off "preset locked failed"
"$RIG" card remove >/dev/null 2>&1
rm -f "$OUT/started"
ignored no_card
ms=$(auth_ms "$TMP/no_card" | sort -n | head -n 1)
if [ -e "$PLAIN/pam_esc.so" ] && [ -x "$PLAIN/tests/pam/pam_drive" ]; then
    "$PLAIN/tests/pam/pam_drive" -n 5 probe_plain jsmith "$SVC" >"$TMP/bench_nocard" 2>&1
    echo "BENCH: decision with no card in the reader: $(auth_ms "$TMP/bench_nocard" | sort -n | head -n 1) ms (best of 5)"
fi
expect no_card_decision_within_probe_deadline "$TMP/no_card" test "${ms:-99999}" -lt 2500
