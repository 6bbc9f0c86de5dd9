#!/bin/bash
# MySQL/MariaDB source: the connections to the source drop after export data reached it and
# before its snapshot's first row (while FLUSH TABLES WITH READ LOCK waits for a long write):
# export data starts the run again by itself under the retry policy (a warning, no error line),
# as test_export_source_drop_early.sh checks for PostgreSQL, and ends with exit 0; the snapshot
# loaded into a PostgreSQL copy equals the source (row counts and a checksum per table).
# Dropped through a TCP forwarder cut in the middle (tests/lib/tcpcut.py), snapshot-only and
# snapshot-and-changes, and killed by the server (KILL CONNECTION), snapshot-only. A refusal at
# the same point (a user without RELOAD) still fails at once with exit 4 and its fix: only a
# broken connection is worth a new run.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
_drop_cleanup() { kill -KILL ${EXP_PID:-} ${BLK_PID:-} ${CUT_PID:-} 2>/dev/null; _mariadb_cleanup; harness_cleanup; }
trap _drop_cleanup EXIT

mariadb_start my shop || { not_ok "start mariadbd"; done_testing; exit 1; }
pg_start target yugabyte || { not_ok "start PostgreSQL"; done_testing; exit 1; }
ok "mariadbd and PostgreSQL started"
mysql_as my shop <<'SQL' || not_ok "create and fill the MySQL database"
CREATE TABLE items (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(100) NOT NULL, n BIGINT);
CREATE TABLE `Mixed Case` (`Id` INT NOT NULL PRIMARY KEY, `Note` TEXT);
CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(20) NOT NULL, PRIMARY KEY (a, b));
INSERT INTO items (v, n) SELECT CONCAT('item ', seq, ' ü'), seq * 7 FROM seq_1_to_5000;
INSERT INTO `Mixed Case` SELECT seq, IF(seq % 3 = 0, NULL, CONCAT('note\t', seq)) FROM seq_1_to_300;
INSERT INTO pairs SELECT seq % 50, CONCAT('b', seq) FROM seq_1_to_400;
SQL
SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
    --source-db-user voyager --source-db-name shop)
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
ED0=$(new_export_dir)
check "export schema" "$V" export schema -e "$ED0" "${SRC[@]}"
check "import schema" "$V" import schema -e "$ED0" "${TGT[@]}"

# The forwarder in front of the server: export data connects through it.
python3 "$HARNESS_DIR/tcpcut.py" --upstream-port "$MY_PORT" --port-file "$TEST_TMP/cut.port" >"$TEST_TMP/cut.log" 2>&1 &
CUT_PID=$!
disown "$CUT_PID" # no "Killed" line when the cleanup kills it
for _ in $(seq 1 100); do [ -s "$TEST_TMP/cut.port" ] && break; sleep 0.05; done
[ -s "$TEST_TMP/cut.port" ] || { not_ok "tcpcut started" "$(cat "$TEST_TMP/cut.log")"; done_testing; exit 1; }
CUT=("${SRC[@]/$MY_PORT/$(cat "$TEST_TMP/cut.port")}")
export YB_VOYAGER_RETRY_TIMEOUT=60

# hold_tables: a long write in the background (BLK_PID), in a database of its own (not
# exported), so that FLUSH TABLES WITH READ LOCK waits for it ("Waiting for backup lock");
# release_tables interrupts it (the write is rolled back).
mysql_as my mysql -e "CREATE DATABASE holddb; CREATE TABLE holddb.hold (id INT PRIMARY KEY, n INT); INSERT INTO holddb.hold VALUES (1, 0)"
# processlist WHERE: the ids of the server's connections matching WHERE (on PROCESSLIST).
processlist() { mysql_as my shop -e "SELECT ID FROM information_schema.PROCESSLIST WHERE $1"; }
# processlist_wait WHERE SECONDS: 0 once a connection matches WHERE, 1 after SECONDS.
processlist_wait() {
    local i
    for i in $(seq 1 $(($2 * 5))); do
        [ -n "$(processlist "$1")" ] && return 0
        sleep 0.2
    done
    return 1
}
HOLDER="INFO LIKE 'UPDATE hold SET%'"
hold_tables() {
    mysql_as my holddb -e "UPDATE hold SET n = n + SLEEP(300) WHERE id = 1" >/dev/null 2>&1 &
    BLK_PID=$!
    processlist_wait "$HOLDER" 10
}
release_tables() {
    local id
    for id in $(processlist "$HOLDER"); do
        mysql_as my shop -e "KILL QUERY $id" 2>/dev/null
    done
    wait "$BLK_PID" 2>/dev/null
}
# ftwrl_waiting: export data's FLUSH TABLES WITH READ LOCK is waiting (at most 30 s).
ftwrl_waiting() { processlist_wait "USER = 'voyager' AND INFO = 'FLUSH TABLES WITH READ LOCK'" 30; }
kill_voyager_connections() {
    local id
    for id in $(processlist "USER = 'voyager'"); do
        mysql_as my shop -e "KILL CONNECTION $id" 2>/dev/null
    done
}

