#!/bin/bash
# bench/mysql/run.sh [ORDER]: MySQL (a throwaway MariaDB 10.11 server) as the source, ours vs the
# peers, in one run, on a throwaway PostgreSQL 15 target set as in production (fsync=on,
# full_page_writes=on, synchronous_commit=on) and a MariaDB server with its defaults for
# durability (innodb_flush_log_at_trx_commit=1; the binlog in ROW format, FULL images).
#
# snapshot  database benchdb: three tables of mixed types (SIZE=quick ~200 MB in InnoDB), loaded
#           into the same target schema (made by our export schema + import schema, untimed) by
#             ours      export data (snapshot-only) then import data, --parallel-jobs 2
#             pipe      per table, two at a time: mariadb --quick -B -N -e 'SELECT ...' | psql
#                       -c '\copy t FROM STDIN (NULL ''NULL'')' (blobs selected as \x-hex; no text
#                       value of the data is the string NULL)
#             pgloader  pgloader mysql:// -> postgresql://, data only into the same tables
#                       (WITH data only, truncate, workers = 2, concurrency = 1)
#           an untimed warm-up (the pipe) first fills the target's WAL segments and the source's
#           buffer pool; the target's tables are truncated (and CHECKPOINT) before each; after each, every table's row count and
#           sums (id, an integer and a decimal column) equal the source's, and an md5 over every
#           row's text form equals the first method's.
# capture   database capdb (one mixed-type table, 10k rows): our export data
#           (snapshot-and-changes) runs until it streams, then is stopped; a workload then makes
#           SIZE=quick 200k row changes with nothing consuming (inserts 100 a txn, updates 1000 a
#           txn, single-row updates, deletes 1000 a txn); then, order rotated,
#             ours      export data again, until the queue holds every change (meta.db)
#             binlog    mariadb-binlog --read-from-remote-server --base64-output=decode-rows -v
#                       over the same binlog range to /dev/null (its rows counted by a second,
#                       untimed read of the range)
#           exact change counts: the workload's (known by construction) = the rows mariadb-binlog
#           printed = the events our queue gained.
# SIZE=quick (default, a few minutes) or SIZE=tiny (a smoke test of the script).
# ORDER=0: peers first, 1: ours first.
# CPU-seconds per method: the client processes (GNU time: the pipe's shell counts every process of
# the pipes) + mariadbd (/proc/PID/stat utime+stime, all its threads) + the target cluster
# (bench/cdc/poll.py --cluster-cpu: postmaster, reaped and live children). Load average before
# and after each method.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/harness.sh
. tests/lib/mariadb.sh
TEST_NAME=bench-mysql
ORDER=${1:-${ORDER:-0}}
SIZE=${SIZE:-quick}
V=$VOYAGER
for tool in pgloader /usr/bin/time mariadb-binlog; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing: WITH_BENCH=1 scripts/install-deps.sh" >&2; exit 1; }
done
[ -x "$V" ] || { echo "bench: build first (make)" >&2; exit 1; }
export PATH="$PGBIN:$PATH"
_bench_cleanup() { kill -KILL ${EXP:-} 2>/dev/null; _mariadb_cleanup; harness_cleanup; }
trap _bench_cleanup EXIT
say() { printf '# %s\n' "$*"; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
add() { awk -v a="$1" -v b="$2" -v c="${3:-0}" 'BEGIN { printf "%.2f", a + b + c }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
load() { cut -d' ' -f1 /proc/loadavg; }
HZ=$(getconf CLK_TCK)
mycpu() { awk -v hz="$HZ" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$(_mariadb_pid my)/stat"; }
pgcpu() { python3 bench/cdc/poll.py --cluster-cpu "$TEST_TMP/target/data"; }
tcpu() { local u s; read -r _ u s _ <"$1"; add "$u" "$s"; } # GNU time's "%e %U %S %M" file

case $SIZE in
quick) BIG=360000 MID=240000 SMALL=20000 WLU=1 ;;
tiny) BIG=3000 MID=2000 SMALL=200 WLU=0.05 ;;
*) echo "bench: unknown SIZE $SIZE" >&2; exit 2 ;;
esac

