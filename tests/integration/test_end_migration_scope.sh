#!/bin/bash
# end migration ends this migration and touches nothing else: a schema named like the
# bookkeeping (ybvoyager_metadata) is refused by export and never dropped when it holds a user's
# tables; another migration's bookkeeping in the same target survives (its import resumes without
# loading twice); a --backup-dir holding another backup is refused before anything changes; a
# command started while end migration asks is refused (end migration holds the locks).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
NOBK=(--backup-schema-files false --backup-data-files false --backup-log-files false --save-migration-reports false)
count() { psql_as "$1" "$2" -c "SELECT count(*) FROM $3" 2>&1; }
meta_rows() { # UUID: the target's batches bookkeeping rows of that migration
    psql_as target yugabyte -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3 WHERE migration_uuid = '$1'" 2>&1
}

# --- a source schema named ybvoyager_metadata: refused by export, never dropped by end migration ---
psql_as source sourcedb -c "CREATE SCHEMA ybvoyager_metadata" \
    -c "CREATE TABLE ybvoyager_metadata.orders (id int PRIMARY KEY, v text)" \
    -c "INSERT INTO ybvoyager_metadata.orders SELECT g, 'user data' FROM generate_series(1, 10) g" >/dev/null
SRC_RESERVED=("${SRC_FLAGS[@]/#public/public,ybvoyager_metadata}")
EDR=$(new_export_dir)
expect_refusal "export schema refuses the reserved schema name" 2 \
    "^error: --source-db-schema public,ybvoyager_metadata: schema name ybvoyager_metadata is reserved .*hint: rename that schema" \
    "$V" export schema -e "$EDR" "${SRC_RESERVED[@]}"
[ -z "$(ls -A "$EDR/schema" 2>/dev/null)" ] && ok "export schema wrote nothing" || not_ok "export schema wrote nothing" "$(ls -R "$EDR/schema")"
expect_refusal "export data refuses it too, in any case" 2 \
    "^error: --source-db-schema YbVoyager_Metadata: schema name YbVoyager_Metadata is reserved" \
    "$V" export data -e "$EDR" "${SRC_FLAGS[@]/#public/YbVoyager_Metadata}" --disable-pb true
[ -z "$(ls -A "$EDR/data" 2>/dev/null)" ] && ok "export data wrote nothing" || not_ok "export data wrote nothing" "$(ls -R "$EDR/data")"

# --- two migrations into one target database ---
psql_as source sourcedb -c "CREATE TABLE public.m1 (v int); CREATE TABLE public.m2 (v int); CREATE TABLE public.m3 (v int)" \
    -c "INSERT INTO public.m1 SELECT generate_series(1, 100); INSERT INTO public.m2 SELECT generate_series(1, 100)" \
    -c "INSERT INTO public.m3 SELECT generate_series(1, 100)" >/dev/null
psql_as target yugabyte -c "CREATE TABLE public.m1 (v int); CREATE TABLE public.m2 (v int); CREATE TABLE public.m3 (v int)" >/dev/null
ED1=$(new_export_dir)
ED2=$(new_export_dir)
check "migration 1: export data" "$V" export data -e "$ED1" "${SRC_FLAGS[@]}" --table-list m1 --disable-pb true
check "migration 2: export data" "$V" export data -e "$ED2" "${SRC_FLAGS[@]}" --table-list m2,m3 --disable-pb true
UUID1=$(status_get "$ED1" MigrationUUID | tr -d '"')
UUID2=$(status_get "$ED2" MigrationUUID | tr -d '"')
check "migration 1: import data" "$V" import data -e "$ED1" "${TGT_FLAGS[@]}" --disable-pb true
check "migration 2: import of m2 only (as if interrupted)" "$V" import data -e "$ED2" "${TGT_FLAGS[@]}" --disable-pb true --table-list m2
assert_eq "migration 2 has its bookkeeping on the target" "1" "$(meta_rows "$UUID2")"

