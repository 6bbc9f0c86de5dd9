#!/bin/bash
# Live export restarts around the snapshot: killed after the slot was made but
# before the snapshot completed (a new slot and a new snapshot, nothing lost or
# doubled), and --start-clean (slot, queue and positions start over).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
psql_as source sourcedb -c "CREATE TABLE public.big (id int PRIMARY KEY, pad text); ALTER TABLE public.big REPLICA IDENTITY FULL;
    INSERT INTO public.big SELECT g, repeat('p', 200) FROM generate_series(1, 300000) g" >/dev/null
copydb_create
LIVE=(--export-type snapshot-and-changes --disable-pb true --parallel-jobs 1)
slots() { psql_as source sourcedb -c "SELECT string_agg(slot_name || ':' || restart_lsn, ',') FROM pg_replication_slots"; }

"$V" export data -e "$ED" "${SRC_FLAGS[@]}" "${LIVE[@]}" >>"$TEST_TMP/exporter.out" 2>&1 &
pid=$!
for i in $(seq 1 200); do [ -n "$(slots)" ] && break; sleep 0.05; done
first=$(slots)
kill -9 $pid; wait $pid 2>/dev/null
check "killed during the snapshot (slot made, snapshot not complete)" test "$(status_get "$ED" ExportDataDone)" != true -a -n "$first"
psql_as source sourcedb -c "UPDATE public.big SET pad = 'changed between the runs' WHERE id % 1000 = 0; DELETE FROM public.items WHERE id <= 5" >/dev/null
"$V" export data -e "$ED" "${SRC_FLAGS[@]}" "${LIVE[@]}" >>"$TEST_TMP/exporter.out" 2>&1 &
pid=$!
for i in $(seq 1 300); do [ "$(status_get "$ED" ExportDataDone)" = true ] && break; sleep 0.1; done
assert_match "restart says the snapshot starts again" "snapshot of an earlier run did not complete" "$(cat "$TEST_TMP/exporter.out")"
check "a new slot replaced the old one" test "$(slots)" != "$first"
live_workload_sql 300 31 | psql_as source sourcedb >/dev/null
"$V" initiate cutover to target -e "$ED" >/dev/null
wait $pid
assert_eq "exporter exits 0 after the cutover drain" 0 "$?"
snapshot_load_sql "$ED" >"$TEST_TMP/load.sql"
check "snapshot loads into the copy" psql_as source copydb -f "$TEST_TMP/load.sql"
queue_replay_sql "$ED" source_db_exporter >"$TEST_TMP/replay.sql"
check "queue replays on it" psql_as source copydb -f "$TEST_TMP/replay.sql"
compare_databases source source sourcedb copydb

# --start-clean: the change capture starts over (new slot, empty queue, vsn from 1).
status_set "$ED" CutoverToTargetRequested false CutoverProcessedBySourceExporter false
"$V" export data -e "$ED" "${SRC_FLAGS[@]}" "${LIVE[@]}" --start-clean true >>"$TEST_TMP/exporter2.out" 2>&1 &
pid=$!
for i in $(seq 1 300); do [ "$(status_get "$ED" ExportDataDone)" = true ] && [ -n "$(slots)" ] && break; sleep 0.1; done
psql_as source sourcedb -c "INSERT INTO public.pairs VALUES (424242, 'sc', 'after start-clean')" >/dev/null
status_set "$ED" CutoverToTargetRequested true
for i in $(seq 1 150); do kill -0 $pid 2>/dev/null || break; sleep 0.2; done
kill -TERM $pid 2>/dev/null
wait $pid
assert_eq "start-clean run exits 0 after the cutover drain" 0 "$?"
assert_match "start-clean removed the old queue" "removed the change queue" "$(cat "$ED"/logs/*export-data*.log)"
assert_eq "queue starts again at vsn 1 and ends with the new row and the marker" \
    '1 c 424242|2 cutover.target -' \
    "$(python3 -c "$_queue_py"'
print("|".join("%d %s %s" % (e["vsn"], e["op"], e.get("key", {}).get("a", "-")) for _, e in events()))' "$ED")"
done_testing
