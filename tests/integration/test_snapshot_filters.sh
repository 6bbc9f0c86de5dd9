#!/bin/bash
# export data / import data table selection (--table-list, --exclude-table-list, their
# -file-path forms, quoting, wildcards) and bad input: unknown tables, wrong passwords,
# missing export dir, import before export, rows larger than the limit.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
snapshot_clusters || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
SRC=("${SRC_FLAGS[@]}")
SRC[${#SRC[@]}-1]=$ALL_SCHEMAS

# exported_tables ED: the table names of the export, sorted, comma-joined.
exported_tables() {
    "$V" export data status -e "$1" --output-format json |
        python3 -c "import json,sys; print(','.join(sorted(t['table_name'] for t in json.load(sys.stdin))))"
}
export_with() { # export_with DESC EXPECTED flags...
    local desc=$1 want=$2 ed
    shift 2
    ed=$(new_export_dir)
    if "$V" export data -e "$ed" "${SRC[@]}" --disable-pb "$@" >"$LAST_OUT" 2>"$LAST_ERR"; then
        assert_eq "$desc" "$want" "$(exported_tables "$ed")"
    else
        not_ok "$desc" "exit $?" "$(tail -3 "$LAST_ERR")"
    fi
}

export_with "quoted and plain names" 'Order,customers' --table-list 'customers,"Order"'
export_with "unquoted names match case-insensitively" 'Order' --table-list 'ORDER'
export_with "schema-qualified wildcard with an exclusion" 'Sales.lower_case,Sales.select' \
    --table-list 'Sales.*' --exclude-table-list '"Sales"."LOWER_CASE"'
export_with "? wildcard" 'customers' --table-list 'customer?'
export_with "exclude list only" 'AllTypes,MixedCase,Order,big_values,customers,empty_table,generated_cols,measurements,no_columns' \
    --exclude-table-list 'sales.*'
printf '# tables to export\ncustomers\n\n"MixedCase"\n' >"$TEST_TMP/list.txt"
export_with "--table-list-file-path" 'MixedCase,customers' --table-list-file-path "$TEST_TMP/list.txt"
printf 'Sales.*\npublic.*_table\n' >"$TEST_TMP/exclude.txt"
export_with "--exclude-table-list-file-path" 'AllTypes,MixedCase,Order,big_values,customers,generated_cols,measurements,no_columns' \
    --exclude-table-list-file-path "$TEST_TMP/exclude.txt"

# A quoted name keeps its case and its wildcards (upstream's "*Case*"); [ and \ in a name are
# characters of it (fnmatch had made "arr[1]" a bracket expression: "does not exist").
psql_as source sourcedb -c 'CREATE TABLE "Star1" (i int); CREATE TABLE star2 (i int); CREATE TABLE "arr[1]" (i int); INSERT INTO star2 VALUES (1)' >/dev/null
export_with 'quoted "Star*" takes the case it names' 'Star1' --table-list '"Star*"'
export_with 'unquoted star* takes both cases' 'Star1,star2' --table-list 'star*'
export_with 'a name with brackets, quoted' 'arr[1]' --table-list '"arr[1]"'
psql_as source sourcedb -c 'DROP TABLE "Star1", star2, "arr[1]"' >/dev/null

NOSCHEMA=("${SRC_FLAGS[@]:0:${#SRC_FLAGS[@]}-1}")
ED=$(new_export_dir)
check "unquoted schema name found case-insensitively" "$V" export data -e "$ED" "${NOSCHEMA[@]}" 'sales' --table-list 'select' --disable-pb
assert_eq "it exported from schema Sales" "Sales.select" "$(exported_tables "$ED")"
ED=$(new_export_dir)
check "quoted schema name" "$V" export data -e "$ED" "${NOSCHEMA[@]}" '"Sales"' --table-list '"LOWER_CASE"' --disable-pb
assert_eq "it exported the quoted table of schema Sales" "Sales.LOWER_CASE" "$(exported_tables "$ED")"

ED=$(new_export_dir)
expect_fail "quoted schema name is exact" 4 "schema '\"sales\"' \(--source-db-schema\) does not exist" \
    "$V" export data -e "$ED" "${NOSCHEMA[@]}" '"sales"' --disable-pb
expect_fail "unknown table in --table-list" 2 "table 'nosuch' in --table-list does not exist$" \
    "$V" export data -e "$ED" "${SRC[@]}" --table-list 'customers,nosuch' --disable-pb
assert_match "the advice is its hint line" '^hint: names are schema.table; quote case-sensitive names: "Name"$' \
    "$(cat "$LAST_ERR")"
expect_fail "quoted name is case-sensitive" 2 "table '\"order\"' in --table-list does not exist" \
    "$V" export data -e "$ED" "${SRC[@]}" --table-list '"order"' --disable-pb
expect_fail "unknown table in --exclude-table-list" 2 "table 'public.nope' in --exclude-table-list does not exist" \
    "$V" export data -e "$ED" "${SRC[@]}" --exclude-table-list 'public.nope' --disable-pb
expect_fail "list and file together" 2 "cannot be used together" \
    "$V" export data -e "$ED" "${SRC[@]}" --table-list customers --table-list-file-path "$TEST_TMP/list.txt" --disable-pb
expect_fail "unknown schema" 4 "schema 'nosuchschema' \(--source-db-schema\) does not exist" \
    "$V" export data -e "$ED" "${NOSCHEMA[@]}" nosuchschema --disable-pb
SOURCE_DB_PASSWORD=wrong expect_fail "wrong source password" 4 "password authentication failed" \
    "$V" export data -e "$ED" "${SRC[@]}" --disable-pb
expect_fail "missing export dir" 3 "does not exist" \
    "$V" export data -e "$TEST_TMP/no/such/dir" "${SRC[@]}" --disable-pb
expect_fail "import before export" 3 "run 'yb-voyager export data' first" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
[ ! -e "$ED/data/customers_data.sql" ] && [ -z "$(ls "$ED/data")" ] && ok "failed runs left no data files" ||
    not_ok "failed runs left no data files" "$(ls "$ED/data")"

# A table the target does not have: named, nothing imported.
psql_as source sourcedb -c "CREATE TABLE only_on_source (i int); INSERT INTO only_on_source VALUES (1)" >/dev/null
ED3=$(new_export_dir)
check "export data of a table missing on the target" "$V" export data -e "$ED3" "${SRC[@]}" --table-list only_on_source --disable-pb
expect_fail "import names the table missing on the target" 3 'table "public"."only_on_source" does not exist on the target database' \
    "$V" import data -e "$ED3" "${TGT_FLAGS[@]}" --disable-pb
psql_as source sourcedb -c "DROP TABLE only_on_source" >/dev/null

# A partial import (--table-list) then the rest; the table list of an export is fixed.
check "export data (all)" "$V" export data -e "$ED" "${SRC[@]}" --disable-pb
expect_fail "another table list than the earlier run" 3 "was part of an earlier export data run" \
    "$V" export data -e "$ED" "${SRC[@]}" --table-list customers --disable-pb
TARGET_DB_PASSWORD=wrong expect_fail "wrong target password" 5 "password authentication failed" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
expect_fail "unknown table in the import's --table-list" 2 "table 'nosuch' in --table-list does not exist$" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --table-list nosuch --disable-pb
assert_match "the import's advice is its hint line" '^hint: names are schema.table; quote case-sensitive names: "Name"$' \
    "$(cat "$LAST_ERR")"
CSV_READER_MAX_BUFFER_SIZE_BYTES=64 expect_fail "a row larger than the limit names table and line" 3 \
    "table AllTypes: row at line 1 of data/AllTypes_data.sql is larger than 64 bytes" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --table-list AllTypes --disable-pb
# A non-retryable error (the target refuses rows) stops the import naming table, batch and lines.
psql_as target yugabyte -c "ALTER TABLE customers ADD CONSTRAINT small_ids CHECK (id < 150)" >/dev/null
expect_fail "a refused batch is named with its lines" 5 \
    "importing table customers failed at batch 2 of data/customers_data.sql \(lines 101-200\): ERROR: +new row for relation \"customers\" violates check constraint \"small_ids\"" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --table-list customers --batch-size 100 --parallel-jobs 1 --disable-pb
psql_as target yugabyte -c "ALTER TABLE customers DROP CONSTRAINT small_ids" >/dev/null
check "import data --table-list customers" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --table-list customers --disable-pb
assert_eq "only customers imported" "200 0" \
    "$(psql_as target yugabyte -c "SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM \"Order\")")"
check "import data (the rest)" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
compare_databases source target
# --start-clean of one table leaves the other tables' records alone.
nb=$(metainfo_rows target yugabyte)
expect_fail "truncating a referenced table alone is refused" 5 "cannot truncate a table referenced in a foreign key constraint" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --start-clean true --truncate-tables true --table-list customers --disable-pb
assert_eq "the refused start-clean kept every batch record" "$nb" "$(metainfo_rows target yugabyte)"
check "import data --start-clean --truncate-tables --table-list MixedCase" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --start-clean true --truncate-tables true --table-list '"MixedCase"' --batch-size 7 --disable-pb
before=$(metainfo_rows target yugabyte)
expect_fail "YugabyteDB-only flags are refused on a PostgreSQL target" 2 \
    "the target is PostgreSQL, not YugabyteDB: --target-endpoints cannot be used" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --batch-size 3 --target-endpoints 192.0.2.1:5433 --disable-pb
expect_fail "--use-public-ip too" 2 "the target is PostgreSQL, not YugabyteDB: --use-public-ip cannot be used" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --batch-size 3 --use-public-ip true --disable-pb
assert_eq "the refusals loaded nothing" "$before" "$(metainfo_rows target yugabyte)"
check "import data again (another batch size)" "$V" import data -e "$ED" "${TGT_FLAGS[@]}" \
    --batch-size 3 --disable-pb
assert_eq "only MixedCase's batches were redone (8 instead of 1)" "$((nb + 7))" "$(metainfo_rows target yugabyte)"
compare_databases source target
done_testing
