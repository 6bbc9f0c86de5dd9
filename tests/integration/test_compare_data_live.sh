#!/bin/bash
# compare data during a live migration with a workload running: the source snapshot is mapped
# to the queue's vsn by the running exporter and the importer holds there, so the comparison is
# equal at its consistent point; a row changed on the target is still named; without a running
# importer it refuses (exit 3) instead of comparing a moving source.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/compare_live.sh"
V=$VOYAGER
compare_live_start 3
compare_live_workload 21
for i in 1 2; do
    check "compare data while the workload runs ($i)" "$V" compare data -e "$ED" --level rows --parallel-jobs 2
    assert_match "consistent point named ($i)" "compared at a consistent point \(source snapshot; changes up to queue vsn [0-9]+ applied" "$(cat "$LAST_OUT")"
    assert_match "every table equal ($i)" "4 of 4 tables equal on target" "$(cat "$LAST_OUT")"
done
compare_live_source_kept_changing

psql_as target yugabyte -c "INSERT INTO public.\"Mixed Case\" VALUES (-5, 'only on target', NULL)" >/dev/null
"$V" compare data -e "$ED" --level rows --output-format json >"$LAST_OUT" 2>"$LAST_ERR"
rc=$?
assert_eq "a row only on the target: exit 7" 7 "$rc"
json_check "$LAST_OUT" "d['consistent_point_vsn'] > 0 and [ (k['kind'], k['key']) for t in d['pairs'][0]['tables'] for k in t.get('differing_keys', []) ] == [('extra', '(-5)')]" &&
    ok "the extra row is the only difference named" || not_ok "the extra row is the only difference named" "$(head -c 1500 "$LAST_OUT")"
psql_as target yugabyte -c "DELETE FROM public.\"Mixed Case\" WHERE \"Key\" = -5" >/dev/null

kill "$IMP_PID"; wait "$IMP_PID" 2>/dev/null
VOYAGER_COMPARE_POINT_TIMEOUT_S=3 expect_fail "no importer running: refused" 3 \
    "import data \(to target\) did not answer within 3 s" "$V" compare data -e "$ED"
kill "$WL_PID" 2>/dev/null; wait "$WL_PID" 2>/dev/null
kill "$EXP_PID"; wait "$EXP_PID" 2>/dev/null
done_testing
