#!/bin/bash
# compare data with a MySQL/MariaDB source, beyond integer keys and checksums: tables keyed by
# text (utf8mb4 and latin1, multibyte, case and trailing blanks), char(n), decimal (one of them
# negative: its text sorts unlike its numbers, so boundaries sorted as text overlap), BIGINT
# UNSIGNED, date, datetime(6), timestamp, varbinary and a composite (text, int) key, each big
# enough to be split into key ranges (sampled boundaries, the source comparing them as the
# target does), plus a table without a primary key. Equal at --level checksum, count and rows
# after an offline migration; then a row inserted on the target, one deleted and one changed,
# in every table: --level rows names exactly those keys (missing / extra / changed), --level
# count sees the counts, and the source counts with COUNT(*) (its general log shows no SELECT
# of the rows).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$(dirname "$0")/../lib/mysql_fixture.sh"
V=$VOYAGER

mysql_fixture_start kdb
N=101000
mysql_as my kdb <<SQL || not_ok "create and fill the MySQL database"
SET time_zone = "+00:00";
CREATE TABLE t_text (k VARCHAR(40) NOT NULL PRIMARY KEY, v INT) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci;
INSERT INTO t_text SELECT CONCAT(ELT(1 + seq % 4, 'a', 'B', 'ü', '日'), LPAD(seq, 7, '0'), IF(seq % 5 = 0, ' ', '')), seq FROM seq_1_to_$N;
CREATE TABLE t_latin (k VARCHAR(40) CHARACTER SET latin1 NOT NULL PRIMARY KEY, v INT);
INSERT INTO t_latin SELECT CONCAT(ELT(1 + seq % 3, 'x', 'Å', 'ÿ'), seq), seq FROM seq_1_to_$N;
CREATE TABLE t_char (k CHAR(12) NOT NULL PRIMARY KEY, v INT);
INSERT INTO t_char SELECT CONCAT('c', seq), seq FROM seq_1_to_$N;
CREATE TABLE t_dec (k DECIMAL(12,3) NOT NULL PRIMARY KEY, v INT);
INSERT INTO t_dec SELECT (CAST(seq AS SIGNED) - 30000) / 7, seq FROM seq_1_to_$N;
CREATE TABLE t_neg (k DECIMAL(12,3) NOT NULL PRIMARY KEY, v INT);
INSERT INTO t_neg SELECT -CAST(seq AS SIGNED), seq FROM seq_1_to_$N;
CREATE TABLE t_ubig (k BIGINT UNSIGNED NOT NULL PRIMARY KEY, v INT);
INSERT INTO t_ubig SELECT 18446744073709551615 - seq * 1000003, seq FROM seq_1_to_$N;
CREATE TABLE t_date (k DATE NOT NULL PRIMARY KEY, v INT);
INSERT INTO t_date SELECT '1900-01-01' + INTERVAL seq DAY, seq FROM seq_1_to_$N;
CREATE TABLE t_dt (k DATETIME(6) NOT NULL PRIMARY KEY, v INT);
INSERT INTO t_dt SELECT '2020-01-01 00:00:00.000001' + INTERVAL seq * 1000001 MICROSECOND, seq FROM seq_1_to_$N;
CREATE TABLE t_ts (k TIMESTAMP NOT NULL PRIMARY KEY, v INT);
INSERT INTO t_ts SELECT '2001-01-01 00:00:00' + INTERVAL seq MINUTE, seq FROM seq_1_to_$N;
CREATE TABLE t_bin (k VARBINARY(16) NOT NULL PRIMARY KEY, v INT);
INSERT INTO t_bin SELECT UNHEX(CONCAT(IF(seq % 2, '00', 'ff'), LPAD(HEX(seq), 8, '0'))), seq FROM seq_1_to_$N;
CREATE TABLE t_comp (a VARCHAR(10) NOT NULL, b INT NOT NULL, v TEXT, PRIMARY KEY (a, b));
INSERT INTO t_comp SELECT CONCAT('g', seq % 50), seq, REPEAT('v', seq % 30) FROM seq_1_to_$N;
CREATE TABLE t_nopk (a INT, b VARCHAR(10));
INSERT INTO t_nopk SELECT seq % 100, 'dup' FROM seq_1_to_2000;
SQL
SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
    --source-db-user voyager --source-db-name kdb)
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
ED=$(new_export_dir)
mysql_fixture_migrate 4

