#!/bin/bash
# The replication slot of a live migration is dropped at cutover to target even when the
# source connection breaks during the drop: a slot left behind retains WAL on the source for
# ever. 1. The connection drops once as the slot is dropped: export data retries on a new
# connection (a warning), the slot and publication are gone, the cutover completes, and
# source and target agree. 2. The source stays out of reach past the retry deadline: the
# cutover still completes (every change is applied), but export data warns naming the slot
# and the fix, cutover status keeps saying so, and running the same export data again drops
# the slot. 3. The same for export data from target's slot on the target at cutover to source.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/faultproxy.sh"
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
proxy_stop src

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
"$V" cutover status -e "$ED" >/dev/null 2>&1
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
done_testing
