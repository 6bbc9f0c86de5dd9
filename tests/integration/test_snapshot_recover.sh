#!/bin/bash
# The source restarts (pg_ctl restart -m immediate) while export data exports
# its snapshot: export data starts the snapshot again by itself (a warning, no
# person, no rerun) and ends with exit 0; snapshot-only and snapshot-and-changes
# (a new slot; the changes after it stream as usual). The snapshot loaded into
# a copy (plus the replayed queue, live) equals the source. A worker's server
# process that stops (SIGSTOP) is given up after YB_VOYAGER_STALL_TIMEOUT and
# the snapshot starts again the same way.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
pg_start source sourcedb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
psql_as source sourcedb -c "CREATE TABLE public.big (id int PRIMARY KEY, pad text); ALTER TABLE public.big REPLICA IDENTITY FULL;
    INSERT INTO public.big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 300000) g" >/dev/null
copydb_create
export VOYAGER_EXPORT_SPLIT_BYTES=$((256 * 1024)) YB_VOYAGER_RETRY_TIMEOUT=120

# The export is stopped in the middle of big at a known point, not raced: the proxy holds the
# COPY of each part of big but the first (which starts at block 0) until the rule is cleared.
. "$HARNESS_DIR/faultproxy.sh"
proxy_start src "$SOURCE_PORT" || exit 1
SRC=("${SRC_FLAGS[@]}" --source-db-port "$SRC_PROXY_PORT")
hold_big() {
    HOLD_BASE=$(proxy_fired src hold)
    proxy_rule src "hold match=\"big\"\\sWHERE\\sctid\\s>=\\s'\\([1-9]"
}

# held_mid_big ED: true once the worker is held before big's second part with the first part
# of big recorded (and big not DONE), within 120 s.
held_mid_big() {
    local i st
    for i in $(seq 1 600); do
        [ "$(proxy_fired src hold)" -gt "$HOLD_BASE" ] && break
        sleep 0.2
    done
    for i in $(seq 1 300); do
        [ "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1], timeout=5).execute(\"select count(*) from snapshot_export_file where table_name='big'\").fetchone()[0])" "$1/metainfo/meta.db" 2>/dev/null)" -gt 0 ] 2>/dev/null && break
        sleep 0.2
    done
    st=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1], timeout=5).execute(\"select status from snapshot_export_table where table_name='big'\").fetchone()[0])" "$1/metainfo/meta.db")
    [ "$(proxy_fired src hold)" -gt "$HOLD_BASE" ] && [ -n "$st" ] && [ "$st" != DONE ]
}

# restart_mid_snapshot ED: once the export is held in the middle of big, restart the source
# (the held connection breaks with it), then let the export go on.
restart_mid_snapshot() {
    local rc=0
    held_mid_big "$1" || rc=1
    _as_pg "$PGBIN/pg_ctl" -D "$TEST_TMP/source/data" -l "$TEST_TMP/source/server.log" -m immediate -w -t 60 restart >/dev/null
    proxy_clear src
    return $rc
}
reset_copy() {
    psql_as source copydb -c "TRUNCATE public.items, public.\"Mixed Case\", public.pairs, public.parted, public.big" >/dev/null
}

# --- snapshot-only
ED=$(new_export_dir)
hold_big
"$V" export data -e "$ED" "${SRC[@]}" --parallel-jobs 1 --disable-pb true >"$TEST_TMP/exp1.out" 2>&1 &
pid=$!
check "snapshot-only: the source restarted in the middle of big" restart_mid_snapshot "$ED"
wait_exit "$pid" 120
assert_eq "snapshot-only: export data ends by itself with exit 0" 0 "$?"
assert_match "it said it starts the snapshot again (a warning)" "^warning: source database: the snapshot export lost the source; starting it again" "$(cat "$TEST_TMP/exp1.out")"
assert_eq "no error line" "" "$(grep '^error' "$TEST_TMP/exp1.out")"
snapshot_load_sql "$ED" >"$TEST_TMP/load1.sql"
check "load the snapshot into the copy" psql_as source copydb -f "$TEST_TMP/load1.sql"
compare_databases source source sourcedb copydb

# --- snapshot-only, the worker's server process stopped (SIGSTOP): the COPY goes silent
reset_copy
ED=$(new_export_dir)
hold_big
YB_VOYAGER_STALL_TIMEOUT=3 "$V" export data -e "$ED" "${SRC[@]}" --parallel-jobs 1 --disable-pb true >"$TEST_TMP/exp3.out" 2>&1 &
pid=$!
held_mid_big "$ED"
check "stall: the export is held in the middle of big" test $? = 0
# The held statement then reaches a server process that answers nothing.
backend=$(psql_as source postgres -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'yb-voyager export data worker'")
[ -n "$backend" ] && kill -STOP $backend
proxy_clear src
check "stall: the worker's server process is stopped in the middle of big" test -n "$backend"
wait_exit "$pid" 120
rc=$?
[ -n "$backend" ] && kill -CONT $backend
assert_eq "stall: export data ends by itself with exit 0" 0 "$rc"
assert_match "it said the COPY went silent (a warning)" "^warning: source database: exporting table big: nothing received for 3 s" "$(cat "$TEST_TMP/exp3.out")"
assert_eq "no error line" "" "$(grep '^error' "$TEST_TMP/exp3.out")"
snapshot_load_sql "$ED" >"$TEST_TMP/load3.sql"
check "load the snapshot into the copy" psql_as source copydb -f "$TEST_TMP/load3.sql"
compare_databases source source sourcedb copydb

# --- snapshot-and-changes
reset_copy
ED=$(new_export_dir)
hold_big
"$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --parallel-jobs 1 --disable-pb true >"$TEST_TMP/exp2.out" 2>&1 &
pid=$!
check "live: the source restarted in the middle of big" restart_mid_snapshot "$ED"
check "live: the snapshot completes by itself" status_wait "$ED" ExportDataDone 120
live_workload_sql 300 51 | psql_as source sourcedb >/dev/null
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$pid" 90
assert_eq "live: export data drains and exits 0" 0 "$?"
assert_match "it made a new slot for the new snapshot" "snapshot of an earlier run did not complete" "$(cat "$TEST_TMP/exp2.out")"
assert_eq "live: no error line" "" "$(grep '^error' "$TEST_TMP/exp2.out")"
assert_eq "one slot left at most (the cutover dropped ours)" 0 "$(psql_as source postgres -c "SELECT count(*) FROM pg_replication_slots")"
snapshot_load_sql "$ED" >"$TEST_TMP/load2.sql"
check "load the snapshot into the copy" psql_as source copydb -f "$TEST_TMP/load2.sql"
queue_replay_sql "$ED" source_db_exporter >"$TEST_TMP/replay.sql"
check "replay the queue: each update/delete hits one row, no duplicate insert" psql_as source copydb -f "$TEST_TMP/replay.sql"
compare_databases source source sourcedb copydb
proxy_stop src
done_testing
