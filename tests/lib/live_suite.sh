# The live migration end to end, one suite for both ways back (issue 14: it folds
# test_live_migration + test_e2e_fallback into the fall-back variant and
# test_live_fall_forward + test_e2e_fallforward into the fall-forward one).
# Source after harness.sh; a test script calls:
#
#   live_suite fall-back      # source -> target, cutover to target prepared for fall-back,
#                             # target -> source, cutover to source
#   live_suite fall-forward   # source -> target and source-replica, cutover to target,
#                             # target -> source-replica, cutover to source-replica
#
# Steps, the same for both variants (what differs is named):
#  1. clusters: source with the sample schema (tests/lib/sample_schema.sql) and the live
#     workload's tables (live_schema_sql, plus 4900 bulk rows), target, (source_replica);
#     export schema + import schema onto the target; the source-replica's schema from
#     pg_dump, as the operator would create it.
#  2. phase 1: the sample workload (e2e.sh, 12 s) starts before export data, so the snapshot
#     is taken under writes; once the snapshot is exported the importers start and the live
#     workload (live.sh: every kind of change, TOAST, PK updates, partitions) runs too.
#     Meanwhile export data and the importers are killed (-9) and restarted: quick rounds
#     (0.1-0.9 s apart) and slow ones (1-3 s apart, E2E_KILLS of them, default 2). Then the
#     target (and source-replica) must catch up and equal the source, table by table.
#  3. more source changes right before the cutover to target (it must drain them); the
#     source's sequences are set; cutover to target. The processes hand over (export data ->
#     import data to source for fall-back, import data -> export data from target); the
#     cutover is COMPLETED once export data from target captures the target; target equals
#     source; sequences on the target continue after the source's values.
#  4. phase 2: the two workloads on the target while the way-back processes are killed and
#     restarted; a TRUNCATE with rows after it; the source (source-replica) must follow the
#     target.
#  5. cutover to source (source-replica): every process exits 0 after the end of stream,
#     status COMPLETED, the databases equal, sequences continue, the queue's vsns in order,
#     the data-migration report covers every database, end migration leaves no slot and no
#     ybvoyager_metadata schema on any database.
#
# Every check of the four folded scripts is made here with the same strength or stronger:
# the mapping is in the commit that made this file (git log -- tests/lib/live_suite.sh).

. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/e2e.sh"

declare -A _LS_KILLED

# _ls_crash KEY: kill -9 the background process KEY (e2e.sh's proc_*) and restart it with
# the same arguments. Counted in _LS_KILLED[KEY] only if it was still running: one that had
# exited by itself is reported with its exit code and last lines.
_ls_crash() {
    local key=$1 pid=${_PROC_PID[$1]:-0} rc
    if [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ] && kill -9 "$pid" 2>/dev/null; then
        _LS_KILLED[$key]=$((${_LS_KILLED[$key]:-0} + 1))
        wait "$pid" 2>/dev/null
    else
        wait "$pid" 2>/dev/null
        rc=$?
        echo "# $key had exited ($rc): $(tail -2 "$TEST_TMP/$key.out" | tr '\n' ' ')"
    fi
    proc_restart "$key"
}

# _ls_live_workload NAME DB N SEED: live_workload_sql N SEED on NAME/DB in the background
# (pid in _LS_LWL, stderr in $TEST_TMP/lwl.SEED.err); _ls_live_workload_ok DESC: wait for
# it, check it exited 0 with nothing on stderr.
_ls_live_workload() {
    live_workload_sql "$3" "$4" >"$TEST_TMP/lwl.$4.sql"
    _LS_LWL_SEED=$4
    psql_as "$1" "$2" -f "$TEST_TMP/lwl.$4.sql" >/dev/null 2>"$TEST_TMP/lwl.$4.err" &
    _LS_LWL=$!
}
_ls_live_workload_ok() {
    wait "$_LS_LWL"
    assert_eq "$1" "0 " "$? $(head -c 300 "$TEST_TMP/lwl.$_LS_LWL_SEED.err")"
}