# --- a --backup-dir holding another migration's backup is refused before anything changes ---
BK=$TEST_TMP/backups
mkdir -p "$BK/logs" "$BK/data"
echo "an older migration's log" >"$BK/logs/yb-voyager-import-data-to-target.log"
expect_refusal "a --backup-dir already holding a backup is refused" 3 \
    "^error: --backup-dir $BK already holds $BK/logs .*hint: give another --backup-dir" \
    "$V" end migration -e "$ED1" --backup-schema-files false --backup-data-files true --backup-log-files true \
    --save-migration-reports false --backup-dir "$BK" --yes
assert_eq "the other backup is untouched" "an older migration's log" "$(cat "$BK/logs/yb-voyager-import-data-to-target.log")"
assert_eq "nothing was backed up into its empty data/" "" "$(ls -A "$BK/data")"
[ -s "$ED1/metainfo/meta.db" ] && ok "the refused end kept the export dir" || not_ok "the refused end kept the export dir"
assert_eq "the refused end kept the bookkeeping" "1" "$(meta_rows "$UUID1")"

# --- a command started while end migration waits for its answer is refused ---
mkfifo "$TEST_TMP/answer"
script -qec "$(printf '%q ' "$V" end migration -e "$ED1" "${NOBK[@]}")" /dev/null <"$TEST_TMP/answer" >"$TEST_TMP/end.out" 2>&1 &
END_PID=$!
exec 3>"$TEST_TMP/answer"
if wait_log "$TEST_TMP/end.out" "end the migration" "$END_PID"; then ok "end migration asks"; else not_ok "end migration asks" "$(cat "$TEST_TMP/end.out")"; fi
end_pid=$(cut -d' ' -f1 "$ED1/.end-migration.lck")
expect_refusal "import data started during the question is refused" 3 \
    "^error: 'yb-voyager end migration' \(pid $end_pid\) is running on export dir .* holds the lock of 'yb-voyager import data to target'" \
    "$V" import data -e "$ED1" "${TGT_FLAGS[@]}" --disable-pb true
expect_refusal "export data too" 3 "'yb-voyager end migration' \(pid $end_pid\) .* holds the lock of 'yb-voyager export data from source'" \
    "$V" export data -e "$ED1" "${SRC_FLAGS[@]}" --table-list m1 --disable-pb true
echo n >&3
exec 3>&-
wait_exit "$END_PID" 30
assert_eq "answered no: it ends nothing (exit 3)" "3" "$?"
if flock -n "$ED1/.import-data-to-target.lck" true 2>/dev/null; then ok "answered no: the locks are let go"; else not_ok "answered no: the locks are let go"; fi

# --- ending migration 1 keeps migration 2's bookkeeping and the source's user schema ---
check "migration 1: end migration" "$V" end migration -e "$ED1" "${NOBK[@]}" --yes
assert_eq "migration 1's bookkeeping deleted" "0" "$(meta_rows "$UUID1")"
assert_eq "migration 2's bookkeeping kept" "1" "$(meta_rows "$UUID2")"
assert_match "it says why the schema is kept" "target database: .*the schema is kept: it holds other migrations' bookkeeping" "$(cat "$LAST_OUT")"
assert_eq "the source's user schema ybvoyager_metadata survives with its rows" "10" "$(count source sourcedb ybvoyager_metadata.orders)"
check "migration 2 resumes its import" "$V" import data -e "$ED2" "${TGT_FLAGS[@]}" --disable-pb true
assert_eq "m2 loaded once" "100" "$(count target yugabyte public.m2)"
assert_eq "m3 loaded" "100" "$(count target yugabyte public.m3)"
assert_eq "m1 untouched" "100" "$(count target yugabyte public.m1)"

# --- the last migration's end drops the bookkeeping schema on the target ---
check "migration 2: end migration" "$V" end migration -e "$ED2" "${NOBK[@]}" --yes
assert_eq "no bookkeeping left: target schema dropped" "0" \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'")"
assert_eq "the source's user schema still there" "10" "$(count source sourcedb ybvoyager_metadata.orders)"
done_testing
