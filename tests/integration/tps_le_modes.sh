#!/usr/bin/env bash
# tps_le_modes: Dogtag's secure channel puts an Le 00 after READ OBJECT and GENERATE KEY unless
# channel.scp01.no.le.byte is set, and then only on SCP01 (pki SecureChannel
# .skipTrailerLeByteScp01). The reference TPS's default and --no-le-byte (through
# RIG_TPS_ARGS), each on an SCP01 card behind the real pcscd: escctl (the project's client,
# which only relays APDUs) enrolls, resets the PIN and formats, and the TPS's APDU log shows
# the trailer there or not (a secured APDU of Lc bytes is 5+Lc long without Le, 6+Lc with).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready tps_le_modes
export RIG_CARD_SCP=1

# le_count LOG: "<with> <without>" among the READ OBJECT / GENERATE KEY APDUs the TPS sent
le_count() {
    sed -n 's/.*apdu 84 \(56\|0C\) .. .. (\([0-9]*\) bytes).*/\2/p' "$1" | awk '
        { if ($1 == 30 || $1 == 38) w++; else if ($1 == 29 || $1 == 37) n++; else o++ }
        END { printf "%d %d %d\n", w, n, o }'
}

for mode in le no_le; do
    if [ $mode = no_le ]; then export RIG_TPS_ARGS=--no-le-byte; else export RIG_TPS_ARGS=; fi
    rig_up --card formatted || { fail "tps_le_${mode}_rig" "rig up failed"; continue; }
    grep -q '^scp 1$' "$RIG_DIR/card.state" || fail "tps_le_${mode}_scp01" "the card is not SCP01"
    if escctl_op enroll >"$TMP/$mode-enroll.json" 2>"$TMP/$mode-enroll.err"; then
        pass "tps_le_${mode}_enroll"
    else
        fail "tps_le_${mode}_enroll" "exit $?: $(tail -n 3 "$TMP/$mode-enroll.err" | tr '\n' ' ')"
    fi
    check "tps_le_${mode}_enroll_signs" sign_verify "$NEW_PIN"
    read -r with without other < <(le_count "$RIG_TPS_LOG")
    if [ $mode = le ]; then
        [ "$with" -ge 3 ] && [ "$without" = 0 ] && pass tps_le_le_trailer_sent ||
            fail tps_le_le_trailer_sent "with Le $with, without $without, other $other"
    else
        [ "$without" -ge 3 ] && [ "$with" = 0 ] && pass tps_le_no_le_trailer_left_out ||
            fail tps_le_no_le_trailer_left_out "with Le $with, without $without, other $other"
    fi
    NEW_PIN=97531468 escctl_op reset-pin >"$TMP/$mode-reset.json" 2>"$TMP/$mode-reset.err" &&
        pass "tps_le_${mode}_reset_pin" ||
        fail "tps_le_${mode}_reset_pin" "$(tail -n 3 "$TMP/$mode-reset.err" | tr '\n' ' ')"
    secret 97531468
    check "tps_le_${mode}_new_pin_signs" sign_verify 97531468
    escctl_op format >"$TMP/$mode-format.json" 2>"$TMP/$mode-format.err" && [ "$(card_state)" = UNINITIALIZED ] &&
        pass "tps_le_${mode}_format" ||
        fail "tps_le_${mode}_format" "state $(card_state): $(tail -n 3 "$TMP/$mode-format.err" | tr '\n' ' ')"
    "$RIG" down >/dev/null 2>&1
done
