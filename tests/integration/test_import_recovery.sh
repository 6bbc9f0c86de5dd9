#!/bin/bash
# import data recovers by itself (issue 11, defect 5, importer side): a target restart
# (pg_ctl restart -m immediate) mid snapshot import and mid streaming, connections the
# fault proxy drops, a stall, refused connections. Every connection the importer holds
# reconnects under the retry policy with warnings (no "error:"), the one idle through
# the run (sequences at the end of the snapshot and at cutover) included; a database
# unreachable past YB_VOYAGER_RETRY_TIMEOUT ends in exit 3 and "run the same command
# again"; a target that lost acknowledged commits does not leave the importer stuck or
# short of rows: the rerun re-applies from the target's progress. Source and target are
# compared row by row after each.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/faultproxy.sh"
export YB_VOYAGER_RETRY_TIMEOUT=60
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
pg_start ref ref >/dev/null || { not_ok "ref cluster"; done_testing; exit 1; }
# crash tests need acknowledged commits to be on disk (the harness runs with it off)
psql_as target postgres -c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" >/dev/null

target_restart_immediate() {
    _as_pg "$PGBIN/pg_ctl" -D "$TARGET_DIR/data" -l "$TARGET_DIR/server.log" -m immediate -w -t 60 restart >/dev/null
}
applied_now() { channel_counts target "${1:-}" 2>/dev/null | awk '{n = $1 + $2 + $3} END {print n + 0}'; }
# errors_in LOG: its "error:" lines (there must be none when recovery is automatic)
errors_in() { grep -E '\] error: ' "$1" | head -3; }

# ---- 1. target restarted mid snapshot import (sequences restored on the idle main connection)
psql_as source sourcedb -c "CREATE TABLE big (id bigint PRIMARY KEY, t text)" \
    -c "INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 200000) g" \
    -c "CREATE TABLE loose (a int, b text)" \
    -c "INSERT INTO loose SELECT g % 100, md5(g::text) FROM generate_series(1, 50000) g" \
    -c "SELECT setval('customers_id_seq', 4242)" >/dev/null
copy_schema source target || not_ok "schema"
conn_flags
SD=$(new_export_dir)
check "export data" "$VOYAGER" export data -e "$SD" "${SRC_FLAGS[@]}" --disable-pb true
"$VOYAGER" import data -e "$SD" "${TGT_FLAGS[@]}" --parallel-jobs 2 --batch-size 2000 --disable-pb true \
    >"$TEST_TMP/imp1.out" 2>"$TEST_TMP/imp1.err" &
pid=$!
rows() { psql_as target yugabyte -c "SELECT count(*) FROM big" 2>/dev/null || echo 0; }
for _ in $(seq 1 300); do [ "$(rows)" -ge 40000 ] && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
restarted_at=$(rows)
target_restart_immediate
wait_exit $pid 110
rc=$?
echo "# target restarted with $restarted_at rows of big loaded"
assert_eq "import data survives a target restart mid snapshot (exit 0)" 0 "$rc"
assert_match "the restart hit the import mid-way" '^[1-9]' "$restarted_at"
compare_databases source target
assert_eq "sequences restored after the restart" "4242" "$(psql_as target yugabyte -c "SELECT last_value FROM customers_id_seq")"
assert_match "reconnects are logged as warnings" 'warn' "$(grep -E 'retrying|reconnecting' "$SD"/logs/*.log | head -1)"
assert_eq "no error logged" "" "$(errors_in "$SD/logs/yb-voyager-import-data-to-target.log")"

# ---- 2. target restarted mid streaming; the main connection idles until the cutover
psql_as target postgres -c "CREATE DATABASE ctr OWNER voyager" >/dev/null
for c in "target ctr" "ref ref"; do
    queue_schema_sql counters | psql_as $c >/dev/null
    psql_as $c -c "CREATE SEQUENCE public.s1" >/dev/null