CMP=("$V" compare data -e "$ED" --source-db-port "$MY_PORT" --target-db-port "$TARGET_PORT" --disable-pb)
KEYED="t_text t_latin t_char t_dec t_neg t_ubig t_date t_dt t_ts t_bin t_comp"
log_of_last() { cat "$LAST_ERR" "$ED"/logs/*compare* 2>/dev/null; }
for level in checksum count rows; do
    rm -f "$ED"/logs/*compare*
    check "compare data --level $level: equal after the offline migration" "${CMP[@]}" --parallel-jobs 4 --level "$level"
    out=$(cat "$LAST_OUT")
    for t in $KEYED; do
        assert_match "$level: $t EQUAL with $N rows on both sides" "$t +\| *$N +\| *$N +\| *EQUAL" "$out"
    done
    assert_match "$level: t_nopk EQUAL" "t_nopk +\| *2000 +\| *2000 +\| *EQUAL" "$out"
    # 11 split tables of at least 2 ranges each, 1 unsplit: more than 22 ranges
    assert_match "$level: the tables are split into key ranges" "12 tables in (2[3-9]|[3-9][0-9]|[1-9][0-9][0-9]+) key ranges" "$(log_of_last)"
done

# ---- --level count counts on the source: no row is read there ----
mysql_as my kdb -e "SET GLOBAL general_log_file = 'general.log'; SET GLOBAL general_log = 1"
check "compare data --level count (general log on)" "${CMP[@]}" --parallel-jobs 4 --level count
mysql_as my kdb -e "SET GLOBAL general_log = 0"
assert_match "the source counts with COUNT(*)" "SELECT COUNT\(\*\) FROM \`kdb\`.\`t_text\`" "$(cat "$MY_DIR/data/general.log")"
if grep -q 'SELECT `k`, `v` FROM `kdb`.`t_text`' "$MY_DIR/data/general.log"; then
    not_ok "--level count reads no row of the source"
else
    ok "--level count reads no row of the source"
fi

# ---- a row inserted, one deleted and one changed on the target, in every keyed table ----
psql_as target yugabyte >/dev/null <<'SQL'
INSERT INTO t_text VALUES ('zz extra', 1);  DELETE FROM t_text WHERE k = 'B0000001';  UPDATE t_text SET v = -1 WHERE k = 'ü0000002';
INSERT INTO t_latin VALUES ('Åextra', 1);   DELETE FROM t_latin WHERE k = 'Å1';       UPDATE t_latin SET v = -1 WHERE k = 'ÿ2';
INSERT INTO t_char VALUES ('cextra', 1);    DELETE FROM t_char WHERE k = 'c1';        UPDATE t_char SET v = -1 WHERE k = 'c59999';
INSERT INTO t_dec VALUES (99999.5, 1);      DELETE FROM t_dec WHERE k = -4285.571;    UPDATE t_dec SET v = -1 WHERE k = 4285.714;
INSERT INTO t_neg VALUES (0.5, 1);         DELETE FROM t_neg WHERE k = -1;           UPDATE t_neg SET v = -1 WHERE k = -54321;
INSERT INTO t_ubig VALUES (5, 1);           DELETE FROM t_ubig WHERE k = 18446744073708551612; UPDATE t_ubig SET v = -1 WHERE k = 18446744073649551435;
INSERT INTO t_date VALUES ('2500-01-01', 1); DELETE FROM t_date WHERE k = '1900-01-02'; UPDATE t_date SET v = -1 WHERE k = '1964-06-03';
INSERT INTO t_dt VALUES ('2030-01-01 00:00:00.5', 1); DELETE FROM t_dt WHERE k = '2020-01-01 00:00:01.000002'; UPDATE t_dt SET v = -1 WHERE k = '2020-01-01 00:00:02.000003';
INSERT INTO t_ts VALUES ('2030-01-01 00:00:00+00', 1); DELETE FROM t_ts WHERE k = '2001-01-01 00:01:00+00'; UPDATE t_ts SET v = -1 WHERE k = '2001-01-01 00:02:00+00';
INSERT INTO t_bin VALUES ('\x7f', 1);       DELETE FROM t_bin WHERE k = '\x0000000001'; UPDATE t_bin SET v = -1 WHERE k = '\xff00000002';
INSERT INTO t_comp VALUES ('g1', 0, 'x');   DELETE FROM t_comp WHERE a = 'g1' AND b = 1; UPDATE t_comp SET v = 'changed' WHERE a = 'g2' AND b = 2;
DELETE FROM t_nopk WHERE ctid = (SELECT min(ctid) FROM t_nopk WHERE a = 7); INSERT INTO t_nopk VALUES (7, 'other');
SQL
"${CMP[@]}" --parallel-jobs 4 --level rows >"$LAST_OUT" 2>"$LAST_ERR"
assert_eq "--level rows: exit 7 (differences found)" 7 "$?"
out=$(cat "$LAST_OUT")
for t in $KEYED; do
    assert_match "rows: $t: 1 missing, 1 extra, 1 changed" "$t +\| *$N +\| *$N +\| *DIFFERENT +\| *3 rows differ: 1 missing on target, 1 extra on target, 1 changed" "$out"
done
assert_match "rows: t_nopk: counted, not listed" "t_nopk +\|.*DIFFERENT.*no primary key: 1 rows only on source, 1 only on target" "$out"
listed() { # TABLE KIND KEY: the line under "differing rows of TABLE"
    python3 - "$LAST_OUT" "$@" <<'PY'
import sys
text, table, kind, key = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4]
cur = None
for line in text.splitlines():
    if line.startswith("differing rows of "):
        cur = line[len("differing rows of "):].split(" ")[0]
    elif cur == table and line.split(None, 1) == [kind, key]:
        sys.exit(0)
sys.exit(1)
PY
}
expect_key() { listed "$@" && ok "rows: $1 lists $2 $3" || not_ok "rows: $1 lists $2 $3" "$(cat "$LAST_OUT")"; }
expect_key t_text extra '("zz extra")';   expect_key t_text missing '(B0000001)';   expect_key t_text changed '(ü0000002)'
expect_key t_latin extra '(Åextra)';      expect_key t_latin missing '(Å1)';        expect_key t_latin changed '(ÿ2)'
expect_key t_char extra '("cextra      ")'; expect_key t_char missing '("c1          ")'; expect_key t_char changed '("c59999      ")'
expect_key t_dec extra "(99999.5)";     expect_key t_dec missing '(-4285.571)';   expect_key t_dec changed '(4285.714)'
expect_key t_neg extra '(0.5)';          expect_key t_neg missing '(-1)';          expect_key t_neg changed '(-54321)'
expect_key t_ubig extra '(5)';            expect_key t_ubig missing '(18446744073708551612)'; expect_key t_ubig changed '(18446744073649551435)'
expect_key t_date extra '(2500-01-01)';   expect_key t_date missing '(1900-01-02)'; expect_key t_date changed '(1964-06-03)'
expect_key t_dt extra '("2030-01-01 00:00:00.5")'; expect_key t_dt missing '("2020-01-01 00:00:01.000002")'; expect_key t_dt changed '("2020-01-01 00:00:02.000003")'
expect_key t_ts extra '("2030-01-01 00:00:00+00")'; expect_key t_ts missing '("2001-01-01 00:01:00+00")'; expect_key t_ts changed '("2001-01-01 00:02:00+00")'
expect_key t_bin extra '("\\x7f")';       expect_key t_bin missing '("\\x0000000001")'; expect_key t_bin changed '("\\xff00000002")'
expect_key t_comp extra '(g1,0)';         expect_key t_comp missing '(g1,1)';       expect_key t_comp changed '(g2,2)'

"${CMP[@]}" --parallel-jobs 4 --level count >"$LAST_OUT" 2>"$LAST_ERR"
assert_eq "--level count: exit 7" 7 "$?"
assert_match "count: t_text, one row in and one out: the same totals, but its ranges' counts differ" "t_text +\| *$N +\| *$N +\| *DIFFERENT +\| *row counts differ" "$(cat "$LAST_OUT")"
# a change on the source side: one more row there
mysql_as my kdb -e "INSERT INTO t_dec VALUES (123456.789, 0)"
"${CMP[@]}" --parallel-jobs 4 --level count >"$LAST_OUT" 2>"$LAST_ERR"
assert_match "count: a row added on the source is counted there" "t_dec +\| *$((N + 1)) +\| *$N +\| *DIFFERENT" "$(cat "$LAST_OUT")"
"${CMP[@]}" --parallel-jobs 4 --level rows --max-diff-rows 2 >"$LAST_OUT" 2>"$LAST_ERR"
assert_match "rows: --max-diff-rows 2 lists two keys and says so" "t_dec +\|.*4 rows differ: 2 missing on target, 1 extra on target, 1 changed \(keys listed up to --max-diff-rows\)" "$(cat "$LAST_OUT")"
done_testing
