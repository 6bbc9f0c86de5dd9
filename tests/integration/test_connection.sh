#!/bin/bash
# The libpq layer against a real cluster with SSL: runs the live_* unit tests.
. "$(dirname "$0")/../lib/harness.sh"

pg_start conn postgres || { not_ok "start cluster"; done_testing; exit 1; }
pg_enable_ssl conn || { not_ok "enable ssl"; done_testing; exit 1; }
ok "cluster with SSL started"

UNIT=${UNIT_TESTS:-$REPO_ROOT/${BUILD:-build}/unit-tests}
# The live tests print their own ok/not ok lines; count them as ours.
out=$(VOYAGER_TEST_PORT=$CONN_PORT VOYAGER_TEST_SSL_DIR=$CONN_SSL_DIR "$UNIT" live_ 2>&1)
echo "$out" | grep -E '^(ok|not ok|#)' | sed "s/^\(not ok\|ok\) [0-9]* - /\1 0 - live: /" |
    while IFS= read -r l; do echo "$l"; done
n_ok=$(echo "$out" | grep -c '^ok ')
n_fail=$(echo "$out" | grep -c '^not ok ')
_N=$((_N + n_ok + n_fail)); _PASS=$((_PASS + n_ok)); _FAIL=$((_FAIL + n_fail))
[ "$n_ok" -ge 3 ] || not_ok "the live tests ran (got $n_ok)"
done_testing
