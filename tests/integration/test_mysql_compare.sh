#!/bin/bash
# compare data with a MySQL/MariaDB source (a throwaway MariaDB server) against the PostgreSQL
# target, after an offline migration through the real commands: every type the MySQL tests use
# (enum/set/json/datetime/decimal/blob/unsigned/bit/year/uuid/inet, NULLs, latin1 and multibyte
# text, generated columns, quoted names) compares equal at --level checksum (native row hash and
# text hash) and count; then a changed value, a missing row and an extra row on the target, and
# a changed value on the source, are each reported DIFFERENT with the table named and exit 7.
# --level rows names a missing, an extra and a changed row's keys (test_mysql_compare_keys: keys
# of other types; test_mysql_compare_live: before cutover).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$(dirname "$0")/../lib/mysql_fixture.sh"
V=$VOYAGER

mysql_fixture_shop

mysql_fixture_migrate 3

CMP=("$V" compare data -e "$ED" --source-db-port "$MY_PORT" --target-db-port "$TARGET_PORT" --disable-pb)
R="$ED/reports/compare-data-report.json"
# status_of TABLE: the table's STATUS in the JSON report
status_of() {
    python3 -c "import json,sys
d=json.load(open(sys.argv[1]))
def walk(x):
    if isinstance(x, dict):
        if x.get('table') == sys.argv[2] or x.get('Table') == sys.argv[2] or x.get('name') == sys.argv[2]:
            print(x.get('status') or x.get('Status')); return True
        return any(walk(v) for v in x.values())
    if isinstance(x, list):
        return any(walk(v) for v in x)
    return False
walk(d)" "$R" "$1"
}

check "compare data: equal after the offline migration (checksum, native row hash)" "${CMP[@]}" --parallel-jobs 3
out=$(cat "$LAST_OUT")
for t in customers orders all_types texts bins big empty_ai "mixed case"; do
    assert_match "compare data names $t EQUAL" "$t +\| *[0-9]+ +\| *[0-9]+ +\| *EQUAL" "$out"
done
assert_match "big: 200000 rows on both sides" "big +\| *200000 +\| *200000 +\| *EQUAL" "$out"
assert_match "the big table is split into key ranges" "in [4-9] key ranges|in [1-9][0-9]+ key ranges" "$(cat "$LAST_ERR" "$ED"/logs/*compare* 2>/dev/null)"
check "compare data: equal with the text row hash" env VOYAGER_COMPARE_ROW_HASH=text "${CMP[@]}"
check "compare data: equal at --level count" "${CMP[@]}" --level count
check "compare data --output-format json: equal" "${CMP[@]}" --output-format json
assert_eq "the JSON report says all_types is EQUAL" "EQUAL" "$(status_of all_types)"