# _ls_active_slots NAME DB: replication slots in use on that database's cluster.
_ls_active_slots() { psql_as "$1" "$2" -c "SELECT count(*) FROM pg_replication_slots WHERE active"; }

# _ls_seq_after DESC NAME DB SEQ OTHER OTHER_DB: SEQ's next value on NAME is above every
# customers id OTHER handed out (a new primary never hands out a used value).
_ls_seq_after() {
    local desc=$1 max next
    max=$(psql_as "$5" "$6" -c "SELECT max(id) FROM public.customers")
    next=$(psql_as "$2" "$3" -c "SELECT nextval('$4')")
    [ "$next" -gt "$max" ] && ok "$desc" || not_ok "$desc" "next $next, $5 max $max"
    _LS_SEQ_NEXT=$next
}

# _ls_cutover_status DESC KIND: `cutover status` says cutover to KIND is COMPLETED.
_ls_cutover_status() {
    "$V" cutover status -e "$ED" >"$LAST_OUT" 2>&1
    assert_match "$1" "cutover to $2 status: COMPLETED" "$(cat "$LAST_OUT")"
}

live_suite() {
    LS_VARIANT=$1
    case $LS_VARIANT in
    fall-back) BACK=source BACK_DB=sourcedb BACK_KEY=imps ;;
    fall-forward) BACK=source_replica BACK_DB=replicadb BACK_KEY=rep ;;
    *) not_ok "live_suite: unknown variant '$LS_VARIANT'"; return 1 ;;
    esac
    V=$VOYAGER
    KILLS=${E2E_KILLS:-2}
    [ "$KILLS" -ge 1 ] || KILLS=1
    local step
    for step in setup phase1 cutover_to_target phase2 cutover_back end; do
        echo "# $LS_VARIANT: $step at ${SECONDS}s"
        "_ls_$step" || [ "$step" != setup ] || return 1
    done
    echo "# $LS_VARIANT: done at ${SECONDS}s"
}

# ---- 1. clusters and schema ----
_ls_setup() {
    local clusters=(source target)
    [ "$LS_VARIANT" = fall-forward ] && clusters+=(source_replica)
    start_clusters "${clusters[@]}" || return 1
    live_schema_sql | psql_as source sourcedb >/dev/null || return 1
    psql_as source sourcedb -c "INSERT INTO public.items (id, name, doc)
        SELECT g, 'bulk', repeat('x', 50) FROM generate_series(100, 5000) g" >/dev/null || return 1
    conn_flags
    ED=$(new_export_dir)
    trap 'proc_stop_all; harness_cleanup' EXIT
    export QUEUE_SEGMENT_MAX_BYTES=300000
    check "export schema" "$V" export schema -e "$ED" "${SRC_FLAGS[@]}"
    check "import schema (target)" "$V" import schema -e "$ED" "${TGT_FLAGS[@]}"
    if [ "$LS_VARIANT" = fall-forward ]; then
        # The source-replica's schema is created by the operator (as in yb-voyager's fall-forward steps).
        "$PGBIN/pg_dump" -h "$TEST_TMP/source" -p "$SOURCE_PORT" -U postgres --schema-only --no-owner sourcedb |
            psql_as source_replica replicadb >/dev/null 2>&1
        local q="SELECT string_agg(tablename, ',' ORDER BY tablename COLLATE \"C\") FROM pg_tables WHERE schemaname = 'public'"
        assert_eq "source-replica has the schema (every table of the source)" \
            "$(psql_as source sourcedb -c "$q")" "$(psql_as source_replica replicadb -c "$q")"
    fi
    return 0
}

