#!/bin/bash
# A lost or replaced meta.db (issue 11, defect 7). A live migration with
# changes in the queue the importer has not applied yet; meta.db (with -wal and
# -shm) removed: import data and export data refuse, naming meta.db as missing;
# nothing is created or cut (segment sizes and the source's replication slots
# unchanged, no new meta.db). meta.db replaced by one of another migration:
# refused as damaged. Restored from the backup: the migration continues and
# the target ends equal to the source.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
LIVE=(--export-type snapshot-and-changes --disable-pb true)
export QUEUE_SEGMENT_MAX_BYTES=100000
queue_state() { (cd "$ED/data/queue" && stat -c '%n %s' segment.*.ndjson | sort); }
slots() { psql_as source sourcedb -c "SELECT string_agg(slot_name || ' ' || restart_lsn, ',' ORDER BY slot_name) FROM pg_replication_slots"; }

live_setup || exit 1
live_workload_sql 150 41 | psql_as source sourcedb >/dev/null
# the importer applies these, then stops: what follows stays in the queue only
for i in $(seq 1 150); do
    want=$(queue_events "$ED" source_db_exporter)
    [ "$want" -gt 0 ] && [ "$(live_applied)" = "$want" ] && break
    sleep 0.2
done
live_stop "$IMP_PID"
live_workload_sql 300 42 | psql_as source sourcedb >/dev/null
n=0
for i in $(seq 1 150); do
    n2=$(queue_events "$ED" source_db_exporter)
    [ "$n2" = "$n" ] && [ "$n" -gt 0 ] && break
    n=$n2
    sleep 0.3
done
live_stop "$EXP_PID"
applied=$(psql_as target yugabyte -c "SELECT sum(num_inserts + num_updates + num_deletes) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")
check "the queue holds changes not applied yet ($applied of $(queue_events "$ED" source_db_exporter))" \
    test "$applied" -lt "$(queue_events "$ED" source_db_exporter)"
before_q=$(queue_state)
before_s=$(slots)
mkdir "$TEST_TMP/backup"
cp "$ED"/metainfo/meta.db* "$TEST_TMP/backup/"
rm -f "$ED"/metainfo/meta.db "$ED"/metainfo/meta.db-wal "$ED"/metainfo/meta.db-shm

expect_refusal "import data without meta.db: refused, meta.db named as missing" 3 \
    "meta.db is missing, but the export dir holds exported data.*restore" \
    timeout 30 "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
expect_refusal "export data without meta.db: refused (no new migration over the old queue)" 3 \
    "meta.db is missing" timeout 30 "$V" export data -e "$ED" "${SRC_FLAGS[@]}" "${LIVE[@]}"
expect_refusal "any command: refused" 3 "meta.db is missing" "$V" export data status -e "$ED"
check "no meta.db was created" test ! -e "$ED/metainfo/meta.db"
assert_eq "no queue segment was cut or added" "$before_q" "$(queue_state)"
assert_eq "no replication slot was added or dropped" "$before_s" "$(slots)"

# meta.db of another migration (it knows none of these files)
ED2=$(new_export_dir)
status_new_migration "$ED2"
cp "$ED2/metainfo/meta.db" "$ED/metainfo/meta.db"
expect_refusal "export data with another migration's meta.db: refused as damaged" 3 \
    "has no record of queue segment data/queue/segment\.[0-9]+\.ndjson detail: meta.db is damaged or of another migration" \
    timeout 30 "$V" export data -e "$ED" "${SRC_FLAGS[@]}" "${LIVE[@]}"
expect_refusal "import data with it: refused too" 3 "meta.db is damaged" \
    timeout 30 "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
assert_eq "still no queue segment cut or added" "$before_q" "$(queue_state)"
assert_eq "still the same replication slot" "$before_s" "$(slots)"

# restored: the migration goes on and ends equal
rm -f "$ED"/metainfo/meta.db*
cp "$TEST_TMP"/backup/meta.db* "$ED/metainfo/"
live_start_exporter
live_start_importer
live_workload_sql 50 43 | psql_as source sourcedb >/dev/null
check "export data streams again" wait_streaming
live_cutover_to_target
done_testing
