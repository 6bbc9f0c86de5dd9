#!/bin/bash
# compare data during a live migration with a workload running: the source snapshot is mapped
# to the queue's vsn by the running exporter and the importer holds there, so the comparison is
# equal at its consistent point; a row changed on the target is still named; without a running
# importer it refuses (exit 3) instead of comparing a moving source.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
pg_start target yugabyte || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
psql_as source sourcedb -c "INSERT INTO public.items (id, name, doc) SELECT g, 'bulk', repeat('x', 50) FROM generate_series(100, 20000) g" >/dev/null
copy_schema source target || exit 1

"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
check "snapshot exported" status_wait "$ED" ExportDataDone 60
"$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --parallel-jobs 3 >"$TEST_TMP/importer.out" 2>&1 &
IMP_PID=$!
check "snapshot imported" status_wait "$ED" ImportDataDone 60

live_workload_sql 20000 21 >"$TEST_TMP/workload.sql"
psql_as source sourcedb -f "$TEST_TMP/workload.sql" >/dev/null 2>"$TEST_TMP/workload.err" &
WL_PID=$!
sleep 2
before=$(psql_as source sourcedb -c "SELECT count(*) FROM public.items")
for i in 1 2; do
    check "compare data while the workload runs ($i)" "$V" compare data -e "$ED" --level rows --parallel-jobs 2
    assert_match "consistent point named ($i)" "compared at a consistent point \(source snapshot; changes up to queue vsn [0-9]+ applied" "$(cat "$LAST_OUT")"
    assert_match "every table equal ($i)" "4 of 4 tables equal on target" "$(cat "$LAST_OUT")"
done
after=$(psql_as source sourcedb -c "SELECT count(*) FROM public.items")
kill -0 "$WL_PID" 2>/dev/null && [ "$before" != "$after" ] && ok "the source kept changing during the comparisons ($before -> $after rows)" ||
    not_ok "the source kept changing during the comparisons" "$before -> $after, workload alive: $(kill -0 "$WL_PID" 2>/dev/null && echo yes || echo no)"

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
