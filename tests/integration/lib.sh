# lib.sh: sourced by every integration test. Reports in the runner's format and brings a
# private rig up for the test (and down again, whatever happens).
#   pass NAME | fail NAME WHY | skip NAME WHY
#   check NAME COMMAND...      pass if COMMAND succeeds, fail with its output otherwise
#   rig_up [--card PRESET]     rig in $ESC_TOP/build/rig-<test>, env exported, torn down at exit
set -uo pipefail
ESC_TOP=${ESC_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ESC_BUILD=${ESC_BUILD:-$ESC_TOP/build}
ESC_BUILD_PLAIN=${ESC_BUILD_PLAIN:-$ESC_TOP/build}
export ESC_TOP ESC_BUILD ESC_BUILD_PLAIN
RIG=$ESC_TOP/tests/rig/rig
ESCCTL=$ESC_BUILD/escctl
COOLKEY=/usr/lib/pkcs11/libcoolkeypk11.so
TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
TMP=$(mktemp -d "/tmp/esc-$TEST_NAME.XXXXXX")

# secret VALUE: a PIN or password this test uses; checks/no_secrets_in_logs.sh then proves that
# no log of the run contains it.
secret() { mkdir -p "$ESC_TOP/build" && printf '%s\n' "$1" >>"$ESC_TOP/build/test-secrets.txt"; }
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }
check() {
    local name=$1 out; shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"; fi
}

rig_up() {
    export RIG_DIR=$ESC_TOP/build/rig-$TEST_NAME
    "$RIG" up "$@" >"$TMP/rig-up.log" 2>&1 || { cat "$TMP/rig-up.log"; return 1; }
    eval "$("$RIG" env)"
}
rig_cleanup() {
    [ -n "${RIG_DIR:-}" ] && "$RIG" down >/dev/null 2>&1
    rm -rf "$TMP"
}
trap rig_cleanup EXIT
