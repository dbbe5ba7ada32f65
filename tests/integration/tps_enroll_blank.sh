#!/usr/bin/env bash
# tps_enroll_blank: a blank card (no applet): enroll installs the applet first (format inside
# enroll), then as for a formatted card: ENROLLED, two certificates, the new PIN signs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready tps_enroll_blank
rig_up --card blank || { fail tps_enroll_blank_rig "rig up failed"; exit 0; }
st=$(card_state)
[ "$st" = NO_APPLET ] || skip tps_enroll_blank_precondition "the blank card reads as '$st'"
if escctl_op enroll >"$TMP/enroll.json" 2>"$TMP/enroll.err"; then
    pass tps_enroll_blank_exit
else
    fail tps_enroll_blank_exit "exit $?: $(cat "$TMP/enroll.err") $(cat "$TMP/enroll.json")"
fi
st=$(card_state)
[ "$st" = ENROLLED ] && pass tps_enroll_blank_status || fail tps_enroll_blank_status "escctl status says '$st'"
check tps_enroll_blank_certs certs_ok "$RIG_USER"
check tps_enroll_blank_new_pin_signs sign_verify "$NEW_PIN"
[ "$(json_field "$TMP/enroll.json" stats.connections)" = 1 ] && pass tps_enroll_blank_one_connection ||
    fail tps_enroll_blank_one_connection "connections=$(json_field "$TMP/enroll.json" stats.connections)"