say "servers: MariaDB (binlog ROW/FULL, innodb_flush_log_at_trx_commit=1), PostgreSQL 15 (fsync on)"
mariadb_start my benchdb >/dev/null || { say "mariadbd did not start"; exit 1; }
pg_start target yugabyte >/dev/null || exit 1
cat >>"$TEST_TMP/target/data/postgresql.conf" <<CONF
fsync = on
full_page_writes = on
synchronous_commit = on
shared_buffers = 128MB
max_wal_size = 2GB
CONF
pg_restart target || exit 1
mysql_as my mysql <<SQL || exit 1
SET GLOBAL innodb_buffer_pool_size = 268435456;
CREATE DATABASE capdb CHARACTER SET utf8mb4;
GRANT SELECT, SHOW VIEW, LOCK TABLES, TRIGGER, EVENT, EXECUTE ON capdb.* TO 'voyager'@'127.0.0.1', 'voyager'@'localhost';
CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY 'bench';
GRANT ALL ON *.* TO 'bench'@'127.0.0.1';
SQL
psql_as target yugabyte -c "CREATE ROLE bench LOGIN SUPERUSER PASSWORD 'bench'" >/dev/null
printf '[client]\nuser=bench\npassword=bench\nhost=127.0.0.1\nport=%s\n' "$MY_PORT" >"$TEST_TMP/bench.cnf"
chmod 600 "$TEST_TMP/bench.cnf"
export PGPASSWORD=bench
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user voyager --target-db-name yugabyte)
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$TARGET_PORT" -U bench -d yugabyte)
MYC=(mariadb --defaults-file="$TEST_TMP/bench.cnf" --default-character-set=utf8mb4)

# ---- snapshot data: generated in the server, outside the binlog
say "generating benchdb (big $BIG, mid $MID, small $SMALL rows)"
gen() { # TABLE N SELECT-LIST: INSERT ... SELECT over seq in chunks of 20k rows
    local t=$1 n=$2 cols=$3 lo hi
    for ((lo = 1; lo <= n; lo += 20000)); do
        hi=$((lo + 19999)); [ "$hi" -gt "$n" ] && hi=$n
        echo "INSERT INTO $t SELECT $cols FROM seq_${lo}_to_${hi};"
    done
}
T0=$(now)
{
    echo "SET sql_log_bin = 0;"
    cat <<'SQL'
CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, n INT, amount DECIMAL(14,4), ratio DOUBLE, flag TINYINT(1),
  name VARCHAR(100), body TEXT, at DATETIME(6), day DATE, doc JSON, bin BLOB, kind ENUM('a','b','c'));
CREATE TABLE mid (id BIGINT NOT NULL PRIMARY KEY, n INT, amount DECIMAL(12,2), code CHAR(8), note VARCHAR(200),
  at DATETIME, ok TINYINT(1), KEY mid_n (n));
CREATE TABLE small (id INT NOT NULL PRIMARY KEY, n SMALLINT, amount DECIMAL(8,3), label VARCHAR(40), y YEAR, t TIME,
  doc JSON, blob16 VARBINARY(16));
SQL
    gen big "$BIG" "seq, CAST(seq % 100000 AS SIGNED) - 50000, seq / 7, seq / 3.0, seq % 2, CONCAT('name ', seq, IF(seq % 97 = 0, ' tab\\there\\nnl \\\\ ü', '')),
      REPEAT(MD5(seq), 9), '2024-01-01 00:00:00.000001' + INTERVAL seq SECOND, '2020-01-01' + INTERVAL seq % 3000 DAY,
      CONCAT('{\"k\": ', seq, ', \"tags\": [\"a\", ', seq % 7, ']}'), UNHEX(REPEAT(MD5(seq), 2)), ELT(1 + seq % 3, 'a', 'b', 'c')"
    gen mid "$MID" "seq, seq % 1000, seq / 3, LEFT(MD5(seq), 8), IF(seq % 10 = 0, NULL, REPEAT(SHA1(seq), 2)),
      '2023-06-01 00:00:00' + INTERVAL seq MINUTE, seq % 3 = 0"
    gen small "$SMALL" "seq, seq % 30000, seq / 9, CONCAT('label ', seq), 1901 + seq % 255, SEC_TO_TIME(seq % 86000),
      IF(seq % 5 = 0, NULL, CONCAT('{\"s\": ', seq, '}')), UNHEX(MD5(seq))"
    echo "ANALYZE TABLE big, mid, small;"
} | mysql_as my benchdb >/dev/null || { say "generation failed"; exit 1; }
TABLES=(big mid small)
MB=$(mysql_as my benchdb -e "SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM information_schema.tables WHERE table_schema = 'benchdb'")
say "generated in $(sub "$T0" "$(now)") s: $MB MB in InnoDB"
srcsum() { mysql_as my benchdb -e "SELECT COUNT(*), SUM(id), SUM(n), SUM(amount) FROM \`$1\`"; }
tgtsum() { "${PSQL[@]}" -A -t -F $'\t' -c "SELECT count(*), sum(id), sum(n), sum(amount) FROM \"$1\""; }
tgtmd5() { "${PSQL[@]}" -A -t -c "SELECT md5(string_agg(md5(t::text), '' ORDER BY id)) FROM \"$1\" t"; }
declare -A SRC_SUM MD5_FIRST
for t in "${TABLES[@]}"; do SRC_SUM[$t]=$(srcsum "$t"); done