# ---- 2. phase 1: snapshot and source changes, under kills ----
_ls_phase1() {
    local i quick
    # The sample workload writes while the snapshot is taken.
    workload_start source sourcedb 12 s
    proc_start exp "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true
    check "snapshot exported" status_wait "$ED" ExportDataDone 60
    if [ "$LS_VARIANT" = fall-back ]; then
        proc_start imp "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --parallel-jobs 3
        _ls_live_workload source sourcedb 1500 11
        quick=6
    else
        proc_start imp "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true
        proc_start rep "$V" import data to source-replica -e "$ED" "${REPLICA_FLAGS[@]}" --disable-pb true
        _ls_live_workload source sourcedb 800 41
        quick=3
    fi
    # quick rounds: export data and one importer (the target's for fall-back, the
    # source-replica's for fall-forward), 0.1-0.9 s apart
    for i in $(seq 1 "$quick"); do
        sleep "0.$((RANDOM % 9 + 1))"
        _ls_crash exp
        sleep "0.$((RANDOM % 9 + 1))"
        if [ "$LS_VARIANT" = fall-back ]; then _ls_crash imp; else _ls_crash rep; fi
    done
    # slow rounds: every process, 1-3 s apart
    for i in $(seq 1 "$KILLS"); do
        random_sleep 10 30; _ls_crash exp
        random_sleep 5 20; _ls_crash imp
        [ "$LS_VARIANT" = fall-forward ] && { random_sleep 5 20; _ls_crash rep; }
    done
    _ls_live_workload_ok "source workload ran without error"
    workload_wait
    if [ "$LS_VARIANT" = fall-back ]; then
        assert_eq "exporter and importer each killed $((quick + KILLS)) times" "$((quick + KILLS)) $((quick + KILLS))" \
            "${_LS_KILLED[exp]:-0} ${_LS_KILLED[imp]:-0}"
    else
        assert_eq "exporter, importer and source-replica importer killed $((quick + KILLS)), $KILLS, $((quick + KILLS)) times" \
            "$((quick + KILLS)) $KILLS $((quick + KILLS))" "${_LS_KILLED[exp]:-0} ${_LS_KILLED[imp]:-0} ${_LS_KILLED[rep]:-0}"
    fi
    wait_equal source target 120 && ok "phase 1: target caught up with the source under kills" ||
        not_ok "phase 1: target caught up with the source under kills"
    compare_databases source target
    if [ "$LS_VARIANT" = fall-forward ]; then
        wait_equal source source_replica 120 && ok "phase 1: source-replica caught up under kills" ||
            not_ok "phase 1: source-replica caught up under kills"
        compare_databases source source_replica
    fi
}

# ---- 3. cutover to target ----
_ls_cutover_to_target() {
    local i seqv
    # changes right before the cutover: it must drain them
    _ls_live_workload source sourcedb 300 12
    _ls_live_workload_ok "last source changes before the cutover ran without error"
    if [ "$LS_VARIANT" = fall-back ]; then seqv=5151; else seqv=3131; fi
    psql_as source sourcedb -c "SELECT setval('public.counter_seq', $seqv)" >/dev/null
    if [ "$LS_VARIANT" = fall-back ]; then
        check "initiate cutover to target with fall-back" "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true
        # The docs: at cutover prepared for fall-back, export data turns into import data to source.
        check "export data turns into import data to source after the end of stream" \
            lock_pid_wait "$ED" import-data-to-source "${_PROC_PID[exp]}" 120
        assert_match "export data says how to restart import data to source" \
            "(restart it with|hint):.*yb-voyager import data to source --export-dir $ED" "$(cat "$TEST_TMP/exp.out")"
        proc_became exp imps "$V" import data to source -e "$ED" --disable-pb true
    else
        check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
        proc_wait exp 60
        assert_eq "export data exits 0 after the end of stream" 0 "$PROC_RC"
    fi
    # COMPLETED means export data from target already captures the target: the application may switch.
    check "cutover to target completes (export data from target captures the target)" \
        status_wait "$ED" ExportFromTargetStarted 120
    _ls_cutover_status "cutover to target COMPLETED" target
    compare_databases source target
    assert_eq "sequence restored on the target from the source's final value" $((seqv + 1)) \
        "$(psql_as target yugabyte -c "SELECT nextval('public.counter_seq')")"
    _ls_seq_after "target sequence continues after the source's values" \
        target yugabyte public.customers_id_seq source sourcedb
    psql_as target yugabyte -c "SELECT setval('public.customers_id_seq', $_LS_SEQ_NEXT)" >/dev/null
    assert_eq "queue: vsn strictly increasing" ok "$(queue_vsn_check "$ED" 2>&1)"
    for i in $(seq 1 100); do
        [ "$(_ls_active_slots target yugabyte)" = 1 ] && break
        sleep 0.2
    done
    assert_eq "export data from target ($LS_VARIANT) streams from the target" 1 "$(_ls_active_slots target yugabyte)"
}

