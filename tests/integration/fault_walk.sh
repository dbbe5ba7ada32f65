#!/usr/bin/env bash
# fault_walk: every call of the project's code to malloc, calloc, realloc, read, write, the socket
# calls of pcscd's protocol (socket, connect, send, recv, poll) and each
# PC/SC function fails once, on purpose (tests/fault: a linker --wrap layer, FAULT_AT=N), in
#   1. the decision probe as pam_esc runs it, the full probe of escctl status and escctl certs,
#      against the rig's virtual card (enrolled),
#   2. a whole enrollment with escctl (phone home with an empty cache, the reference TPS, the
#      virtual card, formatted again before each run), and
#   3. escctl phone-home with the profile in the cache,
# walking N over every call of a clean run (no strides: every call, so every call site).
# Each run must end without a crash or a sanitizer report (ASan, UBSan, LeakSanitizer) and,
# after a failed call the result depends on, with an error and one sentence, never success.
# Success after an injected failure is accepted only at the call sites listed in OPTIONAL
# (cleanup calls whose failure changes nothing: the TPS conversation's goodbye after END_OP
# (send_goodbye); the phone-home cache, which is skipped when
# it cannot be read or written: ph_cache_load and the ph_cache_parse it calls, ph_cache_store).
. "$(dirname "$0")/lib.sh"
FAULT_PROBE=$ESC_BUILD/tests/fault/fault_probe
FAULT_ESCCTL=$ESC_BUILD/tests/fault/escctl
PLAIN_ESCCTL=$ESC_BUILD_PLAIN/escctl
NEW_PIN=97531864
secret "$NEW_PIN"
for b in "$FAULT_PROBE" "$FAULT_ESCCTL" "$PLAIN_ESCCTL"; do
    [ -x "$b" ] || { skip fault_walk "$b is not built"; exit 0; }
done
rig_up --card enrolled || { fail fault_walk_rig "rig up failed"; exit 0; }
secret "$RIG_LDAP_PASSWORD"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:detect_leaks=1

# call site -> "function file:line" (the caller of the wrapped function)
declare -A SITE
site_name() { # BINARY OFFSET
    local key="$1:$2"
    if [ -z "${SITE[$key]:-}" ]; then
        # -i: the outermost of the inlined frames is the project's function (read() itself
        # is glibc's fortify inline)
        SITE[$key]=$(addr2line -i -f -s -e "$1" "$(printf '%#x' $(($2 - 1)))" | tail -n 2 | paste -sd' ')
    fi
    echo "${SITE[$key]}"
}
# Call sites where a failure may leave the outcome unchanged: FUNCTION SITE -> 0 if optional.
# pcsc_close/disconnect/end release, disconnect, end the transaction (void: nothing to report);
# SCardFreeMemory frees a reader list already copied; the phone-home cache is used when it can
# be read and written, and skipped otherwise (the profile is then fetched, or not kept).
# pcscd's own protocol (common/pcscd_wire, pcscd_card: socket, connect, send, recv, poll) serves
# every card step, those cleanups included (the END and DISCONNECT it sends, the answers it
# reads before closing), and a context that cannot be opened is opened again by the next step
# (an operation's reader lookup, then its probe): after a failure there, success is accepted;
# a crash, a sanitizer report or an error without its sentence is not.
optional() {
    case "$2" in pcsc_close\ * | pcsc_disconnect\ * | pcsc_end\ * | ph_cache_load\ * | ph_cache_parse\ * | ph_cache_store\ *) return 0 ;; esac
    case "$2" in pcscd_wire_send\ * | pcscd_wire_recv\ * | pcscd_wire_connect\ * | wait_fd\ *) return 0 ;; esac
    # the TPS conversation's goodbye (after END_OP: the upload's last chunk, TLS's close_notify)
    case "$2" in send_goodbye\ *) return 0 ;; esac
    [ "$1" = SCardFreeMemory ]
}

