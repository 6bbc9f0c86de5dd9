#!/bin/bash
# What the read-only commands (export data status, import data status, cutover
# status, get data-migration-report, initiate cutover) tell the operator, on
# seeded export dirs (no database).
# - An export dir without a migration (empty, mistyped): refused with one line
#   naming the dir, exit 3, nothing made in it.
# - get data-migration-report before export data (after export schema only):
#   refused as on a fresh dir, not an empty table with exit 0.
# - export data / import data not running (killed) with tables unfinished:
#   those tables STOPPED (not EXPORTING / MIGRATING / STREAMING), and a note
#   that the figures are as of the last save, with the restart hint; in the
#   json output the status too (the note on stderr, stdout stays JSON).
# - the import's rows of an export that export data --start-clean replaced:
#   EARLIER_EXPORT against the current export's total at 0% (not DONE 100%),
#   with the fix (import data --start-clean).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
# hold_lock DIR NAME: a process holding DIR's command lock NAME (as that command would), in $HELD
HELD=()
hold_lock() {
    bash -c 'exec 9>"$1"; flock 9; echo $$ >&9; exec sleep 30' _ "$1/.$2.lck" &
    HELD+=($!)
    sleep 0.3
}
release_locks() { kill "${HELD[@]}" 2>/dev/null; wait "${HELD[@]}" 2>/dev/null; HELD=(); }
trap 'release_locks; harness_cleanup' EXIT
# json_field FILE INDEX KEY: a field of a row of a status command's json output
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[int(sys.argv[2])][sys.argv[3]])" "$@"; }
# sql ED STATEMENT...: run statements on ED's meta.db
sql() {
    python3 - "$1/metainfo/meta.db" "${@:2}" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for st in sys.argv[2:]:
    db.execute(st)
db.commit()
PY
}

# ---- no migration in the export dir: refused, nothing made ----
READ_ONLY=("export data status" "import data status" "cutover status" "get data-migration-report"
    "initiate cutover to target" "initiate cutover to source" "initiate cutover to source-replica")
E=$(new_export_dir)
for c in "${READ_ONLY[@]}"; do
    # shellcheck disable=SC2086 # a command path of words
    expect_refusal "$c on an empty dir: refused" 3 \
        "^error: no migration in export dir $E \(it has no metainfo/meta.db\) hint: check --export-dir" \
        "$V" $c -e "$E"
done
expect_refusal "export data status --output-format json on an empty dir: refused" 3 \
    "^error: no migration in export dir $E " "$V" export data status -e "$E" --output-format json
assert_eq "nothing was made in the empty dir" "" "$(find "$E" -mindepth 1)"
expect_refusal "a mistyped --export-dir: refused, named as not existing" 3 \
    "^error: no migration in export dir $E/typo \(it does not exist\) hint: check --export-dir" \
    "$V" import data status -e "$E/typo"
check "the mistyped dir was not made" test ! -e "$E/typo"
# exported data without meta.db: the lost meta.db is named (export_dir_guard), not "no migration"
mkdir -p "$E/data"
echo "1	x" >"$E/data/t_data.sql"
expect_refusal "a dir with exported data and no meta.db: meta.db named as missing" 3 \
    "meta.db is missing, but the export dir holds exported data" "$V" cutover status -e "$E"
check "still no meta.db" test ! -e "$E/metainfo/meta.db"

ED=$(new_export_dir)
status_new_migration "$ED"
check "export data status on a migration without export data" "$V" export data status -e "$ED"
assert_eq "says export data has not started" "export data has not started yet in this export dir" \
    "$(cat "$LAST_OUT")"

# ---- get data-migration-report: refused until export data started ----
status_set "$ED" SourceDBConf '{"DBType":"postgresql","Host":"127.0.0.1","Port":1,"User":"voyager","DBName":"sourcedb","Schema":"public"}'
expect_refusal "report after export schema only (a source recorded, no export data): refused" 3 \
    "^error: no data migration in this export dir yet hint: run 'yb-voyager export data' first" \
    env -u SOURCE_DB_PASSWORD "$V" get data-migration-report -e "$ED"
sql "$ED" "INSERT INTO snapshot_export_table(schema_name, table_name, status, exported_rows) VALUES ('public', 't_big', 'EXPORTING', 0)"
check "report once export data started (the source without a password: its counts '-')" \
    env -u SOURCE_DB_PASSWORD "$V" get data-migration-report -e "$ED"
assert_match "it lists the table" "t_big" "$(cat "$LAST_OUT")"

# ---- export data / import data killed: the status commands say they do not run ----
ED=$(new_export_dir)
status_new_migration "$ED"
sql "$ED" "INSERT INTO snapshot_export_table(schema_name, table_name, status, exported_rows) VALUES ('public', 't_big', 'EXPORTING', 91032)" \
    "INSERT INTO snapshot_export_table(schema_name, table_name, status, exported_rows) VALUES ('public', 't_done', 'DONE', 7)"
check "export data status, export data killed mid-table" "$V" export data status -e "$ED"
assert_match "the unfinished table: STOPPED with its last saved count" "t_big +STOPPED +91032" "$(cat "$LAST_OUT")"
assert_match "the finished table: DONE" "t_done +DONE +7" "$(cat "$LAST_OUT")"
assert_match "a note: not running, figures as of the last save, restart hint" \
    "^note: 'export data' is not running: the figures are those it saved last; restart it with the same arguments" \
    "$(cat "$LAST_OUT")"
check "export data status --output-format json, export data killed" \
    "$V" export data status -e "$ED" --output-format json