# ---- 4. phase 2: target changes flow to the source (source-replica), under kills ----
_ls_phase2() {
    local i
    workload_start target yugabyte 10 t
    if [ "$LS_VARIANT" = fall-back ]; then
        _ls_live_workload target yugabyte 600 13
        # quick rounds: import data to source (the exporter's process at first)
        for i in 1 2 3 4 5; do
            sleep "0.$((RANDOM % 9 + 1))"
            _ls_crash imps
        done
    else
        _ls_live_workload target yugabyte 400 42
    fi
    # slow rounds: the way-back importer, and export data from target (the target
    # importer's process at first), which is restarted by hand
    for i in $(seq 1 "$KILLS"); do
        random_sleep 10 30; _ls_crash "$BACK_KEY"
        random_sleep 5 20; proc_kill9 imp; proc_kill9 expt
        proc_start expt "$V" export data from target -e "$ED" --disable-pb true
    done
    if [ "$LS_VARIANT" = fall-forward ]; then
        # import data restarted after its cutover turns into export data from target again: the
        # importer's own process is the one that must exit 0 at the end (old test_live_fall_forward)
        local seq_before seq_after
        seq_before=$(psql_as target yugabyte -c "SELECT last_value FROM public.customers_id_seq")
        proc_kill9 expt
        proc_restart imp
        check "import data restarted after the cutover turns into export data from target" \
            lock_pid_wait "$ED" export-data-from-target "${_PROC_PID[imp]}" 60
        seq_after=$(psql_as target yugabyte -c "SELECT last_value FROM public.customers_id_seq")
        check "import data restarted after the cutover does not rewind the target's sequences ($seq_before -> $seq_after)" \
            test "$seq_after" -ge "$seq_before"
    fi
    _ls_live_workload_ok "target workload ran without error"
    workload_wait
    [ "$LS_VARIANT" = fall-forward ] && _ls_crash rep
    # A TRUNCATE on the target flows back too, with the rows written after it.
    psql_as target yugabyte -c "TRUNCATE public.\"MixedCase\"" \
        -c "INSERT INTO public.\"MixedCase\" SELECT g, jsonb_build_object('after', g), ARRAY['t'], '\\x00ff' FROM generate_series(1, 20) g" >/dev/null
    if [ "$LS_VARIANT" = fall-back ]; then
        wait_equal target source 120 yugabyte sourcedb && ok "phase 2: source follows the target under kills" ||
            not_ok "phase 2: source follows the target under kills"
    else
        wait_equal target source_replica 120 yugabyte replicadb && ok "phase 2: source-replica follows the target under kills" ||
            not_ok "phase 2: source-replica follows the target under kills"
    fi
    compare_databases target "$BACK" yugabyte "$BACK_DB"
}

