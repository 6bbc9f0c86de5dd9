#!/bin/bash
# export data on an export dir older than its replication slot (review finding F1): the operator
# restores a backup copy of the export dir (or another copy ran --start-clean and made the slot
# again). The slot was confirmed past the copy's queue, the server never sends those changes
# again, and they were lost with exit 0 (the importer even skipped the new ones, whose vsns the
# target had applied already). Now export data refuses (exit 3) naming the slot, both positions
# and the fix. A slot confirmed past the queue's last commit only through WAL of other tables
# (an idle stream) is recorded before it is confirmed, so a restart there, even after kill -9, goes on.
#   A. idle confirmations past the last commit, kill -9, restart: streams on, source = target
#   A2. an export dir of an older build (confirmed position -1): not checked, streams on, and
#      records the position from its next idle confirmation
#   B. a restored copy: refused, nothing more queued; --start-clean on both sides mends it
#   C. a copy of the export dir runs export data --start-clean (the slot made again under the
#      same name): the original, restarted, refuses
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/e2e.sh"
pg_start source sourcedb >/dev/null || exit 1
pg_start target yugabyte >/dev/null || exit 1
conn_flags
psql_as source sourcedb >/dev/null <<'SQL' || exit 1
CREATE TABLE t (id int PRIMARY KEY, v text);
ALTER TABLE t REPLICA IDENTITY FULL;
INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 20) g;
SQL
copy_schema source target || exit 1
# A table in another database of the source's cluster: its WAL moves the slot past the queue's
# last commit.
psql_as source postgres -c "CREATE TABLE other (id serial PRIMARY KEY, v text)" >/dev/null
ED=$(new_export_dir)
src() { psql_as source sourcedb -c "$1" >/dev/null; }
slot_confirmed() { psql_as source sourcedb -Atc "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name LIKE 'voyager_slot_%'"; }
queue_last_commit() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT last_commit_lsn FROM cdc_exporter_state WHERE exporter_role='source_db_exporter'\").fetchone()[0])" "$1/metainfo/meta.db"; }
# slot_past_queue: until the slot stands confirmed past the queue's last commit (at most 60 s).
slot_past_queue() {
    local i
    for i in $(seq 120); do
        [ "$(slot_confirmed)" -gt "$(queue_last_commit "$ED")" ] 2>/dev/null && return 0
        psql_as source postgres -c "INSERT INTO other(v) SELECT 'x' FROM generate_series(1, 100)" >/dev/null
        sleep 0.5
    done
    return 1
}
REFUSED="source database: replication slot voyager_slot_[0-9a-f]+ was confirmed up to LSN [0-9A-F]+/[0-9A-F]+, but this export directory's queue ends at [0-9A-F]+/[0-9A-F]+: the changes in between are in no queue of it"
FIX="run export data on the newest copy of this export directory \(the one that ran last\), or start the migration again with --start-clean"

live_start_exporter
check "snapshot exported" status_wait "$ED" ExportDataDone 60
check "export data streams" wait_streaming
live_start_importer
src "INSERT INTO t VALUES (100, 'first change')"
check "the snapshot and a change arrive" wait_equal source target 60

echo "# A: the slot confirmed past the last commit through other tables' WAL, then kill -9"
check "A: the slot moves past the queue's last commit" slot_past_queue
kill -9 "$EXP_PID"; wait "$EXP_PID" 2>/dev/null
live_start_exporter
src "INSERT INTO t VALUES (101, 'after the restart')"
check "A: export data goes on after kill -9" wait_equal source target 60
check "A: export data still runs" kill -0 "$EXP_PID"

echo "# A2: an export dir of an older build (no confirmed position recorded: -1), the slot past its last commit"
check "A2: the slot moves past the queue's last commit" slot_past_queue
live_stop "$EXP_PID"
meta_confirmed() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT confirmed_lsn FROM cdc_exporter_state WHERE exporter_role='source_db_exporter'\").fetchone()[0])" "$ED/metainfo/meta.db"; }
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE cdc_exporter_state SET confirmed_lsn = -1 WHERE exporter_role='source_db_exporter'\"); c.commit()" "$ED/metainfo/meta.db"
check "A2: it stands past it with export data stopped" test "$(slot_confirmed)" -gt "$(queue_last_commit "$ED")"
live_start_exporter
src "INSERT INTO t VALUES (110, 'after the older build')"
check "A2: export data goes on (nothing to compare with)" wait_equal source target 60
check "A2: export data still runs" kill -0 "$EXP_PID"
check "A2: the slot moves past the last commit again" slot_past_queue
check "A2: and from then on the confirmed position is recorded" test "$(meta_confirmed)" -ge 0

echo "# B: a restored older copy of the export dir"
live_stop "$EXP_PID"
live_stop "$IMP_PID"
cp -a "$ED" "$TEST_TMP/backup"
live_start_exporter
live_start_importer
src "INSERT INTO t VALUES (102, 'only in the newer queue'); UPDATE t SET v = 'changed' WHERE id = 1"
check "B: the newer changes arrive" wait_equal source target 60
live_stop "$EXP_PID"
live_stop "$IMP_PID"
rm -rf "$ED" && cp -a "$TEST_TMP/backup" "$ED"
src "INSERT INTO t VALUES (103, 'after the restore')"
: >"$TEST_TMP/exporter.out"
live_start_exporter
wait_exit "$EXP_PID" 60
assert_eq "B: export data on the restored copy exits 3" 3 "$?"
assert_match "B: the error names the slot and both positions" "$REFUSED" "$(grep '^error:' "$TEST_TMP/exporter.out" | tail -1)"
assert_match "B: and the fix" "$FIX" "$(grep '^hint:' "$TEST_TMP/exporter.out" | tail -1)"
check "B: nothing was queued after the refusal" bash -c "! cat '$ED'/data/queue/segment.*.ndjson | grep -q 'after the restore'"
live_start_exporter --start-clean true
check "B: export data --start-clean takes a new snapshot" status_wait "$ED" ExportDataDone 60
live_start_importer --start-clean true --truncate-tables true
src "INSERT INTO t VALUES (104, 'streamed after the fix')"
check "B: after --start-clean on both sides, source = target" wait_equal source target 60

echo "# C: a copy of the export dir runs --start-clean (the slot made again under its name)"
live_stop "$IMP_PID"
live_stop "$EXP_PID"
cp -a "$ED" "$TEST_TMP/copy"
src "INSERT INTO t VALUES (105, 'before the copy made the slot again')"
"$VOYAGER" export data -e "$TEST_TMP/copy" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true \
    --start-clean true --yes >"$TEST_TMP/copy.out" 2>&1 &
COPY_PID=$!
check "C: the copy exported its snapshot" status_wait "$TEST_TMP/copy" ExportDataDone 60
live_stop "$COPY_PID"
: >"$TEST_TMP/exporter.out"
live_start_exporter
wait_exit "$EXP_PID" 60
assert_eq "C: the original's export data exits 3" 3 "$?"
assert_match "C: the error names the slot and both positions" "$REFUSED" "$(grep '^error:' "$TEST_TMP/exporter.out" | tail -1)"
done_testing
