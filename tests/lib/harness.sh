# Integration-test harness: throwaway PostgreSQL 15 clusters and TAP-style checks.
# Source it from a test script:   . "$(dirname "$0")/../lib/harness.sh"
#
#   start_clusters source target source_replica   # one-liner: all three, sample schema on source
#   pg_start NAME [DBNAME]                        # one cluster; sets NAME_PORT, NAME_DIR, NAME_DB
#   psql_as NAME DB -c "..."                      # as the superuser over the unix socket
#   check "description" cmd args...               # ok when cmd exits 0
#   expect_fail "description" RC 'regex' cmd...   # ok when cmd exits RC and stderr matches regex
#   expect_refusal "description" RC 'regex' cmd... # the same, stderr folded into one line (error/detail/hint)
#   assert_eq "description" expected actual
#   compare_databases source target               # row count + checksum of every table
#
# Every cluster is stopped and every temp dir removed when the script exits,
# whatever happens (KEEP_TMP=1 keeps them for a post-mortem).

set -u
HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HARNESS_DIR/../.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
VOYAGER=${VOYAGER:-$REPO_ROOT/yb-voyager}
# The password of the "voyager" user on every cluster: spaces and quotes on purpose.
VOYAGER_PW="pw 'with' \"quotes\" \$x"
export SOURCE_DB_PASSWORD="$VOYAGER_PW" TARGET_DB_PASSWORD="$VOYAGER_PW" SOURCE_REPLICA_DB_PASSWORD="$VOYAGER_PW"

TEST_TMP=$(mktemp -d /tmp/voyager-it.XXXXXX)
chmod 755 "$TEST_TMP"
TEST_NAME=$(basename "$0" .sh)
_CLUSTERS=()
_PASS=0
_FAIL=0
_N=0

_as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

harness_cleanup() {
    local c
    for c in "${_CLUSTERS[@]:-}"; do
        [ -n "$c" ] || continue
        _as_pg "$PGBIN/pg_ctl" -D "$TEST_TMP/$c/data" -m immediate -w stop >/dev/null 2>&1 || true
    done
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "# kept $TEST_TMP"
    else
        rm -rf "$TEST_TMP"
    fi
}
trap harness_cleanup EXIT
trap 'exit 130' INT TERM

_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pg_start NAME [DBNAME]: a new cluster on a free loopback port, wal_level=logical,
# user "voyager" (superuser, password $VOYAGER_PW over TCP) and database DBNAME.
pg_start() {
    local name=$1 db=${2:-$1}
    local dir="$TEST_TMP/$name"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    _as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { echo "# initdb failed for $name:"; sed 's/^/#   /' "$dir/initdb.log"; return 1; }
    # synchronous_commit stays on, as in production: with it off the server acknowledges a
    # COMMIT before its WAL leaves shared memory, so a crash (pg_ctl stop -m immediate, kill -9)
    # loses acknowledged commits and every crash or kill test would test nothing. fsync and
    # full_page_writes off only risk data on a crash of the machine's kernel, which no test makes:
    # WAL written before the acknowledgement survives a crash of PostgreSQL. Measured on the
    # shared 2-core dev machine (test_cdc_import, test_live_fall_forward, test_snapshot_roundtrip,
    # test_cdc_import_kill): synchronous_commit on is within the run-to-run noise of off.
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = logical
max_replication_slots = 16
max_wal_senders = 16
max_connections = 100
fsync = off
synchronous_commit = on
full_page_writes = off
shared_buffers = 64MB
password_encryption = 'scram-sha-256'
log_min_messages = warning
CONF
    cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host replication all 127.0.0.1/32 scram-sha-256
HBA
    local port attempt
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$((20000 + (RANDOM % 20000)))
        _port_in_use "$port" && continue
        sed -i "/^port = /d" "$dir/data/postgresql.conf"
        echo "port = $port" >>"$dir/data/postgresql.conf"
        if _as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
            break
        fi
        port=""
    done
    [ -n "$port" ] || { echo "# could not start cluster $name"; tail -5 "$dir/server.log" | sed 's/^/#   /'; return 1; }
    _CLUSTERS+=("$name")
    local upper
    upper=$(echo "$name" | tr 'a-z-' 'A-Z_')
    printf -v "${upper}_PORT" '%s' "$port"
    printf -v "${upper}_DIR" '%s' "$dir"
    printf -v "${upper}_DB" '%s' "$db"
    local pwlit=${VOYAGER_PW//\'/\'\'}
    psql_as "$name" postgres -c "CREATE ROLE voyager LOGIN SUPERUSER REPLICATION PASSWORD '$pwlit'" >/dev/null
    [ "$db" = postgres ] || psql_as "$name" postgres -c "CREATE DATABASE \"$db\" OWNER voyager" >/dev/null
}

# Stop and start a cluster (same port), e.g. to simulate a server restart.
pg_restart() {
    local dir="$TEST_TMP/$1"
    _as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
}

pg_stop() {
    _as_pg "$PGBIN/pg_ctl" -D "$TEST_TMP/$1/data" -m fast -w stop >/dev/null 2>&1
}

cluster_port() { local u; u=$(echo "$1" | tr 'a-z-' 'A-Z_'); eval "echo \${${u}_PORT}"; }

# psql_as NAME DB [psql args...]: superuser over the unix socket, stop on error, unaligned.
psql_as() {
    local name=$1 db=$2
    shift 2
    "$PGBIN/psql" -h "$TEST_TMP/$name" -p "$(cluster_port "$name")" -U postgres -d "$db" \
        -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# start_clusters [source] [target] [source_replica]: the usual trio in one line.
# source gets database "sourcedb" with tests/lib/sample_schema.sql loaded,
# target "yugabyte" (the --target-db-name default), source_replica "replicadb".
start_clusters() {
    local c
    for c in "$@"; do
        case $c in
        source) pg_start source sourcedb && psql_as source sourcedb -f "$HARNESS_DIR/sample_schema.sql" >/dev/null ;;
        target) pg_start target yugabyte ;;
        source_replica) pg_start source_replica replicadb ;;
        *) pg_start "$c" "$c" ;;
        esac || return 1
    done
}

