#!/usr/bin/env bash
# tps_enroll: a formatted card through its life with escctl and the reference TPS:
# enroll as jsmith -> ENROLLED, two certificates for jsmith from the test CA, the new PIN signs,
# one TCP connection per operation; a second insertion uses the cached profile (0 phone-home
# requests); renew -> later notAfter, same PIN; format -> UNINITIALIZED, no certificate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
tps_ready tps_enroll
rig_up --card formatted || { fail tps_enroll_rig "rig up failed"; exit 0; }

# enroll
before=$(tps_stat tps_connections)
if escctl_op enroll >"$TMP/enroll.json" 2>"$TMP/enroll.err"; then
    pass tps_enroll_exit
else
    fail tps_enroll_exit "exit $?: $(cat "$TMP/enroll.err") $(cat "$TMP/enroll.json")"
fi
after=$(tps_stat tps_connections)
[ "$(json_field "$TMP/enroll.json" stats.connections)" = 1 ] && [ $((after - before)) = 1 ] &&
    pass tps_enroll_one_connection ||
    fail tps_enroll_one_connection "client $(json_field "$TMP/enroll.json" stats.connections), TPS saw $((after - before))"
st=$(card_state)
[ "$st" = ENROLLED ] && pass tps_enroll_status || fail tps_enroll_status "escctl status says '$st'"
check tps_enroll_certs certs_ok "$RIG_USER"
check tps_enroll_new_pin_signs sign_verify "$NEW_PIN"

# second insertion: the profile comes from the cache, the TPS sees no phone-home request
"$RIG" card remove >/dev/null 2>&1 && "$RIG" card insert >/dev/null 2>&1
ph_before=$(tps_stat phone_home)
"$ESCCTL" phone-home --json >"$TMP/ph.json" 2>"$TMP/ph.err"
ph_after=$(tps_stat phone_home)
if [ "$(json_field "$TMP/ph.json" phone_home.cached)" = true ] && [ "$ph_before" = "$ph_after" ]; then
    pass tps_enroll_cached_profile
else
    fail tps_enroll_cached_profile "cached=$(json_field "$TMP/ph.json" phone_home.cached) TPS phone_home $ph_before -> $ph_after $(cat "$TMP/ph.err")"
fi
"$ESCCTL" phone-home --refresh --json >"$TMP/ph2.json" 2>/dev/null
[ "$(tps_stat phone_home)" = $((ph_after + 1)) ] && pass tps_enroll_refresh_fetches ||
    fail tps_enroll_refresh_fetches "TPS phone_home $ph_after -> $(tps_stat phone_home)"

# renew: later notAfter, same PIN
na_before=$(latest_not_after)
sleep 1.1 # notAfter has a one-second resolution
before=$(tps_stat tps_connections)
ph_before=$(tps_stat phone_home)
if escctl_op renew >"$TMP/renew.json" 2>"$TMP/renew.err"; then
    [ "$(tps_stat phone_home)" = "$ph_before" ] && [ "$(json_field "$TMP/renew.json" phone_home.cached)" = true ] &&
        pass tps_renew_uses_cached_profile ||
        fail tps_renew_uses_cached_profile "TPS phone_home $ph_before -> $(tps_stat phone_home)"
    na_after=$(latest_not_after)
    [ "$na_after" -gt "$na_before" ] && pass tps_renew_later_not_after ||
        fail tps_renew_later_not_after "notAfter $na_before -> $na_after"
    check tps_renew_same_pin sign_verify "$NEW_PIN"
    [ $(($(tps_stat tps_connections) - before)) = 1 ] && pass tps_renew_one_connection ||
        fail tps_renew_one_connection "TPS saw $(($(tps_stat tps_connections) - before))"
else
    fail tps_renew "exit $?: $(cat "$TMP/renew.err") $(cat "$TMP/renew.json")"
fi

# format: no certificate, UNINITIALIZED
before=$(tps_stat tps_connections)
if escctl_op format >"$TMP/format.json" 2>"$TMP/format.err"; then
    st=$(card_state)
    [ "$st" = UNINITIALIZED ] && pass tps_format_status || fail tps_format_status "escctl status says '$st'"
    [ -z "$(cert_ids)" ] && pass tps_format_no_cert || fail tps_format_no_cert "coolkey still lists: $(cert_ids | tr '\n' ' ')"
    [ $(($(tps_stat tps_connections) - before)) = 1 ] && pass tps_format_one_connection ||
        fail tps_format_one_connection "TPS saw $(($(tps_stat tps_connections) - before))"
    if [ -n "${RIG_TPS_DB:-}" ] && [ -f "$RIG_TPS_DB" ]; then
        cuid=$(json_field "$TMP/format.json" cuid)
        grep -i "$cuid" "$RIG_TPS_DB" | grep -qiE 'uninitiali[sz]ed|formatted' && pass tps_format_tokendb ||
            fail tps_format_tokendb "token DB line: $(grep -i "$cuid" "$RIG_TPS_DB")"
    else
        skip tps_format_tokendb "the rig exports no RIG_TPS_DB"
    fi
else
    fail tps_format "exit $?: $(cat "$TMP/format.err") $(cat "$TMP/format.json")"
fi
