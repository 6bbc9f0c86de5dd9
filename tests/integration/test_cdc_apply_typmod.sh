#!/bin/bash
# Live changes to columns whose type takes a length (char(n), bit(n), char(n)[], varbit(n),
# varchar(n), numeric(p,s), time(0), timestamp(0)) applied through import data's multi-row
# statements, which cast each text value to its column's type: the cast must be to the
# type without its length (bpchar, "bit"), not to char(1) / bit(1), which silently cut
# 'abc' to 'a' and '1010' to '1'. After the cutover source and target are compared.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb >/dev/null || exit 1
pg_start target yugabyte >/dev/null || exit 1
conn_flags
SCHEMA="CREATE TABLE t (id int PRIMARY KEY, c char(5), b bit(4), ca char(3)[], vb varbit(8),
    v varchar(4), n numeric(6,2), tm time(0), ts timestamp(0));"
psql_as source sourcedb -c "$SCHEMA" -c "ALTER TABLE t REPLICA IDENTITY FULL" >/dev/null
psql_as target yugabyte -c "$SCHEMA" >/dev/null
psql_as source sourcedb -c "INSERT INTO t SELECT g, 'x', B'0001', '{a,bb}', B'1', 'ab', 1.5,
    '10:00:00', '2026-01-01 00:00:00' FROM generate_series(1, 100) g" >/dev/null

"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >>"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
check "snapshot exported" status_wait "$ED" ExportDataDone 60
"$V" import data -e "$ED" "${TGT_FLAGS[@]}" --parallel-jobs 2 --disable-pb true >>"$TEST_TMP/importer.out" 2>&1 &
IMP_PID=$!
# many like events in one transaction: they reach the target as multi-row statements
psql_as source sourcedb -c "BEGIN;
    INSERT INTO t SELECT g, 'abc', B'1010', '{abc,de}', B'10110', 'abcd', 1234.56,
        '12:34:56', '2026-02-03 04:05:06' FROM generate_series(101, 600) g;
    UPDATE t SET c = 'wxyz', b = B'0110', ca = '{xyz}', vb = B'1111111' WHERE id <= 100;
    UPDATE t SET c = 'q', b = B'1111' WHERE id > 500;
    DELETE FROM t WHERE id % 7 = 0;
    COMMIT;" >/dev/null
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 60
assert_eq "export data exits 0 after the end of stream" 0 "$?"
wait_exit "$IMP_PID" 120
assert_eq "import data exits 0 after the end of stream" 0 "$?"
assert_eq "char(5) kept whole" 'abc|1010|{abc,"de "}' \
    "$(psql_as target yugabyte -Atc "SELECT c || '|' || b::text || '|' || ca::text FROM t WHERE id = 101")"
assert_eq "char(5) and bit(4) updated whole" "wxyz|0110|{xyz}|1111111" \
    "$(psql_as target yugabyte -Atc "SELECT c || '|' || b::text || '|' || ca::text || '|' || vb::text FROM t WHERE id = 1")"
compare_databases source target sourcedb yugabyte
done_testing
