#!/bin/bash
# Live migration with fall-forward, end to end on three throwaway clusters,
# with workloads running and processes killed (-9) and restarted in every phase:
#   source -> target and source-replica (snapshot + source changes) -> cutover
#   to target -> target changes flow to the source-replica -> cutover to
#   source-replica. Databases that should agree are compared after each phase.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/e2e.sh"
V=$VOYAGER
KILLS=${E2E_KILLS:-2}
start_clusters source target source_replica || exit 1
conn_flags
ED=$(new_export_dir)
trap 'proc_stop_all; harness_cleanup' EXIT

check "export schema" "$V" export schema -e "$ED" "${SRC_FLAGS[@]}"
check "import schema (target)" "$V" import schema -e "$ED" "${TGT_FLAGS[@]}"
# The source-replica's schema is created by the operator (as in yb-voyager's fall-forward steps).
"$PGBIN/pg_dump" -h "$TEST_TMP/source" -p "$SOURCE_PORT" -U postgres --schema-only --no-owner sourcedb |
    psql_as source_replica replicadb >/dev/null 2>&1
assert_eq "source-replica has the schema" "3" \
    "$(psql_as source_replica replicadb -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"

# Phase 1: source changes flow to both target and source-replica.
workload_start source sourcedb 12 s
proc_start exp "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb
sleep 2
proc_start imp "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
proc_start rep "$V" import data to source-replica -e "$ED" "${REPLICA_FLAGS[@]}" --disable-pb
for k in $(seq 1 "$KILLS"); do
    random_sleep 10 30; proc_kill9 exp; proc_restart exp
    random_sleep 5 20; proc_kill9 imp; proc_restart imp
    random_sleep 5 20; proc_kill9 rep; proc_restart rep
done
workload_wait
wait_equal source target 120 && ok "phase 1: target caught up under kills" || not_ok "phase 1: target caught up under kills"
wait_equal source source_replica 120 && ok "phase 1: source-replica caught up under kills" ||
    not_ok "phase 1: source-replica caught up under kills"
compare_databases source target
compare_databases source source_replica

check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
for _ in $(seq 1 120); do
    "$V" cutover status -e "$ED" 2>/dev/null | grep -q "cutover to target status: COMPLETED" && break
    sleep 1
done
assert_match "cutover to target completed" "cutover to target status: COMPLETED" "$("$V" cutover status -e "$ED")"
src_max=$(psql_as source sourcedb -c "SELECT max(id) FROM public.customers")
tgt_next=$(psql_as target yugabyte -c "SELECT nextval('public.customers_id_seq')")
[ "$tgt_next" -gt "$src_max" ] && ok "target sequence continues after the source's values" ||
    not_ok "target sequence continues after the source's values" "next $tgt_next, source max $src_max"

# Phase 2: the application writes to the target; its changes flow to the source-replica.
# The target importer turned itself into export data from target; kill it and restart that by hand.
workload_start target yugabyte 10 t
for k in $(seq 1 "$KILLS"); do
    random_sleep 10 30; proc_kill9 imp; proc_kill9 expt
    proc_start expt "$V" export data from target -e "$ED" --disable-pb
    random_sleep 5 20; proc_kill9 rep; proc_restart rep
done
workload_wait
wait_equal target source_replica 120 yugabyte replicadb && ok "phase 2: source-replica follows the target under kills" ||
    not_ok "phase 2: source-replica follows the target under kills"
compare_databases target source_replica yugabyte replicadb

check "initiate cutover to source-replica" "$V" initiate cutover to source-replica -e "$ED"
proc_wait rep 120 && assert_eq "import data to source-replica ends after the cutover" 0 "$PROC_RC" ||
    not_ok "import data to source-replica ends after the cutover"
# export data from target records its part after it dropped its slot, which can take a moment
# after the importer (which only waits for the end marker) exits.
for _ in $(seq 1 30); do
    "$V" cutover status -e "$ED" 2>/dev/null | grep -q "cutover to source-replica status: COMPLETED" && break
    sleep 1
done
assert_match "cutover to source-replica completed" "cutover to source-replica status: COMPLETED" "$("$V" cutover status -e "$ED")"
compare_databases target source_replica yugabyte replicadb
tgt_max=$(psql_as target yugabyte -c "SELECT max(id) FROM public.customers")
rep_next=$(psql_as source_replica replicadb -c "SELECT nextval('public.customers_id_seq')")
[ "$rep_next" -gt "$tgt_max" ] && ok "source-replica sequence continues after the target's values" ||
    not_ok "source-replica sequence continues after the target's values" "next $rep_next, target max $tgt_max"

check "data-migration report" "$V" get data-migration-report -e "$ED" --output-format json
python3 - "$LAST_OUT" <<'PY' && ok "report covers all three databases" || not_ok "report covers all three databases" "$(head -c 600 "$LAST_OUT")"
import json, sys
rows = json.load(open(sys.argv[1]))
seen = {(r["table_name"], r["db_type"]) for r in rows}
for t in ("customers", "Order", "MixedCase"):
    for db in ("source", "target", "source-replica"):
        assert (t, db) in seen, (t, db)
rep = [r for r in rows if r["db_type"] == "source-replica"]
assert all(r["imported_snapshot_rows"] == r["snapshot_row_count"] for r in rep), rep
assert sum(r["imported_inserts"] or 0 for r in rep) > 0
PY
check "end migration" "$V" end migration -e "$ED" --backup-schema-files false --backup-data-files false \
    --backup-log-files false --save-migration-reports false --yes
for db in "source sourcedb" "target yugabyte" "source_replica replicadb"; do
    set -- $db
    assert_eq "no slot left on $1" "0" "$(psql_as "$1" "$2" -c "SELECT count(*) FROM pg_replication_slots")"
    assert_eq "no ybvoyager_metadata left on $1" "0" "$(psql_as "$1" "$2" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'ybvoyager_metadata'")"
done
done_testing