# drop_during NAME HOW ARGS...: export data (ARGS after the connection flags) in the background
# ($EXP_PID, output in $TEST_TMP/NAME.out) while a long write holds the tables; once its FLUSH
# TABLES WITH READ LOCK waits, its connections are dropped (HOW: cut, the forwarder cuts every
# connection; kill, the server kills voyager's), then the tables are released.
drop_during() {
    local name=$1 how=$2
    shift 2
    ED=$(new_export_dir)
    check "$name: export schema" "$V" export schema -e "$ED" "${CUT[@]}"
    hold_tables || not_ok "$name: the long write runs"
    "$V" export data -e "$ED" "${CUT[@]}" --disable-pb true "$@" >"$TEST_TMP/$name.out" 2>&1 &
    EXP_PID=$!
    if ftwrl_waiting; then ok "$name: FLUSH TABLES WITH READ LOCK waits"; else not_ok "$name: FLUSH TABLES WITH READ LOCK waits" "$(cat "$TEST_TMP/$name.out")"; fi
    case $how in
    cut) kill -USR1 "$CUT_PID" ;;
    kill) kill_voyager_connections ;;
    esac
    sleep 1
    release_tables
}

# started_again NAME DESC: export data said it starts the run again, as a warning only, and the
# snapshot loaded into the target equals the source.
started_again() {
    local out
    out=$(cat "$TEST_TMP/$1.out")
    assert_match "$2: it said it starts again (a warning)" \
        "^warning: source database: the snapshot export lost the source; starting it again" "$out"
    assert_match "$2: the broken connection was a warning" "^warning: source database: FLUSH TABLES WITH READ LOCK failed" "$out"
    assert_eq "$2: no error line" "" "$(grep '^error' <<<"$out")"
    psql_as target yugabyte -c 'TRUNCATE public.items, public."mixed case", public.pairs' >/dev/null
    snapshot_load_sql "$ED" >"$TEST_TMP/load.sql"
    check "$2: load the snapshot into the target" psql_as target yugabyte -f "$TEST_TMP/load.sql"
    same_table "$2" items id "id, v, n" items "id, v, n"
    same_table "$2" '`Mixed Case`' '`Id`' '`Id`, `Note`' '"mixed case"' 'id, note'
    same_table "$2" pairs "a, b" "a, b" pairs "a, b"
}
# same_table DESC MYTABLE MYORDER MYCOLS PGTABLE PGCOLS: row count and checksum equal.
same_table() {
    local my pg
    my=$(mysql_as my shop -e "SET SESSION group_concat_max_len = 1 << 30;
        SELECT COUNT(*), MD5(COALESCE(GROUP_CONCAT(CONCAT_WS('|', $4) ORDER BY $3 SEPARATOR '\n'), '')) FROM $2")
    pg=$(psql_as target yugabyte -F $'\t' -c "SELECT count(*), md5(coalesce(string_agg(concat_ws('|', $6), E'\n' ORDER BY $6), '')) FROM $5")
    assert_eq "$1: $5 equals the source (rows, checksum)" "$my" "$pg"
}

# snapshot_only NAME HOW DESC: drop_during a snapshot-only export data, which then ends by
# itself with exit 0, and started_again.
snapshot_only() {
    drop_during "$1" "$2"
    wait_exit "$EXP_PID" 120
    assert_eq "$3 while FLUSH TABLES WITH READ LOCK waits: exit 0" 0 "$?"
    [ "$2" = cut ] && assert_match "the forwarder cut export data's connection" "cut: [1-9]" "$(cat "$TEST_TMP/cut.log")"
    started_again "$1" "$3"
}

snapshot_only cut_snap cut "snapshot-only, cut"
snapshot_only kill_snap kill "snapshot-only, killed by the server"

drop_during cut_live cut --export-type snapshot-and-changes
check "live: the snapshot is exported" status_wait "$ED" ExportDataDone 90
started_again cut_live "snapshot-and-changes, cut"
kill "$EXP_PID" 2>/dev/null
wait_exit "$EXP_PID" 30 >/dev/null

# ---- a refusal at the same point: no RELOAD, so FLUSH TABLES WITH READ LOCK is refused (exit 4 at once)
pwlit=${VOYAGER_PW//\\/\\\\}
pwlit=${pwlit//\'/\'\'}
mysql_as my shop <<SQL
CREATE USER 'noreload'@'127.0.0.1' IDENTIFIED BY '$pwlit';
GRANT SELECT ON shop.* TO 'noreload'@'127.0.0.1';
SQL
ED=$(new_export_dir)
SECONDS=0
expect_refusal "no RELOAD is no connection fault: exit 4, the GRANT on a hint line" 4 \
    "FLUSH TABLES WITH READ LOCK was refused to user noreload \(error [0-9]+\) detail: a consistent snapshot of every table needs the RELOAD privilege hint: as an administrator run: GRANT RELOAD ON \*\.\* TO 'noreload'@'<client host>';" \
    "$V" export data -e "$ED" "${CUT[@]/voyager/noreload}" --disable-pb true
[ "$SECONDS" -lt 20 ] && ok "and at once (${SECONDS}s)" || not_ok "and at once" "${SECONDS}s"
if grep -q "starting it again" "$LAST_ERR"; then not_ok "the refusal was not retried" "$(cat "$LAST_ERR")"; else ok "the refusal was not retried"; fi
done_testing
