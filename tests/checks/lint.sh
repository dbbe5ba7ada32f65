# make lint: clang-format and cppcheck report nothing.
. "$(dirname "$0")/../integration/lib.sh"
cd "$ESC_TOP"
if out=$(tests/lint.sh 2>&1); then pass "lint clean (clang-format, cppcheck)"; else fail "lint clean (clang-format, cppcheck)" "$(echo "$out" | head -5 | tr '\n' ' ')"; fi
