#!/bin/bash
# The replication slot of a live migration is dropped at cutover to target even when the
# source connection breaks during the drop: a slot left behind retains WAL on the source for
# ever. 1. The connection drops once as the slot is dropped: export data retries on a new
# connection (a warning), the slot and publication are gone, the cutover completes, and
# source and target agree. 2. The source stays out of reach past the retry deadline: the
# cutover still completes (every change is applied), but export data warns naming the slot
# and the fix, cutover status keeps saying so, and running the same export data again drops
# the slot. 3. The same for export data from target's slot on the target at cutover to source.
# 4. Case 2 with a way back, where export data from target already writes the queue (its
# segment is open) when export data is run again: the rerun still finds its stream ended and
# drops the slot, then turns into import data to source (fall-back; a second rerun says that
# one already runs) or exits 0 (fall-forward). It used to stop with "queue segment N is still
# open for another exporter" (exit 1) before the drop.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/faultproxy.sh"
. "$HARNESS_DIR/e2e.sh" # wait_equal
V=$VOYAGER
pg_start source sourcedb || exit 1
pg_start target yugabyte || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
copy_schema source target || exit 1
psql_as target postgres -c "CREATE DATABASE tgt2 OWNER voyager" >/dev/null
copy_schema source target sourcedb tgt2 || exit 1
proxy_start src "$SOURCE_PORT" || exit 1
SRC=("${SRC_FLAGS[@]}" --source-db-port "$SRC_PROXY_PORT")

slots() { psql_as source sourcedb -c "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'voyager\_slot\_%'"; }
pubs() { psql_as source sourcedb -c "SELECT pubname FROM pg_publication WHERE pubname LIKE 'voyager\_pub\_%'"; }

# slot_wait CLUSTER DB PREFIX STATE: 0 once one replication slot PREFIX_... on DB is in STATE
# ("active"; "NOT active": its stream has ended, its drop follows), 1 after 60 s.
slot_wait() {
    local i
    for i in $(seq 1 300); do
        [ "$(psql_as "$1" "$2" -c "SELECT count(*) FROM pg_replication_slots
            WHERE slot_name LIKE '$3\_%' AND $4")" = 1 ] && return 0
        sleep 0.2
    done
    return 1
}

# live_until_drop NAME TARGET_DB SEED: a live migration ($ED, export data $EXP_PID through the
# proxy, import data $IMP_PID into TARGET_DB) with a workload streamed, then cutover to
# target with the slot's drop held in the proxy: returns once the drop statement is held
# (the stream has ended and released the slot).
live_until_drop() {
    local name=$1 tdb=$2 seed=$3
    ED=$(new_export_dir)
    "$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true \
        >"$TEST_TMP/$name.exp.out" 2>&1 &
    EXP_PID=$!
    check "$name: snapshot exported" status_wait "$ED" ExportDataDone 60
    "$V" import data -e "$ED" "${TGT_FLAGS[@]/yugabyte/$tdb}" --disable-pb true \
        >"$TEST_TMP/$name.imp.out" 2>&1 &
    IMP_PID=$!
    check "$name: snapshot imported" status_wait "$ED" ImportDataDone 60
    live_workload_sql 200 "$seed" | psql_as source sourcedb >/dev/null
    proxy_rule src "delay 6 match=pg_drop_replication_slot"
    check "$name: initiate cutover to target" "$V" initiate cutover to target -e "$ED"
    # The slot goes inactive once the stream has ended: the drop follows at once, and is held.
    slot_wait source sourcedb 'voyager\_slot' "NOT active"
    sleep 1
}

# slot_left_reported NAME OUT_FILE SLOT DB: the exporter's output (OUT_FILE) says each attempt
# to drop SLOT on the DB database failed, then warns naming it, why it matters and the fixes.
slot_left_reported() {
    local out
    out=$(cat "$2")
    assert_match "$1: each attempt says why it failed" \
        "dropping replication slot $3 failed \(.*refused.*\); trying again \(attempt 2" "$out"
    assert_match "$1: a warning names the slot" \
        "^warning: $4 database: replication slot $3 could not be dropped" "$out"
    assert_match "$1: and says why it matters" "retains WAL on the $4 database" "$out"
    assert_match "$1: and the exact fix" "SELECT pg_drop_replication_slot\('$3'\)" "$out"
    assert_match "$1: and that the same command retries it" "run the same command again" "$out"
}
# slot_left_dropped NAME OUT_FILE DB SLOTS PUBS: a rerun of the exporter (output in OUT_FILE)
# found its stream ended and dropped the slot left on the DB database: the commands SLOTS and
# PUBS list nothing, and cutover status warns of nothing.
slot_left_dropped() {
    assert_match "$1: it knows the stream ended" "already ended at cutover" "$(cat "$2")"
    assert_match "$1: it says it dropped the slot left" \
        "dropped the replication slot on the $3 database an earlier run left behind" "$(cat "$2")"
    assert_eq "$1: the slot is gone" "" "$($4)"
    assert_eq "$1: the publication is gone" "" "$($5)"
    assert_eq "$1: cutover status warns of nothing any more" "" "$("$V" cutover status -e "$ED" 2>&1 | grep -i warning)"
}

