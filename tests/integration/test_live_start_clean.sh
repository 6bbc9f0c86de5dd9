#!/bin/bash
# Live export --start-clean restarts vsn numbering at 1 (a new queue
# generation). The importer's progress on the target counted vsns of the old
# queue: `import data --start-clean --truncate-tables` must forget it with the
# truncation, or every new change at or below the old watermark is dropped.
# Sequence of issue 11, defect 1: apply up to vsn N, export data --start-clean,
# fewer than N new changes, import data --start-clean --truncate-tables,
# cutover: target equals source. Also: an importer that meets the new queue
# without --start-clean is refused (exit 3), and so is an importer's clean start once
# archive changes --delete removed segments its replay would need.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
export QUEUE_SEGMENT_MAX_BYTES=20000
live_setup || exit 1
live_workload_sql 400 21 | psql_as source sourcedb >/dev/null
want=$(queue_events "$ED" source_db_exporter)
for i in $(seq 1 300); do
    want=$(queue_events "$ED" source_db_exporter)
    [ "$want" -gt 0 ] && [ "$(live_applied)" = "$want" ] && break
    sleep 0.2
done
assert_eq "the importer applied every change of the first queue" "$want" "$(live_applied)"
old_max=$(psql_as target yugabyte -c "SELECT max(last_applied_vsn) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")
live_stop "$IMP_PID"
live_stop "$EXP_PID"

# archive changes runs until the change streams end: one pass, then SIGTERM
VOYAGER_ARCHIVE_POLL_MS=200 timeout -s TERM 5 "$V" archive changes -e "$ED" \
    --delete-changes-without-archiving --fs-utilization-threshold 0 >"$TEST_TMP/archive.out" 2>&1
deleted=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM queue_segment WHERE deleted <> 0').fetchone()[0])" "$ED/metainfo/meta.db")
check "segments were deleted ($deleted)" test "$deleted" -gt 0
before=$(table_fingerprints target yugabyte)
expect_fail "import data --start-clean after archive changes --delete: refused" 3 \
    "archive changes --delete already deleted queue segments [0-9]+\.\.[0-9]+, so import data cannot start the target database over" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --start-clean true --truncate-tables true --yes
assert_eq "the refused clean start truncated nothing" "$before" "$(table_fingerprints target yugabyte)"

# The change capture starts over: new slot, empty queue, vsn from 1.
live_start_exporter --start-clean true
check "export data --start-clean: snapshot exported again" status_wait "$ED" ExportDataDone 60
live_workload_sql 40 22 | psql_as source sourcedb >/dev/null
for i in $(seq 1 100); do [ "$(queue_events "$ED" source_db_exporter)" -gt 20 ] && break; sleep 0.2; done
new_n=$(queue_events "$ED" source_db_exporter)
check "the new queue is shorter than the old watermark ($new_n events, old vsn $old_max)" test "$new_n" -lt "$old_max"

expect_refusal "import data without --start-clean meets the new generation: refused" 3 \
    "exported again \(export data --start-clean\).*--start-clean" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
live_start_importer --start-clean true --truncate-tables true
for i in $(seq 1 150); do
    [ "$(status_get "$ED" ImportDataDone)" = true ] && break
    sleep 0.2
done
live_workload_sql 40 23 | psql_as source sourcedb >/dev/null
live_cutover_to_target
assert_eq "target progress is of the new queue only" "t" \
    "$(psql_as target yugabyte -c "SELECT max(last_applied_vsn) <= $(queue_events "$ED" source_db_exporter) + 1 FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"
assert_eq "one generation recorded on the target" 1 \
    "$(psql_as target yugabyte -c "SELECT count(DISTINCT queue_generation) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"
done_testing
