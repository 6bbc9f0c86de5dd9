#!/bin/bash
# Fall-forward into MySQL, end to end: a live migration from a throwaway MariaDB server to a
# throwaway PostgreSQL 15 target, with a second MariaDB server as the source-replica (its tables
# made from the source's DDL, as an operator would). import data to source-replica loads the
# snapshot (the data files export data wrote, PostgreSQL COPY text, converted back into MySQL
# values) and then applies the source's changes, killed (-9) and restarted during the snapshot
# load and while it applies; cutover to target; the target's workload over every type family
# (bytea, bit(n), timestamptz in other zones, numeric up to 2^64-1, json, enum and set text, key
# updates, deletes) flows to the source-replica (export data from target -> import data to
# source-replica), killed again; cutover to source-replica. The source-replica is compared table by
# table with the target (row counts, an md5 per column per row, floats as binary values, JSON
# byte for byte) after the snapshot, after cutover to target, while the target's changes flow and
# after cutover to source-replica; AUTO_INCREMENT continues after the target's sequences. Without
# the grants on ybvoyager_metadata the first run stops with the GRANT to run.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$HARNESS_DIR/mysql_way_back.sh"
V=$VOYAGER

wb_start shopr
# the source-replica's tables: the source's DDL, no rows
mariadb-dump --no-defaults --socket="$TEST_TMP/my/mysqld.sock" -u root --no-data --skip-add-drop-table shop |
    mysql_as rep shopr || not_ok "create the source-replica's tables"
REP=(--source-replica-db-host 127.0.0.1 --source-replica-db-port "$REP_PORT" --source-replica-db-user voyager
    --source-replica-db-name shopr)

check "export schema" "$V" export schema -e "$ED" "${SRC[@]}"
check "import schema" "$V" import schema -e "$ED" "${TGT[@]}"

# ---- phase 1: source -> target and source-replica ----
proc_start exp "$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true
check "export data: snapshot, then streaming" \
    wait_log "$ED/logs/yb-voyager-export-data-from-source.log" "streaming changes from" "$(proc_pid exp)"
# without the grants, the bookkeeping cannot be made: the error says the GRANT, nothing is written
expect_refusal "import data to source-replica without grants on ybvoyager_metadata: the GRANT on a hint line" 5 \
    "cannot create the bookkeeping database ybvoyager_metadata: Access denied.*hint: as an administrator run: GRANT ALL ON ybvoyager_metadata\.\* TO 'voyager'@'<client host>';" \
    "$V" import data to source-replica -e "$ED" "${REP[@]}" --disable-pb true
assert_eq "nothing loaded into the source-replica by the refused run" 0 "$(mysql_as rep shopr -e "SELECT COUNT(*) FROM items")"
wb_grant_writer rep shopr
proc_start imp "$V" import data -e "$ED" "${TGT[@]}" --disable-pb true --parallel-jobs 2
# small batches: the snapshot load is many transactions, so a kill lands in its middle
proc_start rep "$V" import data to source-replica -e "$ED" "${REP[@]}" --disable-pb true --parallel-jobs 2 --batch-size 100
sleep 0.$((RANDOM % 5 + 3))
rep_kills=0
if proc_alive rep; then
    proc_kill9 rep
    rep_kills=$((rep_kills + 1))
fi
loaded=$(mysql_as rep shopr -e "SELECT COUNT(*) FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3" 2>/dev/null)
echo "# snapshot batches committed on the source-replica before its kill -9: ${loaded:-none}"
proc_restart rep
wb_source_workload 600 7 >"$TEST_TMP/src1.sql"
mysql_as my shop <"$TEST_TMP/src1.sql" 2>"$TEST_TMP/src1.err" &
WL=$!
sleep 1.$((RANDOM % 9))
if proc_alive rep; then
    proc_kill9 rep
    rep_kills=$((rep_kills + 1))
fi
proc_restart rep
wait "$WL"
assert_eq "source workload ran without error" "" "$(head -c 300 "$TEST_TMP/src1.err")"
assert_eq "import data to source-replica killed (-9) twice (snapshot, changes)" 2 "$rep_kills"
assert_match "import data to source-replica loaded the snapshot into MySQL" "snapshot|batch" \
    "$(cat "$ED"/logs/*import-data-to-source-replica*.log 2>/dev/null)"

# ---- cutover to target: the replica keeps following ----
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
proc_wait exp 120
assert_eq "export data exits 0 after the end of stream" 0 "$PROC_RC"
check "cutover to target completes (export data from target captures the target)" \
    status_wait "$ED" ExportFromTargetStarted 120
proc_became imp expt "$V" export data from target -e "$ED" --disable-pb true
check "the source-replica has every source change" wb_wait_equal rep shopr 180
wb_compare rep shopr "after cutover to target"
assert_eq "the source equals the target too (items rows)" "$(mysql_as my shop -e "SELECT COUNT(*) FROM items")" \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM items")"