# --- 1. one drop of the connection during the slot's drop: retried on a new connection
export YB_VOYAGER_RETRY_TIMEOUT=60
live_until_drop once yugabyte 71
proxy_rule src drop_all
proxy_clear src
wait_exit "$EXP_PID" 90
assert_eq "once: export data exits 0 at cutover" 0 "$?"
OUT=$(cat "$TEST_TMP/once.exp.out")
assert_match "once: it said the drop failed and is tried again" \
    "^warning: source database: dropping replication slot voyager_slot_[0-9a-f]* failed; trying again" "$OUT"
assert_eq "once: no slot is left on the source" "" "$(slots)"
assert_eq "once: no publication is left on the source" "" "$(pubs)"
assert_eq "once: no warning of a slot left" "" "$(grep 'could not be dropped' <<<"$OUT")"
assert_eq "once: no error line" "" "$(grep '^error' <<<"$OUT")"
wait_exit "$IMP_PID" 120
assert_eq "once: import data exits 0 after the end of stream" 0 "$?"
ST=$("$V" cutover status -e "$ED" 2>&1)
assert_match "once: cutover to target is COMPLETED" "cutover to target status: COMPLETED" "$ST"
assert_eq "once: cutover status warns of nothing" "" "$(grep -i warning <<<"$ST")"
compare_databases source target sourcedb yugabyte

# --- 2. the source out of reach past the retry deadline: the cutover completes, the slot is
# reported, and running export data again drops it
export YB_VOYAGER_RETRY_TIMEOUT=4
live_until_drop left tgt2 72
proxy_rule src "refuse 60" drop_all
wait_exit "$EXP_PID" 90
assert_eq "left: export data exits 0 at cutover (every change is in the queue)" 0 "$?"
SLOT=$(slots)
assert_match "left: the slot is still on the source" "^voyager_slot_[0-9a-f]+$" "$SLOT"
slot_left_reported left "$TEST_TMP/left.exp.out" "$SLOT" source
wait_exit "$IMP_PID" 120
assert_eq "left: import data exits 0 after the end of stream" 0 "$?"
compare_databases source target sourcedb tgt2
ST=$("$V" cutover status -e "$ED" 2>&1)
assert_match "left: cutover to target is COMPLETED" "cutover to target status: COMPLETED" "$ST"
assert_match "left: cutover status warns of the slot left" \
    "warning: 'export data from source' could not drop its replication slot on the source database" "$ST"
proxy_clear src
sleep 0.5
RP=$("$V" get data-migration-report -e "$ED" 2>&1 </dev/null)
assert_match "left: get data-migration-report warns of it too" \
    "warning: 'export data from source' could not drop its replication slot on the source database" "$RP"
"$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true \
    >"$TEST_TMP/rerun.out" 2>&1
assert_eq "rerun: export data exits 0" 0 "$?"
slot_left_dropped rerun "$TEST_TMP/rerun.out" source slots pubs
compare_databases source target sourcedb tgt2


# --- 3. export data from target (the way back): its slot is on the target, dropped at cutover
# to source. The target stays out of reach past the retry deadline during the drop: the cutover
# still completes, the warning names the slot, cutover status says so, and a rerun drops it. The
# migration before it is recorded as test_cdc_export_target.sh does (cutover to target done,
# fall-back prepared); the queue replayed into a copy equals the target.
export YB_VOYAGER_RETRY_TIMEOUT=4
for db in tgt3 tgt3copy; do
    psql_as target postgres -c "CREATE DATABASE $db OWNER voyager" >/dev/null
    live_schema_sql | psql_as target "$db" >/dev/null
