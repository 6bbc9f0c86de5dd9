#!/bin/bash
# end migration on real clusters: refuses while a process runs or without the
# backup flags, backs up what was asked, drops this migration's slots,
# publications and ybvoyager_metadata (and nothing else), empties the export dir.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
ED=$(new_export_dir)
BK="$TEST_TMP/backup"
mkdir -p "$BK"

status_new_migration "$ED"
uuid=$(status_get "$ED" MigrationUUID | tr -d '"-')
conf() { printf '{"DBType":"postgresql","Host":"127.0.0.1","Port":%s,"User":"voyager","DBName":"%s"}' "$1" "$2"; }
status_set "$ED" SourceDBConf "$(conf "$SOURCE_PORT" sourcedb)" TargetDBConf "$(conf "$TARGET_PORT" yugabyte)"
# export data could not drop its slot at cutover (test_cutover_slot_drop.sh makes that for real)
status_set "$ED" FeedsLeftAtCutover '{"CutoverProcessedBySourceExporter": "replication slot on the source database"}'
LEFT_WARNING="warning: 'export data from source' could not drop its replication slot on the source database"

# What a live migration leaves behind, plus things of another migration that must survive.
psql_as source sourcedb -c "CREATE PUBLICATION voyager_pub_$uuid FOR ALL TABLES" \
    -c "CREATE PUBLICATION other_pub FOR ALL TABLES" \
    -c "SELECT pg_create_logical_replication_slot('voyager_slot_$uuid', 'pgoutput')" \
    -c "SELECT pg_create_logical_replication_slot('other_slot', 'pgoutput')" >/dev/null
# (the bookkeeping table as import data makes it, with a row of this migration)
psql_as target yugabyte -c "CREATE SCHEMA ybvoyager_metadata" \
    -c "CREATE TABLE ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3 (migration_uuid uuid NOT NULL,
        data_file_name text NOT NULL, batch_number integer NOT NULL, schema_name text NOT NULL,
        table_name text NOT NULL, rows_imported bigint,
        PRIMARY KEY (migration_uuid, data_file_name, batch_number, schema_name, table_name))" \
    -c "INSERT INTO ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3 VALUES ('$uuid', 'f', 1, 'public', 't', 1)" \
    -c "CREATE PUBLICATION voyager_pub_$uuid" >/dev/null
echo "CREATE TABLE x();" >"$ED/schema/keep.sql"
echo "a log line" >"$ED/logs/yb-voyager-export-data-from-source.log"
echo "report" >"$ED/reports/schema_analysis_report.txt"

ALL=(--backup-schema-files true --backup-data-files false --backup-log-files true --save-migration-reports true)
expect_fail "backup flags are all required" 2 "required flag --backup-log-files" \
    "$V" end migration -e "$ED" --backup-schema-files true --backup-data-files false --save-migration-reports false --yes
expect_fail "a backup needs --backup-dir" 3 "backup-dir is required" "$V" end migration -e "$ED" "${ALL[@]}" --yes
expect_fail "--backup-dir must exist" 3 "does not exist or is not writable" \
    "$V" end migration -e "$ED" "${ALL[@]}" --backup-dir "$TEST_TMP/nope" --yes
expect_fail "--backup-dir inside the export dir is refused" 3 "inside the export dir" \
    "$V" end migration -e "$ED" "${ALL[@]}" --backup-dir "$ED/temp" --yes
expect_fail "--backup-dir is checked before the question" 3 "does not exist or is not writable" \
    "$V" end migration -e "$ED" "${ALL[@]}" --backup-dir "$TEST_TMP/nope" </dev/null
expect_fail "no terminal and no --yes: refused" 3 "pass --yes" \
    "$V" end migration -e "$ED" "${ALL[@]}" --backup-dir "$BK" </dev/null

bash -c 'exec 9>"$1"; flock 9; echo $$ >&9; exec sleep 20' _ "$ED/.import-data-to-target.lck" &
holder=$!
sleep 0.3
expect_fail "refused while a migration process runs" 3 "'yb-voyager import data to target' \(pid $holder\) is still running" \
    "$V" end migration -e "$ED" "${ALL[@]}" --backup-dir "$BK" --yes
kill $holder; wait $holder 2>/dev/null

SOURCE_DB_PASSWORD="wrong" expect_fail "the source it cannot clean keeps the export dir" 4 "password authentication failed" \
    "$V" end migration -e "$ED" "${ALL[@]}" --backup-dir "$BK" --yes
assert_match "the slot left at cutover is still warned of (its drop failed again)" "$LEFT_WARNING" \
    "$("$V" cutover status -e "$ED" 2>&1)"
TARGET_DB_PASSWORD="wrong" expect_fail "a database it cannot clean keeps the export dir" 5 "password authentication failed" \
    "$V" end migration -e "$ED" "${ALL[@]}" --backup-dir "$BK" --yes
[ -s "$ED/metainfo/meta.db" ] && ok "export dir kept after the failure" || not_ok "export dir kept after the failure"
assert_match "it says the slot left at cutover is dropped" "source database: the change feed an exporter left there at cutover is dropped too" \
    "$(cat "$LAST_OUT")"
