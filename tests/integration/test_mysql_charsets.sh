#!/bin/bash
# Text in the source's legacy character sets lands on the target as the same characters whether
# it came through the snapshot (a SELECT through utf8mb4: the server converts) or through the
# binlog (the column's raw bytes, decoded by source/mysql/mysql_charset with the server's own
# tables). Before, the binlog path used glibc iconv, whose tables differ from MariaDB's: sjis
# `C:\Users\x ~` became `C:＼Users＼x ‾`, euckr `똠방각하` a C1 control and `c방각하`, big5 `／＼¥•`
# and cp866 `ⁿ²` other characters, silently; a text primary key then made the stream's updates and
# deletes of snapshot rows find no row on the target (lost, with a warning). Bytes glibc refuses and
# the server converts (latin1 0x81, tis620 0x80) stopped the stream.
#
# First the mysql_server_charset unit tests: every code of every set decoded as the server
# converts it. Then a live migration (export data --export-type snapshot-and-changes, import data,
# initiate cutover to target) with the same values loaded before the snapshot and inserted while
# streaming, updates of them, and a table whose primary key is an sjis path updated (key and
# non-key columns) and deleted while streaming; after the cutover the source and the target are
# compared value by value (the UTF-8 bytes of every text), and with compare data.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
V=$VOYAGER
_live_cleanup() { kill -KILL ${EXP_PID:-} ${IMP_PID:-} 2>/dev/null; _mariadb_cleanup; harness_cleanup; }
trap _live_cleanup EXIT

mariadb_start my shop || { not_ok "start mariadbd"; done_testing; exit 1; }
pg_start target yugabyte || { not_ok "start PostgreSQL"; done_testing; exit 1; }
ok "mariadbd and PostgreSQL started"

mariadb_unit_tests my test_mysql_charset 4

# One column per set, the values typed in UTF-8 and stored by the server in the column's set (what
# an application writing through a utf8mb4 connection stores), or as raw bytes (_set X'..').
COLS="c_sjis VARCHAR(40) CHARACTER SET sjis, c_euckr VARCHAR(40) CHARACTER SET euckr,
  c_big5 VARCHAR(40) CHARACTER SET big5, c_cp866 VARCHAR(40) CHARACTER SET cp866,
  c_latin1 VARCHAR(40) CHARACTER SET latin1, c_ujis VARCHAR(40) CHARACTER SET ujis,
  c_greek VARCHAR(40) CHARACTER SET greek, c_hebrew VARCHAR(40) CHARACTER SET hebrew,
  c_koi8u VARCHAR(40) CHARACTER SET koi8u, c_macroman VARCHAR(40) CHARACTER SET macroman,
  c_tis620 VARCHAR(40) CHARACTER SET tis620, c_swe7 VARCHAR(40) CHARACTER SET swe7,
  c_dec8 VARCHAR(40) CHARACTER SET dec8, c_gbk TEXT CHARACTER SET gbk,
  c_ucs2 VARCHAR(40) CHARACTER SET ucs2, c_utf16 VARCHAR(40) CHARACTER SET utf16,
  c_utf32 VARCHAR(40) CHARACTER SET utf32, c_char CHAR(12) CHARACTER SET sjis"
