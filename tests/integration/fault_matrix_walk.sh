#!/usr/bin/env bash
# fault_matrix_walk: issue 11's fault matrix, the every-k walks. For an enrollment (formatted
# card) and a PIN reset (PIN-locked card), on each path (escctl; pam_esc with its PAM-time
# helper; pam_esc with the session agent, esc-agent --pam-serve):
#   - the TPS drops the connection (FIN) right after its message k, for every k of a clean run
#     and one past its end (nothing dropped: the walk's success case);
#   - the card is pulled (vpcd connection closed) at its APDU k counted from its insertion, for
#     every k of a clean run (fm_steps) and one past its last APDU.
# For a quicker run while debugging: FM_DISTINCT=1 pulls the card only at the distinct steps
# (each k whose command differs from the one before, and the last of each run of equal
# commands), FM_PAM_HEAD=N on the PAM paths only at the steps within the first N APDUs, the
# last two and the one past the end.
# Each case: fault_matrix.bash's four checks (one clear sentence, within FM_DEADLINE_MS, no
# process left, escctl status tells the truth and, for PAM, the password still logs in).
# FM_WALK_PATHS / FM_WALK_OPS / FM_WALK_FAULTS narrow the walk when debugging, FM_VERBOSE=1
# prints every case. Prints per walk the cases, the outcomes by class, the slowest case;
# docs/security.md records the figures.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tps_helpers.bash"
. "$ESC_TOP/tests/pam/lib.sh"
. "$(dirname "$0")/fault_matrix.bash"
pam_need_built
tps_ready fault_matrix_walk
rig_up --card formatted || { fail fault_matrix_walk_rig "rig up failed"; exit 0; }
# pam_drive loads pam_matrix; libpcsclite's and NSS's leaks are not this test's business
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
fm_setup || exit 0
T0=$SECONDS

# a clean run of each operation on escctl: how many messages the TPS sends
declare -A MSGS
for op in enroll pinreset; do
    fm_reset $op
    fm_run escctl $op
    if fm_check "clean_escctl_$op" && [ "$FM_SUCCESS" = 1 ]; then
        MSGS[$op]=$(json_field "$TMP/fm.out" stats.round_trips)
        pass "clean_escctl_$op (${MSGS[$op]} TPS messages, $(json_field "$TMP/fm.out" stats.apdus) APDUs relayed, $FM_MS ms)"
    else
        fail "clean_escctl_$op" "a clean run failed: $FM_SAID"
        exit 0
    fi
done

# fm_steps PATH OP: the APDU indexes k to pull the card at, from a clean traced run of OP on PATH
# (the vcard's STATE.trace: "N CLA INS" per APDU, counted as vanish:N counts): every k, then the
# first k past the last APDU (nothing is cut: the walk's success case). With FM_DISTINCT=1 only
# each k whose command (CLA INS) differs from the one before and the last of each run of equal
# commands (every command cut before and after it; a run of WRITE OBJECT chunks at its ends).
fm_steps() {
    local tr=$RIG_DIR/card.state.trace
    : >"$tr"
    fm_reset "$2"
    fm_run "$1" "$2"
    cp "$tr" "$TMP/trace.$1.$2"
    rm -f "$tr"
    fm_check "clean_${1}_$2" >/dev/null || return 1
    [ "$FM_SUCCESS" = 1 ] || return 1
    awk -v every="$([ "${FM_DISTINCT:-0}" = 1 ] && echo 0 || echo 1)" '{ c[NR] = $2 " " $3; n = NR }
        END { for (i = 1; i <= n; i++) if (every || i == 1 || c[i] != c[i-1] || i == n || c[i] != c[i+1]) printf "%d ", i
              printf "%d\n", n + 1 }' "$TMP/trace.$1.$2"
}

# walk PATH OP FAULT(tps|card)
walk() {
    local path=$1 op=$2 kind=$3 k n=0 bad=0 t0=$SECONDS slow=0 slow_k= last ks card_in=1 note=
    declare -A classes=()
    if [ $kind = tps ]; then
        ks=$(seq 1 $((MSGS[$op] + 1)))
    elif ! ks=$(fm_steps "$path" "$op"); then
        fail "walk_${path}_${op}_card" "the clean run that lists the card's steps failed: $FM_SAID"
        return
    elif [ "$path" != escctl ] && [ "${FM_PAM_HEAD:-0}" -gt 0 ]; then
        # the debugging subset (header): the head, the last two steps, the one past the end
        local all=($ks) head=${FM_PAM_HEAD}
        ks=$(for k in "${all[@]}"; do [ "$k" -le "$head" ] && echo "$k"; done
            printf '%s\n' "${all[@]: -3}")
        ks=$(sort -nu <<<"$ks")
        note=", LIMIT: a subset of its ${#all[@]} steps: those in APDUs 1..$head, the last two, one past the end"
    fi
    [ $kind = card ] && [ "${FM_DISTINCT:-0}" = 1 ] && note="$note, LIMIT: distinct steps only (FM_DISTINCT=1)"
    for k in $ks; do
        if [ $kind = tps ]; then
            fm_reset "$op"
            fm_fault_tps "drop $k"
        else
            fm_reset "$op" "vanish:$k"
        fi
        fm_run "$path" "$op"
        n=$((n + 1))
        last=$FM_SUCCESS
        fm_check "walk_${path}_${op}_${kind}_$k" || bad=$((bad + 1))
        [ -n "${FM_VERBOSE:-}" ] && echo "  k=$k op ${FM_MS} ms, checks ${FM_CHECK_MS} ms: $FM_CLASS"
        card_in=1
        case $FM_CLASS in pulled,*) card_in=0 ;; esac
        classes[$FM_CLASS]=$((${classes[$FM_CLASS]:-0} + 1))
        [ "$FM_MS" -gt "$slow" ] && slow=$FM_MS slow_k=$k
    done
    : >"$RIG_TPS_FAULTS"
    # past the last message / APDU the operation succeeds, the card still in
    if [ "$last" != 1 ] || [ $card_in != 1 ]; then
        fail "walk_${path}_${op}_${kind}_end" "the case past the last ${kind} step did not succeed: $FM_SAID"
        bad=$((bad + 1))
    fi
    local what="k = 1..$k"
    [ $kind = card ] && what="$n steps of $(wc -l <"$TMP/trace.$path.$op") APDUs$note"
    [ -n "${FM_VERBOSE:-}" ] && [ $kind = card ] && echo "  trace: $(awk '{printf "%s:%s%s ", $1, $2, $3}' "$TMP/trace.$path.$op")"
    echo "walk $path $op $kind: $n cases ($what), $((SECONDS - t0)) s, slowest k=$slow_k $slow ms, $bad wrong"
    local c
    for c in "${!classes[@]}"; do echo "  ${classes[$c]}x $c"; done | sort -t'x' -k1,1nr
    [ $bad = 0 ] && pass "walk_${path}_${op}_${kind} ($n cases, slowest $slow ms)"
    WALK_CASES=$((WALK_CASES + n))
}

WALK_CASES=0
for path in ${FM_WALK_PATHS:-escctl pam-helper pam-agent}; do
    for op in ${FM_WALK_OPS:-enroll pinreset}; do
        for kind in ${FM_WALK_FAULTS:-tps card}; do
            walk "$path" "$op" "$kind"
        done
    done
done
echo "fault matrix walks: $WALK_CASES cases in $((SECONDS - T0)) s"
