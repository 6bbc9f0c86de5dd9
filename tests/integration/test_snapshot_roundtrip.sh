#!/bin/bash
# export data + import data on real clusters: every built-in type round-trips byte-exact
# (row count + checksum per table), big tables split into ctid parts, status outputs,
# restart after completion, --start-clean on both sides.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
snapshot_clusters || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
SRC=("${SRC_FLAGS[@]}")
SRC[${#SRC[@]}-1]=$ALL_SCHEMAS
ED=$(new_export_dir)

# A split size of 64 KiB makes "AllTypes" (and Order) several ctid parts.
export VOYAGER_EXPORT_SPLIT_BYTES=65536
check "export data (3 workers, split tables)" "$V" export data -e "$ED" "${SRC[@]}" --parallel-jobs 3 --disable-pb
parts=$(ls "$ED/data" | grep -c '^AllTypes_data\.part[0-9]*\.sql$')
[ "$parts" -ge 2 ] && ok "AllTypes exported in several parts ($((parts + 1)))" || not_ok "AllTypes split" "$(ls "$ED/data")"
[ -z "$(ls "$ED/data" | grep '\.tmp$')" ] && ok "no temporary files left" || not_ok "no temporary files left"
[ -f "$ED/data/Sales.select_data.sql" ] && ok "schema-qualified file name" || not_ok "schema-qualified file name" "$(ls "$ED/data")"
json_check "$ED/metainfo/dataFileDescriptor.json" \
    "sum(f['RowCount'] for f in d['DataFileList'] if f['TableName']=='AllTypes') == 3000 and all(f['FileSize'] > 0 or f['RowCount'] == 0 for f in d['DataFileList'])" &&
    ok "descriptor: row counts and sizes" || not_ok "descriptor: row counts and sizes"

"$V" export data status -e "$ED" --output-format json >"$TEST_TMP/es.json"
json_check "$TEST_TMP/es.json" \
    "len(d) == 12 and all(t['status']=='DONE' for t in d) and {t['table_name']: t['exported_count'] for t in d}['AllTypes'] == 3000 and {t['table_name']: t['exported_count'] for t in d}['Sales.select'] == 500" &&
    ok "export data status json" || not_ok "export data status json" "$(cat "$TEST_TMP/es.json")"
out=$("$V" export data status -e "$ED")
assert_match "export data status table" "TABLE NAME +STATUS +EXPORTED ROWS" "$out"
assert_match "export data status row" "Sales\.select +DONE +500" "$out"

check "export data again after completion" "$V" export data -e "$ED" "${SRC[@]}" --disable-pb
assert_match "nothing exported again" "every table was exported by an earlier run" "$(cat "$LAST_OUT")"

check "import data (3 workers, small batches)" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --parallel-jobs 3 --batch-size 700 --disable-pb
compare_databases source target
assert_eq "generated column recomputed" "100" "$(psql_as target yugabyte -c "SELECT doubled FROM generated_cols WHERE id = 50")"
assert_eq "sequences restored (owned, free, never called)" "200|t 104|t 1|f" \
    "$(psql_as target yugabyte -c "SELECT last_value, is_called FROM customers_id_seq" -c "SELECT last_value, is_called FROM free_seq" -c "SELECT last_value, is_called FROM \"Sales\".\"Untouched_seq\"" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "next id after the migration" "201" "$(psql_as target yugabyte -c "SELECT nextval('customers_id_seq')")"
nb=$(metainfo_rows target yugabyte)
[ "$nb" -ge 8 ] && ok "one metainfo row per batch ($nb)" || not_ok "one metainfo row per batch" "$nb"

"$V" import data status -e "$ED" --output-format json >"$TEST_TMP/is.json"
json_check "$TEST_TMP/is.json" \
    "len(d) == 12 and all(t['status']=='DONE' and t['imported_count']==t['total_count'] and t['percentage_complete']==100 for t in d)" &&
    ok "import data status json" || not_ok "import data status json" "$(cat "$TEST_TMP/is.json")"
out=$("$V" import data status -e "$ED")
assert_match "import data status table" "TABLE NAME +STATUS +IMPORTED ROWS +TOTAL ROWS +PERCENTAGE" "$out"
assert_match "import data status row" "AllTypes +DONE +3000 +3000 +100.00" "$out"
assert_eq "snapshot import recorded done" "true" "$(status_get "$ED" ImportDataDone)"

check "import data again after completion" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
compare_databases source target
assert_eq "no batch imported twice" "$nb" "$(metainfo_rows target yugabyte)"

# --start-clean on export: new data shows up; on import: truncate and load again.
psql_as source sourcedb -c "INSERT INTO customers(name, email) VALUES ('late', 'late@example.com')" >/dev/null
check "export data --start-clean" "$V" export data -e "$ED" "${SRC[@]}" --start-clean --disable-pb
assert_eq "start-clean exported the new row" "201" \
    "$(python3 -c "import json,sys; print(sum(f['RowCount'] for f in json.load(open(sys.argv[1]))['DataFileList'] if f['TableName']=='customers'))" "$ED/metainfo/dataFileDescriptor.json")"
expect_refusal "import after a re-export must start clean" 3 "the data was exported again \(export data --start-clean\) after this import started hint: run import data with --start-clean" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
expect_fail "truncate-tables needs start-clean" 2 "--truncate-tables works only with --start-clean" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --truncate-tables true --disable-pb
expect_fail "start-clean on non-empty tables without --yes" 3 "not empty" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --start-clean true --disable-pb </dev/null
check "import data --start-clean --truncate-tables" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --start-clean true --truncate-tables true --disable-pb
compare_databases source target

# The same snapshot into a source-replica (fall-forward), with its own batch records.
pg_start source_replica replicadb >/dev/null && copy_schema source source_replica || not_ok "source-replica cluster"
conn_flags
check "import data to source-replica" "$V" import data to source-replica -e "$ED" "${REPLICA_FLAGS[@]}" --parallel-jobs 2 --disable-pb
compare_databases source source_replica
assert_eq "fall-forward recorded" "true true" "$(status_get "$ED" FallForwardEnabled) $(status_get "$ED" ImportDataToSourceReplicaDone)"
assert_eq "source-replica batches recorded on the source-replica" "$(metainfo_rows target yugabyte)" "$(metainfo_rows source_replica replicadb)"
done_testing