sanitizer() { grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$1" | head -n 2 | tr '\n' ' '; }

# walk NAME BINARY RESET RUN CHECK_OK: RESET brings the card back, RUN does one run
# (stdout+stderr to $out, exit code in $rc), CHECK_OK says whether that run succeeded.
declare -A covered
walk_total=0 walk_injected=0 walk_failed=0 walk_errors=0 walk_ok_optional=0
walk() {
    local name=$1 bin=$2 reset=$3 run=$4 ok=$5 n total fn off site rc bad=0 t0=$SECONDS
    rm -f "$TMP/trace"
    $reset
    FAULT_TRACE=$TMP/trace $run >"$TMP/base.out" 2>&1
    if ! $ok "$TMP/base.out" 0; then
        fail "${name}_clean_run" "$(tail -n 3 "$TMP/base.out" | tr '\n' ' ')"
        return
    fi
    total=$(wc -l <"$TMP/trace")
    for ((n = 1; n <= total; n++)); do
        rm -f "$TMP/trace"
        $reset
        FAULT_AT=$n FAULT_TRACE=$TMP/trace $run >"$TMP/out" 2>&1
        rc=$?
        walk_total=$((walk_total + 1))
        read -r _ _ fn off < <(grep -m1 '^FAILED ' "$TMP/trace") || fn=
        local san
        san=$(sanitizer "$TMP/out")
        if [ -n "$san" ] || [ "$rc" -ge 128 ]; then
            fail "${name}_fault_$n" "exit $rc after failing call $n ($fn): $san"
            bad=$((bad + 1))
            continue
        fi
        [ -n "$fn" ] || continue # the run took another path and made fewer calls
        walk_injected=$((walk_injected + 1))
        site=$(site_name "$bin" "$off")
        covered["$name: $fn <- $site"]=1
        if $ok "$TMP/out" "$rc"; then
            if optional "$fn" "$site"; then
                walk_ok_optional=$((walk_ok_optional + 1))
            else
                fail "${name}_fault_$n" "success after failing $fn in $site"
                bad=$((bad + 1))
            fi
        elif ! error_said "$TMP/out"; then
            fail "${name}_fault_$n" "failing $fn in $site: exit $rc without one clear sentence: $(tail -n 2 "$TMP/out" | tr '\n' ' ')"
            bad=$((bad + 1))
        else
            walk_errors=$((walk_errors + 1))
        fi
    done
    walk_failed=$((walk_failed + bad))
    [ "$bad" = 0 ] && pass "${name}_every_call_failed_once ($total calls, $((SECONDS - t0)) s)"
}

# ---- 1. probes ----
no_reset() { :; }
probe_decide() { "$FAULT_PROBE"; }
probe_full() { "$FAULT_PROBE" full; }
probe_ok() { [ "$2" = 0 ] && grep -q '^ENROLLED OK: ' "$1"; }
# an error state with the error's name and its sentence (common/esc_err.c), or escctl's one
# line "escctl: SENTENCE" ("escctl certs: ..."); never a success sentence, never "Unknown error"
error_said() {
    grep -Eq '^[A-Z_]+ [A-Z_]+: [A-Z][a-z]+ .*[a-z]|^escctl( certs)?: [A-Za-z/].*[a-z]' "$1" &&
        ! grep -Eq '^[A-Z_]+ OK: |Success|Unknown error|The card was enrolled\.' "$1"
}
walk probe_decide "$FAULT_PROBE" no_reset probe_decide probe_ok
walk probe_full "$FAULT_PROBE" no_reset probe_full probe_ok

# ---- 1b. escctl certs: the card's certificate objects read and decoded ----
certs() { "$FAULT_ESCCTL" certs; }
certs_ok() { [ "$2" = 0 ] && grep -q 'SHA-256' "$1"; }
walk certs "$FAULT_ESCCTL" no_reset certs certs_ok

# ---- 2. enrollment ----
reset_card() { # formatted, and no phone-home profile cached (the enrollment fetches and stores it)
    "$PLAIN_ESCCTL" format --user "$RIG_USER" --password-fd 3 3< <(printf '%s\n' "$RIG_LDAP_PASSWORD") \
        >/dev/null 2>&1 || "$RIG" card preset formatted >/dev/null 2>&1
    rm -rf "$RIG_DIR/cache"
}
enroll() {
    "$FAULT_ESCCTL" enroll --quiet --user "$RIG_USER" --password-fd 3 --pin-fd 4 \
        3< <(printf '%s\n' "$RIG_LDAP_PASSWORD") 4< <(printf '%s\n' "$NEW_PIN")
}
enroll_ok() { [ "$2" = 0 ] && grep -q '^The card was enrolled: ' "$1"; }
walk enroll "$FAULT_ESCCTL" reset_card enroll enroll_ok

# ---- 3. phone home from the cache (the enrollment above walks the fetch and the store) ----
cached_profile() { "$PLAIN_ESCCTL" phone-home >/dev/null 2>&1; }
phone_home() { "$FAULT_ESCCTL" phone-home; }
phone_home_ok() { [ "$2" = 0 ] && grep -q '^Token server: ' "$1"; }
walk phone_home_cached "$FAULT_ESCCTL" cached_profile phone_home phone_home_ok

# the card is usable afterwards: one clean enrollment
reset_card
if enroll >"$TMP/last" 2>&1 && enroll_ok "$TMP/last" 0; then pass fault_walk_card_usable_after; else
    fail fault_walk_card_usable_after "$(tail -n 2 "$TMP/last" | tr '\n' ' ')"; fi

echo "fault walk: $walk_total runs, $walk_injected failures injected at ${#covered[@]} call sites:" \
    "$walk_errors ended in an error with a sentence, $walk_ok_optional succeeded past an optional call," \
    "$walk_failed wrong"
printf '%s\n' "${!covered[@]}" | sort | sed 's/^/  site: /'