# ---- differences, each on its own and then put back ----
differs() { # DESC TABLE CMP-ARGS...
    local desc=$1 t=$2
    shift 2
    "${CMP[@]}" "$@" >"$LAST_OUT" 2>"$LAST_ERR"
    assert_eq "$desc: exit 7 (differences found)" 7 "$?"
    assert_match "$desc: $t reported DIFFERENT" "$t +\|.*DIFFERENT" "$(cat "$LAST_OUT")"
    local others
    others=$(grep -E "DIFFERENT|MISSING|ERROR" "$LAST_OUT" | grep -v "^ *$t " | grep -vE "^ *(TABLE|---)" )
    [ -z "$others" ] && ok "$desc: no other table reported" || not_ok "$desc: no other table reported" "$others"
}
psql_as target yugabyte -c "UPDATE all_types SET c_json = '[ ]' WHERE id = 2" >/dev/null
differs "a changed json value on the target (whitespace only: json keeps the text)" all_types
psql_as target yugabyte -c "UPDATE all_types SET c_json = '[]' WHERE id = 2" >/dev/null
psql_as target yugabyte -c "UPDATE all_types SET c_decimal = 0.000002 WHERE id = 2" >/dev/null
differs "a changed decimal on the target" all_types
psql_as target yugabyte -c "UPDATE all_types SET c_decimal = 0.000001 WHERE id = 2" >/dev/null
psql_as target yugabyte -c "UPDATE customers SET flags = B'1011' WHERE email = 'a@x'" >/dev/null
differs "a changed bit value on the target" customers
psql_as target yugabyte -c "UPDATE customers SET flags = B'1010' WHERE email = 'a@x'" >/dev/null
check "equal again after putting the bit back" "${CMP[@]}"
psql_as target yugabyte -c "DELETE FROM big WHERE id = 150000" >/dev/null
differs "a missing row on the target" big
assert_match "a missing row: the counts say so" "big +\| *200000 +\| *199999 +\|" "$(cat "$LAST_OUT")"
psql_as target yugabyte -c "INSERT INTO texts (id, body) VALUES (1000, 'extra')" >/dev/null
psql_as target yugabyte -c "INSERT INTO big VALUES (150000, 'row 150000 ' || repeat('x', 150), 150000 % 97)" >/dev/null
differs "an extra row on the target" texts --level count
psql_as target yugabyte -c "DELETE FROM texts WHERE id = 1000" >/dev/null
mysql_as my shop -e "UPDATE bins SET vb = X'0a0b' WHERE id = 4"
differs "a changed blob on the source" bins
mysql_as my shop -e "UPDATE bins SET vb = X'0a0a' WHERE id = 4"
mysql_as my shop -e "UPDATE texts SET body = 'multibyte: 日本語 ✓ emoji 😀 ss' WHERE id = 3"
differs "a multibyte character changed on the source" texts
mysql_as my shop -e "UPDATE texts SET body = 'multibyte: 日本語 ✓ emoji 😀 ß' WHERE id = 3"
mysql_as my shop -e "UPDATE all_types SET c_datetime6 = '2024-02-29 12:34:56.123457', c_year = NULL WHERE id = 1"
differs "a changed datetime(6) and a NULL year on the source" all_types
mysql_as my shop -e "UPDATE all_types SET c_datetime6 = '2024-02-29 12:34:56.123456', c_year = 2155 WHERE id = 1"
# updated_at given its own value: ON UPDATE CURRENT_TIMESTAMP would change it too
mysql_as my shop -e "UPDATE customers SET tags = 'a,b', updated_at = updated_at WHERE email = 'a@x'"
differs "a changed SET value on the source" customers
mysql_as my shop -e "UPDATE customers SET tags = 'a,c', updated_at = updated_at WHERE email = 'a@x'"
check "equal again once every difference is put back" "${CMP[@]}"
assert_match "every table equal" "8 of 8 tables equal on target" "$(cat "$LAST_OUT")"

# ---- --level rows names the keys (before: refused, exit 6) ----
psql_as target yugabyte -c "DELETE FROM big WHERE id = 150000" >/dev/null
psql_as target yugabyte -c "INSERT INTO texts (id, body) VALUES (1000, 'extra')" >/dev/null
psql_as target yugabyte -c "UPDATE all_types SET c_decimal = 0.000002 WHERE id = 2" >/dev/null
"${CMP[@]}" --level rows --parallel-jobs 3 >"$LAST_OUT" 2>"$LAST_ERR"
assert_eq "--level rows: exit 7" 7 "$?"
out=$(cat "$LAST_OUT")
assert_match "--level rows: big, one missing" "big +\| *200000 +\| *199999 +\| *DIFFERENT +\| *1 rows differ: 1 missing on target, 0 extra on target, 0 changed" "$out"
assert_match "--level rows: texts, one extra" "texts +\|.*DIFFERENT +\| *1 rows differ: 0 missing on target, 1 extra on target, 0 changed" "$out"
assert_match "--level rows: all_types, one changed" "all_types +\|.*DIFFERENT +\| *1 rows differ: 0 missing on target, 0 extra on target, 1 changed" "$out"
assert_match "--level rows lists big's key" "differing rows of big \(primary key\):
  missing +\(150000\)" "$out"
assert_match "--level rows lists texts' key" "differing rows of texts \(primary key\):
  extra +\(1000\)" "$out"
assert_match "--level rows lists all_types' key" "differing rows of all_types \(primary key\):
  changed +\(2\)" "$out"
psql_as target yugabyte -c "INSERT INTO big VALUES (150000, 'row 150000 ' || repeat('x', 150), 150000 % 97)" >/dev/null
psql_as target yugabyte -c "DELETE FROM texts WHERE id = 1000" >/dev/null
psql_as target yugabyte -c "UPDATE all_types SET c_decimal = 0.000001 WHERE id = 2" >/dev/null
check "--level rows: equal once put back" "${CMP[@]}" --level rows

# ---- what is not built ----
expect_fail "--source-db-schema refused for a MySQL source" 2 "source-db-schema is not applicable for a MySQL source" \
    "${CMP[@]}" --source-db-schema shop
expect_fail "a wrong source password: exit 4" 4 "[Aa]ccess denied" env SOURCE_DB_PASSWORD=Xq9-not-it "${CMP[@]}"
if grep -q "Xq9-not-it" "$LAST_ERR" "$LAST_OUT" "$ED"/logs/* 2>/dev/null; then not_ok "the password is in no message or log"; else ok "the password is in no message or log"; fi
done_testing
