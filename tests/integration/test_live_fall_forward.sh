#!/bin/bash
# Fall-forward end to end on three clusters with workloads: export data
# (snapshot-and-changes) feeds import data to target and import data to
# source-replica (each killed and restarted); cutover to target; then export
# data from target (role target_db_exporter_ff, started by the target importer)
# feeds the source-replica; cutover to source-replica. Databases compared after
# each step.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
pg_start target yugabyte || exit 1
pg_start source_replica replicadb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
copy_schema source target || exit 1
copy_schema source source_replica || exit 1
export QUEUE_SEGMENT_MAX_BYTES=300000
start_exporter() {
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >>"$TEST_TMP/exporter.out" 2>&1 &
    EXP_PID=$!
}
start_replica_importer() {
    "$V" import data to source-replica -e "$ED" "${REPLICA_FLAGS[@]}" --disable-pb true >>"$TEST_TMP/replica.out" 2>&1 &
    REP_PID=$!
}
start_exporter
check "snapshot exported" status_wait "$ED" ExportDataDone 60
"$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true >>"$TEST_TMP/importer.out" 2>&1 &
IMP_PID=$!
start_replica_importer
live_workload_sql 800 41 | psql_as source sourcedb >/dev/null 2>"$TEST_TMP/wl1.err" &
WL=$!
for i in 1 2 3; do
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$EXP_PID" 2>/dev/null; wait "$EXP_PID" 2>/dev/null; start_exporter
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$REP_PID" 2>/dev/null; wait "$REP_PID" 2>/dev/null; start_replica_importer
done
wait "$WL"
assert_eq "source workload ran without error" "0 " "$? $(head -c 300 "$TEST_TMP/wl1.err")"
psql_as source sourcedb -c "SELECT setval('public.counter_seq', 3131)" >/dev/null
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 60
assert_eq "export data exits 0 after the end of stream" 0 "$?"
check "cutover to target completes (export data from target captures the target)" status_wait "$ED" ExportFromTargetStarted 90
compare_databases source target
for i in $(seq 1 100); do
    [ "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 1 ] && break
    sleep 0.2
done
assert_eq "export data from target (fall-forward) streams" "1" \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_replication_slots WHERE active")"
live_workload_sql 400 42 | psql_as target yugabyte >/dev/null 2>"$TEST_TMP/wl2.err"
assert_eq "target workload ran without error" "" "$(head -c 300 "$TEST_TMP/wl2.err")"
kill -9 "$REP_PID" 2>/dev/null; wait "$REP_PID" 2>/dev/null; start_replica_importer
psql_as target yugabyte -c "SELECT setval('public.counter_seq', 7171)" >/dev/null
check "initiate cutover to source-replica" "$V" initiate cutover to source-replica -e "$ED"
wait_exit "$IMP_PID" 60
assert_eq "export data from target (the importer's process) exits 0 after the end of stream" 0 "$?"
wait_exit "$REP_PID" 90
assert_eq "import data to source-replica exits 0 after the end of stream" 0 "$?"
compare_databases target source_replica
assert_eq "fall-forward events carry their exporter role" "source_db_exporter,target_db_exporter_ff" \
    "$(python3 -c "import sqlite3,sys; print(','.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute('select distinct exporter_role from queue_segment order by 1')))" "$ED/metainfo/meta.db")"
assert_eq "sequence restored on the source-replica" 7172 "$(psql_as source_replica replicadb -c "SELECT nextval('public.counter_seq')")"
assert_eq "queue: vsn strictly increasing" ok "$(queue_vsn_check "$ED" 2>&1)"
"$V" cutover status -e "$ED" >"$LAST_OUT" 2>&1
assert_match "cutover to source-replica COMPLETED" "cutover to source-replica status: COMPLETED" "$(cat "$LAST_OUT")"
done_testing