# ---- the target schema: ours, untimed, shared by every method
ED=$(new_export_dir)
SRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT" --source-db-user voyager --source-db-name benchdb)
"$V" export schema -e "$ED" "${SRC[@]}" >"$TEST_TMP/es.out" 2>&1 || { cat "$TEST_TMP/es.out"; exit 1; }
"$V" import schema -e "$ED" "${TGT[@]}" >"$TEST_TMP/is.out" 2>&1 || { cat "$TEST_TMP/is.out"; exit 1; }
"${PSQL[@]}" -c "GRANT ALL ON ALL TABLES IN SCHEMA public TO bench" >/dev/null
"${PSQL[@]}" -A -t -c "SELECT table_name || ': ' || string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
    FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name" | sed 's/^/# target /'

# verify TAG: counts and sums equal the source's, the md5 equal the first method's
verify() {
    local t s m
    for t in "${TABLES[@]}"; do
        s=$(tgtsum "$t"); m=$(tgtmd5 "$t")
        assert_eq "$1: $t count/sum(id)/sum(n)/sum(amount) equal the source's" "${SRC_SUM[$t]}" "$s"
        if [ -z "${MD5_FIRST[$t]:-}" ]; then MD5_FIRST[$t]=$m; else
            assert_eq "$1: $t md5 of every row equals the first method's" "${MD5_FIRST[$t]}" "$m"
        fi
    done
}
truncate_target() { "${PSQL[@]}" -c "TRUNCATE $(IFS=,; echo "${TABLES[*]}")" -c CHECKPOINT >/dev/null; }
ROWS=()
# measure LABEL ROWTEXT CMD...: one method, GNU time over CMD, mariadbd and target CPU around it
measure() {
    local label=$1 text=$2 l0 t0 m0 p0 t1 c m p
    shift 2
    truncate_target
    sleep 1
    l0=$(load); m0=$(mycpu); p0=$(pgcpu); t0=$(now)
    /usr/bin/time -f "%e %U %S %M" -o "$TEST_TMP/$label.time" "$@" >"$TEST_TMP/$label.out" 2>&1 ||
        { say "$label failed"; tail -n 15 "$TEST_TMP/$label.out"; exit 1; }
    t1=$(now)
    c=$(tcpu "$TEST_TMP/$label.time"); m=$(sub "$m0" "$(mycpu)"); p=$(sub "$p0" "$(pgcpu)")
    W[$label]=$(sub "$t0" "$t1"); C[$label]=$(add "$c" "$m" "$p")
    ROWS+=("| snapshot | $text | ${W[$label]} | client $c + mariadbd $m + target $p = ${C[$label]} | $(( $(awk '{ print $4 }' "$TEST_TMP/$label.time") / 1024 )) | $l0 / $(load) |")
    verify "$label"
}
declare -A W C

