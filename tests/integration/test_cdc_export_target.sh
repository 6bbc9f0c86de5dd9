#!/bin/bash
# export data from target: change capture into the queue under a workload,
# kill -9 at random moments and restarts (no transaction lost or doubled,
# checked by replaying the queue into a copy), then cutover to source drains,
# writes the end of stream, records sequences and drops slot and publication.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
ED=$(new_export_dir)
start_clusters target || exit 1
conn_flags
psql_as target postgres -c "CREATE DATABASE copydb OWNER voyager" >/dev/null
live_schema_sql | psql_as target yugabyte >/dev/null
live_schema_sql | psql_as target copydb >/dev/null
# The replica identity the exporter sets itself on the target: take it away from one table.
psql_as target yugabyte -c 'ALTER TABLE public.pairs REPLICA IDENTITY DEFAULT'

status_new_migration "$ED"
expect_fail "refuses before cutover to target" 3 "cutover to target has not happened yet|way back" \
    "$V" export data from target -e "$ED" "${TGT_FLAGS[@]}"
status_cut_over_to_target "$ED"
expect_fail "needs the table list of the live migration" 3 "table list of this live migration" \
    "$V" export data from target -e "$ED" "${TGT_FLAGS[@]}"
# What export data from source records (its slot is not our business here).
status_source_exporter_tables "$ED"

export QUEUE_SEGMENT_MAX_BYTES=200000
run_exporter() {
    "$V" export data from target -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true >>"$TEST_TMP/exporter.out" 2>&1 &
    EXP_PID=$!
}
wait_slot() {
    local i
    for i in $(seq 1 100); do
        [ "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name LIKE 'voyager_target_slot_%'")" = 1 ] && return 0
        sleep 0.1
    done
    return 1
}
run_exporter
check "exporter streams (slot active)" wait_slot
assert_eq "replica identity FULL set on the target table" "f" \
    "$(psql_as target yugabyte -c "SELECT relreplident FROM pg_class WHERE relname = 'pairs'")"

live_workload_sql 1500 7 >"$TEST_TMP/workload.sql"
psql_as target yugabyte -v ON_ERROR_STOP=1 -f "$TEST_TMP/workload.sql" >/dev/null 2>"$TEST_TMP/workload.err" &
WL_PID=$!
kills=0
for i in 1 2 3 4 5 6; do
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$EXP_PID" 2>/dev/null && kills=$((kills + 1))
    wait "$EXP_PID" 2>/dev/null
    run_exporter
    sleep 0.5
done
wait "$WL_PID"
assert_eq "workload ran without error" "0" "$?"
assert_eq "exporter killed 6 times" 6 "$kills"
# Faults of the target while it streams: an immediate restart, then its walsender terminated.
# The exporter rides out both (a warning and a reconnect each), never exits.
before=$(wc -l <"$TEST_TMP/exporter.out")
_as_pg "$PGBIN/pg_ctl" -D "$TEST_TMP/target/data" -l "$TEST_TMP/target/server.log" -m immediate -w -t 60 restart >/dev/null
live_workload_sql 150 9 | psql_as target yugabyte -v ON_ERROR_STOP=1 >/dev/null
check "streaming again after the target's immediate restart" wait_slot
sleep 1
psql_as target postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_replication" >/dev/null
live_workload_sql 150 10 | psql_as target yugabyte -v ON_ERROR_STOP=1 >/dev/null
check "streaming again after its walsender was terminated" wait_slot
check "the exporter is still running" kill -0 "$EXP_PID"
assert_match "each fault was a warning with a reconnect" "^warning: target database: .*reconnecting" "$(tail -n +$((before + 1)) "$TEST_TMP/exporter.out")"
assert_eq "and no error line" "" "$(tail -n +$((before + 1)) "$TEST_TMP/exporter.out" | grep '^error')"
# A second workload after the kills, then the cutover request.
live_workload_sql 200 8 | psql_as target yugabyte -v ON_ERROR_STOP=1 >/dev/null
psql_as target yugabyte -c "SELECT setval('public.counter_seq', 777)" >/dev/null
status_set "$ED" CutoverToSourceRequested true
for i in $(seq 1 300); do kill -0 "$EXP_PID" 2>/dev/null || break; sleep 0.2; done
wait "$EXP_PID"
assert_eq "exporter exits 0 after draining for cutover" 0 "$?"
assert_match "says it is done" "cutover to source: every change of the target database is in the queue" \
    "$(cat "$TEST_TMP/exporter.out")"
assert_match "live metrics as periodic lines without a terminal" "exported events: total [0-9]+, this run [0-9]+, rate [0-9]+/s \(last 3 min\), [0-9]+/s \(last 10 min\)" \
    "$(cat "$TEST_TMP/exporter.out")"
assert_eq "the final total is the queue's changes, without the end-of-stream marker" \
    "$(queue_events "$ED" target_db_exporter_fb)" \
    "$(grep -o 'exported events: total [0-9]*' "$TEST_TMP/exporter.out" | tail -1 | awk '{print $4}')"