done
proxy_start tgt "$TARGET_PORT" || exit 1
TGT=("${TGT_FLAGS[@]/yugabyte/tgt3}" --target-db-port "$TGT_PROXY_PORT")
tslots() { psql_as target tgt3 -c "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'voyager\_target\_slot\_%'"; }
tpubs() { psql_as target tgt3 -c "SELECT pubname FROM pg_publication WHERE pubname LIKE 'voyager\_target\_pub\_%'"; }
ED=$(new_export_dir)
status_new_migration "$ED"
status_cut_over_to_target "$ED"
status_source_exporter_tables "$ED"
"$V" export data from target -e "$ED" "${TGT[@]}" --disable-pb true >"$TEST_TMP/back.exp.out" 2>&1 &
EXP_PID=$!
check "back: export data from target streams (its slot is active)" slot_wait target tgt3 'voyager\_target\_slot' active
live_workload_sql 200 74 | psql_as target tgt3 -v ON_ERROR_STOP=1 >/dev/null
proxy_rule tgt "delay 6 match=pg_drop_replication_slot"
status_set "$ED" CutoverToSourceRequested true
slot_wait target tgt3 'voyager\_target\_slot' "NOT active"
sleep 1
proxy_rule tgt "refuse 60" drop_all
wait_exit "$EXP_PID" 90
assert_eq "back: export data from target exits 0 at cutover (every change is in the queue)" 0 "$?"
SLOT=$(tslots)
assert_match "back: the slot is still on the target" "^voyager_target_slot_[0-9a-f]+$" "$SLOT"
slot_left_reported back "$TEST_TMP/back.exp.out" "$SLOT" target
assert_eq "back: its cutover flag is set" true "$(status_get "$ED" CutoverProcessedByTargetExporter)"
ST=$("$V" cutover status -e "$ED" 2>&1)
assert_match "back: cutover status warns of the slot left" \
    "warning: 'export data from target' could not drop its replication slot on the target database" "$ST"
queue_replay_sql "$ED" target_db_exporter_fb >"$TEST_TMP/back.replay.sql"
check "back: the queue replayed into the copy" psql_as target tgt3copy -v ON_ERROR_STOP=1 -f "$TEST_TMP/back.replay.sql"
compare_databases target target tgt3 tgt3copy
proxy_clear tgt
sleep 0.5
"$V" export data from target -e "$ED" "${TGT[@]}" --disable-pb true >"$TEST_TMP/back.rerun.out" 2>&1
assert_eq "back rerun: export data from target exits 0" 0 "$?"
slot_left_dropped "back rerun" "$TEST_TMP/back.rerun.out" target tslots tpubs
proxy_stop tgt