snap_ours() {
    # export data then import data, one after the other; the row's time and CPU are the sum
    cat >"$TEST_TMP/ours.sh" <<SH
set -e
"$V" export data -e "$ED" ${SRC[*]} --parallel-jobs 2 --disable-pb true
"$V" import data -e "$ED" ${TGT[*]} --parallel-jobs 2 --disable-pb true
SH
    measure ours "ours: export data + import data (--parallel-jobs 2)" bash "$TEST_TMP/ours.sh"
}
pipe_cmds() {
    local t
    for t in "${TABLES[@]}"; do
        # the target's column order; blobs as \x-hex (COPY text input of bytea), the rest as MariaDB prints them
        local sel="" c ty
        while IFS=$'\t' read -r c ty; do
            case $ty in
            *blob | *binary) sel+="${sel:+, }CONCAT('\\\\x', HEX(\`$c\`))" ;;
            *) sel+="${sel:+, }\`$c\`" ;;
            esac
        done < <(mysql_as my information_schema -e "SELECT COLUMN_NAME, DATA_TYPE FROM COLUMNS WHERE TABLE_SCHEMA = 'benchdb' AND TABLE_NAME = '$t' ORDER BY ORDINAL_POSITION")
        printf '%q ' "${MYC[@]}" --quick -B -N benchdb -e "SET time_zone = '+00:00'; SELECT $sel FROM \`$t\`"
        printf '| '
        printf '%q ' "${PSQL[@]}" -c "\\copy \"$t\" FROM STDIN (NULL 'NULL')"
        printf '\n'
    done >"$TEST_TMP/pipe.cmds"
}
PIPE_RUN="xargs -P 2 -I{} -d '\n' bash -o pipefail -c '{}' <'$TEST_TMP/pipe.cmds'"
snap_pipe() {
    measure pipe "pipe: mariadb -B -e SELECT \\| psql \\\\copy, per table, 2 at a time" \
        bash -c "$PIPE_RUN"
}
snap_pgloader() {
    cat >"$TEST_TMP/load.pgl" <<PGL
LOAD DATABASE
  FROM mysql://bench:bench@127.0.0.1:$MY_PORT/benchdb
  INTO postgresql://bench:bench@127.0.0.1:$TARGET_PORT/yugabyte
  WITH data only, truncate, workers = 2, concurrency = 1, prefetch rows = 10000, batch rows = 10000
  SET PostgreSQL PARAMETERS synchronous_commit TO 'on'
  CAST type tinyint when (= 1 precision) to smallint drop typemod
  ALTER SCHEMA 'benchdb' RENAME TO 'public';
PGL
    measure pgloader "pgloader (data only, workers = 2, prefetch/batch rows 10000)" pgloader --no-ssl-cert-verification "$TEST_TMP/load.pgl"
}
# warm-up, untimed: the target's first load pays for creating its WAL segments, and the first
# reader of the source for reading it into the buffer pool (256 MB: the whole database)
pipe_cmds
bash -c "$PIPE_RUN" >"$TEST_TMP/warmup.out" 2>&1 || { say "warm-up failed"; tail "$TEST_TMP/warmup.out"; exit 1; }
if [ "$ORDER" = 0 ]; then snap_pipe; snap_pgloader; snap_ours; else snap_ours; snap_pipe; snap_pgloader; fi
grep -aE 'Total import time|errors' "$TEST_TMP/pgloader.out" | tail -3 | sed 's/^/# pgloader: /'

# ---- capture
say "capture: capdb, our export data until it streams (untimed), then the workload with nothing consuming"
mysql_as my capdb <<'SQL' || exit 1
CREATE TABLE ev (id BIGINT NOT NULL PRIMARY KEY, n INT, amount DECIMAL(14,4), name VARCHAR(100), body TEXT,
  at DATETIME(6), doc JSON, bin VARBINARY(64), kind ENUM('a','b','c'));
INSERT INTO ev SELECT seq, seq % 1000, seq / 7, CONCAT('ev ', seq), REPEAT(MD5(seq), 4), '2024-01-01' + INTERVAL seq SECOND,
  CONCAT('{"k": ', seq, '}'), UNHEX(MD5(seq)), ELT(1 + seq % 3, 'a', 'b', 'c') FROM seq_1_to_10000;
