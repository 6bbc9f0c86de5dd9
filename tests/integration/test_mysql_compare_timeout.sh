#!/bin/bash
# compare data --statement-timeout on the MySQL/MariaDB source's sessions (before: only the
# PostgreSQL/YugabyteDB ones had it): MariaDB's max_statement_time is set on every connection
# compare opens there, so a read that runs longer than the flag is stopped by the server and the
# error names the table, the flag and its value; without the flag (3600 s) the same compare is
# EQUAL; FLUSH TABLES WITH READ LOCK behind another session's LOCK TABLES is stopped too (the
# control connection has the limit); --statement-timeout 0 means no limit, over one the server
# sets for the user too.
# The slow table: a FEDERATED (FederatedX) table over a view, in another database of the same
# server, whose rows come one SLEEP(0.5) each, so compare's own SELECT and COUNT(*) on it run
# about 2 s, every time.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$(dirname "$0")/../lib/mysql_fixture.sh"
V=$VOYAGER

mysql_fixture_start tdb
mysql_as my tdb <<SQL || not_ok "create the MySQL tables"
INSTALL SONAME 'ha_federatedx';
CREATE DATABASE slowsrc;
CREATE TABLE slowsrc.base (id INT NOT NULL PRIMARY KEY, v INT);
INSERT INTO slowsrc.base SELECT seq, seq * 10 FROM seq_1_to_4;
CREATE VIEW slowsrc.slow_v AS SELECT id, v FROM slowsrc.base WHERE SLEEP(0.5) = 0;
CREATE USER 'fed'@'127.0.0.1' IDENTIFIED BY 'fedpw';
GRANT SELECT ON slowsrc.* TO 'fed'@'127.0.0.1';
CREATE TABLE slow (id INT NOT NULL PRIMARY KEY, v INT) ENGINE=FEDERATED
  CONNECTION='mysql://fed:fedpw@127.0.0.1:$MY_PORT/slowsrc/slow_v';
CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v INT);
INSERT INTO t SELECT seq, seq FROM seq_1_to_1000;
SQL
start=$(date +%s%N)
assert_eq "the slow table reads its 4 rows" "4" "$(mysql_as my tdb -e "SELECT COUNT(*) FROM slow")"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -ge 1900 ] && ok "... in about 2 s ($ms ms)" || not_ok "... in about 2 s ($ms ms)"

SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
    --source-db-user voyager --source-db-name tdb)
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
ED=$(new_export_dir)
mysql_fixture_migrate 2
CMP=("$V" compare data -e "$ED" --source-db-port "$MY_PORT" --target-db-port "$TARGET_PORT" --disable-pb)

check "compare data without --statement-timeout (3600 s): equal" "${CMP[@]}"
assert_match "the slow table compared equal" "slow +\| *4 +\| *4 +\| *EQUAL" "$(cat "$LAST_OUT")"

for level in checksum count; do
    [ $level = checksum ] && what="reading table slow" || what="counting the rows of table slow"
    "${CMP[@]}" --level $level --statement-timeout 1 >"$LAST_OUT" 2>"$LAST_ERR"
    rc=$?
    [ "$rc" -ne 0 ] && ok "--level $level --statement-timeout 1: fails (exit $rc)" ||
        not_ok "--level $level --statement-timeout 1: fails (exit $rc)" "$(tail -5 "$LAST_OUT")"
    assert_match "--level $level: the error names the table, the flag and its value" \
        "error: source database \(MySQL at 127.0.0.1:$MY_PORT\): $what ran longer than --statement-timeout 1 s; the server stopped it \(error 1969\)
hint: raise --statement-timeout" "$(cat "$LAST_ERR")"
    assert_match "--level $level: slow is an ERROR in the report" "^ *slow +\|.*ERROR" "$(cat "$LAST_OUT")"
    assert_match "--level $level: t (fast) is still equal" "^ *t +\| *1000 +\| *1000 +\| *EQUAL" "$(cat "$LAST_OUT")"
done

# the control connection has the limit too: FLUSH TABLES WITH READ LOCK behind a LOCK TABLES
mysql_as my tdb -e "LOCK TABLES t WRITE; SELECT SLEEP(60)" >/dev/null 2>&1 &
HOLD_PID=$!
for i in $(seq 1 50); do
    mysql_as my tdb -e "SHOW PROCESSLIST" | grep -q "SELECT SLEEP(60)" && break
    sleep 0.1
done
start=$(date +%s)
"${CMP[@]}" --statement-timeout 2 >"$LAST_OUT" 2>"$LAST_ERR"
rc=$? elapsed=$(($(date +%s) - start))
assert_eq "behind LOCK TABLES t WRITE, --statement-timeout 2: exit 4" 4 "$rc"
assert_match "... within seconds ($elapsed s; the lock wait alone is 120 s)" "^[0-9]$" "$elapsed"
assert_match "... the error names the statement and the flag" \
    "source database \(MySQL at 127.0.0.1:$MY_PORT\): FLUSH TABLES WITH READ LOCK ran longer than --statement-timeout 2 s" \
    "$(cat "$LAST_ERR")"
mysql_as my tdb -e "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(60)%'" |
    while read -r id; do mysql_as my tdb -e "KILL $id" 2>/dev/null; done
wait "$HOLD_PID" 2>/dev/null

# 0 is no limit, as for PostgreSQL: it overrides a limit the server sets for voyager's sessions
mysql_as my tdb -e "ALTER USER 'voyager'@'127.0.0.1' WITH MAX_STATEMENT_TIME 1"
expect_fail "voyager's sessions limited to 1 s on the server: the export's read of slow is stopped" 4 \
    "max_statement_time exceeded" "$V" export data -e "$(new_export_dir)" "${SRC[@]}" --disable-pb
check "... and compare data --statement-timeout 0 compares equal" "${CMP[@]}" --statement-timeout 0
check "... and so does the default (3600 s)" "${CMP[@]}"
mysql_as my tdb -e "ALTER USER 'voyager'@'127.0.0.1' WITH MAX_STATEMENT_TIME 0"
done_testing
