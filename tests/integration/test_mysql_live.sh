#!/bin/bash
# Live migration from MySQL (a throwaway MariaDB server) to a throwaway PostgreSQL 15 target
# through the real commands: export data --export-type snapshot-and-changes (consistent snapshot
# at a binlog position, then the binlog's row changes into the queue), import data to target,
# initiate cutover to target. A mixed workload (insert / update / delete over integers signed and
# unsigned, decimal, float, bit, char/text, binary/blob, date/time/datetime/timestamp, year, json,
# enum, set, MariaDB's uuid / inet4 / inet6, text in latin1 / latin2 / cp1251, a TRUNCATE) runs while export data is killed (-9) and restarted during the stream; after the
# cutover the source and the target are compared table by table (row counts, an md5 per column
# per row computed in SQL on each side, normalised only where docs/DECISIONS.md "MySQL source"
# maps a value to another representation) and the identities continue after AUTO_INCREMENT.
# Refused before anything is written, each with its fix: a table without a primary key, a table
# not InnoDB (MyISAM, MEMORY), the binlog off, binlog_format not ROW, binlog_row_image not FULL,
# missing grants. Text in legacy character sets: test_mysql_charsets.sh.
# The way back into MySQL: test_mysql_fall_back.sh and test_mysql_fall_forward.sh.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$(dirname "$0")/../lib/mysql_fixture.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
# the background commands go with the script, whatever happens
_live_cleanup() { kill -KILL ${EXP_PID:-} ${IMP_PID:-} 2>/dev/null; _mariadb_cleanup; harness_cleanup; }
trap _live_cleanup EXIT

mariadb_start my shop || { not_ok "start mariadbd"; done_testing; exit 1; }
pg_start target yugabyte || { not_ok "start PostgreSQL"; done_testing; exit 1; }
ok "mariadbd and PostgreSQL started"

{ mysql_items_sql 3000; cat <<'SQL'; } | mysql_as my shop || not_ok "create and fill the MySQL database"
CREATE TABLE accounts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  owner VARCHAR(50) NOT NULL,
  balance DECIMAL(14,2) NOT NULL DEFAULT 0,
  UNIQUE KEY uq_owner (owner)
) AUTO_INCREMENT = 500;
CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(20) NOT NULL, v TEXT, PRIMARY KEY (a, b));
CREATE TABLE `Mixed Case` (`Id` INT NOT NULL PRIMARY KEY, `Order` INT, `select` VARCHAR(5));
CREATE TABLE cs (id INT NOT NULL PRIMARY KEY, l1 VARCHAR(40) CHARACTER SET latin1,
  cy VARCHAR(40) CHARACTER SET cp1251, l2 TEXT CHARACTER SET latin2, u8 CHAR(10));
INSERT INTO cs VALUES (1, 'Åsa ÿ € snapshot', 'Привет', 'Łódź', 'ü');
CREATE TABLE nets (id INT NOT NULL PRIMARY KEY, u UUID, i6 INET6, i4 INET4);
INSERT INTO nets VALUES (1, '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1', '192.168.0.1'),
  (2, NULL, NULL, NULL), (3, 'ffffffff-ffff-4fff-bfff-ffffffffffff', '::ffff:1.2.3.4', '0.0.0.0');
INSERT INTO accounts (owner, balance) SELECT CONCAT('owner', seq), seq * 10 FROM seq_1_to_200;
INSERT INTO pairs SELECT seq, CONCAT('k', seq % 5), 'p' FROM seq_1_to_100;
INSERT INTO `Mixed Case` VALUES (1, 1, 'a');
CREATE TABLE nopk (v INT);
CREATE TABLE dm (id INT NOT NULL PRIMARY KEY, d4 DOUBLE(12,4), d2 DOUBLE(10,2),
  e ENUM('x','a\nb','c\rd','e\\f','it''s'), s SET('p','q\nr'), a INT, b INT,
  q INT AS (a / b) STORED, qd DECIMAL(12,4) AS (a / b) VIRTUAL);
INSERT INTO dm (id, d4, d2, e, s, a, b) VALUES (1, -0.0001, -7.44, 'a\nb', 'p,q\nr', 7, 2),
  (2, -0.4997, 1.1, 'c\rd', 'q\nr', -7, 2), (3, 123.4567, 0.07, 'e\\f', '', 1, 3), (4, NULL, NULL, 'it''s', NULL, 5, NULL);