SQL
CED=$(new_export_dir)
CSRC=(--source-db-type mysql --source-db-host 127.0.0.1 --source-db-port "$MY_PORT" --source-db-user voyager --source-db-name capdb)
META=$CED/metainfo/meta.db
qevents() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT coalesce(sum(total_events),0) FROM queue_segment WHERE exporter_role = 'source_db_exporter'\").fetchone()[0])" "$META"; }
"$V" export data -e "$CED" "${CSRC[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/cexp0.out" 2>&1 &
EXP=$!
for i in $(seq 1 600); do
    grep -q "streaming changes from" "$CED/logs/yb-voyager-export-data-from-source.log" 2>/dev/null && break
    kill -0 $EXP 2>/dev/null || { say "export data died"; tail -5 "$TEST_TMP/cexp0.out"; exit 1; }
    sleep 0.2
done
sleep 1
kill -TERM $EXP; wait $EXP; EXP=
Q0=$(qevents)
read -r F0 P0 < <(mysql_as my mysql -e "SHOW MASTER STATUS" | cut -f1,2)
python3 - "$WLU" >"$TEST_TMP/workload.sql" <<'PY'
import sys
# per unit: 80000 inserts (100 a txn), 60000 updates (1000 a txn), 10000 single-row updates,
# 50000 deletes (1000 a txn): 200000 row changes, every statement hitting exactly the rows it names
s = float(sys.argv[1]); n = int(80000 * s); u = int(60000 * s); one = int(10000 * s); d = int(50000 * s)
out = []
for k in range(0, n, 100):
    a, b = 100001 + k, 100000 + min(k + 100, n)
    out.append("INSERT INTO ev SELECT seq, seq %% 1000, seq / 7, CONCAT('ev ', seq), REPEAT(MD5(seq), 4), NOW(6), "
               "CONCAT('{\"k\": ', seq, '}'), UNHEX(MD5(seq)), ELT(1 + seq %% 3, 'a', 'b', 'c') FROM seq_%d_to_%d;" % (a, b))
for k in range(0, u, 1000):
    out.append("UPDATE ev SET n = n + 1, amount = amount + 1, at = NOW(6) WHERE id BETWEEN %d AND %d;" % (100001 + k, 100000 + min(k + 1000, u)))
for k in range(one):
    out.append("UPDATE ev SET name = CONCAT('one ', id), doc = JSON_SET(doc, '$.u', %d) WHERE id = %d;" % (k, 100001 + (k * 7) % n))
for k in range(0, d, 1000):
    out.append("DELETE FROM ev WHERE id BETWEEN %d AND %d;" % (100001 + n - d + k, 100000 + n - d + min(k + 1000, d)))
print("\n".join(out))
print("-- changes %d" % (n + u + one + d))
PY
CHANGES=$(sed -n 's/^-- changes //p' "$TEST_TMP/workload.sql")
T0=$(now)
mysql_as my capdb <"$TEST_TMP/workload.sql" || { say "workload failed"; exit 1; }
WL_S=$(sub "$T0" "$(now)")
read -r F1 P1 < <(mysql_as my mysql -e "SHOW MASTER STATUS" | cut -f1,2)
say "workload: $CHANGES row changes in $WL_S s; binlog $F0:$P0 .. $F1:$P1"
BINLOG_RANGE=(--start-position="$P0" --stop-position="$P1")
[ "$F0" = "$F1" ] || BINLOG_RANGE+=(--to-last-log)

