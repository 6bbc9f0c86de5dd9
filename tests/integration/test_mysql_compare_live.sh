#!/bin/bash
# compare data with a MySQL/MariaDB source during and after a live migration (export data
# --export-type snapshot-and-changes from the binlog, import data, initiate cutover to target):
# before cutover it compares at the consistent point (MariaDB's binlog_snapshot_position of the
# source snapshot, the importer applying exactly up to it) while a writer changes the source,
# and names a row only on the target; after the cutover, with a workload of inserts, updates and deletes over every
# type family having run while the changes streamed, the source and the target compare equal
# (checksum and count), and a row the workload's last change left differing on the target is found.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$(dirname "$0")/../lib/mysql_fixture.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
_live_cleanup() { touch "$TEST_TMP/stop-writer"; kill -KILL ${EXP_PID:-} ${IMP_PID:-} 2>/dev/null; _mariadb_cleanup; harness_cleanup; }
trap _live_cleanup EXIT

mariadb_start my shop || { not_ok "start mariadbd"; done_testing; exit 1; }
pg_start target yugabyte || { not_ok "start PostgreSQL"; done_testing; exit 1; }
ok "mariadbd and PostgreSQL started"

{ mysql_items_sql 3000; cat <<'SQL'; } | mysql_as my shop || not_ok "create and fill the MySQL database"
CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(20) NOT NULL, v TEXT, PRIMARY KEY (a, b));
CREATE TABLE cs (id INT NOT NULL PRIMARY KEY, l1 VARCHAR(40) CHARACTER SET latin1, u8 CHAR(10));
INSERT INTO cs VALUES (1, 'Åsa ÿ snapshot', 'ü');
INSERT INTO pairs SELECT seq, CONCAT('k', seq % 5), 'p' FROM seq_1_to_100;
SQL

SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
    --source-db-user voyager --source-db-name shop)
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
ED=$(new_export_dir)
CMP=("$V" compare data -e "$ED" --disable-pb)
check "export schema" "$V" export schema -e "$ED" "${SRC[@]}"
check "import schema" "$V" import schema -e "$ED" "${TGT[@]}"
"$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
check "snapshot exported, then changes streamed" \
    wait_log "$ED/logs/yb-voyager-export-data-from-source.log" "streaming changes from" "$EXP_PID"
"$V" import data -e "$ED" "${TGT[@]}" --disable-pb true --parallel-jobs 2 >"$TEST_TMP/importer.out" 2>&1 &
IMP_PID=$!

# the workload: every type family changed, rows added and removed, while the changes stream
mysql_as my shop <<'SQL' || not_ok "the workload ran"
UPDATE items SET ti = -ti, bu = bu - 7, d = d * -1.5, f = f + 0.25, dbl = -dbl, b12 = b12 ^ 5,
  vc = CONCAT(vc, ' ✓'), bl = CONCAT(bl, X'00'), dtm6 = dtm6 + INTERVAL 1 MICROSECOND,
  ts3 = ts3 + INTERVAL 1 SECOND, y = NULL, j = JSON_SET(j, '$.w', 1), e = 'green', st = 'b,c'
  WHERE id % 7 = 0;
DELETE FROM items WHERE id % 11 = 0;
INSERT INTO items (ii, vc, bl, j, e, st, dtm6, bn) SELECT -seq, CONCAT('new ', seq), X'5c5c',
  '{"new": true}', 'it''s', 'a', '2030-01-01 00:00:00.000001', X'01000000' FROM seq_1_to_500;
UPDATE pairs SET v = NULL WHERE a < 50;
DELETE FROM pairs WHERE a > 90;
INSERT INTO pairs VALUES (1000, 'z', 'zz');
UPDATE cs SET l1 = 'Åsa ÿ streamed' WHERE id = 1;
INSERT INTO cs VALUES (2, 'ÿÿ', NULL);
SQL

# Before cutover: compared at the consistent point (the MariaDB snapshot's binlog position, the
# importer holding exactly there), while the source keeps changing. Before: refused (exit 6).
writer() { # inserts and updates on the source until $TEST_TMP/stop-writer exists
    local i=0
    while [ ! -e "$TEST_TMP/stop-writer" ]; do
        i=$((i + 1))
        mysql_as my shop -e "INSERT INTO pairs VALUES ($((2000 + i)), 'w', 'live'); UPDATE items SET ii = ii - 1 WHERE id = $((1 + i % 3000)); DELETE FROM pairs WHERE a = $((1999 + i)) AND b = 'w'"
        sleep 0.05
    done
}
writer &
WRITER_PID=$!
for round in 1 2; do
    check "compare data before cutover, the source changing (round $round): equal at the consistent point" \
        env VOYAGER_COMPARE_POINT_TIMEOUT_S=60 "${CMP[@]}" --parallel-jobs 2
    assert_match "round $round: the comparison says where it read" "consistent point: source snapshot at binlog position" \
        "$(cat "$LAST_ERR" "$ED"/logs/*compare* 2>/dev/null)"
done
check "compare data before cutover, the source changing: equal at --level rows" "${CMP[@]}" --level rows
touch "$TEST_TMP/stop-writer"
wait "$WRITER_PID"
mysql_as my shop -e "DELETE FROM pairs WHERE b = 'w'" # the writer's last row (the counts below are without it)
# a row only on the target: found and named at the consistent point
psql_as target yugabyte -c "INSERT INTO pairs VALUES (99999, 'only-target', NULL)" >/dev/null
"${CMP[@]}" --level rows >"$LAST_OUT" 2>"$LAST_ERR"
assert_eq "before cutover, a row only on the target: exit 7" 7 "$?"
assert_match "before cutover: the row's key is named" "differing rows of pairs \(primary key\):
  extra +\(99999,only-target\)" "$(cat "$LAST_OUT")"
psql_as target yugabyte -c "DELETE FROM pairs WHERE a = 99999" >/dev/null

check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 120
assert_eq "export data exits 0 after draining for cutover" 0 "$?"
wait_exit "$IMP_PID" 120
assert_eq "import data exits 0 after the end of stream" 0 "$?"

check "compare data after cutover: equal" "${CMP[@]}" --parallel-jobs 2
out=$(cat "$LAST_OUT")
assert_match "items: equal, with the workload's rows" "items +\| *3228 +\| *3228 +\| *EQUAL" "$out"
assert_match "pairs: equal" "pairs +\| *91 +\| *91 +\| *EQUAL" "$out"
assert_match "cs: equal" "cs +\| *2 +\| *2 +\| *EQUAL" "$out"
check "compare data after cutover: equal at --level count" "${CMP[@]}" --level count
psql_as target yugabyte -c "UPDATE items SET j = '{\"new\": false}' WHERE id = (SELECT max(id) FROM items)" >/dev/null
"${CMP[@]}" >"$LAST_OUT" 2>"$LAST_ERR"
assert_eq "a value changed on the target after cutover: exit 7" 7 "$?"
assert_match "items reported DIFFERENT" "items +\|.*DIFFERENT" "$(cat "$LAST_OUT")"
done_testing
