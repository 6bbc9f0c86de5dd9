#!/bin/bash
# Live migration end to end on two clusters, a workload running all along:
# export data (snapshot-and-changes) and import data each killed with -9 at
# random moments at least 5 times and restarted; cutover to target with
# fall-back prepared (target equals source, sequences restored); then the way
# back: export data from target (started by the importer), import data to
# source (started by the exporter), writes on the target, cutover to source (source equals target).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
pg_start target yugabyte || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
psql_as source sourcedb -c "INSERT INTO public.items (id, name, doc) SELECT g, 'bulk', repeat('x', 50) FROM generate_series(100, 5000) g" >/dev/null
copy_schema source target || exit 1
export QUEUE_SEGMENT_MAX_BYTES=300000

start_exporter() {
    "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >>"$TEST_TMP/exporter.out" 2>&1 &
    EXP_PID=$!
}
start_importer() {
    "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --parallel-jobs 3 >>"$TEST_TMP/importer.out" 2>&1 &
    IMP_PID=$!
}

start_exporter
check "snapshot exported" status_wait "$ED" ExportDataDone 60
start_importer
live_workload_sql 1500 11 >"$TEST_TMP/workload.sql"
psql_as source sourcedb -f "$TEST_TMP/workload.sql" >/dev/null 2>"$TEST_TMP/workload.err" &
WL_PID=$!
ek=0 ik=0
for i in 1 2 3 4 5 6; do
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$EXP_PID" 2>/dev/null && ek=$((ek + 1)) ||
        { wait "$EXP_PID"; echo "# exporter had exited ($?): $(tail -2 "$TEST_TMP/exporter.out" | tr '\n' ' ')"; }
    wait "$EXP_PID" 2>/dev/null
    start_exporter
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$IMP_PID" 2>/dev/null && ik=$((ik + 1)) ||
        { wait "$IMP_PID"; echo "# importer had exited ($?): $(tail -2 "$TEST_TMP/importer.out" | tr '\n' ' ')"; }
    wait "$IMP_PID" 2>/dev/null
    start_importer
done
wait "$WL_PID"
assert_eq "source workload ran without error" "0 " "$? $(head -c 300 "$TEST_TMP/workload.err")"
assert_eq "exporter and importer each killed 6 times" "6 6" "$ek $ik"
live_workload_sql 300 12 | psql_as source sourcedb >/dev/null
psql_as source sourcedb -c "SELECT setval('public.counter_seq', 5151)" >/dev/null

check "initiate cutover to target with fall-back" "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true
# The docs: at cutover prepared for fall-back, export data turns into import data to source.
check "export data turns into import data to source after the end of stream" \
    lock_pid_wait "$ED" import-data-to-source "$EXP_PID" 60
assert_match "export data says how to restart import data to source" \
    "restart it with: yb-voyager import data to source --export-dir" "$(cat "$TEST_TMP/exporter.out")"
check "cutover to target completes (export data from target captures the target)" status_wait "$ED" ExportFromTargetStarted 90
compare_databases source target
assert_eq "sequence restored on the target from the source's final value" 5152 \
    "$(psql_as target yugabyte -c "SELECT nextval('public.counter_seq')")"
assert_eq "queue: vsn strictly increasing" ok "$(queue_vsn_check "$ED" 2>&1)"
"$V" cutover status -e "$ED" >"$LAST_OUT" 2>&1
assert_match "cutover to target COMPLETED" "cutover to target status: COMPLETED" "$(cat "$LAST_OUT")"

# ---- the way back: the importer became export data from target ----
for i in $(seq 1 100); do
    [ "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_replication_slots WHERE active")" = 1 ] && break
    sleep 0.2
done
assert_eq "export data from target streams from the target" 1 \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_replication_slots WHERE active")"
ISRC_PID=$EXP_PID
live_workload_sql 600 13 | psql_as target yugabyte >/dev/null 2>"$TEST_TMP/workload2.err" &
WL_PID=$!
for i in 1 2 3 4 5; do
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$ISRC_PID" 2>/dev/null
    wait "$ISRC_PID" 2>/dev/null
    "$V" import data to source -e "$ED" --disable-pb true >>"$TEST_TMP/import-source.out" 2>&1 &
    ISRC_PID=$!
done
kill -9 "$IMP_PID" 2>/dev/null
wait "$IMP_PID" 2>/dev/null
"$V" export data from target -e "$ED" --disable-pb true >>"$TEST_TMP/export-target.out" 2>&1 &
TEXP_PID=$!
wait "$WL_PID"
assert_eq "target workload ran without error" "0 " "$? $(head -c 300 "$TEST_TMP/workload2.err")"
psql_as target yugabyte -c "SELECT setval('public.counter_seq', 9000)" >/dev/null
check "initiate cutover to source" "$V" initiate cutover to source -e "$ED"
wait_exit "$TEXP_PID" 60
assert_eq "export data from target exits 0 after the end of stream" 0 "$?"
wait_exit "$ISRC_PID" 90
assert_eq "import data to source exits 0 after the end of stream" 0 "$?"
compare_databases target source
assert_eq "sequence restored on the source" 9001 "$(psql_as source sourcedb -c "SELECT nextval('public.counter_seq')")"
assert_eq "queue: vsn strictly increasing over both directions" ok "$(queue_vsn_check "$ED" 2>&1)"
"$V" cutover status -e "$ED" >"$LAST_OUT" 2>&1
assert_match "cutover to source COMPLETED" "cutover to source status: COMPLETED" "$(cat "$LAST_OUT")"
done_testing