NAMES="c_sjis c_euckr c_big5 c_cp866 c_latin1 c_ujis c_greek c_hebrew c_koi8u c_macroman c_tis620 c_swe7 c_dec8 c_gbk c_ucs2 c_utf16 c_utf32 c_char"
# rows(FIRST_ID, PHASE): the same two rows of values each time
rows() {
    cat <<SQL
INSERT INTO t VALUES ($1, '$2', CONVERT(_utf8mb4'C:\\\\Users\\\\x ~' USING sjis), CONVERT(_utf8mb4'똠방각하' USING euckr),
  CONVERT(_utf8mb4'／＼¥•' USING big5), CONVERT(_utf8mb4'ⁿ²' USING cp866), CONVERT(_utf8mb4'€ ÿ Œ' USING latin1),
  _ujis X'A1C0', CONVERT(_utf8mb4'ʽʼ' USING greek), CONVERT(_utf8mb4'‾' USING hebrew), CONVERT(_utf8mb4'•' USING koi8u),
  CONVERT(_utf8mb4'∆' USING macroman), CONVERT(_utf8mb4'ไทย' USING tis620), CONVERT(_utf8mb4'ÅÄÖåäö' USING swe7),
  CONVERT(_utf8mb4'ÆŒ¤' USING dec8), CONVERT(_utf8mb4'中文\\\\' USING gbk), CONVERT(_utf8mb4'ü ✓' USING ucs2),
  CONVERT(_utf8mb4'😀 ü' USING utf16), CONVERT(_utf8mb4'😀' USING utf32), CONVERT(_utf8mb4'ﾃｽﾄ\\\\' USING sjis));
INSERT INTO t VALUES ($(($1 + 1)), '$2', CONVERT(_utf8mb4'a~b ﾃｽﾄ\\\\' USING sjis), CONVERT(_utf8mb4'갂' USING euckr),
  CONVERT(_utf8mb4'ア' USING big5), NULL, _latin1 X'818D8F909D', CONVERT(_utf8mb4'日本語\\\\' USING ujis),
  NULL, NULL, NULL, NULL, _tis620 X'80', NULL, NULL, NULL, NULL, NULL, NULL, CONVERT(_utf8mb4'~' USING sjis));
SQL
}
{
    echo "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, ph VARCHAR(8), $COLS);"
    rows 1 snap
    cat <<'SQL'
CREATE TABLE files (path VARCHAR(100) CHARACTER SET sjis NOT NULL, id INT NOT NULL, ph VARCHAR(8), size INT,
  PRIMARY KEY (path, id));
INSERT INTO files VALUES ('C:\\data\\a.txt', 1, 'snap', 10), ('C:\\data\\b.txt', 2, 'snap', 20),
  ('plain.txt', 3, 'snap', 30), ('~\\c.txt', 4, 'snap', 40);
SQL
} | mysql_as my shop || not_ok "create and fill the MySQL database"
assert_eq "the sjis path holds 0x815F for each backslash (as MariaDB stores it)" "433A815F64617461815F612E747874" \
    "$(mysql_as my shop -e "SELECT HEX(path) FROM files WHERE id = 1")"

SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
    --source-db-user voyager --source-db-name shop)
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
ED=$(new_export_dir)
check "export schema" "$V" export schema -e "$ED" "${SRC[@]}"
check "import schema" "$V" import schema -e "$ED" "${TGT[@]}"
"$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
check "snapshot exported, then changes streamed" \
    wait_log "$ED/logs/yb-voyager-export-data-from-source.log" "streaming changes from" "$EXP_PID"
"$V" import data -e "$ED" "${TGT[@]}" --disable-pb true --parallel-jobs 2 >"$TEST_TMP/importer.out" 2>&1 &
IMP_PID=$!
LOG="$ED/logs/yb-voyager-export-data-from-source.log"
assert_eq "one table read from the server per legacy set (14 sets, ucs2/utf16/utf32 need none)" 14 \
    "$(grep -c "read the server's table of" "$LOG")"
assert_match "sjis's table read, logged at info level" "character set sjis: read the server's table of 33024 codes" "$(cat "$LOG")"

