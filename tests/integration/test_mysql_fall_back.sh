#!/bin/bash
# Fall-back into MySQL, end to end: a live migration from a throwaway MariaDB server to a
# throwaway PostgreSQL 15 target (export data --export-type snapshot-and-changes, import data,
# a workload over every type family on the source, export data killed -9 while it streams), cutover
# to target prepared for fall-back (export data becomes import data to source, import data becomes
# export data from target), a workload on the target over the same types (bytea, bit(n),
# timestamptz in other zones, numeric up to 2^64-1, json, enum and set text, key updates,
# deletes, a TRUNCATE) flowing back into MySQL through the MySQL writer while import data to source
# is killed (-9) and restarted and its connections are killed by the server, then cutover to source. Source and target are compared table by
# table (row counts, an md5 per column per row, floats as binary values, JSON byte for byte) after
# cutover to target, while the target's changes flow back, and after cutover to source; exactly
# once: the progress rows on MySQL (ybvoyager_metadata) say every event applied once, and
# AUTO_INCREMENT continues after the target's sequences.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$HARNESS_DIR/mysql_way_back.sh"
V=$VOYAGER

wb_start

check "export schema" "$V" export schema -e "$ED" "${SRC[@]}"
check "import schema" "$V" import schema -e "$ED" "${TGT[@]}"

# ---- phase 1: source -> target, with export data killed while it streams ----
streams() { grep -c "streaming changes from" "$ED/logs/yb-voyager-export-data-from-source.log" 2>/dev/null; }
wait_streams() {
    local i
    for i in $(seq 1 300); do
        [ "$(streams)" -ge "$1" ] && return 0
        proc_alive exp || return 1
        sleep 0.2
    done
    return 1
}
proc_start exp "$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true
check "export data: snapshot, then streaming" wait_streams 1
proc_start imp "$V" import data -e "$ED" "${TGT[@]}" --disable-pb true --parallel-jobs 2
wb_source_workload 600 7 >"$TEST_TMP/src1.sql"
mysql_as my shop <"$TEST_TMP/src1.sql" 2>"$TEST_TMP/src1.err" &
WL=$!
sleep 0.$((RANDOM % 9 + 1))
proc_kill9 exp
proc_restart exp
check "export data streams again after kill -9" wait_streams 2
wait "$WL"
assert_eq "source workload ran without error" "" "$(head -c 300 "$TEST_TMP/src1.err")"

# ---- cutover to target, prepared for fall-back ----
wb_grant_writer my shop
check "initiate cutover to target --prepare-for-fall-back true (allowed for a MySQL source)" \
    "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true
check "export data turns into import data to source after the end of stream" \
    lock_pid_wait "$ED" import-data-to-source "${_PROC_PID[exp]}" 120
proc_became exp imps "$V" import data to source -e "$ED" --disable-pb true
check "cutover to target completes (export data from target captures the target)" \
    status_wait "$ED" ExportFromTargetStarted 120
proc_became imp expt "$V" export data from target -e "$ED" --disable-pb true
wb_compare my shop "after cutover to target"
assert_eq "the bookkeeping database is made on MySQL by import data to source" 1 \
    "$(mysql_as my shop -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ybvoyager_metadata' AND TABLE_NAME = 'ybvoyager_import_data_event_channels_metainfo' AND ENGINE = 'InnoDB'")"

# ---- phase 2: target -> source, import data to source killed (-9) and restarted ----
wb_target_workload 900 13 >"$TEST_TMP/tgt1.sql"
psql_as target yugabyte -v ON_ERROR_STOP=1 -f "$TEST_TMP/tgt1.sql" >/dev/null 2>"$TEST_TMP/tgt1.err" &
WL=$!
kills=0
for i in 1 2 3 4; do
    sleep "0.$((RANDOM % 9 + 1))"
    if proc_alive imps; then
        proc_kill9 imps
        kills=$((kills + 1))
    fi
    proc_restart imps
done
wait "$WL"
assert_eq "target workload ran without error" "" "$(head -c 300 "$TEST_TMP/tgt1.err")"
assert_eq "import data to source killed (-9) 4 times while applying" 4 "$kills"
check "source follows the target (after the kills)" wb_wait_equal my shop 180
wb_compare my shop "target -> source, after kill -9 of import data to source"

# the importer's MySQL connections killed by the server (KILL CONNECTION) while it applies: it
# reconnects, reads its progress back where a COMMIT got no answer, and applies nothing twice
wb_target_workload 1200 15 >"$TEST_TMP/tgt3.sql"
psql_as target yugabyte -v ON_ERROR_STOP=1 -f "$TEST_TMP/tgt3.sql" >/dev/null 2>"$TEST_TMP/tgt3.err" &
WL=$!
conn_kills=0
# while the target changes (and a little after: the apply trails the workload), until 8 kills
for i in $(seq 1 60); do
    sleep 0.25
    for id in $(mysql_as my shop -e "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'voyager' AND DB = 'shop'"); do
        mysql_as my shop -e "KILL CONNECTION $id" 2>/dev/null && conn_kills=$((conn_kills + 1))
    done
    [ "$conn_kills" -ge 8 ] && break
