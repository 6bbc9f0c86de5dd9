# Throwaway MariaDB servers for integration tests, in the style of harness.sh's PostgreSQL
# clusters. Source it after (or instead of) harness.sh:
#   . "$(dirname "$0")/../lib/harness.sh"
#   . "$(dirname "$0")/../lib/mariadb.sh"
#
#   mariadb_start NAME [DBNAME]   a new server; sets NAME_PORT, NAME_DIR, NAME_DB, NAME_SOCK
#   mysql_as NAME DB [args...]    mariadb client as root over the server's own socket (batch, no headers)
#   mariadb_stop NAME             clean shutdown (waits for the process to exit)
#   mariadb_kill NAME             SIGKILL, for crash tests (waits for the process to exit)
#   mariadb_restart NAME          start again a stopped or killed server (same port, same data)
#   MARIADB_NO_BINLOG=1 mariadb_start NAME ...   the same without a binary log (live refusal tests)
#   MARIADB_EXTRA_OPTS="--ssl-cert=... --ssl-key=..." mariadb_start NAME ...   more server options
#                                 (whitespace-separated, kept for mariadb_restart; TLS tests)
#
# Each server: its own datadir under $TEST_TMP, 127.0.0.1 on a free port, its own socket and pid
# files, --no-defaults (the machine's /etc/mysql is never read), binary log on in ROW format with
# FULL row images and a server id of its own (every server a distinct id, so two of them can
# replicate to one another). User "voyager" with password $VOYAGER_PW (harness.sh: spaces and
# quotes on purpose), sent on stdin, never in argv, and the grants the MySQL exporter needs:
#   on DBNAME.*: SELECT, SHOW VIEW, LOCK TABLES, TRIGGER, EVENT, EXECUTE   (read tables, views, and
#                list triggers, events and routines in information_schema)
#   on *.*:      RELOAD (FLUSH TABLES WITH READ LOCK), REPLICATION CLIENT (SHOW MASTER STATUS,
#                SHOW BINARY LOGS), REPLICATION SLAVE (read the binlog)
# Tests that need more (a writer for fall-back) grant it with mysql_as.
#
# Every server is killed and waited for when the script exits, whatever happens (before harness.sh
# removes $TEST_TMP); KEEP_TMP=1 keeps the datadirs for a post-mortem.

if ! declare -F harness_cleanup >/dev/null; then
    . "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
fi

MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}
MARIADB_INSTALL_DB=${MARIADB_INSTALL_DB:-mariadb-install-db}
MARIADB_CLIENT=${MARIADB_CLIENT:-mariadb}
_MARIADB_SERVERS=()
_MARIADB_NEXT_ID=$(( (RANDOM % 1000) * 100 + 1 ))

# The server's pid, as recorded at launch ("" when not running).
_mariadb_pid() {
    local f="$TEST_TMP/$1/launch.pid" p
    [ -s "$f" ] || return 0
    p=$(cat "$f" 2>/dev/null)
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
    return 0
}