# ---- 5. cutover to source (source-replica) ----
_ls_cutover_back() {
    local seqv kind
    if [ "$LS_VARIANT" = fall-back ]; then seqv=9000 kind=source; else seqv=7171 kind=source-replica; fi
    psql_as target yugabyte -c "SELECT setval('public.counter_seq', $seqv)" >/dev/null
    check "initiate cutover to $kind" "$V" initiate cutover to "$kind" -e "$ED"
    if [ "$LS_VARIANT" = fall-back ]; then
        proc_wait expt 60
        assert_eq "export data from target exits 0 after the end of stream" 0 "$PROC_RC"
    else
        proc_wait imp 60
        assert_eq "export data from target (the importer's process) exits 0 after the end of stream" 0 "$PROC_RC"
    fi
    proc_wait "$BACK_KEY" 120
    assert_eq "import data to $kind exits 0 after the end of stream" 0 "$PROC_RC"
    _ls_cutover_status "cutover to $kind COMPLETED" "$kind"
    compare_databases target "$BACK" yugabyte "$BACK_DB"
    assert_eq "sequence restored on the $kind" $((seqv + 1)) \
        "$(psql_as "$BACK" "$BACK_DB" -c "SELECT nextval('public.counter_seq')")"
    _ls_seq_after "$kind sequence continues after the target's values" \
        "$BACK" "$BACK_DB" public.customers_id_seq target yugabyte
    if [ "$LS_VARIANT" = fall-forward ]; then
        assert_eq "fall-forward events carry their exporter role" "source_db_exporter,target_db_exporter_ff" \
            "$(python3 -c "import sqlite3,sys; print(','.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute('select distinct exporter_role from queue_segment order by 1')))" "$ED/metainfo/meta.db")"
    else
        assert_eq "fall-back events carry their exporter role" "source_db_exporter,target_db_exporter_fb" \
            "$(python3 -c "import sqlite3,sys; print(','.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute('select distinct exporter_role from queue_segment order by 1')))" "$ED/metainfo/meta.db")"
    fi
    assert_eq "queue: vsn strictly increasing over both directions" ok "$(queue_vsn_check "$ED" 2>&1)"
}

# ---- the report, end migration ----
_ls_end() {
    local c dbs=("source sourcedb" "target yugabyte")
    [ "$LS_VARIANT" = fall-forward ] && dbs+=("source_replica replicadb")
    check "data-migration report" "$V" get data-migration-report -e "$ED" --output-format json
    if [ "$LS_VARIANT" = fall-back ]; then
        if python3 - "$LAST_OUT" <<'PY'; then ok "report covers source and target for every table"; else not_ok "report covers source and target for every table" "$(head -c 600 "$LAST_OUT")"; fi
import json, sys
rows = json.load(open(sys.argv[1]))
seen = {(r["table_name"], r["db_type"]) for r in rows}
for t in ("customers", "Order", "MixedCase", "items", "Mixed Case", "pairs"):
    assert (t, "source") in seen and (t, "target") in seen, (t, seen)
assert any(r["exported_inserts"] for r in rows if r["db_type"] == "source")
assert any(r["imported_inserts"] for r in rows if r["db_type"] == "target")
PY
    else
        if python3 - "$LAST_OUT" <<'PY'; then ok "report covers all three databases"; else not_ok "report covers all three databases" "$(head -c 600 "$LAST_OUT")"; fi
import json, sys
rows = json.load(open(sys.argv[1]))
seen = {(r["table_name"], r["db_type"]) for r in rows}
for t in ("customers", "Order", "MixedCase", "items", "Mixed Case", "pairs"):
    for db in ("source", "target", "source-replica"):
        assert (t, db) in seen, (t, db)
rep = [r for r in rows if r["db_type"] == "source-replica"]
assert all(r["imported_snapshot_rows"] == r["snapshot_row_count"] for r in rep), rep
assert sum(r["imported_inserts"] or 0 for r in rep) > 0
PY
    fi
    check "end migration" "$V" end migration -e "$ED" --backup-schema-files false --backup-data-files false \
        --backup-log-files false --save-migration-reports false --yes
    for c in "${dbs[@]}"; do
        set -- $c
        assert_eq "no slot left on $1" "0" "$(psql_as "$1" "$2" -c "SELECT count(*) FROM pg_replication_slots")"
        assert_eq "no ybvoyager_metadata left on $1" "0" \
            "$(psql_as "$1" "$2" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'")"
    done
}