assert_eq "cutover processed flag" "true" "$(status_get "$ED" CutoverProcessedByTargetExporter)"
assert_eq "vsn strictly increasing, markers in place" "ok" "$(queue_vsn_check "$ED" 2>&1)"
meta() { python3 -c "import sqlite3,sys; print('\n'.join('|'.join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))" "$ED/metainfo/meta.db" "$1"; }
assert_eq "last segment is the end of stream" "1|1|target_db_exporter_fb" \
    "$(meta "SELECT is_last, is_closed, exporter_role FROM queue_segment ORDER BY segment_no DESC LIMIT 1")"
nseg=$(meta "SELECT count(*) FROM queue_segment")
check "segments rotated (small QUEUE_SEGMENT_MAX_BYTES): $nseg" test "$nseg" -ge 3
last=$(tail -n 2 "$ED/$(meta "SELECT file_path FROM queue_segment ORDER BY segment_no DESC LIMIT 1")")
assert_match "end-of-stream event then end-of-segment marker" '"op":"cutover.source","exporter_role":"target_db_exporter_fb"\}.\\\.$' "$(echo $last)"
assert_eq "final sequence value recorded" "777|1" \
    "$(meta "SELECT last_value, is_called FROM sequence_last_values WHERE phase = 'cutover.source' AND sequence_name = 'counter_seq'")"
assert_eq "slot and publication dropped" "0 0" \
    "$(psql_as target yugabyte -c "SELECT (SELECT count(*) FROM pg_replication_slots) || ' ' || (SELECT count(*) FROM pg_publication)")"

queue_replay_sql "$ED" target_db_exporter_fb >"$TEST_TMP/replay.sql"
check "replaying the queue into the copy: every update/delete hits exactly one row, no duplicate insert" \
    psql_as target copydb -f "$TEST_TMP/replay.sql"
compare_databases target target yugabyte copydb
counts=$(meta "SELECT sum(num_inserts + num_updates + num_deletes) FROM queue_table_counts WHERE exporter_role = 'target_db_exporter_fb'")
assert_eq "queue_table_counts agree with the queue" "$(queue_events "$ED" target_db_exporter_fb)" "$counts"
check "restart after the end of stream is harmless" "$V" export data from target -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
assert_match "restart says the stream already ended" "already ended" "$(cat "$LAST_OUT")"

# The slot dropped behind an exporter that has queued no change yet, then a change on the
# target: the rerun refuses (that change is lost) instead of creating a new slot after it.
ED3=$(new_export_dir)
status_new_migration "$ED3"
status_cut_over_to_target "$ED3"
status_source_exporter_tables "$ED3"
"$V" export data from target -e "$ED3" "${TGT_FLAGS[@]}" --disable-pb true >>"$TEST_TMP/exporter3.out" 2>&1 &
EXP_PID=$!
check "an exporter of a second migration streams" wait_slot
kill -TERM "$EXP_PID"
wait_exit "$EXP_PID" 30 >/dev/null
psql_as target yugabyte -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots" >/dev/null
psql_as target yugabyte -c "INSERT INTO public.pairs VALUES (-1, 'after the drop', 'lost')" >/dev/null
expect_fail "its slot dropped, no change queued yet: refused" 3 "is gone, so changes made on the target" \
    timeout 60 "$V" export data from target -e "$ED3" "${TGT_FLAGS[@]}" --disable-pb true
assert_eq "no slot created after the change" 0 "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_replication_slots")"
psql_as target yugabyte -c "DROP PUBLICATION IF EXISTS $(psql_as target yugabyte -c "SELECT string_agg(quote_ident(pubname), ', ') FROM pg_publication")" >/dev/null 2>&1

# Prerequisites: a database without logical decoding.
pg_start plain plaindb
psql_as plain postgres -c "ALTER SYSTEM SET wal_level = replica" >/dev/null
pg_restart plain
ED2=$(new_export_dir)
cp "$ED/metainfo/meta.db" "$ED2/meta.tmp" 2>/dev/null
status_new_migration "$ED2"
status_set "$ED2" ExportType '"snapshot-and-changes"' FallbackEnabled true CutoverToTargetRequested true \
    CutoverProcessedBySourceExporter true CutoverProcessedByTargetImporter true
python3 - "$ED2/metainfo/meta.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS cdc_exporter_state (exporter_role TEXT PRIMARY KEY, slot_name TEXT, publication_name TEXT, snapshot_done INTEGER NOT NULL DEFAULT 0, last_commit_lsn INTEGER NOT NULL DEFAULT 0, last_vsn INTEGER NOT NULL DEFAULT 0, total_events INTEGER NOT NULL DEFAULT 0, tables TEXT, stream_done INTEGER NOT NULL DEFAULT 0)")
db.execute("INSERT INTO cdc_exporter_state(exporter_role, tables) VALUES ('source_db_exporter', '[]')")
db.commit()
PY
expect_refusal "wal_level=replica is refused with the fix" 5 "wal_level is 'replica'.* hint: run ALTER SYSTEM SET wal_level = logical" \
    "$V" export data from target -e "$ED2" --target-db-host 127.0.0.1 --target-db-port "$PLAIN_PORT" \
    --target-db-user voyager --target-db-name plaindb
done_testing