# Wait up to $2 seconds for pid $1 to be gone.
_mariadb_wait_gone() {
    local i
    for i in $(seq 1 $(($2 * 10))); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

_mariadb_cleanup() {
    local s p
    for s in "${_MARIADB_SERVERS[@]:-}"; do
        [ -n "$s" ] || continue
        p=$(_mariadb_pid "$s")
        [ -n "$p" ] || continue
        kill -KILL "$p" 2>/dev/null
        _mariadb_wait_gone "$p" 10 || echo "# mariadbd $p ($s) did not exit"
    done
}
trap '_mariadb_cleanup; harness_cleanup' EXIT

_mariadb_user_args() {
    if [ "$(id -u)" = 0 ]; then echo "--user=mysql"; fi
}

# Start mariadbd for NAME on $NAME_PORT (already chosen); true once it answers on its socket.
_mariadb_launch() {
    local name=$1 dir="$TEST_TMP/$1" port=$2 sid=$3 binlog
    rm -f "$dir/mysqld.sock" "$dir/mysqld.pid"
    binlog=--log-bin="$dir/data/binlog"
    [ -f "$dir/no-binlog" ] && binlog=--skip-log-bin
    local extra=()
    [ -s "$dir/extra-opts" ] && read -r -a extra <"$dir/extra-opts"
    # shellcheck disable=SC2046
    "$MARIADBD" --no-defaults $(_mariadb_user_args) \
        --datadir="$dir/data" --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
        --bind-address=127.0.0.1 --port="$port" --skip-name-resolve \
        --log-error="$dir/error.log" \
        "$binlog" --binlog-format=ROW --binlog-row-image=FULL --server-id="$sid" \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
        --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --performance-schema=OFF \
        --max-connections=100 "${extra[@]}" </dev/null >>"$dir/stdout.log" 2>&1 &
    local pid=$! i
    disown "$pid" # no "Killed" line from bash when a test or the cleanup kills it
    echo "$pid" >"$dir/launch.pid"
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 1
        if [ -S "$dir/mysqld.sock" ] &&
            "$MARIADB_CLIENT" --no-defaults --socket="$dir/mysqld.sock" -u root -N -B -e "SELECT 1" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null
    _mariadb_wait_gone "$pid" 10
    return 1
}

# mariadb_start NAME [DBNAME]: a new server with database DBNAME (default NAME) and user voyager.
mariadb_start() {
    local name=$1 db=${2:-$1}
    local dir="$TEST_TMP/$name"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown mysql: "$dir"
    [ "${MARIADB_NO_BINLOG:-0}" = 1 ] && touch "$dir/no-binlog"
    [ -n "${MARIADB_EXTRA_OPTS:-}" ] && echo "$MARIADB_EXTRA_OPTS" >"$dir/extra-opts"
    # shellcheck disable=SC2046
    "$MARIADB_INSTALL_DB" --no-defaults $(_mariadb_user_args) --datadir="$dir/data" \
        --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
        >"$dir/install.log" 2>&1 ||
        { echo "# mariadb-install-db failed for $name:"; tail -15 "$dir/install.log" | sed 's/^/#   /'; return 1; }
    local sid=$_MARIADB_NEXT_ID
    _MARIADB_NEXT_ID=$((_MARIADB_NEXT_ID + 1))
    _MARIADB_SERVERS+=("$name")
    local port attempt
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$((20000 + (RANDOM % 20000)))
        _port_in_use "$port" && continue
        _mariadb_launch "$name" "$port" "$sid" && break
        port=""
    done
    [ -n "$port" ] || { echo "# could not start mariadbd $name"; tail -8 "$dir/error.log" 2>/dev/null | sed 's/^/#   /'; return 1; }
    echo "$port $sid" >"$dir/launch"
    local upper
    upper=$(echo "$name" | tr 'a-z-' 'A-Z_')
    printf -v "${upper}_PORT" '%s' "$port"
    printf -v "${upper}_DIR" '%s' "$dir"
    printf -v "${upper}_DB" '%s' "$db"
    printf -v "${upper}_SOCK" '%s' "$dir/mysqld.sock"
    # Root keeps only its socket account: nobody reaches this server over TCP without a password.
    # The password goes on stdin (MySQL string literal: quotes doubled, backslashes doubled).
    local pwlit=${VOYAGER_PW//\\/\\\\}
    pwlit=${pwlit//\'/\'\'}
    mysql_as "$name" mysql <<SQL || { echo "# could not set up users on $name"; return 1; }
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE DATABASE \`$db\` CHARACTER SET utf8mb4;
CREATE USER 'voyager'@'127.0.0.1' IDENTIFIED BY '$pwlit';
CREATE USER 'voyager'@'localhost' IDENTIFIED BY '$pwlit';
GRANT SELECT, SHOW VIEW, LOCK TABLES, TRIGGER, EVENT, EXECUTE ON \`$db\`.* TO 'voyager'@'127.0.0.1', 'voyager'@'localhost';
GRANT RELOAD, REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO 'voyager'@'127.0.0.1', 'voyager'@'localhost';
SQL
}

# mysql_as NAME DB [args...]: root over the socket, stop at the first error, tab-separated, no headers.
mysql_as() {
    local name=$1 db=$2
    shift 2
    "$MARIADB_CLIENT" --no-defaults --socket="$TEST_TMP/$name/mysqld.sock" -u root -N -B \
        --default-character-set=utf8mb4 "$db" "$@"
}

mariadb_stop() {
    local p
    p=$(_mariadb_pid "$1")
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null
    _mariadb_wait_gone "$p" 60 || { kill -KILL "$p" 2>/dev/null; _mariadb_wait_gone "$p" 10; }
}

mariadb_kill() {
    local p
    p=$(_mariadb_pid "$1")
    [ -n "$p" ] || return 0
    kill -KILL "$p" 2>/dev/null
    _mariadb_wait_gone "$p" 10
}

mariadb_restart() {
    local name=$1 port sid
    mariadb_stop "$name"
    read -r port sid <"$TEST_TMP/$name/launch" || return 1
    _mariadb_launch "$name" "$port" "$sid"
}

# mariadb_unit_tests NAME FILTER MIN [ENV=value...]: run the mysql_server_* unit tests matching
# FILTER against server NAME (tests/unit/test_mysql_live.h), their ok / not ok lines counted as
# this script's; fails when fewer than MIN ran, any was skipped or the binary exited non-zero
# (UNIT_TESTS=build-asan/unit-tests runs them under the sanitizers).
mariadb_unit_tests() {
    local name=$1 filter=$2 min=$3
    shift 3
    local upper unit out n_ok n_fail
    upper=$(echo "$name" | tr 'a-z-' 'A-Z_')
    unit=${UNIT_TESTS:-$REPO_ROOT/${BUILD:-build}/unit-tests}
    out=$(env VOYAGER_TEST_MYSQL_PORT="$(eval "echo \${${upper}_PORT}")" \
        VOYAGER_TEST_MYSQL_DB="$(eval "echo \${${upper}_DB}")" \
        VOYAGER_TEST_MYSQL_SOCKET="$(eval "echo \${${upper}_SOCK}")" \
        VOYAGER_TEST_MYSQL_PASSWORD="$VOYAGER_PW" "$@" "$unit" "$filter" 2>&1)
    local rc=$?
    echo "$out" | grep -aE '^(ok|not ok|#)' | sed "s/^\(not ok\|ok\) [0-9]* - /\1 0 - unit: /"
    n_ok=$(echo "$out" | grep -ac '^ok ')
    n_fail=$(echo "$out" | grep -ac '^not ok ')
    _N=$((_N + n_ok + n_fail)); _PASS=$((_PASS + n_ok)); _FAIL=$((_FAIL + n_fail))
    [ "$n_ok" -ge "$min" ] || not_ok "the $filter unit tests ran (got $n_ok ok, wanted at least $min)"
    if echo "$out" | grep -aq ' skipped: '; then not_ok "no $filter unit test was skipped"; fi
    echo "$out" | grep -aq '^unit: ' || not_ok "the unit test binary finished" "$(echo "$out" | tail -3)"
    # a sanitizer's report (leak, overflow) makes the binary exit non-zero after its summary
    [ "$rc" = 0 ] || [ "$n_fail" != 0 ] || not_ok "the unit test binary exited 0 (got $rc)" "$(echo "$out" | grep -a -m3 -E 'ERROR|SUMMARY')"
}
