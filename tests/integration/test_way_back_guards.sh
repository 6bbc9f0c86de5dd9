#!/bin/bash
# Fall-back and fall-forward exclude each other, and neither may start where it
# would miss changes (issue 11, defect 3):
#   - initiate cutover to target --prepare-for-fall-back true with fall-forward on, or a
#     repeated request whose --prepare-for-fall-back differs from the first (it was ignored);
#   - import data to source-replica first started after cutover to target was
#     initiated, or with fall-back prepared, or after archive changes --delete
#     removed source changes it needs;
#   - import data to source with fall-forward on, or after a cutover without fall-back, or in
#     an offline migration (or before any export data): no change would ever come.
# Each is refused (exit 3, saying why and what to do) and changes nothing. Then
# on real clusters: a source-replica registered by a first run that could not
# connect keeps archive changes --delete from deleting what it needs; started
# later, it ends equal to the source, and archive then deletes.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/e2e.sh"
V=$VOYAGER
conn_flags
# A port nothing listens on: the refusals must come before any connection.
free_port=1
REPLICA_NOWHERE=(--source-replica-db-host 127.0.0.1 --source-replica-db-port "$free_port"
    --source-replica-db-user voyager --source-replica-db-name replicadb)
SRC_NOWHERE=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$free_port"
    --source-db-user voyager --source-db-name sourcedb)

fresh_dir() {
    local ed
    ed=$(new_export_dir)
    status_new_migration "$ed"
    status_set "$ed" ExportType '"snapshot-and-changes"' "$@"
    echo "$ed"
}
seg_sql() { python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); r=db.execute(sys.argv[2]).fetchone(); db.commit(); print(r[0] if r else '')" "$1/metainfo/meta.db" "$2"; }

# --- refusals on a seeded status record ---
ED=$(fresh_dir FallForwardEnabled true)
expect_refusal "fall-back refused while fall-forward is on" 3 \
    "fall-back and fall-forward exclude each other hint: run 'initiate cutover to target' without --prepare-for-fall-back" \
    "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true
assert_eq "the refused cutover recorded nothing" "null null" \
    "$(status_get "$ED" CutoverToTargetRequested) $(status_get "$ED" FallbackEnabled)"
check "cutover to target without fall-back is accepted with fall-forward on" \
    "$V" initiate cutover to target -e "$ED"
ED=$(fresh_dir)
check "cutover to target without fall-back" "$V" initiate cutover to target -e "$ED"
expect_fail "a repeated request cannot add fall-back afterwards" 3 "already initiated without --prepare-for-fall-back true" \
    "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true
check "a repeated request that agrees is fine" "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back false
ED=$(fresh_dir)
check "cutover to target prepared for fall-back" "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true
expect_fail "a repeated request cannot drop fall-back afterwards" 3 "already initiated with fall-back prepared" \
    "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back false
check "a repeated request without the flag is fine" "$V" initiate cutover to target -e "$ED"
assert_eq "fall-back still prepared" true "$(status_get "$ED" FallbackEnabled)"

ED=$(fresh_dir CutoverToTargetRequested true FallbackEnabled false)
expect_refusal "fall-forward first started after cutover to target is refused" 3 \
    "cutover to target was already initiated.* detail: 'import data to source-replica' must be started before 'initiate cutover to target'" \
    "$V" import data to source-replica -e "$ED" "${REPLICA_NOWHERE[@]}" --disable-pb true
assert_eq "the refused source-replica is not registered" "null" "$(status_get "$ED" FallForwardEnabled)"

ED=$(fresh_dir FallbackEnabled true CutoverToTargetRequested true)
expect_refusal "fall-forward refused when fall-back was prepared" 3 \
    "fall-back and fall-forward exclude each other detail: this migration was prepared for fall-back" \
    "$V" import data to source-replica -e "$ED" "${REPLICA_NOWHERE[@]}" --disable-pb true
assert_eq "fall-back migration: no source-replica registered" "null" "$(status_get "$ED" FallForwardEnabled)"

ED=$(fresh_dir FallForwardEnabled true)
expect_refusal "import data to source refused while fall-forward is on" 3 \
    "fall-back and fall-forward exclude each other detail: fall-forward is on .* hint: keep the source-replica in sync with 'import data to source-replica'" \
    "$V" import data to source -e "$ED" "${SRC_NOWHERE[@]}" --disable-pb true
ED=$(fresh_dir CutoverToTargetRequested true FallbackEnabled false)
expect_refusal "import data to source refused after a cutover without fall-back" 3 \
    "without --prepare-for-fall-back true, so no change is captured for the source detail: this migration has no fall-back" \
    "$V" import data to source -e "$ED" "${SRC_NOWHERE[@]}" --disable-pb true
ED=$(fresh_dir)
status_set "$ED" ExportType '"snapshot-only"'
expect_refusal "import data to source refused for an offline migration (it would wait forever)" 3 \
    "import data to source: this migration is not live detail: the target's changes come back only in a live migration.* hint: nothing to do for an offline migration" \
    "$V" import data to source -e "$ED" "${SRC_NOWHERE[@]}" --disable-pb true
ED=$(fresh_dir)
status_set "$ED" ExportType null
expect_refusal "import data to source refused before any export data" 3 "this migration is not live" \
    "$V" import data to source -e "$ED" "${SRC_NOWHERE[@]}" --disable-pb true