cap_binlog() {
    sleep 1
    local l0 m0 t0 t1 c m
    l0=$(load); m0=$(mycpu); t0=$(now)
    /usr/bin/time -f "%e %U %S %M" -o "$TEST_TMP/binlog.time" mariadb-binlog --defaults-file="$TEST_TMP/bench.cnf" \
        --read-from-remote-server --base64-output=decode-rows -v "${BINLOG_RANGE[@]}" "$F0" \
        >/dev/null 2>"$TEST_TMP/binlog.err" || { say "mariadb-binlog failed"; cat "$TEST_TMP/binlog.err"; exit 1; }
    t1=$(now)
    c=$(tcpu "$TEST_TMP/binlog.time"); m=$(sub "$m0" "$(mycpu)")
    W[binlog]=$(sub "$t0" "$t1"); C[binlog]=$(add "$c" "$m")
    # its rows counted by a second, untimed read of the same range
    BINLOG_ROWS=$(mariadb-binlog --defaults-file="$TEST_TMP/bench.cnf" --read-from-remote-server --base64-output=decode-rows -v \
        "${BINLOG_RANGE[@]}" "$F0" 2>/dev/null | grep -cE '^### (INSERT INTO|UPDATE|DELETE FROM) ')
    ROWS+=("| capture | mariadb-binlog --read-from-remote-server --base64-output=decode-rows -v to /dev/null | ${W[binlog]} | mariadb-binlog $c + mariadbd $m = ${C[binlog]} | $(( $(awk '{ print $4 }' "$TEST_TMP/binlog.time") / 1024 )) | $l0 / $(load) |")
}
cap_ours() {
    sleep 1
    local l0 m0 t0 t1 m
    l0=$(load); m0=$(mycpu); t0=$(now)
    "$V" export data -e "$CED" "${CSRC[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/cexp1.out" 2>&1 &
    EXP=$!
    python3 bench/cdc/poll.py --sqlite "q=$META:$((Q0 + CHANGES)):SELECT sum(total_events) FROM queue_segment WHERE exporter_role = 'source_db_exporter'" \
        --proc "client=$EXP" --watch "$EXP" --timeout 1200 >"$TEST_TMP/p.exp"
    grep -q '^died\|^timeout' "$TEST_TMP/p.exp" && { say "exporter died or timed out"; tail -n 5 "$TEST_TMP/cexp1.out"; exit 1; }
    t1=$(awk '$1 == "cond" && $2 == "q" { print $3 }' "$TEST_TMP/p.exp")
    m=$(sub "$m0" "$(mycpu)")
    local c; c=$(awk '$1 == "cpu" && $2 == "client" { print $3 }' "$TEST_TMP/p.exp")
    W[cap]=$(sub "$t0" "$t1"); C[cap]=$(add "$c" "$m")
    ROWS+=("| capture | our export data (into the queue) | ${W[cap]} | export data $c + mariadbd $m = ${C[cap]} | $(( $(awk '$1 == "rss" && $2 == "client" { print $3 }' "$TEST_TMP/p.exp") / 1024 )) | $l0 / $(load) |")
    sleep 1; Q1=$(qevents)
    kill -TERM $EXP; wait $EXP; EXP=
}
if [ "$ORDER" = 0 ]; then cap_binlog; cap_ours; else cap_ours; cap_binlog; fi
assert_eq "mariadb-binlog printed exactly the workload's row changes" "$CHANGES" "$BINLOG_ROWS"
assert_eq "our queue gained exactly the workload's row changes" "$CHANGES" "$((Q1 - Q0))"

REPORT=$(cat <<TXT
SIZE=$SIZE, ORDER=$ORDER ($([ "$ORDER" = 0 ] && echo "peers first" || echo "ours first")), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD), $(mariadbd --version | awk '{ print $3 }'), $(pgloader --version | head -1)
snapshot: benchdb $MB MB in InnoDB (big $BIG, mid $MID, small $SMALL rows); capture: $CHANGES row changes ($WL_S s to make), binlog rows decoded $BINLOG_ROWS, queue events $((Q1 - Q0))
| stage | method | time (s) | CPU-seconds | peak RSS (MB) | load before / after |
|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")
snapshot ours vs pipe: wall $(ratio "${W[pipe]}" "${W[ours]}")x, CPU $(ratio "${C[pipe]}" "${C[ours]}")x; ours vs pgloader: wall $(ratio "${W[pgloader]}" "${W[ours]}")x, CPU $(ratio "${C[pgloader]}" "${C[ours]}")x (> 1: ours faster / cheaper)
capture ours vs mariadb-binlog: wall $(ratio "${W[binlog]}" "${W[cap]}")x, CPU $(ratio "${C[binlog]}" "${C[cap]}")x
verification: $([ "$_FAIL" = 0 ] && echo "every check passed ($_PASS): each table's count and sums equal the source's after each method, its md5 equal across methods, change counts exact" || echo "$_FAIL checks FAILED, see above")
TXT
)
echo "$REPORT"
[ -n "${BENCH_OUT:-}" ] && echo "$REPORT" >>"$BENCH_OUT"
done_testing