INSERT INTO dm (id, d4, d2, e, a, b) SELECT 1000 + seq, -seq / 9999, seq / 7, 'x', seq * 37, seq % 9 + 1 FROM seq_1_to_300;
SQL

SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
    --source-db-user voyager --source-db-name shop)
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
LIVE=(--export-type snapshot-and-changes --disable-pb true)

# ---- prerequisites: each refused with its fix, before anything is written ----
nothing_written() {
    local ed=$1 what=$2
    if [ -z "$(ls "$ed/data" 2>/dev/null)" ] && [ -z "$(ls "$ed/data/queue" 2>/dev/null)" ] &&
        [ "$(status_get "$ed" MySQLBinlogFeed 2>/dev/null)" = null ]; then
        ok "$what: nothing written"
    else
        not_ok "$what: nothing written" "$(ls -R "$ed/data" | head -5)"
    fi
}
ED0=$(new_export_dir)
expect_refusal "a table without a primary key is refused with the fix" 4 \
    "1 table\(s\) without a primary key: nopk.*hint: give each a primary key \(run: ALTER TABLE \`nopk\` ADD PRIMARY KEY" \
    "$V" export data -e "$ED0" "${SRC[@]}" "${LIVE[@]}"
nothing_written "$ED0" "no primary key"
mysql_as my shop -e "SET GLOBAL binlog_format = 'STATEMENT'"
expect_refusal "binlog_format STATEMENT is refused with the fix" 4 \
    "binlog_format is STATEMENT, not ROW.*hint: run SET GLOBAL binlog_format = 'ROW'" \
    "$V" export data -e "$(new_export_dir)" "${SRC[@]}" "${LIVE[@]}" --exclude-table-list nopk
mysql_as my shop -e "SET GLOBAL binlog_format = 'ROW'; SET GLOBAL binlog_row_image = 'MINIMAL'"
expect_refusal "binlog_row_image MINIMAL is refused with the fix" 4 \
    "binlog_row_image is MINIMAL, not FULL.*hint: run SET GLOBAL binlog_row_image = 'FULL'" \
    "$V" export data -e "$(new_export_dir)" "${SRC[@]}" "${LIVE[@]}" --exclude-table-list nopk