assert_eq "the source was cleaned: cutover status no longer warns of the slot left" "" \
    "$("$V" cutover status -e "$ED" 2>&1 | grep -i warning)"

check "end migration" "$V" end migration -e "$ED" "${ALL[@]}" --backup-dir "$BK" --yes
assert_eq "our slot dropped, the other kept" "other_slot" "$(psql_as source sourcedb -c "SELECT string_agg(slot_name, ',') FROM pg_replication_slots")"
assert_eq "our publication dropped, the other kept" "other_pub" "$(psql_as source sourcedb -c "SELECT string_agg(pubname, ',') FROM pg_publication")"
assert_eq "target publication dropped" "0" "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_publication")"
assert_eq "ybvoyager_metadata dropped" "0" "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'")"
[ -f "$BK/schema/keep.sql" ] && ok "schema backed up" || not_ok "schema backed up"
[ -f "$BK/logs/yb-voyager-export-data-from-source.log" ] && ok "logs backed up" || not_ok "logs backed up"
[ -f "$BK/reports/schema_analysis_report.txt" ] && ok "reports saved" || not_ok "reports saved"
[ ! -e "$BK/data" ] && ok "data not backed up when not asked" || not_ok "data not backed up when not asked"
[ -d "$ED" ] && [ -z "$(ls -A "$ED")" ] && ok "export dir emptied" || not_ok "export dir emptied" "$(ls -A "$ED")"

# Passwords: no TTY and none given -> one clear line; on a TTY -> a no-echo prompt.
ED2=$(new_export_dir)
status_new_migration "$ED2"
status_set "$ED2" TargetDBConf "$(conf "$TARGET_PORT" yugabyte)"
NONE=(--backup-schema-files false --backup-data-files false --backup-log-files false --save-migration-reports false --yes)
expect_refusal "--backup-dir with every backup flag false: nothing to back up" 2 \
    "^error: nothing to back up: --backup-dir is not used detail: .* are all false hint: remove --backup-dir" \
    "$V" end migration -e "$ED2" "${NONE[@]}" --backup-dir "$BK"
[ -s "$ED2/metainfo/meta.db" ] && ok "the refusal ended nothing" || not_ok "the refusal ended nothing"
saved_pw=$TARGET_DB_PASSWORD
unset TARGET_DB_PASSWORD
expect_fail "no password and no terminal" 5 "give --target-db-password or set TARGET_DB_PASSWORD" \
    "$V" end migration -e "$ED2" "${NONE[@]}" </dev/null
(sleep 1; printf '%s\n' "$VOYAGER_PW") | script -qec "$(printf '%q ' "$V" end migration -e "$ED2" "${NONE[@]}")" /dev/null >"$TEST_TMP/tty.out" 2>&1
assert_match "prompted on the terminal" "Password to target database \(voyager@127.0.0.1:$TARGET_PORT\)" "$(cat "$TEST_TMP/tty.out")"
assert_match "the prompted password worked" "migration ended" "$(cat "$TEST_TMP/tty.out")"
if grep -qF "$VOYAGER_PW" "$TEST_TMP/tty.out"; then not_ok "the password is not echoed"; else ok "the password is not echoed"; fi
export TARGET_DB_PASSWORD=$saved_pw

# A live migration ended before its cutover completed is warned of before the question.
ED3=$(new_export_dir)
status_new_migration "$ED3"
status_set "$ED3" TargetDBConf "$(conf "$TARGET_PORT" yugabyte)" ExportType '"snapshot-and-changes"'
NOQ=(--backup-schema-files false --backup-data-files false --backup-log-files false --save-migration-reports false)
expect_fail "live, no cutover: warned, then the question" 3 \
    "warning: the cutover to the target is NOT INITIATED: this live migration is ended before that database has every change" \
    "$V" end migration -e "$ED3" "${NOQ[@]}" </dev/null
status_set "$ED3" CutoverToTargetRequested true CutoverProcessedBySourceExporter true FallbackEnabled true
expect_fail "cutover to target not completed: warned" 3 \
    "warning: the cutover to the target is INITIATED: " "$V" end migration -e "$ED3" "${NOQ[@]}" </dev/null
status_set "$ED3" CutoverProcessedByTargetImporter true ExportFromTargetStarted true CutoverToSourceRequested true
expect_fail "a way back requested and not completed: warned" 3 \
    "warning: the cutover to the source is INITIATED: " "$V" end migration -e "$ED3" "${NOQ[@]}" </dev/null
status_set "$ED3" CutoverToSourceRequested false
"$V" end migration -e "$ED3" "${NOQ[@]}" </dev/null >"$TEST_TMP/done.out" 2>&1
assert_match "cutover to target completed: it got to the question" "no terminal to ask on" "$(cat "$TEST_TMP/done.out")"
assert_eq "cutover to target completed, no way back taken: no warning" "" "$(grep -i "warning: the cutover" "$TEST_TMP/done.out")"
check "the warned migration still ends with --yes" "$V" end migration -e "$ED3" "${NOQ[@]}" --yes
done_testing