done
ED=$(new_export_dir)
N=${RECOVERY_EVENTS:-40000}
next=$(queue_gen counters 31 "$N" 1 "$TEST_TMP/w")
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 300000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
seq_values "$ED" cutover.target public s1 777 1
psql_as ref ref -f "$TEST_TMP/w.sql" -c "SELECT setval('public.s1', 777)" >/dev/null || not_ok "reference workload"
LOG="$ED/logs/yb-voyager-import-data-to-target.log"
APPLY_DB=ctr run_apply_bg "$ED" target target --parallel-jobs 3
for _ in $(seq 1 600); do [ "$(applied_now ctr)" -ge $((N / 3)) ] && break; kill -0 "$APPLY_PID" 2>/dev/null || break; sleep 0.05; done
at=$(applied_now ctr)
target_restart_immediate
wait_exit "$APPLY_PID" 110
rc=$?
echo "# target restarted with $at events applied"
assert_eq "change apply survives a target restart mid streaming and cutover (exit 0)" 0 "$rc"
assert_match "the restart hit the apply mid-way" '^[1-9]' "$at"
compare_databases ref target ref ctr
assert_eq "every event counted exactly once" "$((next - 1))" "$(applied_now ctr)"
assert_eq "the sequence was restored at cutover on a reconnected connection" "777" \
    "$(psql_as target ctr -c "SELECT last_value FROM public.s1")"
assert_eq "no error logged" "" "$(errors_in "$LOG")"

# ---- 3. through the proxy: dropped connections, a stall, refused connections; then a
#         database unreachable past the retry deadline: exit 3, and the rerun ends equal
for db in ctr2 ctr3; do
    psql_as target postgres -c "CREATE DATABASE $db OWNER voyager" >/dev/null
    queue_schema_sql counters | psql_as target $db >/dev/null
    psql_as target $db -c "CREATE SEQUENCE public.s1" >/dev/null
done
proxy_start tp "$TARGET_PORT" || { not_ok "proxy"; done_testing; exit 1; }
# a fresh export dir with the same queue: run the faults against database ctr2
ED2=$(new_export_dir)
queue_append "$ED2" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 300000
queue_append "$ED2" source_db_exporter "$TEST_TMP/c.ndjson" --close
seq_values "$ED2" cutover.target public s1 777 1
LOG2="$ED2/logs/yb-voyager-import-data-to-target.log"
proxy_rule tp "drop_after_bytes 1000000 always"
APPLY_DB=ctr2 APPLY_PORT=$TP_PROXY_PORT run_apply_bg "$ED2" target target --parallel-jobs 3
for _ in $(seq 1 600); do [ "$(applied_now ctr2)" -ge $((N / 4)) ] && break; kill -0 "$APPLY_PID" 2>/dev/null || break; sleep 0.05; done
proxy_rule tp "stall 3"
sleep 3
proxy_rule tp "refuse 3" "drop_all"
sleep 3
proxy_rule tp "drop_random 0.0005"
wait_exit "$APPLY_PID" 110
rc=$?
proxy_clear tp
echo "# proxy faults fired: $(proxy_fired tp)"
assert_eq "change apply survives dropped connections, a stall and refused connections (exit 0)" 0 "$rc"
assert_match "connections were dropped" '^([2-9]|[1-9][0-9]+)$' "$(proxy_fired tp 'closed')"
compare_databases ref target ref ctr2
assert_eq "every event counted exactly once" "$((next - 1))" "$(applied_now ctr2)"
assert_eq "no error logged" "" "$(errors_in "$LOG2")"

ED3=$(new_export_dir)
queue_append "$ED3" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 300000
queue_append "$ED3" source_db_exporter "$TEST_TMP/c.ndjson" --close
seq_values "$ED3" cutover.target public s1 777 1
YB_VOYAGER_RETRY_TIMEOUT=4 APPLY_DB=ctr3 APPLY_PORT=$TP_PROXY_PORT run_apply_bg "$ED3" target target --parallel-jobs 3
for _ in $(seq 1 600); do [ "$(applied_now ctr3)" -ge $((N / 4)) ] && break; kill -0 "$APPLY_PID" 2>/dev/null || break; sleep 0.05; done
proxy_rule tp "refuse 30" "drop_all"
wait_exit "$APPLY_PID" 60
rc=$?
assert_eq "unreachable past the retry deadline: exit 3" 3 "$rc"
assert_match "and the message says to run the same command again" 'run the same command again' \
    "$(grep -E '\] hint: ' "$ED3/logs/yb-voyager-import-data-to-target.log" | tail -2)"
