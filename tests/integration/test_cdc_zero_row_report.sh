#!/bin/bash
# Updates and deletes that find no row on the target (it was written to before the cutover)
# are counted in meta.db across importer runs (kill -9 included), and at the cutover import data
# warns with the migration's total and the fix (compare data --level rows), which names the rows.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/e2e.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
psql_as source sourcedb -c "CREATE TABLE t (id int PRIMARY KEY, v text); ALTER TABLE t REPLICA IDENTITY FULL;
    INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 10) g" >/dev/null
copy_schema source target || exit 1
ED=$(new_export_dir)
src() { psql_as source sourcedb -c "$1" >/dev/null; }
tgt() { psql_as target yugabyte -c "$1" >/dev/null; }
zero_rows() { python3 -c "import json,sqlite3,sys; print(json.loads(sqlite3.connect(sys.argv[1]).execute('select record from migration_status').fetchone()[0]).get('ZeroRowChanges', {}).get('target_db_importer', 0))" "$ED/metainfo/meta.db"; }
wait_zero() { local i; for i in $(seq 150); do [ "$(zero_rows)" -ge "$1" ] 2>/dev/null && return 0; sleep 0.2; done; return 1; }

live_start_exporter
check "snapshot exported" status_wait "$ED" ExportDataDone 60
check "export data streams" wait_streaming
live_start_importer
check "the snapshot arrives" wait_equal source target 60
tgt "DELETE FROM t WHERE id IN (5, 6)"
src "UPDATE t SET v = 'changed' WHERE id = 5"
check "an update that found no row is counted in meta.db" wait_zero 1
kill -9 "$IMP_PID"; wait "$IMP_PID" 2>/dev/null
live_start_importer
src "DELETE FROM t WHERE id = 6"
src "INSERT INTO t VALUES (11, 'new')"
check "the next run adds its delete that found no row" wait_zero 2
new_row() { local i; for i in $(seq 150); do [ "$(psql_as target yugabyte -c 'SELECT count(*) FROM t WHERE id = 11')" = 1 ] && return 0; sleep 0.2; done; return 1; }
check "the new row arrives" new_row
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$IMP_PID" 60 >/dev/null
wait_exit "$EXP_PID" 60 >/dev/null
assert_match "import data warns at the cutover with the migration's total and the fix" \
    "warning: 2 update\(s\)/delete\(s\) of this migration found no row on the target database: it differs .* hint: compare data --level rows names the rows that differ" \
    "$(tr '\n' ' ' <"$TEST_TMP/importer.out")"
"$V" compare data -e "$ED" --level rows >"$LAST_OUT" 2>"$LAST_ERR"
assert_eq "compare data finds the difference (exit 7)" 7 "$?"
assert_match "and names the row" "5" "$(cat "$LAST_OUT")"
done_testing
