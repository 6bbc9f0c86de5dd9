#!/bin/bash
# What the read-only commands (export data status, import data status, cutover
# status, get data-migration-report, initiate cutover) tell the operator, on
# seeded export dirs (no database).
# - An export dir without a migration (empty, mistyped): refused with one line
#   naming the dir, exit 3, nothing made in it.
# - get data-migration-report before export data (after export schema only):
#   refused as on a fresh dir, not an empty table with exit 0.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
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

done_testing
