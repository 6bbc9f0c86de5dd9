#!/bin/bash
# MySQL/MariaDB source, end to end: a change the binlog reader cannot carry faithfully stops
# export data (snapshot-and-changes) with an error naming it and a non-zero exit, instead of
# being dropped or decoded wrongly (docs/DECISIONS.md "MySQL live migration"): a two-phase XA
# transaction, a row image without every column (a session with binlog_row_image MINIMAL), a
# column moved by ALTER TABLE, a text byte its character set has no character for. export data
# started again stops at the same XA transaction and the same row image instead of going past
# them, and refuses to start on a table whose columns changed while it was down.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
V=$VOYAGER
_stops_cleanup() { kill -KILL ${EXP_PID:-} 2>/dev/null; _mariadb_cleanup; harness_cleanup; }
trap _stops_cleanup EXIT

mariadb_start my shop || { not_ok "start mariadbd"; done_testing; exit 1; }
ok "mariadbd started"
SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
    --source-db-user voyager --source-db-name shop)
LIVE=(--export-type snapshot-and-changes --disable-pb true)

# run_export ED: export data in the background (EXP_PID, output in $TEST_TMP/exp.out), true once it streams
run_export() {
    : >"$TEST_TMP/exp.out"
    "$V" export data -e "$1" "${SRC[@]}" "${LIVE[@]}" >"$TEST_TMP/exp.out" 2>&1 &
    EXP_PID=$!
    wait_log "$1/logs/yb-voyager-export-data-from-source.log" "streaming changes from" "$EXP_PID"
}
# stops WHAT RE: export data exits non-zero within 60 s, its error matching RE
stops() {
    wait_exit "$EXP_PID" 60
    local rc=$?
    if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
        not_ok "$1: export data stops (exit $rc)" "$(tail -3 "$TEST_TMP/exp.out")"
        kill -KILL "$EXP_PID" 2>/dev/null
    else
        assert_match "$1: export data stops (exit $rc) with the error" "$2" "$(grep -A2 '^error' "$TEST_TMP/exp.out" | tr '\n' ' ')"
    fi
}

# one case: a fresh table and export dir, the statements (stdin) once export data streams
stop_case() {
    local what=$1 re=$2 again=$3 ed
    mysql_as my shop -e "DROP TABLE IF EXISTS t; CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b INT, c VARCHAR(10) DEFAULT 'dflt'); INSERT INTO t VALUES (0, 'zero', 0, 'z')"
    ed=$(new_export_dir)
    check "$what: export data streams" run_export "$ed"
    mysql_as my shop || not_ok "$what: the statements ran"
    stops "$what" "$re"
    if [ "$again" = again ]; then
        check "$what: export data started again streams" run_export "$ed"
        stops "$what, started again" "$re"
    fi
}

stop_case "a two-phase XA transaction" "XA transaction X'78',X'',1, prepared at .*changes table t.*hint: commit XA transactions on the migrated tables in one phase" again <<'SQL'
XA START 'x'; INSERT INTO t VALUES (1, 'xa', 1, 'x'); XA END 'x'; XA PREPARE 'x'; XA COMMIT 'x';
SQL
stop_case "a MINIMAL row image" "a change of table t at .* does not carry every column.*hint: keep binlog_row_image = FULL" again <<'SQL'
SET SESSION binlog_row_image = 'MINIMAL'; INSERT INTO t (id, a) VALUES (2, 'min');
SQL
stop_case "a column moved" "table shop.t column 2 \(a in the catalog\): int in the binlog, varchar\(10\) in the catalog" once <<'SQL'
ALTER TABLE t MODIFY b INT AFTER id; INSERT INTO t (id, a, b) VALUES (3, 'AAA', 5);
SQL

# Text the server cannot convert either: cp1250 has no character for 0x81, which the column stores
# as given (a SELECT shows '?'); the stream stops naming the table, column and byte instead of
# writing something else.
mysql_as my shop -e "DROP TABLE IF EXISTS t; CREATE TABLE t (id INT PRIMARY KEY, w VARCHAR(10) CHARACTER SET cp1250); INSERT INTO t VALUES (0, 'Žluť')"
check "a byte cp1250 has no character for: export data streams" run_export "$(new_export_dir)"
mysql_as my shop -e "INSERT INTO t VALUES (1, 'Žluť'), (2, _cp1250 X'6F6B81')"
stops "a byte cp1250 has no character for" \
    "a change of table t, column w: the value is not valid cp1250 text \(byte 3 of 3, from there: 81\).*hint: fix the value on the source"

# Columns changed while export data was down: started again, it refuses before reading the binlog,
# whose rows from before the change the new catalog would misplace (two VARCHAR(10) swapped: the
# binlog's types cannot show it).
mysql_as my shop -e "DROP TABLE IF EXISTS t; CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b VARCHAR(10))"
ED=$(new_export_dir)
check "columns changed while down: export data streams" run_export "$ED"
kill -KILL "$EXP_PID"
wait "$EXP_PID" 2>/dev/null
mysql_as my shop -e "INSERT INTO t VALUES (1, 'A1', 'B1'); ALTER TABLE t MODIFY b VARCHAR(10) AFTER id; INSERT INTO t (id, a, b) VALUES (2, 'A2', 'B2')"
run_export "$ED"
stops "columns changed while down, started again" \
    "table columns changed since export data started: t \(was: id int\(11\), a varchar\(10\), b varchar\(10\); now: id int\(11\), b varchar\(10\), a varchar\(10\)\).*hint: apply the change to the target too"
done_testing