# --- 4. the same with a way back: export data from target writes the queue (its segment is open)
# when export data is run again
# way_back_left NAME TARGET_DB SEED [CUTOVER-ARGS]: a live migration into TARGET_DB through the
# proxy, cut over to target (with CUTOVER-ARGS) while the source is out of reach past the retry
# deadline during the slot's drop; returns once the cutover is COMPLETED (export data from
# target, the target importer's process $IMP_PID, captures the target) with the slot left.
way_back_left() {
    local name=$1 tdb=$2 seed=$3
    shift 3
    ED=$(new_export_dir)
    "$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true \
        >"$TEST_TMP/$name.exp.out" 2>&1 &
    EXP_PID=$!
    check "$name: snapshot exported" status_wait "$ED" ExportDataDone 60
    "$V" import data -e "$ED" "${TGT_FLAGS[@]/yugabyte/$tdb}" --disable-pb true \
        >"$TEST_TMP/$name.imp.out" 2>&1 &
    IMP_PID=$!
    check "$name: snapshot imported" status_wait "$ED" ImportDataDone 60
    [ "$name" = ff ] && way_back_replica
    live_workload_sql 200 "$seed" | psql_as source sourcedb >/dev/null
    proxy_rule src "delay 6 match=pg_drop_replication_slot"
    check "$name: initiate cutover to target $*" "$V" initiate cutover to target -e "$ED" "$@"
    slot_wait source sourcedb 'voyager\_slot' "NOT active"
    sleep 1
    proxy_rule src "refuse 60" drop_all
    check "$name: export data did its part of the cutover" status_wait "$ED" CutoverProcessedBySourceExporter 90
    check "$name: cutover to target completes (export data from target captures the target)" \
        status_wait "$ED" ExportFromTargetStarted 120
    SLOT=$(slots)
    assert_match "$name: the slot is still on the source" "^voyager_slot_[0-9a-f]+$" "$SLOT"
    slot_left_reported "$name" "$TEST_TMP/$name.exp.out" "$SLOT" source
    assert_match "$name: export data from target has an open segment in the queue" "^target_db_exporter_(fb|ff)$" \
        "$(python3 -c "import sqlite3,sys; print(*sqlite3.connect(sys.argv[1]).execute(\"select exporter_role from queue_segment where segment_no = (select max(segment_no) from queue_segment) and is_closed = 0\").fetchone() or ['none'])" "$ED/metainfo/meta.db")"
    proxy_clear src
    sleep 0.5
}
# way_back_replica: import data to source-replica into replicadb on the target's cluster
# ($REP_PID), registered (FallForwardEnabled) and its snapshot imported.
way_back_replica() {
    "$V" import data to source-replica -e "$ED" --source-replica-db-host 127.0.0.1 \
        --source-replica-db-port "$TARGET_PORT" --source-replica-db-user voyager \
        --source-replica-db-name replicadb --disable-pb true >"$TEST_TMP/ff.rep.out" 2>&1 &
    REP_PID=$!
    check "ff: the source-replica's snapshot imported" status_wait "$ED" ImportDataToSourceReplicaDone 60
}

# 4a. fall-back: export data turned into import data to source at the cutover (it could not reach
# the source through the proxy then, and is killed here); the rerun turns into it again
for db in tgt4 tgt5 replicadb; do
    psql_as target postgres -c "CREATE DATABASE $db OWNER voyager" >/dev/null
    copy_schema source target sourcedb "$db" || exit 1
done
way_back_left fb tgt4 75 --prepare-for-fall-back true
kill -9 "$EXP_PID" 2>/dev/null
wait "$EXP_PID" 2>/dev/null
"$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true \
    >"$TEST_TMP/fb.rerun.out" 2>&1 &
RERUN_PID=$!
check "fb rerun: export data run again turns into import data to source" \
    lock_pid_wait "$ED" import-data-to-source "$RERUN_PID" 60
assert_eq "fb rerun: no error line" "" "$(grep '^error' "$TEST_TMP/fb.rerun.out")"
slot_left_dropped "fb rerun" "$TEST_TMP/fb.rerun.out" source slots pubs
live_workload_sql 100 77 | psql_as target tgt4 >/dev/null
wait_equal source target 120 sourcedb tgt4 && ok "fb rerun: the source follows the target's changes" ||
    not_ok "fb rerun: the source follows the target's changes" "$(tail -3 "$TEST_TMP/fb.rerun.out")"
compare_databases source target sourcedb tgt4
check "fb rerun: export data run once more exits 0" \
    timeout 60 "$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true
assert_match "fb rerun: it says import data to source already runs" "'import data to source' is already running \(pid $RERUN_PID\)" \
    "$(cat "$LAST_OUT" "$LAST_ERR")"
for p in "$RERUN_PID" "$IMP_PID"; do kill -TERM "$p" 2>/dev/null; wait_exit "$p" 30 >/dev/null; done

# 4b. fall-forward: export data exits 0 at the cutover; the rerun, once the target's changes are in
# the queue after its stream, exits 0 too and names its own stream's last vsn
way_back_left ff tgt5 76
wait_exit "$EXP_PID" 30
assert_eq "ff: export data exits 0 at cutover" 0 "$?"
live_workload_sql 100 78 | psql_as target tgt5 >/dev/null
wait_equal target target 120 tgt5 replicadb && ok "ff: the source-replica follows the target's changes" ||
    not_ok "ff: the source-replica follows the target's changes" "$(tail -3 "$TEST_TMP/ff.rep.out")"
"$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true \
    >"$TEST_TMP/ff.rerun.out" 2>&1
assert_eq "ff rerun: export data run again exits 0" 0 "$?"
slot_left_dropped "ff rerun" "$TEST_TMP/ff.rerun.out" source slots pubs
last_vsn() { grep -o "every change of the source database is in the queue (last vsn [0-9]*)" "$1" | tail -1; }
WANT=$(last_vsn "$TEST_TMP/ff.exp.out")
check "ff: export data named its stream's last vsn at cutover ($WANT)" test -n "$WANT"
assert_eq "ff rerun: it names its stream's last vsn, not that of the target's changes queued since" \
    "$WANT" "$(last_vsn "$TEST_TMP/ff.rerun.out")"
live_workload_sql 50 79 | psql_as target tgt5 >/dev/null
wait_equal target target 120 tgt5 replicadb && ok "ff rerun: the source-replica still follows the target" ||
    not_ok "ff rerun: the source-replica still follows the target" "$(tail -3 "$TEST_TMP/ff.rep.out")"
for p in "$REP_PID" "$IMP_PID"; do kill -TERM "$p" 2>/dev/null; wait_exit "$p" 30 >/dev/null; done
proxy_stop src
done_testing