# ---- compare data: the MySQL source-replica read through the seam like the MySQL source ----
# (here, as the target takes no changes yet, the source, the target and the source-replica agree)
CMP=("$V" compare data -e "$ED" --disable-pb)
tgt_part() { sed -n '/^source vs target/,/^source vs source-replica/p' "$LAST_OUT"; }
rep_part() { sed -n '/^source vs source-replica/,$p' "$LAST_OUT"; }
for level in checksum count; do
    check "compare data --level $level: source, target and the MySQL source-replica EQUAL" \
        "${CMP[@]}" --level "$level" --parallel-jobs 2
    assert_eq "compare data --level $level: all 5 tables equal on the source-replica" \
        "5 of 5 tables equal on source-replica, 5 EQUAL" \
        "$(rep_part | grep -E "tables equal"), $(rep_part | grep -cE "\| EQUAL") EQUAL"
    assert_eq "compare data --level $level: all 5 tables equal on the target" 5 "$(tgt_part | grep -cE "\| EQUAL")"
done
# a value changed on the source-replica only: its pair is DIFFERENT (checksums), the target's stays EQUAL
mysql_as rep shopr -e "UPDATE items SET vc = CONCAT(vc, 'x') WHERE id = 1"
"${CMP[@]}" --level checksum >"$LAST_OUT" 2>"$LAST_ERR"
assert_eq "compare data, a value changed on the source-replica: exit 7" 7 "$?"
assert_match "compare data: items DIFFERENT on the source-replica (checksums)" "items +\|.*DIFFERENT \| checksums differ" "$(rep_part)"
assert_eq "compare data: nothing else DIFFERENT on the source-replica" 1 "$(rep_part | grep -c DIFFERENT)"
assert_eq "compare data: every table still EQUAL on the target" 5 "$(tgt_part | grep -cE "\| EQUAL")"
mysql_as rep shopr -e "UPDATE items SET vc = LEFT(vc, CHAR_LENGTH(vc) - 1) WHERE id = 1"
# a row only on the source-replica: its count differs at --level count
mysql_as rep shopr -e "INSERT INTO pairs VALUES (987654, 'zz', 'only here')"
"${CMP[@]}" --level count >"$LAST_OUT" 2>"$LAST_ERR"
assert_eq "compare data --level count, a row only on the source-replica: exit 7" 7 "$?"
assert_match "compare data --level count: pairs' row counts differ on the source-replica" \
    "pairs +\|.*DIFFERENT \| row counts differ" "$(rep_part)"
assert_eq "compare data --level count: nothing else DIFFERENT" 1 "$(grep -c DIFFERENT "$LAST_OUT")"
mysql_as rep shopr -e "DELETE FROM pairs WHERE a = 987654"
check "compare data: EQUAL again once put back" "${CMP[@]}" --level checksum
expect_refusal "compare data --level rows with a MySQL source-replica: not built (exit 6)" 6 \
    "--level rows with a mysql source-replica is not built" "${CMP[@]}" --level rows

# ---- phase 2: target -> source-replica, killed (-9) and restarted ----
wb_target_workload 900 21 >"$TEST_TMP/tgt1.sql"
psql_as target yugabyte -v ON_ERROR_STOP=1 -f "$TEST_TMP/tgt1.sql" >/dev/null 2>"$TEST_TMP/tgt1.err" &
WL=$!
for i in 1 2 3; do
    sleep "0.$((RANDOM % 9 + 1))"
    if proc_alive rep; then
        proc_kill9 rep
        rep_kills=$((rep_kills + 1))
    fi
    proc_restart rep
done
wait "$WL"
assert_eq "target workload ran without error" "" "$(head -c 300 "$TEST_TMP/tgt1.err")"
assert_eq "import data to source-replica killed (-9) 5 times in all" 5 "$rep_kills"
check "the source-replica follows the target (after the kills)" wb_wait_equal rep shopr 180
wb_compare rep shopr "target -> source-replica, after kill -9"
psql_as target yugabyte -c "SELECT setval('items_id_seq', 888888)" -c "SELECT setval('accounts_id_seq', 77777)" >/dev/null

# ---- cutover to source-replica ----
check "initiate cutover to source-replica" "$V" initiate cutover to source-replica -e "$ED"
proc_wait expt 120
assert_eq "export data from target exits 0 after the end of stream" 0 "$PROC_RC"
proc_wait rep 120
assert_eq "import data to source-replica exits 0 after the end of stream" 0 "$PROC_RC"
wb_compare rep shopr "after cutover to source-replica"
for t in items accounts; do
    tnext=$(psql_as target yugabyte -c "SELECT last_value + 1 FROM ${t}_id_seq")
    mnext=$(mysql_as rep information_schema -e "SELECT AUTO_INCREMENT FROM TABLES WHERE TABLE_SCHEMA = 'shopr' AND TABLE_NAME = '$t'")
    assert_eq "$t: the source-replica's AUTO_INCREMENT is the target's next value" "$tnext" "$mnext"
done
assert_eq "no change found its row missing (none applied twice)" "" \
    "$(grep -h "found no row" "$TEST_TMP/rep.out" "$ED"/logs/*import-data-to-source-replica*.log 2>/dev/null | head -3)"
assert_eq "no error line from import data to source-replica" "" "$(grep -h '^error' "$TEST_TMP/rep.out" 2>/dev/null | head -3)"
# ---- the report and end migration read and drop the MySQL bookkeeping, not through libpq ----
wb_report_check rep shopr source-replica "source target" "after cutover to source-replica"
wb_end_migration rep shopr SOURCE_REPLICA_DB_PASSWORD 5 "after cutover to source-replica"
assert_match "end migration says the MySQL source has no ybvoyager_metadata" \
    "source database: no ybvoyager_metadata database to drop \\(mysql\\)" "$(cat "$LAST_OUT" "$LAST_ERR")"
done_testing