assert_eq "json: STOPPED" "STOPPED" "$(json_field "$LAST_OUT" 0 status)"
assert_match "json: the note on stderr" "^note: 'export data' is not running" "$(cat "$LAST_ERR")"
hold_lock "$ED" export-data-from-source
"$V" export data status -e "$ED" >"$LAST_OUT"
assert_match "export data running: EXPORTING" "t_big +EXPORTING +91032" "$(cat "$LAST_OUT")"
assert_eq "export data running: no note" "" "$(grep note "$LAST_OUT")"
release_locks

sql "$ED" "UPDATE snapshot_export_table SET status = 'DONE', exported_rows = 1500 WHERE table_name = 't_big'" \
    "INSERT INTO snapshot_import_table(importer_role, schema_name, table_name, status, imported_rows, total_rows) VALUES ('target_db_importer', 'public', 't_big', 'MIGRATING', 790, 1500)" \
    "INSERT INTO snapshot_import_table(importer_role, schema_name, table_name, status, imported_rows, total_rows) VALUES ('target_db_importer', 'public', 't_done', 'DONE', 7, 7)"
check "import data status, import data killed mid-table" "$V" import data status -e "$ED"
assert_match "the unfinished table: STOPPED with its last saved figures" "t_big +STOPPED +790 +1500 +52.67" "$(cat "$LAST_OUT")"
assert_match "the finished table: DONE" "t_done +DONE +7 +7 +100.00" "$(cat "$LAST_OUT")"
assert_match "a note: not running, figures as of the last save, restart hint" \
    "^note: 'import data' is not running: the figures are those it saved last \(the target may hold more rows: 'yb-voyager get data-migration-report' counts them\); restart it with the same arguments" \
    "$(cat "$LAST_OUT")"
check "import data status --output-format json, import data killed" \
    "$V" import data status -e "$ED" --output-format json
assert_eq "json: STOPPED" "STOPPED" "$(json_field "$LAST_OUT" 0 status)"
assert_match "json: the note on stderr" "^note: 'import data' is not running" "$(cat "$LAST_ERR")"
assert_eq "json report file: STOPPED" "STOPPED" "$(json_field "$ED/reports/import-data-status-report.json" 0 status)"
hold_lock "$ED" import-data-to-target
"$V" import data status -e "$ED" >"$LAST_OUT"
assert_match "import data running: MIGRATING" "t_big +MIGRATING +790 +1500 +52.67" "$(cat "$LAST_OUT")"
assert_eq "import data running: no note" "" "$(grep note "$LAST_OUT")"
release_locks

# live: the snapshot done, the exporter streams (STREAMING) or is gone (DONE, and a note)
status_set "$ED" ExportType '"snapshot-and-changes"'
hold_lock "$ED" export-data-from-source
"$V" export data status -e "$ED" >"$LAST_OUT"
assert_match "live, exporter running: STREAMING" "t_big +STREAMING +1500" "$(cat "$LAST_OUT")"
assert_eq "live, exporter running: no note" "" "$(grep note "$LAST_OUT")"
release_locks
"$V" export data status -e "$ED" >"$LAST_OUT"
assert_match "live, exporter gone: DONE, not STREAMING" "t_big +DONE +1500" "$(cat "$LAST_OUT")"
assert_match "live, exporter gone: a note that changes are not captured, restart hint" \
    "^note: 'export data' is not running: the source's changes are not captured until it runs again; restart it" \
    "$(cat "$LAST_OUT")"

# ---- export data --start-clean after the import: the import belongs to an earlier export ----
ED=$(new_export_dir)
status_new_migration "$ED"
status_set "$ED" SnapshotExportId '"export-1"'
sql "$ED" "INSERT INTO snapshot_export_table(schema_name, table_name, status, exported_rows) VALUES ('public', 't_big', 'DONE', 1000)" \
    "INSERT INTO snapshot_import_table(importer_role, schema_name, table_name, status, imported_rows, total_rows) VALUES ('target_db_importer', 'public', 't_big', 'DONE', 1000, 1000)" \
    "INSERT INTO snapshot_import_generation(importer_role, export_id) VALUES ('target_db_importer', 'export-1')"
check "import data status, the import of the current export done" "$V" import data status -e "$ED"
assert_match "same export: DONE 100%" "t_big +DONE +1000 +1000 +100.00" "$(cat "$LAST_OUT")"
# what export data --start-clean leaves: a new export id, the tables exported again
status_set "$ED" SnapshotExportId '"export-2"'
sql "$ED" "UPDATE snapshot_export_table SET exported_rows = 1500" \
    "INSERT INTO snapshot_export_table(schema_name, table_name, status, exported_rows) VALUES ('public', 't_new', 'DONE', 5)"
check "import data status after export data --start-clean" "$V" import data status -e "$ED"
assert_match "the imported table: EARLIER_EXPORT, the current export's total, 0%" \
    "t_big +EARLIER_EXPORT +1000 +1500 +0.00" "$(cat "$LAST_OUT")"
assert_match "a table the import never had: NOT_STARTED" "t_new +NOT_STARTED +0 +5 +0.00" "$(cat "$LAST_OUT")"
assert_match "a note with the fix" \
    "^note: the rows shown EARLIER_EXPORT were imported from an earlier export: the data was exported again \(export data --start-clean\) since.*--start-clean true" \
    "$(cat "$LAST_OUT")"
check "import data status --output-format json after export data --start-clean" \
    "$V" import data status -e "$ED" --output-format json
assert_eq "json: EARLIER_EXPORT" "EARLIER_EXPORT" "$(json_field "$LAST_OUT" 0 status)"
assert_eq "json: the current export's total" "1500" "$(json_field "$LAST_OUT" 0 total_count)"
assert_eq "json: 0%" "0" "$(json_field "$LAST_OUT" 0 percentage_complete)"

done_testing
