#!/usr/bin/env bash
# tps_reset_pin: a PIN-locked card: escctl reset-pin -> ENROLLED, tries reset, the new PIN
# signs, the old one fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready tps_reset_pin
rig_up --card locked || { fail tps_reset_pin_rig "rig up failed"; exit 0; }
st=$(card_state)
[ "$st" = PIN_LOCKED ] || fail tps_reset_pin_precondition "the locked card reads as '$st'"
before=$(tps_stat tps_connections)
if escctl_op reset-pin >"$TMP/reset.json" 2>"$TMP/reset.err"; then
    pass tps_reset_pin_exit
    [ $(($(tps_stat tps_connections) - before)) = 1 ] && [ "$(json_field "$TMP/reset.json" stats.connections)" = 1 ] &&
        pass tps_reset_pin_one_connection ||
        fail tps_reset_pin_one_connection "TPS saw $(($(tps_stat tps_connections) - before))"
else
    fail tps_reset_pin_exit "exit $?: $(cat "$TMP/reset.err") $(cat "$TMP/reset.json")"
fi
st=$(card_state)
[ "$st" = ENROLLED ] && pass tps_reset_pin_status || fail tps_reset_pin_status "escctl status says '$st'"
"$ESCCTL" status 2>/dev/null | grep -Eiq 'tries[^0-9]*([1-9][0-9]*)' && pass tps_reset_pin_tries ||
    fail tps_reset_pin_tries "$("$ESCCTL" status 2>&1 | grep -i tries)"
check tps_reset_pin_new_pin_signs sign_verify "$NEW_PIN"
if sign_verify "$RIG_PIN"; then fail tps_reset_pin_old_pin_fails "the old PIN still signs"; else pass tps_reset_pin_old_pin_fails; fi