# the workload while streaming: the same values again, updates of the snapshot's, the keys
{
    rows 101 cdc
    cat <<'SQL'
UPDATE t SET ph = 'upd', c_sjis = CONCAT(c_sjis, '\\~'), c_euckr = CONCAT(c_euckr, '똠'), c_big5 = CONCAT(c_big5, '＼'),
  c_cp866 = CONCAT(c_cp866, 'ⁿ'), c_latin1 = CONCAT(c_latin1, _latin1 X'81'), c_char = '\\\\' WHERE id = 1;
DELETE FROM t WHERE id = 2;
UPDATE files SET size = 11, ph = 'upd' WHERE id = 1;
DELETE FROM files WHERE id = 2;
UPDATE files SET size = 31, ph = 'upd' WHERE id = 3;
UPDATE files SET path = 'C:\\moved\\d.txt', ph = 'key' WHERE id = 4;
INSERT INTO files VALUES ('C:\\new\\e.txt', 5, 'cdc', 50), ('C:\\new\\f.txt', 6, 'cdc', 60);
UPDATE files SET size = 51 WHERE id = 5;
DELETE FROM files WHERE id = 6;
SQL
} | mysql_as my shop || not_ok "the workload ran"

check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 120
assert_eq "export data exits 0 after draining for cutover" 0 "$?"
wait_exit "$IMP_PID" 120
assert_eq "import data exits 0 after the end of stream" 0 "$?"
assert_eq "no streamed update or delete missed its row" "" \
    "$(grep -h "found no row" "$TEST_TMP/importer.out" "$ED"/logs/*import-data*.log 2>/dev/null | head -3)"

# ---- value by value: the UTF-8 bytes of every text on both sides ----
mycols="id, ph" pgcols="id, ph"
for c in $NAMES; do
    mycols="$mycols, COALESCE(HEX(CONVERT($c USING utf8mb4)), 'NULL')"
    pgcols="$pgcols, coalesce(upper(encode(convert_to($c, 'UTF8'), 'hex')), 'NULL')"
done
a=$(mysql_as my shop -e "SELECT $mycols FROM t ORDER BY id")
b=$(psql_as target yugabyte -F $'\t' -c "SELECT $pgcols FROM t ORDER BY id")
assert_eq "t: 3 rows on the source (one of the snapshot's updated, one deleted; 2 streamed)" 3 "$(echo "$a" | grep -c .)"
if [ "$a" == "$b" ]; then
    ok "t: every text value's UTF-8 bytes equal on source and target ($(echo "$NAMES" | wc -w) columns)"
else
    not_ok "t: every text value's UTF-8 bytes equal on source and target" "$(diff <(echo "$a") <(echo "$b") | head -12)"
fi
assert_eq "sjis C:\\Users\\x ~ streamed as the server reads it" "433A5C55736572735C78207E" \
    "$(psql_as target yugabyte -c "SELECT upper(encode(convert_to(c_sjis, 'UTF8'), 'hex')) FROM t WHERE id = 101")"
assert_eq "euckr 똠방각하 streamed as the server reads it" "똠방각하" \
    "$(psql_as target yugabyte -c "SELECT c_euckr FROM t WHERE id = 101")"
a=$(mysql_as my shop -e "SELECT id, ph, size, HEX(CONVERT(path USING utf8mb4)) FROM files ORDER BY id")
b=$(psql_as target yugabyte -F $'\t' -c "SELECT id, ph, size, upper(encode(convert_to(path, 'UTF8'), 'hex')) FROM files ORDER BY id")
assert_eq "files: the source kept rows 1, 3, 4 (key updated) and 5" "1 3 4 5" "$(echo "$a" | cut -f1 | xargs)"
if [ "$a" == "$b" ]; then
    ok "files: every row equal, the sjis key's updates and deletes applied"
else
    not_ok "files: every row equal, the sjis key's updates and deletes applied" "$(diff <(echo "$a") <(echo "$b") | head -12)"
fi
check "compare data after cutover" "$V" compare data -e "$ED" --disable-pb
out=$(cat "$LAST_OUT")
assert_match "compare data: t equal" "t +\| *3 +\| *3 +\| *EQUAL" "$out"
assert_match "compare data: files equal" "files +\| *4 +\| *4 +\| *EQUAL" "$out"
done_testing
