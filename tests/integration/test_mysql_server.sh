#!/bin/bash
# tests/lib/mariadb.sh itself: a throwaway MariaDB server starts with the binlog the exporter
# needs, takes a password connection from the created user over TCP, and is gone after the
# script, also when the script fails or is interrupted.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"

mariadb_start my sourcedb || { not_ok "start mariadbd"; done_testing; exit 1; }
ok "mariadbd started on 127.0.0.1:$MY_PORT"

# The password travels in the environment (MYSQL_PWD), never in argv.
as_voyager() {
    MYSQL_PWD="$VOYAGER_PW" "$MARIADB_CLIENT" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MY_PORT" \
        -u voyager -N -B "$@"
}
assert_eq "voyager logs in over TCP with its password" "voyager@127.0.0.1 sourcedb" \
    "$(as_voyager sourcedb -e "SELECT CONCAT(CURRENT_USER(), ' ', DATABASE())" 2>&1)"
if MYSQL_PWD="wrong" "$MARIADB_CLIENT" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MY_PORT" -u voyager \
    -e "SELECT 1" >/dev/null 2>&1; then
    not_ok "a wrong password is refused"
else
    ok "a wrong password is refused"
fi
if "$MARIADB_CLIENT" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MY_PORT" -u root -e "SELECT 1" >/dev/null 2>&1; then
    not_ok "root has no password-less TCP account"
else
    ok "root has no password-less TCP account"
fi
assert_eq "binlog on, ROW format, FULL row images, a server id" "1 ROW FULL yes" \
    "$(as_voyager sourcedb -e "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, IF(@@server_id > 0, 'yes', 'no')" | tr '\t' ' ')"
check "voyager may read the binlog position (SHOW MASTER STATUS)" as_voyager -e "SHOW MASTER STATUS"
assert_match "SHOW MASTER STATUS names a binlog file" '^binlog\.[0-9]+' "$(cat "$LAST_OUT")"
grants=$(as_voyager -e "SHOW GRANTS")
assert_match "voyager has REPLICATION SLAVE and RELOAD" 'RELOAD.*REPLICATION SLAVE|REPLICATION SLAVE.*RELOAD' "$grants"
assert_match "voyager may SELECT in sourcedb" 'GRANT SELECT.*ON `sourcedb`' "$grants"
mysql_as my sourcedb -e "CREATE TABLE t (id int PRIMARY KEY, v varchar(10)); INSERT INTO t VALUES (1, 'a')"
assert_eq "voyager reads a table root created" "1 a" "$(as_voyager sourcedb -e "SELECT id, v FROM t" | tr '\t' ' ')"
assert_eq "the server's own password is not in any process's argv" "" \
    "$(grep -l -F -- "$VOYAGER_PW" /proc/[0-9]*/cmdline 2>/dev/null)"

check "mariadb_restart: the same server again, same port, data kept" mariadb_restart my
assert_eq "rows survive a restart" "1" "$(mysql_as my sourcedb -e "SELECT count(*) FROM t")"
mariadb_kill my
if [ -n "$(_mariadb_pid my)" ]; then not_ok "mariadb_kill: the server is gone"; else ok "mariadb_kill: the server is gone"; fi
check "restart after SIGKILL" mariadb_restart my
assert_eq "committed rows survive SIGKILL" "1" "$(mysql_as my sourcedb -e "SELECT count(*) FROM t")"

# Teardown: a script that starts a server and then fails, and one interrupted by SIGTERM, leave
# no mariadbd behind and no temp dir.
child=$TEST_TMP/child.sh
cat >"$child" <<CHILD
. "$HARNESS_DIR/harness.sh"
. "$HARNESS_DIR/mariadb.sh"
mariadb_start c1 db1 || exit 9
echo "\$(_mariadb_pid c1) \$TEST_TMP" >"\$1"
[ "\$2" = fail ] && { false; exit 3; }
sleep 60 &
wait \$!
CHILD
for mode in fail term; do
    info=$TEST_TMP/child.$mode
    if [ $mode = fail ]; then
        bash "$child" "$info" fail >/dev/null 2>&1
        rc=$?
    else
        bash "$child" "$info" term >/dev/null 2>&1 &
        cpid=$!
        for _ in $(seq 1 300); do [ -s "$info" ] && break; sleep 0.2; done
        kill -TERM "$cpid"
        wait_exit "$cpid" 60
        rc=$?
    fi
    read -r spid stmp <"$info" 2>/dev/null || spid=""
    if [ -z "$spid" ]; then
        not_ok "$mode: the child script started a server" "exit $rc"
        continue
    fi
    assert_eq "$mode: the child script exited with its own code" "$([ $mode = fail ] && echo 3 || echo 130)" "$rc"
    if kill -0 "$spid" 2>/dev/null; then
        not_ok "$mode: no mariadbd left running (pid $spid still alive)"
        kill -KILL "$spid"
    else
        ok "$mode: no mariadbd left running"
    fi
    if [ -e "$stmp" ]; then not_ok "$mode: its temp dir is removed ($stmp)"; else ok "$mode: its temp dir is removed"; fi
done
done_testing