ED=$(fresh_dir)
python3 - "$ED/metainfo/meta.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("""CREATE TABLE IF NOT EXISTS queue_segment (segment_no INTEGER PRIMARY KEY,
 file_path TEXT NOT NULL, exporter_role TEXT NOT NULL, committed_size INTEGER NOT NULL DEFAULT 0,
 first_vsn INTEGER, last_vsn INTEGER, total_events INTEGER NOT NULL DEFAULT 0,
 is_closed INTEGER NOT NULL DEFAULT 0, is_last INTEGER NOT NULL DEFAULT 0,
 imported_by_target_db_importer INTEGER NOT NULL DEFAULT 0,
 imported_by_source_replica_db_importer INTEGER NOT NULL DEFAULT 0,
 imported_by_source_db_importer INTEGER NOT NULL DEFAULT 0,
 archived INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, archive_location TEXT)""")
for no in (0, 1):
    db.execute("INSERT INTO queue_segment (segment_no, file_path, exporter_role, is_closed,"
               " imported_by_target_db_importer, deleted) VALUES (?, ?, 'source_db_exporter', 1, 1, 1)",
               (no, "data/queue/segment.%d.ndjson" % no))
db.commit()
PY
expect_refusal "fall-forward refused once archive deleted source changes it needs" 3 \
    "already deleted queue segments 0\.\.1.* hint: start 'import data to source-replica' before 'archive changes'" \
    "$V" import data to source-replica -e "$ED" "${REPLICA_NOWHERE[@]}" --disable-pb true
assert_eq "late source-replica not registered" "null" "$(status_get "$ED" FallForwardEnabled)"

# --- a registered source-replica that has not run yet, and archive changes --delete ---
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
pg_start target yugabyte || exit 1
pg_start source_replica replicadb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
copy_schema source target || exit 1
copy_schema source source_replica || exit 1
export QUEUE_SEGMENT_MAX_BYTES=100000 VOYAGER_ARCHIVE_POLL_MS=100
"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >>"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
check "snapshot exported" status_wait "$ED" ExportDataDone 60
# Its first run cannot reach the source-replica: it registers all the same.
YB_VOYAGER_RETRY_TIMEOUT=2 "$V" import data to source-replica -e "$ED" "${REPLICA_NOWHERE[@]}" --disable-pb true >"$LAST_OUT" 2>&1
assert_eq "first source-replica run cannot connect and gives up resumably" 3 "$?"
assert_eq "and registers fall-forward" true "$(status_get "$ED" FallForwardEnabled)"
"$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true >>"$TEST_TMP/importer.out" 2>&1 &
IMP_PID=$!
"$V" archive changes -e "$ED" --delete --fs-utilization-threshold 0 >"$TEST_TMP/archive.out" 2>&1 &
ARC_PID=$!
live_workload_sql 600 7 | psql_as source sourcedb >/dev/null 2>"$TEST_TMP/wl.err"
assert_eq "source workload ran without error" "" "$(head -c 300 "$TEST_TMP/wl.err")"
check "target catches up" wait_equal source target 90
closed=$(seg_sql "$ED" "SELECT count(*) FROM queue_segment WHERE exporter_role = 'source_db_exporter' AND is_closed = 1 AND imported_by_target_db_importer = 1")
[ "$closed" -ge 2 ] && ok "several closed segments applied by the target ($closed)" || not_ok "several closed segments applied by the target ($closed)"
sleep 1 # several archive passes
assert_eq "archive deleted nothing the registered source-replica needs" "0" \
    "$(seg_sql "$ED" "SELECT count(*) FROM queue_segment WHERE deleted = 1")"
assert_eq "every segment file still in the queue" "$(seg_sql "$ED" "SELECT count(*) FROM queue_segment")" \
    "$(ls "$ED/data/queue" | grep -c '^segment\..*\.ndjson$')"
"$V" import data to source-replica -e "$ED" "${REPLICA_FLAGS[@]}" --disable-pb true >>"$TEST_TMP/replica.out" 2>&1 &
REP_PID=$!
check "the source-replica, started late, ends equal to the source" wait_equal source source_replica 90
compare_databases source source_replica
for _ in $(seq 1 50); do
    [ "$(seg_sql "$ED" "SELECT count(*) FROM queue_segment WHERE deleted = 1")" -ge 1 ] && break
    sleep 0.2
done
d=$(seg_sql "$ED" "SELECT count(*) FROM queue_segment WHERE deleted = 1")
[ "$d" -ge 1 ] && ok "archive deletes once both importers applied ($d)" || not_ok "archive deletes once both importers applied ($d)"
assert_eq "only segments both importers applied were deleted" "0" \
    "$(seg_sql "$ED" "SELECT count(*) FROM queue_segment WHERE deleted = 1 AND (imported_by_target_db_importer = 0 OR imported_by_source_replica_db_importer = 0)")"
for p in $ARC_PID $REP_PID $IMP_PID $EXP_PID; do kill "$p" 2>/dev/null; done
for p in $ARC_PID $REP_PID $IMP_PID $EXP_PID; do wait_exit "$p" 30 >/dev/null; done
done_testing
