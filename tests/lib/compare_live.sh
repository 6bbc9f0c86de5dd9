# compare data during a live migration (test_compare_data_live.sh, test_compare_data_ff.sh):
# the same migration running under a workload. Source after harness.sh, status.sh, live.sh
# and snapshot.sh.
#
#   compare_live_start JOBS [source_replica]
#       clusters source (sourcedb: live_schema_sql and 19901 more rows in items) and target
#       (and source_replica, replicadb), the schema copied; in a new export dir $ED, export
#       data --export-type snapshot-and-changes ($EXP_PID) and import data --parallel-jobs
#       JOBS ($IMP_PID; with source_replica also import data to source-replica, $REP_PID)
#       running, their snapshots imported. Ends the test when a cluster does not start.
#   compare_live_workload SEED
#       live_workload_sql 20000 SEED on the source in the background ($WL_PID); after 2 s
#       of it, the row count of public.items in $WL_BEFORE.
#   compare_live_source_kept_changing
#       ok when the workload still runs and items no longer has $WL_BEFORE rows.

compare_live_start() {
    local jobs=$1 replica=${2:-}
    ED=$(new_export_dir)
    pg_start source sourcedb || exit 1
    pg_start target yugabyte || exit 1
    [ -z "$replica" ] || pg_start source_replica replicadb || exit 1
    conn_flags
    live_schema_sql | psql_as source sourcedb >/dev/null
    psql_as source sourcedb -c "INSERT INTO public.items (id, name, doc) SELECT g, 'bulk', repeat('x', 50) FROM generate_series(100, 20000) g" >/dev/null
    copy_schema source target || exit 1
    [ -z "$replica" ] || copy_schema source source_replica || exit 1

    "$VOYAGER" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exporter.out" 2>&1 &
    EXP_PID=$!
    check "snapshot exported" status_wait "$ED" ExportDataDone 60
    "$VOYAGER" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --parallel-jobs "$jobs" >"$TEST_TMP/importer.out" 2>&1 &
    IMP_PID=$!
    if [ -n "$replica" ]; then
        "$VOYAGER" import data to source-replica -e "$ED" "${REPLICA_FLAGS[@]}" --disable-pb true --parallel-jobs "$jobs" >"$TEST_TMP/replica.out" 2>&1 &
        REP_PID=$!
    fi
    check "snapshot imported to target" status_wait "$ED" ImportDataDone 60
    [ -z "$replica" ] || check "snapshot imported to source-replica" status_wait "$ED" ImportDataToSourceReplicaDone 60
}

compare_live_workload() {
    live_workload_sql 20000 "$1" >"$TEST_TMP/workload.sql"
    psql_as source sourcedb -f "$TEST_TMP/workload.sql" >/dev/null 2>"$TEST_TMP/workload.err" &
    WL_PID=$!
    sleep 2
    WL_BEFORE=$(psql_as source sourcedb -c "SELECT count(*) FROM public.items")
}

compare_live_source_kept_changing() {
    local after
    after=$(psql_as source sourcedb -c "SELECT count(*) FROM public.items")
    if kill -0 "$WL_PID" 2>/dev/null && [ "$WL_BEFORE" != "$after" ]; then
        ok "the source kept changing during the comparisons ($WL_BEFORE -> $after rows)"
    else
        not_ok "the source kept changing during the comparisons" "$WL_BEFORE -> $after, workload alive: $(kill -0 "$WL_PID" 2>/dev/null && echo yes || echo no)"
    fi
}