# Connection flags of the usual trio, as arrays: "${SRC_FLAGS[@]}" etc.
conn_flags() {
    SRC_FLAGS=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "${SOURCE_PORT:-0}"
        --source-db-user voyager --source-db-name sourcedb --source-db-schema public)
    TGT_FLAGS=(--target-db-host 127.0.0.1 --target-db-port "${TARGET_PORT:-0}" --target-db-user voyager
        --target-db-name yugabyte)
    REPLICA_FLAGS=(--source-replica-db-host 127.0.0.1 --source-replica-db-port "${SOURCE_REPLICA_PORT:-0}"
        --source-replica-db-user voyager --source-replica-db-name replicadb)
}

new_export_dir() {
    local d
    d=$(mktemp -d "$TEST_TMP/export.XXXXXX")
    echo "$d"
}

# peak_rss PID: the highest VmHWM (KB) of PID, sampled every 50 ms until it exits (0 if never
# seen). Run it in the background to keep the test going: peak_rss "$PID" >"$FILE" &
peak_rss() {
    local peak=0 hwm
    while kill -0 "$1" 2>/dev/null; do
        hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null)
        [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
        sleep 0.05
    done
    echo "$peak"
}

# cpu_mark: the machine's CPU ticks so far, busy (user, nice, system, irq, softirq) and stolen
# (given by the hypervisor to other guests), all cores, from /proc/stat; cpu_since MARK: the
# seconds of each since cpu_mark printed MARK, as "busy B, stolen S". For benchmarks: how much
# of the machine a measured stage had, beside its own processes' CPU-seconds.
cpu_mark() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 "," $9 }' /proc/stat; }
cpu_since() {
    awk -v a="$1" -v b="$(cpu_mark)" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(a, x, ","); split(b, y, ",")
        printf "busy %.2f, stolen %.2f", (y[1] - x[1]) / hz, (y[2] - x[2]) / hz }'
}

# wait_exit PID SECONDS: the exit code of PID (a child of this shell), or 124 after SECONDS.
wait_exit() {
    local i
    for i in $(seq 1 $(($2 * 5))); do
        kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }
        sleep 0.2
    done
    return 124
}

