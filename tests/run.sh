#!/bin/bash
# The test suite: unit tests, then every tests/integration/test_*.sh (each starts
# and stops its own throwaway clusters). Ends with "N passed, N failed".
# Usage: tests/run.sh [pattern]   (runs only integration scripts matching pattern)
set -u
cd "$(dirname "$0")/.."
pattern=${1:-}
log=$(mktemp /tmp/voyager-tests.XXXXXX)
trap 'rm -f "$log"' EXIT
status=0

run_part() {
    "$@" 2>&1 | tee -a "$log"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
}

if [ -z "$pattern" ]; then
    echo "# layering (docs/ARCHITECTURE.md)"
    if tests/check_layers.sh >"$log.layers" 2>&1; then
        echo "ok - layering: every layer includes only the layers below it" | tee -a "$log"
    else
        sed 's/^/# /' "$log.layers"
        echo "not ok - layering: see the lines above" | tee -a "$log"
        status=1
    fi
    rm -f "$log.layers"
    echo "# unit tests"
    run_part "${BUILD:-build}/unit-tests"
fi
for t in tests/integration/test_*.sh; do
    [ -e "$t" ] || continue
    case $t in *"$pattern"*) ;; *) continue ;; esac
    echo "# $t"
    run_part bash "$t"
done
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
    echo "# a test script failed without reporting a failed check"
    failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
