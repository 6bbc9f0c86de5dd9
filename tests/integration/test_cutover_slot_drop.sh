#!/bin/bash
# The replication slot of a live migration is dropped at cutover to target even when the
# source connection breaks during the drop: a slot left behind retains WAL on the source for
# ever. 1. The connection drops once as the slot is dropped: export data retries on a new
# connection (a warning), the slot and publication are gone, the cutover completes, and
# source and target agree. 2. The source stays out of reach past the retry deadline: the
# cutover still completes (every change is applied), but export data warns naming the slot
# and the fix, cutover status keeps saying so, and running the same export data again drops
# the slot.
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

# live_until_drop NAME TARGET_DB SEED: a live migration ($ED, export data $EXP_PID through the
# proxy, import data $IMP_PID into TARGET_DB) with a workload streamed, then cutover to
# target with the slot's drop held in the proxy: returns once the drop statement is held
# (the stream has ended and released the slot).
live_until_drop() {
    local name=$1 tdb=$2 seed=$3 i
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
    for i in $(seq 1 300); do
        [ "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots
            WHERE slot_name LIKE 'voyager\_slot\_%' AND NOT active")" = 1 ] && break
        sleep 0.2
    done
    sleep 1
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
OUT=$(cat "$TEST_TMP/left.exp.out")
SLOT=$(slots)
assert_match "left: the slot is still on the source" "^voyager_slot_[0-9a-f]+$" "$SLOT"
assert_match "left: each attempt says why it failed" \
    "dropping replication slot $SLOT failed \(.*refused.*\); trying again \(attempt 2" "$OUT"
assert_match "left: a warning names the slot" \
    "^warning: source database: replication slot $SLOT could not be dropped" "$OUT"
assert_match "left: and says why it matters" "retains WAL on the source database" "$OUT"
assert_match "left: and the exact fix" "SELECT pg_drop_replication_slot\('$SLOT'\)" "$OUT"
assert_match "left: and that the same command retries it" "run the same command again" "$OUT"
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
assert_match "rerun: it knows the stream ended" "already ended at cutover" "$(cat "$TEST_TMP/rerun.out")"
assert_match "rerun: it says it dropped the slot left" \
    "dropped the replication slot on the source database an earlier run left behind" "$(cat "$TEST_TMP/rerun.out")"
assert_eq "rerun: the slot is gone" "" "$(slots)"
assert_eq "rerun: the publication is gone" "" "$(pubs)"
ST=$("$V" cutover status -e "$ED" 2>&1)
assert_eq "rerun: cutover status warns of nothing any more" "" "$(grep -i warning <<<"$ST")"
compare_databases source target sourcedb tgt2
proxy_stop src
done_testing