mysql_as my shop -e "SET GLOBAL binlog_row_image = 'FULL'"
# (server_id 0 cannot be tested here: MariaDB clamps SET GLOBAL server_id = 0 to 1)
pwlit=${VOYAGER_PW//\\/\\\\}
pwlit=${pwlit//\'/\'\'}
mysql_as my shop <<SQL
CREATE USER 'weak'@'127.0.0.1' IDENTIFIED BY '$pwlit';
GRANT SELECT ON shop.* TO 'weak'@'127.0.0.1';
GRANT RELOAD ON *.* TO 'weak'@'127.0.0.1';
SQL
ED1=$(new_export_dir)
expect_refusal "a user without the replication grants is told the GRANT" 4 \
    "user weak lacks REPLICATION SLAVE, REPLICATION CLIENT.*hint: as an administrator run: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \*\.\* TO 'weak'@'<client host>';" \
    "$V" export data -e "$ED1" "${SRC[@]/voyager/weak}" "${LIVE[@]}" --exclude-table-list nopk
nothing_written "$ED1" "missing grants"
MARIADB_NO_BINLOG=1 mariadb_start nobin shop || not_ok "start a mariadbd without binlog"
mysql_as nobin shop -e "CREATE TABLE t (id INT PRIMARY KEY)"
expect_refusal "the binlog off is refused with the fix" 4 \
    "the binary log is off \(log_bin = 0\).*hint: start the server with log_bin" \
    "$V" export data -e "$(new_export_dir)" "${SRC[@]/$MY_PORT/$NOBIN_PORT}" "${LIVE[@]}"
mariadb_stop nobin
# (every character set of MariaDB is read, each as the server converts it: test_mysql_charsets.sh;
# a set the feed does not know, MySQL 8's gb18030, cannot be made here)
mysql_as my shop -e "DROP TABLE nopk; CREATE TABLE nontx (id INT PRIMARY KEY) ENGINE = MyISAM; CREATE TABLE mem (id INT PRIMARY KEY) ENGINE = MEMORY"
ED2=$(new_export_dir)
expect_refusal "non-transactional tables are refused with the fix" 4 \
    "2 table\(s\) not InnoDB: mem \(MEMORY\), nontx \(MyISAM\).*hint: convert them \(run: ALTER TABLE \`mem\` ENGINE = InnoDB; ALTER TABLE \`nontx\` ENGINE = InnoDB;\)" \
    "$V" export data -e "$ED2" "${SRC[@]}" "${LIVE[@]}"
nothing_written "$ED2" "non-transactional tables"
mysql_as my shop -e "DROP TABLE nontx, mem"

# ---- the migration, with a workload and kill -9 of export data while it streams ----
ED=$(new_export_dir)
check "export schema" "$V" export schema -e "$ED" "${SRC[@]}"
check "import schema" "$V" import schema -e "$ED" "${TGT[@]}"

# a silent server counts as dead after 6 s without a heartbeat (they come every second)
run_exporter() {
    YB_VOYAGER_REPLICATION_TIMEOUT=6 "$V" export data -e "$ED" "${SRC[@]}" "${LIVE[@]}" >>"$TEST_TMP/exporter.out" 2>&1 &
    EXP_PID=$!
}
RUNS=0
# wait until export data has (re)started its stream RUNS times in all
wait_streams() {
    local i
    for i in $(seq 1 300); do
        [ "$(grep -c "streaming changes from" "$ED/logs/yb-voyager-export-data-from-source.log" 2>/dev/null)" -ge "$RUNS" ] && return 0
        kill -0 "$EXP_PID" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
run_exporter_streaming() {
    run_exporter
    RUNS=$((RUNS + 1))
    wait_streams
}
check "snapshot exported, then changes streamed" run_exporter_streaming
"$V" import data -e "$ED" "${TGT[@]}" --disable-pb true --parallel-jobs 2 >>"$TEST_TMP/importer.out" 2>&1 &
IMP_PID=$!

# workload: N statements over every type, seeded, one transaction of 1..4 statements at a time
workload() {
    python3 - "$1" "$2" <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(seed)
def val():
    i = r.randint(-100000, 100000)
    return ("%d, %d, %d, %d, %d, %d, %d, %d, %s, %s, %s, %s, b'%d', b'%s', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s" % (
        i % 128, abs(i) % 256, i % 32768, abs(i) % 16777215, i, abs(i) * 7, i * 99991, abs(i) * 184467440737095,
        "'%d.%06d'" % (i, abs(i) % 1000000), "'%d.%02d'" % (abs(i) % 999999, abs(i) % 100),
        "%g" % (i / 7.0), repr(i / 13.0), abs(i) % 2, format(abs(i) % 4096, 'b'),
        r.choice(["'ab'", "NULL", "'x y'"]), r.choice(["'tab\\there'", "'nl\\nhere'", "'quote '' \" \\\\ back'", "'ü ✓ 😀'", "NULL"]),
        r.choice(["REPEAT('long ', 300)", "''", "NULL", "'t'"]),
        r.choice(["X'00010203'", "X'5c5c0a0d'", "X'01000000'", "X'00000000'", "NULL"]), r.choice(["X''", "X'00ff'", "NULL", "UNHEX(MD5(%d))" % i]),
        r.choice(["REPEAT(X'00ff5c', 100)", "NULL", "X'00'"]),
        r.choice(["'2024-02-29'", "'1000-01-01'", "'9999-12-31'", "NULL"]),
        r.choice(["'00:00:00'", "'23:59:59'", "'12:00:01'", "NULL"]), r.choice(["'00:00:00.001'", "'10:11:12.5'", "NULL"]),
        r.choice(["'2024-01-02 03:04:05'", "'1000-01-01 00:00:00'", "NULL"]),
        r.choice(["'2024-01-02 03:04:05.000001'", "'2038-01-19 03:14:07.999999'", "NULL"]),
        r.choice(["'1970-01-01 00:00:01'", "'2038-01-19 03:14:07'", "NOW()", "NULL"]),
        r.choice(["'2024-06-30 23:59:59.5'", "NULL"]), r.choice(["1901", "2155", "2024", "NULL"]),
        r.choice(["'{\"a\": [1, 2, {\"b\": null}], \"c\": \"\\\\u00e9\"}'", "'[]'", "NULL", "'{\"n\": %d}'" % i]),
        r.choice(["'red'", "'it''s'", "NULL"]), r.choice(["''", "'a,c'", "'b'", "NULL"])))
cols = "ti, tu, si, mi, ii, iu, bi, bu, d, du, f, dbl, b1, b12, c, vc, tx, bn, vb, bl, dt, tm, tm3, dtm, dtm6, ts, ts3, y, j, e, st"
i = 0
while i < n:
    k = r.randint(1, 4)
    print("START TRANSACTION;")
    for _ in range(k):
        op = r.random()
        if op < 0.4:
            print("INSERT INTO items (%s) VALUES (%s);" % (cols, val()))
        elif op < 0.65:
            print("UPDATE items SET vc = CONCAT('u', %d), d = d + 1, j = '{\"u\": %d}', st = 'c', e = 'green', bl = X'ff00', ts = '2001-02-03 04:05:06', b12 = b'101' WHERE id = %d;" % (i, i, r.randint(1, 3000 + i)))
        elif op < 0.75:
            print("DELETE FROM items WHERE id = %d;" % r.randint(1, 3000 + i))
        elif op < 0.85:
            print("INSERT INTO accounts (owner, balance) VALUES ('w%d-%d', %d.25) ON DUPLICATE KEY UPDATE balance = balance + 1;" % (seed, i, i))
            print("UPDATE accounts SET balance = balance - 1 WHERE id = %d;" % r.randint(1, 260))
        elif op < 0.95:
            a = r.randint(1, 150)
            print("DELETE FROM pairs WHERE a = %d;" % a)
            print("INSERT INTO pairs VALUES (%d, 'k%d', 'w%d') ON DUPLICATE KEY UPDATE v = 'dup';" % (a, i % 5, i))
            print("UPDATE pairs SET b = CONCAT(b, 'x') WHERE a = %d AND b = 'k0';" % r.randint(1, 150))
        elif op < 0.96:
            # text in the columns' own character sets: the binlog carries those bytes
            print("INSERT INTO cs VALUES (%d, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE l1 = CONCAT(l1, 'é');" % (
                100 + i, r.choice(["'Åsa ÿ € %d'" % i, "'plain'", "NULL", "''"]), r.choice(["'Привет мир %d'" % i, "'ё'", "NULL"]),
                r.choice(["'Łódź %d'" % i, "'Žluťoučký kůň'", "NULL"]), r.choice(["'日本 ✓'", "'a  '", "NULL"])))
            print("UPDATE cs SET cy = CONCAT(IFNULL(cy, ''), 'Ж'), l2 = 'ő' WHERE id = 1;")
        elif op < 0.97:
            # a time-based (v1) UUID, a random (v4) one, and the nil UUID: MariaDB stores them differently
            u = r.choice(["'%08x-1234-11ee-8000-%012x'" % (abs(i), abs(i) * 7), "'%08x-5678-4abc-9def-%012x'" % (abs(i), abs(i)),
                          "'00000000-0000-0000-0000-000000000000'", "UUID()", "NULL"])
            print("INSERT INTO nets VALUES (%d, %s, '2001:db8::%x', '10.%d.%d.%d') ON DUPLICATE KEY UPDATE u = VALUES(u), i6 = VALUES(i6), i4 = NULL;" % (
                1000 + i, u, abs(i) % 65536, abs(i) % 256, (abs(i) >> 8) % 256, i % 200 + 1 if i > 0 else 7))
            print("UPDATE nets SET u = %s, i6 = '::1', i4 = '127.0.0.1' WHERE id = %d;" % (u, r.randint(1, 3)))
        else:
            print("UPDATE `Mixed Case` SET `Order` = `Order` + 1, `select` = 'u' WHERE `Id` = 1;")
        i += 1
    print("COMMIT;")
PY
}
workload 2500 7 >"$TEST_TMP/workload.sql"
mysql_as my shop <"$TEST_TMP/workload.sql" 2>"$TEST_TMP/workload.err" &
WL_PID=$!
kills=0
for i in 1 2 3; do
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$EXP_PID" 2>/dev/null && kills=$((kills + 1))
    wait "$EXP_PID" 2>/dev/null
    check "export data restarted after kill -9 $i, streaming again" run_exporter_streaming
done
wait "$WL_PID"
assert_eq "workload ran without error" "0 " "$? $(head -c 300 "$TEST_TMP/workload.err")"
assert_eq "export data killed (-9) 3 times while streaming" 3 "$kills"
assert_match "each restart resumed after the queue's position" "after binlog position [1-9][0-9]*:[0-9]+ into segment" \
    "$(grep "streaming changes from" "$ED/logs/yb-voyager-export-data-from-source.log" | tail -1)"

# ---- the source killed (-9) and restarted, then stopped (SIGSTOP) for longer than the silence ----
mariadb_kill my
mariadb_restart my || not_ok "restart mariadbd"
workload 300 8 | mysql_as my shop 2>"$TEST_TMP/workload2.err"
assert_eq "workload after the source's restart ran without error" "" "$(head -c 300 "$TEST_TMP/workload2.err")"
for i in $(seq 1 150); do grep -q "reconnecting" "$TEST_TMP/exporter.out" && break; sleep 0.2; done
assert_match "export data rode out the source's kill -9 (reconnected)" "source database: .*reconnecting" "$(cat "$TEST_TMP/exporter.out")"
RUNS=$((RUNS + 1))
check "export data streams again after the source's restart" wait_streams
kill -STOP "$(_mariadb_pid my)"
for i in $(seq 1 100); do grep -q "nothing received" "$TEST_TMP/exporter.out" && break; sleep 0.2; done
kill -CONT "$(_mariadb_pid my)"
assert_match "a silent source is detected as dead (no heartbeat for 6 s)" "nothing received on the replication connection for [0-9]+ s" \
    "$(cat "$TEST_TMP/exporter.out")"
RUNS=$((RUNS + 1))
check "export data streams again after the pause" wait_streams
workload 200 9 | mysql_as my shop 2>"$TEST_TMP/workload3.err"
assert_eq "workload after the pause ran without error" "" "$(head -c 300 "$TEST_TMP/workload3.err")"
check "export data still running" kill -0 "$EXP_PID"
# TRUNCATE reaches the target as a truncate (it was once skipped: the target kept every row); the
# rows written after it survive it
mysql_as my shop -e "TRUNCATE TABLE pairs; INSERT INTO pairs VALUES (7, 'after', 'truncate')"
mysql_as my shop -e "INSERT INTO accounts (owner) VALUES ('last'); DELETE FROM accounts WHERE owner = 'last'"
# DOUBLE(M,D) and ENUM/SET members with LF/CR/backslash, through the stream this time
mysql_as my shop -e "INSERT INTO dm (id, d4, d2, e, s, a, b) SELECT id + 100, d4, d2, e, s, a, b FROM dm WHERE id < 100;
    INSERT INTO dm (id, d4, d2, e, a, b) SELECT 2000 + seq, -seq / 9999, seq / 7, 'c\rd', -seq * 41, seq % 7 + 1 FROM seq_1_to_300;
    UPDATE dm SET e = 'a\nb', s = 'q\nr' WHERE id = 4"

check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 120
assert_eq "export data exits 0 after draining for cutover" 0 "$?"
wait_exit "$IMP_PID" 120
assert_eq "import data exits 0 after the end of stream" 0 "$?"
assert_match "the exporter streamed from the binlog" "streaming changes from the binlog of" "$(cat "$TEST_TMP/exporter.out" "$ED"/logs/*export-data*.log 2>/dev/null)"
assert_match "cutover drained the binlog" "cutover to target: every change of the source database is in the queue" "$(cat "$TEST_TMP/exporter.out")"
check "cutover status says COMPLETED" grep -q COMPLETED <("$V" cutover status -e "$ED" 2>&1)

# ---- compare, table by table ----
compare_table() {
    local my=$1 pg=$2 mykey=${3%%|*} pgkey=${3#*|}
    shift 3
    local mycols=() pgcols=() spec
    for spec in "$@"; do
        mycols+=("COALESCE(MD5(${spec%%|*}), 'null')")
        pgcols+=("coalesce(md5((${spec#*|})::text), 'null')")
    done
    local myq pgq a b
    myq="SET time_zone = '+00:00'; SELECT CONCAT_WS(' ', $(IFS=,; echo "${mycols[*]}")) FROM \`$my\` ORDER BY $mykey"
    pgq="SET TimeZone = 'UTC'; SELECT concat_ws(' ', $(IFS=,; echo "${pgcols[*]}")) FROM $pg ORDER BY $pgkey"
    a=$(mysql_as my shop -e "$myq")
    b=$(psql_as target yugabyte -c "$pgq")
    assert_eq "$my: row count" "$(mysql_as my shop -e "SELECT COUNT(*) FROM \`$my\`")" \
        "$(psql_as target yugabyte -c "SELECT count(*) FROM $pg")"
    if [ "$a" == "$b" ] && [ -n "$a" ]; then
        ok "$my: every row equal ($(echo "$a" | grep -c .) rows, $# columns)"
    else
        not_ok "$my: every row equal" "$(diff <(echo "$a") <(echo "$b") | head -12)"
    fi
}
ts() { echo "DATE_FORMAT($1,'%Y-%m-%d %H:%i:%s.%f')|to_char($1,'YYYY-MM-DD HH24:MI:SS.US')"; }
tm() { echo "TIME_FORMAT($1,'%H:%i:%s.%f')|to_char('2000-01-01'::date + $1,'HH24:MI:SS.US')"; }
hx() { echo "HEX($1)|upper(encode($1,'hex'))"; }
bits() { echo "LPAD(BIN($1),$2,'0')|$1"; }
same() { local c; for c in "$@"; do echo "$c|$c"; done; }
mapfile -t C < <(same id ti tu si mi ii iu bi bu d du;
    bits b1 1; bits b12 12; same c vc tx; hx bn; hx vb; hx bl; same dt; tm tm; tm tm3; ts dtm; ts dtm6; ts ts; ts ts3;
    same y j e st gen)
compare_table items items id "${C[@]}"
# FLOAT and DOUBLE: the values read back as the same binary value (FLOAT as a single)
mysql_as my shop -e "SELECT id, CAST(f AS DOUBLE), dbl FROM items ORDER BY id" >"$TEST_TMP/f.my"
psql_as target yugabyte -F $'\t' -c "SELECT id, f::float8, dbl FROM items ORDER BY id" >"$TEST_TMP/f.pg"
mysql_floats_equal "$TEST_TMP/f.my" "$TEST_TMP/f.pg" && ok "items: FLOAT and DOUBLE equal as binary values" ||
    not_ok "items: FLOAT and DOUBLE" "$(diff "$TEST_TMP/f.my" "$TEST_TMP/f.pg" | head -6)"
compare_table accounts accounts id "id|id" "owner|owner" "balance|balance"
compare_table pairs pairs "a, b|a, b COLLATE \"C\"" "a|a" "b|b" "v|v"
compare_table cs cs id "id|id" "CONVERT(l1 USING utf8mb4)|l1" "CONVERT(cy USING utf8mb4)|cy" "CONVERT(l2 USING utf8mb4)|l2" "u8|u8"
compare_table dm dm id "id|id" "e|e" "s|s" "a|a" "b|b" "q|q" "qd|qd" # q, qd: MySQL's '/' is decimal
# DOUBLE(M,D): the stored double, whether the row came through the snapshot or the stream
mysql_as my shop -e "SELECT id, CAST(d4 AS DOUBLE), CAST(d2 AS DOUBLE) FROM dm ORDER BY id" >"$TEST_TMP/dm.my"
psql_as target yugabyte -F $'\t' -c "SELECT id, d4, d2 FROM dm ORDER BY id" >"$TEST_TMP/dm.pg"
if python3 - "$TEST_TMP/dm.my" "$TEST_TMP/dm.pg" <<'PY'
import sys
rows = lambda p: [[None if v in ("NULL", "") else float(v) for v in l.rstrip("\n").split("\t")] for l in open(p)]
a, b = rows(sys.argv[1]), rows(sys.argv[2])
sys.exit(0 if len(a) == len(b) == 608 and a == b else 1)
PY
then ok "dm: DOUBLE(M,D) equal as binary values (608 rows, snapshot and stream)"
else not_ok "dm: DOUBLE(M,D) equal as binary values" "$(diff "$TEST_TMP/dm.my" "$TEST_TMP/dm.pg" | head -6)"; fi
compare_table nets nets id "id|id" "CAST(u AS CHAR)|u" "CAST(i6 AS CHAR)|host(i6)" "CAST(i4 AS CHAR)|host(i4)"
compare_table "Mixed Case" '"mixed case"' '`Id`|id' '`Id`|id' '`Order`|"order"' '`select`|"select"'
assert_eq "the json documents are byte for byte the source's" \
    "$(mysql_as my shop --raw -e "SELECT j FROM items ORDER BY id" | md5sum)" \
    "$(psql_as target yugabyte -c "SELECT coalesce(j::text, 'NULL') FROM items ORDER BY id" | md5sum)"

# ---- identities continue after the AUTO_INCREMENT read at cutover ----
for t in items accounts; do
    next=$(mysql_as my information_schema -e "SELECT AUTO_INCREMENT FROM TABLES WHERE TABLE_SCHEMA='shop' AND TABLE_NAME='$t'")
    case $t in
    items) ins="INSERT INTO items (ii) VALUES (1) RETURNING id" ;;
    accounts) ins="INSERT INTO accounts (owner) VALUES ('after cutover') RETURNING id" ;;
    esac
    assert_eq "$t: the target's next id is the source's AUTO_INCREMENT at cutover ($next)" "$next" \
        "$(psql_as target yugabyte -c "$ins")"
done
done_testing
