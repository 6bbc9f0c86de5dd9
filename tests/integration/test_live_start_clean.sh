#!/bin/bash
# Live export --start-clean restarts vsn numbering at 1 (a new queue
# generation). The importer's progress on the target counted vsns of the old
# queue: `import data --start-clean --truncate-tables` must forget it with the
# truncation, or every new change at or below the old watermark is dropped.
# Sequence of issue 11, defect 1: apply up to vsn N, export data --start-clean,
# fewer than N new changes, import data --start-clean --truncate-tables,
# cutover: target equals source. Also: an importer that meets the new queue
# without --start-clean is refused (exit 3).
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
copy_schema source target || exit 1
LIVE=(--export-type snapshot-and-changes --disable-pb true)

start_exporter() {
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" "${LIVE[@]}" "$@" >>"$TEST_TMP/exporter.out" 2>&1 &
    EXP_PID=$!
}
start_importer() {
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --parallel-jobs 2 "$@" >>"$TEST_TMP/importer.out" 2>&1 &
    IMP_PID=$!
}
applied() {
    psql_as target yugabyte -c "SELECT coalesce(sum(num_inserts + num_updates + num_deletes), 0)
        FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo" 2>/dev/null
}
stop() { kill -TERM "$1" 2>/dev/null; wait_exit "$1" 30 >/dev/null; }

start_exporter
check "snapshot exported" status_wait "$ED" ExportDataDone 60
start_importer
live_workload_sql 400 21 | psql_as source sourcedb >/dev/null
want=$(queue_events "$ED" source_db_exporter)
for i in $(seq 1 300); do
    want=$(queue_events "$ED" source_db_exporter)
    [ "$want" -gt 0 ] && [ "$(applied)" = "$want" ] && break
    sleep 0.2
done
assert_eq "the importer applied every change of the first queue" "$want" "$(applied)"
old_max=$(psql_as target yugabyte -c "SELECT max(last_applied_vsn) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")
stop "$IMP_PID"
stop "$EXP_PID"

# The change capture starts over: new slot, empty queue, vsn from 1.
start_exporter --start-clean true
check "export data --start-clean: snapshot exported again" status_wait "$ED" ExportDataDone 60
live_workload_sql 40 22 | psql_as source sourcedb >/dev/null
for i in $(seq 1 100); do [ "$(queue_events "$ED" source_db_exporter)" -gt 20 ] && break; sleep 0.2; done
new_n=$(queue_events "$ED" source_db_exporter)
check "the new queue is shorter than the old watermark ($new_n events, old vsn $old_max)" test "$new_n" -lt "$old_max"

expect_fail "import data without --start-clean meets the new generation: refused" 3 \
    "exported again \(export data --start-clean\).*--start-clean" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
start_importer --start-clean true --truncate-tables true
for i in $(seq 1 150); do
    [ "$(status_get "$ED" ImportDataDone)" = true ] && break
    sleep 0.2
done
live_workload_sql 40 23 | psql_as source sourcedb >/dev/null
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 60
assert_eq "export data exits 0 after the end of stream" 0 "$?"
wait_exit "$IMP_PID" 60
assert_eq "import data exits 0 after the end of stream" 0 "$?"
compare_databases source target
assert_eq "target progress is of the new queue only" "t" \
    "$(psql_as target yugabyte -c "SELECT max(last_applied_vsn) <= $(queue_events "$ED" source_db_exporter) + 1 FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"
assert_eq "one generation recorded on the target" 1 \
    "$(psql_as target yugabyte -c "SELECT count(DISTINCT queue_generation) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"
done_testing
