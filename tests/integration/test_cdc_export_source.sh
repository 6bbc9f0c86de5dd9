#!/bin/bash
# export data --export-type snapshot-and-changes: prerequisites with their
# fixes; snapshot + change stream under a workload with kill -9 restarts;
# snapshot files + replayed queue == source (nothing lost, nothing doubled at
# the hand-off or at a restart); cutover to target drains and ends the stream.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
psql_as source sourcedb -c "INSERT INTO public.items (id, name, doc) SELECT g, 'bulk', repeat('x', 100) FROM generate_series(100, 20000) g" >/dev/null
copydb_create
LIVE=(--export-type snapshot-and-changes --disable-pb true)

# ---- prerequisites ----
psql_as source sourcedb -c 'ALTER TABLE public.pairs REPLICA IDENTITY DEFAULT; ALTER TABLE public."Mixed Case" REPLICA IDENTITY DEFAULT'
expect_refusal "tables without REPLICA IDENTITY FULL are listed with the ALTER to run" 4 \
    'without REPLICA IDENTITY FULL: public\."Mixed Case", public\.pairs hint: run: ALTER TABLE public\."Mixed Case" REPLICA IDENTITY FULL; ALTER TABLE public\.pairs REPLICA IDENTITY FULL;' \
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" "${LIVE[@]}"
assert_eq "no slot left behind by the refusal" 0 "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots")"
psql_as source sourcedb -c 'ALTER TABLE public.pairs REPLICA IDENTITY FULL; ALTER TABLE public."Mixed Case" REPLICA IDENTITY FULL'
psql_as source sourcedb -c "CREATE UNLOGGED TABLE public.cache (k int PRIMARY KEY); ALTER TABLE public.cache REPLICA IDENTITY FULL"
expect_refusal "an UNLOGGED table is refused with the ALTER to run (its changes are not in the WAL)" 4 \
    '1 UNLOGGED table\(s\): public\.cache detail: their changes are not written to the WAL, which change capture reads hint: run: ALTER TABLE public\.cache SET LOGGED; or leave them out \(--exclude-table-list' \
    "$V" export data -e "$(new_export_dir)" "${SRC_FLAGS[@]}" "${LIVE[@]}"
assert_eq "no slot left behind by that refusal" 0 "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots")"
psql_as source sourcedb -c "DROP TABLE public.cache"
pwlit=${VOYAGER_PW//\'/\'\'}
psql_as source sourcedb -c "CREATE ROLE norepl LOGIN PASSWORD '$pwlit'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO norepl" >/dev/null
ED0=$(new_export_dir)
expect_refusal "a user without replication permission is told the ALTER ROLE" 4 'may not use replication hint: run ALTER ROLE "norepl" WITH REPLICATION' \
    "$V" export data -e "$ED0" "${SRC_FLAGS[@]/voyager/norepl}" "${LIVE[@]}"

# ---- snapshot and changes under a workload, with kill -9 ----
run_exporter() {
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" "${LIVE[@]}" >>"$TEST_TMP/exporter.out" 2>&1 &
    EXP_PID=$!
}
live_workload_sql 1500 3 >"$TEST_TMP/workload.sql"
run_exporter
sleep 0.3
psql_as source sourcedb -f "$TEST_TMP/workload.sql" >/dev/null 2>"$TEST_TMP/workload.err" &
WL_PID=$!
kills=0
for i in 1 2 3 4 5 6; do
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$EXP_PID" 2>/dev/null && kills=$((kills + 1))
    wait "$EXP_PID" 2>/dev/null
    run_exporter
    sleep 0.$((RANDOM % 5))
done
wait "$WL_PID"
assert_eq "workload ran without error" "0 " "$? $(head -c 300 "$TEST_TMP/workload.err")"
assert_eq "exporter killed 6 times" 6 "$kills"
live_workload_sql 200 4 | psql_as source sourcedb -v ON_ERROR_STOP=1 >/dev/null
psql_as source sourcedb -c "SELECT setval('public.counter_seq', 4242)" >/dev/null
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
for i in $(seq 1 300); do kill -0 "$EXP_PID" 2>/dev/null || break; sleep 0.2; done
wait "$EXP_PID"
assert_eq "exporter exits 0 after draining for cutover" 0 "$?"
assert_match "says it is done" "cutover to target: every change of the source database is in the queue" \
    "$(tail -3 "$TEST_TMP/exporter.out")"
assert_eq "CutoverProcessedBySourceExporter" "true" "$(status_get "$ED" CutoverProcessedBySourceExporter)"
assert_eq "vsn strictly increasing, markers in place" "ok" "$(queue_vsn_check "$ED" 2>&1)"
meta() { python3 -c "import sqlite3,sys; print('\n'.join('|'.join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))" "$ED/metainfo/meta.db" "$1"; }
assert_eq "the last segment ends the stream" "1|1|source_db_exporter" \
    "$(meta "SELECT is_last, is_closed, exporter_role FROM queue_segment ORDER BY segment_no DESC LIMIT 1")"
assert_eq "final sequence value for the target importer" "4242|1" \
    "$(meta "SELECT last_value, is_called FROM sequence_last_values WHERE phase = 'cutover.target' AND sequence_name = 'counter_seq'")"
assert_eq "forward slot and publication dropped at cutover" "0 0" \
    "$(psql_as source sourcedb -c "SELECT (SELECT count(*) FROM pg_replication_slots) || ' ' || (SELECT count(*) FROM pg_publication)")"

assert_eq "partition changes carry the partitioned table's name (as the snapshot)" "parted" \
    "$(python3 -c "$_queue_py"'
print(",".join(sorted({e["table_name"] for _, e in events() if e.get("table_name", "").startswith("parted")})))' "$ED")"
snapshot_load_sql "$ED" >"$TEST_TMP/load.sql"
check "load the snapshot files into the copy" psql_as source copydb -f "$TEST_TMP/load.sql"
queue_replay_sql "$ED" source_db_exporter >"$TEST_TMP/replay.sql"
check "replay the queue on the snapshot: each update/delete hits one row, no duplicate insert" \
    psql_as source copydb -f "$TEST_TMP/replay.sql"
compare_databases source source sourcedb copydb
check "export data after the end of stream is harmless" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" "${LIVE[@]}"

# ---- a server without logical decoding ----
pg_start plain plaindb
psql_as plain postgres -c "ALTER SYSTEM SET wal_level = replica" >/dev/null
pg_restart plain
psql_as plain plaindb -c "CREATE TABLE t (id int PRIMARY KEY)" >/dev/null
expect_refusal "wal_level=replica is refused with the fix" 4 "wal_level is 'replica'.* hint: run ALTER SYSTEM SET wal_level = logical" \
    "$V" export data -e "$(new_export_dir)" --source-db-type postgresql --source-db-host 127.0.0.1 \
    --source-db-port "$PLAIN_PORT" --source-db-user voyager --source-db-name plaindb "${LIVE[@]}"
done_testing