# wait_log FILE RE PID: until a line of FILE matches RE (at most 60 s); false at once when PID ended.
wait_log() {
    local i
    for i in $(seq 1 300); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

# ---- TAP-style checks ----
ok() {
    _N=$((_N + 1)); _PASS=$((_PASS + 1))
    echo "ok $_N - $TEST_NAME: $1"
}
not_ok() {
    _N=$((_N + 1)); _FAIL=$((_FAIL + 1))
    echo "not ok $_N - $TEST_NAME: $1"
    shift
    local l
    for l in "$@"; do echo "#   $l"; done
}

LAST_OUT="$TEST_TMP/last.out"
LAST_ERR="$TEST_TMP/last.err"

# check DESC cmd...: passes when cmd exits 0.
check() {
    local desc=$1
    shift
    if "$@" >"$LAST_OUT" 2>"$LAST_ERR"; then
        ok "$desc"
    else
        not_ok "$desc" "exit $? from: $*" "$(tail -5 "$LAST_ERR")"
    fi
}

# expect_fail DESC RC REGEX cmd...: passes when cmd exits RC and its stderr
# (a single error line is expected) matches the extended regex.
expect_fail() {
    local desc=$1 want=$2 re=$3
    shift 3
    "$@" >"$LAST_OUT" 2>"$LAST_ERR"
    local rc=$?
    if [ "$rc" != "$want" ]; then
        not_ok "$desc" "exit $rc, wanted $want, from: $*" "$(tail -3 "$LAST_ERR")"
    elif ! grep -Eq -- "$re" "$LAST_ERR"; then
        not_ok "$desc" "stderr does not match /$re/:" "$(tail -3 "$LAST_ERR")"
    else
        ok "$desc"
    fi
}

# expect_refusal DESC RC REGEX cmd...: expect_fail, with REGEX matched against the
# command's whole stderr folded into one line (a refusal may say what to do on "detail:" and
# "hint:" lines of their own).
_stderr_one_line() {
    local err rc
    { err=$("$@" 2>&1 >&3); rc=$?; } 3>&1
    tr '\n' ' ' <<<"$err" >&2
    return $rc
}
expect_refusal() { expect_fail "$1" "$2" "$3" _stderr_one_line "${@:4}"; }

assert_eq() {
    if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}

assert_match() {
    if echo "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "/$2/ not in:" "$3"; fi
}

# table_fingerprints NAME DB [schema-regex]: "schema.table count checksum" per user table,
# sorted. The checksum is over the rows' text forms, order-independent.
table_fingerprints() {
    local name=$1 db=$2 re=${3:-.}
    local tables t
    tables=$(psql_as "$name" "$db" -c "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema','ybvoyager_metadata')
          AND n.nspname !~ '^pg_toast' AND NOT c.relispartition AND n.nspname ~ '$re'
        ORDER BY 1")
    while IFS= read -r t; do
        [ -n "$t" ] || continue
        echo "$t $(psql_as "$name" "$db" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(h, '' ORDER BY h)), '-')
            FROM (SELECT md5(x::text) h FROM $t x) s")"
    done <<<"$tables"
}

# compare_databases A B [DB_A DB_B]: one check per table, plus the table list itself.
compare_databases() {
    local a=$1 b=$2
    local da=${3:-$(eval "echo \${$(echo "$a" | tr 'a-z-' 'A-Z_')_DB}")}
    local db=${4:-$(eval "echo \${$(echo "$b" | tr 'a-z-' 'A-Z_')_DB}")}
    local fa fb
    fa=$(table_fingerprints "$a" "$da")
    fb=$(table_fingerprints "$b" "$db")
    assert_eq "$a and $b have the same tables" "$(echo "$fa" | awk '{print $1}')" "$(echo "$fb" | awk '{print $1}')"
    local line t
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        t=${line%% *}
        assert_eq "$a and $b agree on $t (rows, checksum)" "$line" "$(echo "$fb" | grep -F "$t " | head -1)"
    done <<<"$fa"
}

# Call at the end of every test script.
done_testing() {
    echo "# $TEST_NAME: $_PASS passed, $_FAIL failed"
    [ "$_FAIL" = 0 ]
}

# pg_enable_ssl NAME: a throwaway CA, a server certificate (CN=localhost) and a
# client certificate for user "certuser" (who may log in only with it, over SSL).
# Sets NAME_SSL_DIR with ca.crt, client.crt, client.key; restarts the cluster.
pg_enable_ssl() {
    local name=$1 dir="$TEST_TMP/$1" ssl="$TEST_TMP/$1/ssl"
    mkdir -p "$ssl"
    (
        cd "$ssl" || exit 1
        openssl req -new -x509 -days 2 -nodes -subj "/CN=voyager-test-ca" -keyout ca.key -out ca.crt
        openssl req -new -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out server.crt
        openssl req -new -nodes -subj "/CN=certuser" -keyout client.key -out client.csr
        openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out client.crt
        chmod 600 server.key client.key
        # A revocation list that revokes the server's certificate (for --*-ssl-crl tests).
        : >index.txt
        echo 01 >crlnumber
        printf '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=2\n' >ca.cnf
        openssl ca -batch -config ca.cnf -keyfile ca.key -cert ca.crt -revoke server.crt
        openssl ca -batch -config ca.cnf -keyfile ca.key -cert ca.crt -gencrl -out revoked.crl
    ) >"$dir/ssl.log" 2>&1 || { echo "# openssl failed"; cat "$dir/ssl.log"; return 1; }
    [ "$(id -u)" = 0 ] && chown postgres: "$ssl/server.key" "$ssl/server.crt" "$ssl/ca.crt"
    cat >>"$dir/data/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = '$ssl/server.crt'
ssl_key_file = '$ssl/server.key'
ssl_ca_file = '$ssl/ca.crt'
CONF
    sed -i '1i hostssl all certuser 127.0.0.1/32 cert' "$dir/data/pg_hba.conf"
    pg_restart "$name" || return 1
    psql_as "$name" postgres -c "CREATE ROLE certuser LOGIN" >/dev/null
    local upper
    upper=$(echo "$name" | tr 'a-z-' 'A-Z_')
    printf -v "${upper}_SSL_DIR" '%s' "$ssl"
}
