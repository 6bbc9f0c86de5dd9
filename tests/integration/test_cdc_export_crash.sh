#!/bin/bash
# The exporter killed exactly inside each window of a durable step (written
# but not fsynced, fsynced but not recorded, recorded but not confirmed to the
# server), several times each, under a workload: the queue still holds every
# transaction exactly once (snapshot + replayed queue == source).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
copydb_create
export QUEUE_SEGMENT_MAX_BYTES=100000
run() {
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true "$@" >>"$TEST_TMP/exporter.out" 2>&1
}
"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >>"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
for i in $(seq 1 150); do
    [ "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots WHERE active AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'yb-voyager-cdc-snapshot')")" = 1 ] && break
    sleep 0.2
done
kill -TERM "$EXP_PID"
wait "$EXP_PID"
assert_eq "interrupted while streaming: exit 3 (restart to continue)" 3 "$?"
assert_match "interruption says how to continue" "run the same command again to continue" "$(tail -1 "$TEST_TMP/exporter.out")"
live_workload_sql 2500 21 >"$TEST_TMP/workload.sql"
psql_as source sourcedb -f "$TEST_TMP/workload.sql" >/dev/null 2>"$TEST_TMP/workload.err" &
WL_PID=$!
for point in write:2 fsync:2 record:2 write:5 fsync:5 record:5 record:1 write:1 rotate:1; do
    { YB_VOYAGER_CDC_CRASH_AT=$point run; } 2>/dev/null
    assert_eq "killed at crash point $point" 137 "$?"
done
wait "$WL_PID"
assert_eq "workload ran without error" "0 " "$? $(head -c 300 "$TEST_TMP/workload.err")"
assert_eq "every crash point was reached" 9 "$(grep -c 'crash point .* reached' "$ED"/logs/*export-data*.log)"
"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >>"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait "$EXP_PID"
assert_eq "exporter exits 0 after draining" 0 "$?"
queue_equals_source "$ED"
done_testing