proxy_clear tp
APPLY_DB=ctr3 APPLY_PORT=$TP_PROXY_PORT check "the rerun runs to the end" run_apply "$ED3" target target --parallel-jobs 3
compare_databases ref target ref ctr3
assert_eq "every event counted exactly once" "$((next - 1))" "$(applied_now ctr3)"

# ---- 4. the target loses acknowledged commits (restored to an earlier copy) while the
#         importer runs: it stops with exit 3, and the rerun re-applies what was lost
psql_as target postgres -c "CREATE DATABASE ctr4 OWNER voyager" >/dev/null
queue_schema_sql counters | psql_as target ctr4 >/dev/null
psql_as target ctr4 -c "CREATE SEQUENCE public.s1" >/dev/null
ED4=$(new_export_dir)
queue_append "$ED4" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 100000
queue_append "$ED4" source_db_exporter "$TEST_TMP/c.ndjson" --close
seq_values "$ED4" cutover.target public s1 777 1
LOG4="$ED4/logs/yb-voyager-import-data-to-target.log"
# every run through the proxy (a migration keeps the target it recorded first)
APPLY_DB=ctr4 APPLY_PORT=$TP_PROXY_PORT run_apply_bg "$ED4" target target --parallel-jobs 3
for _ in $(seq 1 600); do [ "$(applied_now ctr4)" -ge $((N / 5)) ] && break; kill -0 "$APPLY_PID" 2>/dev/null || break; sleep 0.05; done
kill -9 "$APPLY_PID"; wait "$APPLY_PID" 2>/dev/null
pg_stop target
_as_pg cp -a "$TARGET_DIR/data" "$TARGET_DIR/data.backup"
_as_pg "$PGBIN/pg_ctl" -D "$TARGET_DIR/data" -l "$TARGET_DIR/server.log" -w -t 60 start >/dev/null
backup_at=$(applied_now ctr4)
# through the proxy, stalled while the target goes back: the loss lands mid-run
APPLY_DB=ctr4 APPLY_PORT=$TP_PROXY_PORT run_apply_bg "$ED4" target target --parallel-jobs 3
for _ in $(seq 1 600); do [ "$(applied_now ctr4)" -ge $((N / 2)) ] && break; kill -0 "$APPLY_PID" 2>/dev/null || break; sleep 0.05; done
proxy_rule tp "stall 120"
lost_at=$(applied_now ctr4)
marked=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM queue_segment WHERE imported_by_target_db_importer').fetchone()[0])" "$ED4/metainfo/meta.db")
_as_pg "$PGBIN/pg_ctl" -D "$TARGET_DIR/data" -m immediate -w stop >/dev/null
_as_pg rm -rf "$TARGET_DIR/data"
_as_pg mv "$TARGET_DIR/data.backup" "$TARGET_DIR/data"
_as_pg "$PGBIN/pg_ctl" -D "$TARGET_DIR/data" -l "$TARGET_DIR/server.log" -w -t 60 start >/dev/null
proxy_clear tp
echo "# target back at $backup_at events from $lost_at ($marked segments marked imported)"
wait_exit "$APPLY_PID" 110
rc=$?
assert_eq "the importer stops with exit 3 when the target's progress went backwards" 3 "$rc"
assert_match "saying the target lost commits" 'lost acknowledged commits' "$(grep -E '\] detail: ' "$LOG4" | head -3)"
APPLY_DB=ctr4 APPLY_PORT=$TP_PROXY_PORT check "the rerun runs to the end" run_apply "$ED4" target target --parallel-jobs 3
assert_match "it re-read the queue from the target's progress" '^[1-9]' "$(grep -c 'applied again from the queue' "$LOG4")"
compare_databases ref target ref ctr4
assert_eq "every event counted exactly once" "$((next - 1))" "$(applied_now ctr4)"
proxy_stop tp
done_testing
