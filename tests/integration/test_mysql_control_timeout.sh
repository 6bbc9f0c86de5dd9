#!/bin/bash
# The MySQL control connection (listing, FLUSH TABLES WITH READ LOCK, AUTO_INCREMENT values) does
# not wait for ever (YB_VOYAGER_MYSQL_CONTROL_TIMEOUT seconds): FLUSH TABLES WITH READ LOCK behind
# another session's LOCK TABLES ... WRITE is given up by the server (lock_wait_timeout) with an
# error naming the source, the statement and the fix, and leaves nothing waiting there (writers
# go on); a source stopped (SIGSTOP) while the lock waits is given up by the client (read
# timeout), for compare data and for export data (which retries under its retry deadline).
# Before, both waited for the lock (a day: lock_wait_timeout) or the stopped server (for ever).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
. "$(dirname "$0")/../lib/mysql_fixture.sh"
V=$VOYAGER
T=3

mysql_fixture_start tdb
mysql_as my tdb <<'SQL' || not_ok "create and fill the MySQL database"
CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v INT);
INSERT INTO t SELECT seq, seq FROM seq_1_to_1000;
CREATE TABLE w (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT);
SQL
SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT"
    --source-db-user voyager --source-db-name tdb)
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
ED=$(new_export_dir)
mysql_fixture_migrate 2
CMP=("$V" compare data -e "$ED" --source-db-port "$MY_PORT" --target-db-port "$TARGET_PORT" --disable-pb)
check "compare data: equal" "${CMP[@]}"

# hold_lock: another session holds t with LOCK TABLES ... WRITE (in the background, $HOLD_PID)
hold_lock() {
    mysql_as my tdb -e "LOCK TABLES t WRITE; SELECT SLEEP(120)" >/dev/null 2>&1 &
    HOLD_PID=$!
    local i
    for i in $(seq 1 50); do
        mysql_as my tdb -e "SHOW PROCESSLIST" | grep -q "SELECT SLEEP(120)" && return 0
        sleep 0.1
    done
    return 1
}
release_lock() {
    mysql_as my tdb -e "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(120)%'" |
        while read -r id; do mysql_as my tdb -e "KILL $id" 2>/dev/null; done
    wait "$HOLD_PID" 2>/dev/null
}
ftwrl_waiting() {
    mysql_as my tdb -e "SHOW PROCESSLIST" | grep -q "FLUSH TABLES WITH READ LOCK"
}
_timeout_cleanup() { [ -n "${MY_PID:-}" ] && kill -CONT "$MY_PID" 2>/dev/null; _mariadb_cleanup; harness_cleanup; }
trap _timeout_cleanup EXIT

# ---- the lock is not granted: the server gives up after T seconds ----
check "another session holds LOCK TABLES t WRITE" hold_lock
start=$(date +%s)
YB_VOYAGER_MYSQL_CONTROL_TIMEOUT=$T timeout 60 "${CMP[@]}" >"$LAST_OUT" 2>"$LAST_ERR"
rc=$? elapsed=$(($(date +%s) - start))
assert_eq "compare data behind the lock: exit 4 (source failed)" 4 "$rc"
assert_match "within seconds, not a day ($elapsed s)" "^([0-9]|1[0-9])$" "$elapsed"
assert_match "the error names the source, the statement and the time" \
    "source database \(MySQL at 127.0.0.1:$MY_PORT\): FLUSH TABLES WITH READ LOCK not granted within $T s" "$(cat "$LAST_ERR")"
assert_match "the hint names the way out and the setting" "hint: find what holds the tables \(SHOW PROCESSLIST.*YB_VOYAGER_MYSQL_CONTROL_TIMEOUT" "$(cat "$LAST_ERR")"
if ftwrl_waiting; then not_ok "no FLUSH TABLES WITH READ LOCK left waiting on the source"; else ok "no FLUSH TABLES WITH READ LOCK left waiting on the source"; fi
check "writers are not held: an INSERT on another table goes through" mysql_as my tdb -e "INSERT INTO w (v) VALUES (1); DELETE FROM w"

ED2=$(new_export_dir)
check "export schema (a second export dir)" "$V" export schema -e "$ED2" "${SRC[@]}"
start=$(date +%s)
YB_VOYAGER_MYSQL_CONTROL_TIMEOUT=$T YB_VOYAGER_RETRY_TIMEOUT=4 timeout 90 "$V" export data -e "$ED2" "${SRC[@]}" --disable-pb >"$LAST_OUT" 2>"$LAST_ERR"
rc=$? elapsed=$(($(date +%s) - start))
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && ok "export data behind the lock fails (exit $rc)" || not_ok "export data behind the lock fails (exit $rc)"
assert_match "export data: within its retry deadline ($elapsed s)" "^([0-9]|[1-3][0-9])$" "$elapsed"
assert_match "export data: the same error" "FLUSH TABLES WITH READ LOCK not granted within $T s" "$(cat "$LAST_ERR")"
release_lock

# ---- the source stops answering while the lock waits: the client gives up ----
check "LOCK TABLES t WRITE again" hold_lock
YB_VOYAGER_MYSQL_CONTROL_TIMEOUT=$T timeout 120 "${CMP[@]}" >"$LAST_OUT" 2>"$LAST_ERR" &
CMP_PID=$!
for i in $(seq 1 50); do ftwrl_waiting && break; sleep 0.1; done
check "FLUSH TABLES WITH READ LOCK waits on the source" ftwrl_waiting
MY_PID=$(cat "$MY_DIR/launch.pid")
kill -STOP "$MY_PID"
start=$(date +%s)
wait "$CMP_PID"
rc=$? elapsed=$(($(date +%s) - start))
kill -CONT "$MY_PID"
assert_eq "compare data, the source stopped (SIGSTOP): exit 4" 4 "$rc"
assert_match "within the read timeout ($elapsed s)" "^([0-9]|[1-3][0-9])$" "$elapsed"
assert_match "the error says the source did not answer, and how long it waited" \
    "source database \(MySQL at 127.0.0.1:$MY_PORT\): no answer to FLUSH TABLES WITH READ LOCK within $((T + 5)) s" "$(cat "$LAST_ERR")"
release_lock
check "compare data once the source answers and nothing holds the tables: equal" env YB_VOYAGER_MYSQL_CONTROL_TIMEOUT=$T "${CMP[@]}"
done_testing
