# shellcheck shell=bash
# console_helpers.bash: shared by tests/integration/console_*.sh (sourced after lib.sh): a real
# program on a terminal (tests/rig/console), typed at, and checks on what the terminal shows.
#   console_ready NAME            skip the whole test unless the rig and the console can run
#   c ARGS...                     tests/rig/console ARGS
#   at SECS ERE [TEXT]            wait for a line since the mark matching ERE, then type TEXT
#   shot FILE TITLE               the terminal since the mark into FILE, and into the log
#   see NAME COND...              pass NAME if COND succeeds, else fail (the terminal is above)
#   has ERE FILE | no_secret FILE | prompts FILE | no_prompt PROMPT FILE
#   block_pin                     five wrong PINs through coolkey (C_Login, in the namespace):
#                                 the card's PIN is blocked as by a user who kept mistyping it
#   kill_tps                      stop the rig's TPS (phone home and operations)
CONSOLE=$ESC_TOP/tests/rig/console
COOLKEY=/usr/lib/pkcs11/libcoolkeypk11.so
# typed into the user's shell, expanded there: who runs the shell, on which terminal
# shellcheck disable=SC2016
WHO='echo "user=$(id -un) tty=$(tty)"'

console_ready() {
    local f why
    for f in "$ESC_BUILD/tests/vcard" "$ESC_BUILD/tests/tps"; do
        [ -x "$f" ] || { skip "$1" "not built: $f"; exit 0; }
    done
    why=$("$CONSOLE" check) || { skip "$1" "$why"; exit 0; }
}

c() { "$CONSOLE" "$@"; }
at() { c wait "$1" "$2" 2>>"$TMP/waits" && { [ $# -lt 3 ] || c type "$3"; }; }
shot() {
    c screen >"$1"
    echo "--- the terminal ($2):"
    sed 's/^/  | /' "$1"
}
see() {
    local n=$1
    shift
    if "$@"; then pass "$n"; else fail "$n" "see the terminal above; $(tail -n 2 "$TMP/waits" 2>/dev/null | tr '\n' ' ')"; fi
}
has() { grep -Eq -- "$1" "$2"; }
# the secrets this test typed (hidden by the programs: none may be on the screen)
SECRETS=()
no_secret() {
    local s
    for s in "${SECRETS[@]}" "$RIG_LDAP_PASSWORD"; do grep -qF -- "$s" "$1" && return 1; done
    return 0
}
# the prompts shown, in order, without what was typed after them
prompts() {
    grep -oE '(LDAP User ID|LDAP Password|New PIN[^:]*|Repeat PIN|Password|Smart card PIN): ' "$1" | sed 's/ $//'
}
no_prompt() { ! prompts "$2" | grep -qxF -- "$1"; } # no_prompt PROMPT FILE

block_pin() {
    local i
    for i in 1 2 3 4 5; do
        c exec pkcs11-tool --module "$COOLKEY" --login --pin "0000000$i" -O >/dev/null 2>&1
    done
    "$ESCCTL" status 2>/dev/null | grep -q ": PIN_LOCKED "
}

kill_tps() {
    local pid
    pid=$(cat "$RIG_DIR/pids/tps.pid" 2>/dev/null) || return 1
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    return 1
}
