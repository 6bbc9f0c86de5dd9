#!/bin/bash
# import data [to source-replica] --start-clean against archive changes --delete, in a
# fall-forward migration (source -> target and source-replica), without gdb: the importer's
# database is stopped, so the clean start waits in its connect retry, after its "no deleted
# segment" check and before the truncation. Its segments must count as not applied from the
# check on: archive changes --delete running meanwhile deletes none of them, and once the
# database is back the clean start reloads the snapshot, replays the queue and ends equal to the
# source. (Before, the check came long before the forgetting: archive deleted the segments in
# between, the tables were truncated and reloaded, and the replay stopped on a missing segment
# for good.) Also: a declined clean start (no terminal for its question) changes nothing, and a
# plain rerun after it goes on; once both importers are caught up again, archive deletes.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/e2e.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
trap 'proc_stop_all; harness_cleanup' EXIT
export QUEUE_SEGMENT_MAX_BYTES=20000 VOYAGER_ARCHIVE_POLL_MS=100

start_clusters source target source_replica || exit 1
live_schema_sql | psql_as source sourcedb >/dev/null || exit 1
copy_schema source target || exit 1
copy_schema source source_replica || exit 1
conn_flags
ED=$(new_export_dir)

# segs: "closed source segments, of them marked applied by the target, by the source-replica,
# deleted"
segs() {
    python3 - "$ED/metainfo/meta.db" <<'PY2'
import sqlite3, sys
print(*sqlite3.connect(sys.argv[1]).execute(
    "select count(*), coalesce(sum(imported_by_target_db_importer <> 0), 0),"
    " coalesce(sum(imported_by_source_replica_db_importer <> 0), 0), coalesce(sum(deleted <> 0), 0)"
    " from queue_segment where exporter_role = 'source_db_exporter' and is_closed <> 0").fetchone())
PY2
}
# both_marked: every closed source segment (more than 5) is marked applied by both importers
both_marked() {
    local n t r d
    read -r n t r d <<<"$(segs)"
    [ "$n" -gt 5 ] && [ "$t" = "$n" ] && [ "$r" = "$n" ]
}
wait_both_marked() { local i; for i in $(seq 1 150); do both_marked && return 0; sleep 0.2; done; return 1; }
# deleted_now: segments archive changes deleted so far
deleted_now() { local n t r d; read -r n t r d <<<"$(segs)"; echo "$d"; }
# archive_pass: archive changes --delete (threshold 0: delete whatever is eligible) for 3 s
archive_pass() {
    timeout -s TERM 3 "$V" archive changes -e "$ED" --delete --fs-utilization-threshold 0 \
        >>"$TEST_TMP/archive.out" 2>&1
}
cluster_start() {
    _as_pg "$PGBIN/pg_ctl" -D "$TEST_TMP/$1/data" -l "$TEST_TMP/$1/server.log" -w -t 60 start >/dev/null
}
# in_connect_retry KEY: the clean start of process KEY waits for its database (a retry warning)
in_connect_retry() { wait_log "$TEST_TMP/$1.out" "^warning: .* database: cannot connect to .*retrying" "$(proc_pid "$1")"; }

proc_start exp "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true
check "snapshot exported" status_wait "$ED" ExportDataDone 60
proc_start imp "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
proc_start rep "$V" import data to source-replica -e "$ED" "${REPLICA_FLAGS[@]}" --disable-pb true
live_workload_sql 400 31 | psql_as source sourcedb >/dev/null
wait_equal source target 120 && ok "target caught up" || not_ok "target caught up"
wait_equal source source_replica 120 && ok "source-replica caught up" || not_ok "source-replica caught up"
check "every closed segment is marked applied by both importers" wait_both_marked
assert_eq "nothing deleted yet" 0 "$(deleted_now)"

# ---- 1. import data to source-replica --start-clean while its database is down ----
proc_kill9 rep
pg_stop source_replica
proc_start rep2 "$V" import data to source-replica -e "$ED" "${REPLICA_FLAGS[@]}" --disable-pb true \
    --start-clean true --truncate-tables true
check "the source-replica's clean start waits for its database (connect retry)" in_connect_retry rep2
live_workload_sql 100 32 | psql_as source sourcedb >/dev/null
archive_pass
assert_eq "archive changes --delete deleted no segment while the source-replica's clean start waited ($(segs))" \
    0 "$(deleted_now)"
cluster_start source_replica
wait_equal source source_replica 180 && ok "the source-replica's clean start caught up with the source" ||
    not_ok "the source-replica's clean start caught up with the source" "$(tail -3 "$TEST_TMP/rep2.out")"
compare_databases source source_replica
assert_match "the source-replica's tables were truncated and reloaded" "truncated [0-9]+ tables on the source-replica" \
    "$(cat "$TEST_TMP/rep2.out")"
check "import data to source-replica still runs" proc_alive rep2
wait_equal source target 60 && ok "target still equals the source" || not_ok "target still equals the source"

# ---- 2. a declined clean start of the target, then a plain rerun ----
proc_kill9 imp
before=$(table_fingerprints target yugabyte)
expect_refusal "import data --start-clean without --truncate-tables and no terminal: declined" 3 \
    "no terminal to ask on.*import stopped" \
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --start-clean true </dev/null
assert_eq "the declined clean start changed nothing on the target" "$before" "$(table_fingerprints target yugabyte)"
proc_start imp "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
live_workload_sql 100 33 | psql_as source sourcedb >/dev/null
wait_equal source target 120 && ok "a plain rerun after the declined clean start caught up" ||
    not_ok "a plain rerun after the declined clean start caught up" "$(tail -3 "$TEST_TMP/imp.out")"
compare_databases source target
check "the plain rerun marked every closed segment applied again" wait_both_marked

# ---- 3. import data --start-clean while the target is down ----
# --skip-replication-checks: that check connects first, and does not wait for a database down
proc_kill9 imp
pg_stop target
proc_start imp2 "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true \
    --start-clean true --truncate-tables true --skip-replication-checks true
check "the target's clean start waits for its database (connect retry)" in_connect_retry imp2
live_workload_sql 100 34 | psql_as source sourcedb >/dev/null
archive_pass
assert_eq "archive changes --delete deleted no segment while the target's clean start waited ($(segs))" \
    0 "$(deleted_now)"
cluster_start target
wait_equal source target 180 && ok "the target's clean start caught up with the source" ||
    not_ok "the target's clean start caught up with the source" "$(tail -3 "$TEST_TMP/imp2.out")"
compare_databases source target
assert_match "the target's tables were truncated and reloaded" "truncated [0-9]+ tables on the target" \
    "$(cat "$TEST_TMP/imp2.out")"
check "import data still runs" proc_alive imp2

# ---- 4. both caught up: archive deletes what both applied, and the importers go on ----
check "every closed segment is marked applied by both importers again" wait_both_marked
archive_pass
d=$(deleted_now)
check "archive changes --delete now deletes the applied segments ($d)" test "$d" -gt 0
live_workload_sql 100 35 | psql_as source sourcedb >/dev/null
wait_equal source target 120 && ok "target follows after the deletion" || not_ok "target follows after the deletion"
wait_equal source source_replica 120 && ok "source-replica follows after the deletion" ||
    not_ok "source-replica follows after the deletion"
compare_databases source target
compare_databases source source_replica
assert_eq "no importer met a missing segment" "" \
    "$(grep -h "cannot be opened" "$TEST_TMP"/imp*.out "$TEST_TMP"/rep*.out)"
done_testing
