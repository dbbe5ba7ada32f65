# The whole tree builds with clang, -Wall -Wextra -Werror, without a warning.
. "$(dirname "$0")/../integration/lib.sh"
cd "$ESC_TOP"
if out=$(make -s -j2 CC=clang BUILD=build/clang all 2>&1); then
    pass "builds clean with clang"
else
    fail "builds clean with clang" "$(echo "$out" | grep -m3 -E 'error|warning')"
fi
