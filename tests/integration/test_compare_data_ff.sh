#!/bin/bash
# compare data during a live migration with fall-forward: export data feeds import data (target)
# and import data to source-replica while a workload runs on the source; compare data holds both
# importers at one consistent point (the source snapshot mapped to the queue's vsn, each copy
# applied exactly up to it) and compares source with target and with source-replica there: equal
# on both pairs, twice; then a row changed and a row added on the source-replica are named under
# its own pair, the target pair still equal; without the source-replica importer it refuses.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/compare_live.sh"
V=$VOYAGER
compare_live_start 2 source_replica
compare_live_workload 23
for i in 1 2; do
    check "compare data while the workload runs ($i)" "$V" compare data -e "$ED" --level rows --parallel-jobs 2
    out=$(cat "$LAST_OUT")
    assert_match "consistent point named ($i)" "compared at a consistent point \(source snapshot; changes up to queue vsn [0-9]+ applied" "$out"
    assert_match "every table equal on target ($i)" "4 of 4 tables equal on target" "$out"
    assert_match "every table equal on source-replica ($i)" "4 of 4 tables equal on source-replica" "$out"
done
compare_live_source_kept_changing
log=$(cat "$ED/logs/yb-voyager-compare-data.log")
assert_match "the target read at the point" "consistent point: target database read with the changes up to queue vsn [0-9]+ applied" "$log"
assert_match "the source-replica read at the point" "consistent point: source-replica database read with the changes up to queue vsn [0-9]+ applied" "$log"

# A deliberate difference on the source-replica only: a changed row and a row of its own.
psql_as source_replica replicadb -c "UPDATE public.\"Mixed Case\" SET note = 'changed on the replica' WHERE \"Key\" = 1;
    INSERT INTO public.\"Mixed Case\" VALUES (-7, 'only on the replica', NULL)" >/dev/null
"$V" compare data -e "$ED" --level rows --output-format json >"$LAST_OUT" 2>"$LAST_ERR"
rc=$?
assert_eq "a difference on the source-replica: exit 7" 7 "$rc"
json_check "$LAST_OUT" "d['consistent_point_vsn'] > 0 and [p['copy'] for p in d['pairs']] == ['target', 'source-replica'] and all(t['status'] == 'EQUAL' for t in d['pairs'][0]['tables'])" &&
    ok "two pairs at the consistent point, the target pair equal" || not_ok "two pairs at the consistent point, the target pair equal" "$(head -c 1500 "$LAST_OUT")"
json_check "$LAST_OUT" "sorted((t['table_name'], k['kind'], k['key']) for t in d['pairs'][1]['tables'] for k in t.get('differing_keys', [])) == [('Mixed Case', 'changed', '(1)'), ('Mixed Case', 'extra', '(-7)')]" &&
    ok "the replica's changed and extra rows are the differences named" || not_ok "the replica's changed and extra rows are the differences named" "$(head -c 2500 "$LAST_OUT")"

kill "$REP_PID"; wait "$REP_PID" 2>/dev/null
VOYAGER_COMPARE_POINT_TIMEOUT_S=3 expect_fail "no source-replica importer running: refused" 3 \
    "import data to source-replica did not answer within 3 s" "$V" compare data -e "$ED"
kill "$WL_PID" 2>/dev/null; wait "$WL_PID" 2>/dev/null
kill "$IMP_PID"; wait "$IMP_PID" 2>/dev/null
kill "$EXP_PID"; wait "$EXP_PID" 2>/dev/null
done_testing
