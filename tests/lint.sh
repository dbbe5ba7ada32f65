#!/usr/bin/env bash
# lint: clang-format (the checked-in .clang-format) and cppcheck over every C file of the project.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^build/')
rc=0
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/esc-lint.$$; then
    grep -E '^[^ ].*(warning|error):' /tmp/esc-lint.$$ | cut -d: -f1 | sort -u | sed 's/^/needs clang-format: /'
    rc=1
fi
rm -f /tmp/esc-lint.$$
if ! cppcheck -q --error-exitcode=1 --std=c11 --inline-suppr --enable=warning,portability \
    --suppress=missingIncludeSystem -Icommon "${files[@]}"; then
    rc=1
fi
[ $rc = 0 ] && echo "lint: ${#files[@]} files clean"
exit $rc