done
wait "$WL"
assert_eq "third target workload ran without error" "" "$(head -c 300 "$TEST_TMP/tgt3.err")"
check "the server killed import data to source's connections ($conn_kills)" test "$conn_kills" -ge 3
check "import data to source rode out its connections killed by the server" proc_alive imps
assert_match "a channel whose connection was killed retried its batch" "source database: .*failed \\(attempt [0-9]+, will retry\\)" \
    "$(cat "$TEST_TMP/imps.out" "$ED"/logs/*import-data-to-source*.log 2>/dev/null)"
check "source follows the target (after the connections were killed)" wb_wait_equal my shop 180
wb_compare my shop "target -> source, after KILL CONNECTION"
# the changes stopped: within a second or so every channel's progress on MySQL is at the reader's
# position, the channels that applied none of the last changes recorded it without a change
# (writer_ops.apply_progress through the MySQL writer)
chan_progress() {
    mysql_as my shop -e "SELECT CONCAT(COUNT(DISTINCT last_applied_vsn), ' of ', COUNT(*)) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo"
}
for _ in $(seq 1 100); do
    case "$(chan_progress)" in "1 of "*) break ;; esac
    sleep 0.1
done
assert_match "idle, every channel's progress on MySQL is at one vsn" '^1 of [2-9]' "$(chan_progress)"

# a TRUNCATE on the target empties the MySQL table too, with the rows written after it
psql_as target yugabyte -c 'TRUNCATE "mixed case"' \
    -c "INSERT INTO \"mixed case\" SELECT g, g * 2, 'x' FROM generate_series(1, 30) g" >/dev/null
# updates that set the values a row already has: MySQL changes no row, yet each found its row
psql_as target yugabyte -c "UPDATE items SET vc = vc, ii = ii WHERE id IN (SELECT id FROM items ORDER BY id LIMIT 30)" >/dev/null
# the identities move on the target without rows: AUTO_INCREMENT must follow at cutover to source
psql_as target yugabyte -c "SELECT setval('items_id_seq', 777777)" -c "SELECT setval('accounts_id_seq', 99999)" >/dev/null
wb_target_workload 200 14 | psql_as target yugabyte -v ON_ERROR_STOP=1 >/dev/null 2>"$TEST_TMP/tgt2.err"
assert_eq "second target workload ran without error" "" "$(head -c 300 "$TEST_TMP/tgt2.err")"

# ---- cutover to source ----
check "initiate cutover to source" "$V" initiate cutover to source -e "$ED"
proc_wait expt 120
assert_eq "export data from target exits 0 after the end of stream" 0 "$PROC_RC"
proc_wait imps 120
assert_eq "import data to source exits 0 after the end of stream" 0 "$PROC_RC"
check "cutover status says COMPLETED" grep -q "cutover to source.*COMPLETED\|COMPLETED" <("$V" cutover status -e "$ED" 2>&1)
wb_compare my shop "after cutover to source"
for t in items accounts; do
    tnext=$(psql_as target yugabyte -c "SELECT last_value + 1 FROM ${t}_id_seq")
    mnext=$(mysql_as my information_schema -e "SELECT AUTO_INCREMENT FROM TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = '$t'")
    assert_eq "$t: MySQL's AUTO_INCREMENT is the target's next value" "$tnext" "$mnext"
done
applied=$(mysql_as my shop -e "SELECT SUM(num_inserts + num_updates + num_deletes) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")
check "the MySQL bookkeeping counts the events applied ($applied)" test "${applied:-0}" -gt 900
# a change applied twice would show: an insert fails on its key, an update or delete finds no row
assert_eq "no change found its row missing (none applied twice)" "" \
    "$(grep -h "found no row" "$TEST_TMP/imps.out" "$TEST_TMP/exp.out" "$ED"/logs/*import-data-to-source*.log 2>/dev/null | head -3)"
assert_match "import data to source wrote into the MySQL tables" 'apply: table `shop`.`items`' \
    "$(cat "$ED"/logs/*import-data-to-source*.log 2>/dev/null)"
assert_eq "no error line from import data to source" "" "$(grep -h '^error' "$TEST_TMP/exp.out" "$TEST_TMP/imps.out" 2>/dev/null | head -3)"
# ---- the report and end migration read and drop the MySQL bookkeeping, not through libpq ----
wb_report_check my shop source "target" "after cutover to source"
wb_report_prompt my shop source SOURCE_DB_PASSWORD "after cutover to source"
wb_end_migration my shop SOURCE_DB_PASSWORD 4 "after cutover to source" shared
done_testing
