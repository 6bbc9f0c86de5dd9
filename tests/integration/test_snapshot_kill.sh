#!/bin/bash
# kill -9 of export data and of import data at random moments, restart with the same
# command line: in the end the target equals the source, no row and no batch twice.
# Also an import started while the export still runs (it waits for the files).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
KILLS=${SNAPSHOT_KILLS:-5}
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
psql_as source sourcedb -c "CREATE TABLE big (id bigint PRIMARY KEY, t text, n numeric, ts timestamptz)" \
    -c "INSERT INTO big SELECT g, md5(g::text) || repeat(E'\\\\x\\t', g % 40), g * 1.5,
            '2024-01-01 00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, 300000) g" \
    -c "CREATE TABLE medium (id int, payload jsonb)" \
    -c "INSERT INTO medium SELECT g, jsonb_build_object('g', g, 's', repeat('y', g % 30)) FROM generate_series(1, 60000) g" \
    -c "ANALYZE" >/dev/null
copy_schema source target || { not_ok "schema"; done_testing; exit 1; }
conn_flags
export VOYAGER_EXPORT_SPLIT_BYTES=$((4 * 1024 * 1024))

# time_ms cmd...: run cmd to completion, print its duration in ms.
time_ms() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

# run_and_kill N FULL_MS DESC cmd...: N times start cmd and kill -9 it at a random
# moment within the part of its work that is left (FULL_MS: one whole run).
# KILLED: how many runs really died of the signal (exit 137), not of completion.
run_and_kill() {
    local n=$1 full=$2 desc=$3 i pid ms rc
    shift 3
    KILLED=0
    for ((i = 1; i <= 3 * n && KILLED < n; i++)); do
        "$@" >>"$TEST_TMP/killed.out" 2>&1 &
        pid=$!
        local left=$((n - KILLED))
        ms=$((20 + full * (2 + RANDOM % 28) * left / (100 * (n + 1))))
        sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rc=$?
        [ "$rc" = 137 ] && KILLED=$((KILLED + 1))
    done
    echo "# $desc: killed $KILLED times in $((i - 1)) runs (whole run: $full ms)"
}

# Calibration: how long one whole export and one whole import take here.
CAL=$(new_export_dir)
EXP_MS=$(time_ms "$V" export data -e "$CAL" "${SRC_FLAGS[@]}" --parallel-jobs 2 --disable-pb)
IMP_MS=$(time_ms "$V" import data -e "$CAL" "${TGT_FLAGS[@]}" --parallel-jobs 2 --batch-size 4000 --disable-pb)
psql_as target yugabyte -c "TRUNCATE big, medium, customers, \"Order\", \"MixedCase\" CASCADE" \
    -c "SET client_min_messages = warning" -c "DROP SCHEMA ybvoyager_metadata CASCADE" >/dev/null

ED=$(new_export_dir)
EXP=("$V" export data -e "$ED" "${SRC_FLAGS[@]}" --parallel-jobs 2 --disable-pb)
run_and_kill "$KILLS" "$EXP_MS" "export data" "${EXP[@]}"
[ "$KILLED" -ge "$KILLS" ] && ok "export data killed mid-run ($KILLED times)" || not_ok "export data killed mid-run" "only $KILLED"
check "export data completes after the kills" "${EXP[@]}"
[ -z "$(ls "$ED/data" | grep '\.tmp$')" ] && ok "no temporary files left" || not_ok "no temporary files left"
assert_eq "descriptor row counts equal the source's" "big=300000 customers=200 medium=60000" \
    "$(python3 -c "
import json,sys,collections
c=collections.Counter()
for f in json.load(open(sys.argv[1]))['DataFileList']: c[f['TableName']]+=f['RowCount']
print(' '.join('%s=%d'%(k,c[k]) for k in ('big','customers','medium')))" "$ED/metainfo/dataFileDescriptor.json")"
assert_eq "data files hold exactly the exported rows" "360200" "$(cat "$ED"/data/big_data*.sql "$ED"/data/medium_data*.sql "$ED"/data/customers_data.sql | wc -l)"

IMP=("$V" import data -e "$ED" "${TGT_FLAGS[@]}" --parallel-jobs 2 --batch-size 4000 --disable-pb)
run_and_kill "$KILLS" "$IMP_MS" "import data" "${IMP[@]}"
[ "$KILLED" -ge "$KILLS" ] && ok "import data killed mid-run ($KILLED times)" || not_ok "import data killed mid-run" "only $KILLED"
before=$(metainfo_rows target yugabyte 2>/dev/null || echo 0)
[ "${before:-0}" -gt 0 ] && ok "killed runs committed batches ($before) that the restart keeps" ||
    not_ok "killed runs committed batches that the restart keeps" "$before"
check "import data completes after the kills" "${IMP[@]}"
compare_databases source target
batches=$(python3 -c "
import sqlite3,sys
print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from snapshot_import_batch where importer_role='target_db_importer'\").fetchone()[0])" "$ED/metainfo/meta.db")
assert_eq "one metainfo row per planned batch" "$batches" "$(metainfo_rows target yugabyte)"

# The server drops the import's connections (admin shutdown, retryable): retried on new ones.
psql_as target yugabyte -c "TRUNCATE big, medium, customers, \"Order\", \"MixedCase\" CASCADE" \
    -c "SET client_min_messages = warning" -c "DROP SCHEMA ybvoyager_metadata CASCADE" >/dev/null
ED3=$(new_export_dir)
check "export data (for the retry test)" "$V" export data -e "$ED3" "${SRC_FLAGS[@]}" --parallel-jobs 2 --disable-pb
"$V" import data -e "$ED3" "${TGT_FLAGS[@]}" --parallel-jobs 2 --batch-size 4000 --disable-pb >"$TEST_TMP/retry.out" 2>&1 &
ipid=$!
terminated=0
for i in 1 2 3 4 5 6; do
    sleep 0.15
    n=$(psql_as target yugabyte -c "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'yb-voyager import data worker') s")
    terminated=$((terminated + n))
done
wait "$ipid"
assert_eq "import data survives dropped connections" "0" "$?"
[ "$terminated" -gt 0 ] && grep -q "retrying" "$TEST_TMP/retry.out" && ok "connections were dropped ($terminated) and batches retried" ||
    not_ok "connections were dropped and batches retried" "terminated $terminated" "$(tail -3 "$TEST_TMP/retry.out")"
compare_databases source target

# Export and import at once, the import killed too: it waits for the exporter's files.
psql_as target yugabyte -c "TRUNCATE big, medium, customers, \"Order\", \"MixedCase\" CASCADE" >/dev/null
ED2=$(new_export_dir)
EXP2=("$V" export data -e "$ED2" "${SRC_FLAGS[@]}" --parallel-jobs 2 --disable-pb)
IMP2=("$V" import data -e "$ED2" "${TGT_FLAGS[@]}" --parallel-jobs 2 --batch-size 4000 --disable-pb)
"${EXP2[@]}" >"$TEST_TMP/exp2.out" 2>&1 &
epid=$!
sleep 0.3
run_and_kill 2 "$IMP_MS" "import data during export" "${IMP2[@]}"
check "import data while the export runs" "${IMP2[@]}"
wait "$epid"
assert_eq "the concurrent export succeeded" "0" "$?"
compare_databases source target
done_testing
