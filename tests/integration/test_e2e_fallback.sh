#!/bin/bash
# Live migration end to end with a way back, on two throwaway clusters, with
# workloads running and processes killed (-9) and restarted in every phase:
#   schema -> live export/import (source writes) -> cutover to target (prepared
#   for fall-back) -> target writes flow back to the source -> cutover to source.
# After each phase the databases that should agree are compared table by table,
# and sequences on the new primary never hand out a used value.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/e2e.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
KILLS=${E2E_KILLS:-2}
start_clusters source target || exit 1
conn_flags
ED=$(new_export_dir)
trap 'proc_stop_all; harness_cleanup' EXIT

check "export schema" "$V" export schema -e "$ED" "${SRC_FLAGS[@]}"
check "import schema" "$V" import schema -e "$ED" "${TGT_FLAGS[@]}"

# Phase 1: snapshot + changes from the source.
workload_start source sourcedb 12 s
proc_start exp "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb
sleep 2
proc_start imp "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb
for k in $(seq 1 "$KILLS"); do
    random_sleep 10 30; proc_kill9 exp; proc_restart exp
    random_sleep 10 30; proc_kill9 imp; proc_restart imp
done
workload_wait
wait_equal source target 120 && ok "phase 1: target caught up with the source under kills" ||
    not_ok "phase 1: target caught up with the source under kills"
compare_databases source target

check "initiate cutover to target with fall-back" "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true
# The docs: export data turns into import data to source (same process).
check "export data from source turns into import data to source after the cutover" \
    lock_pid_wait "$ED" import-data-to-source "${_PROC_PID[exp]}" 120
proc_became exp imps "$V" import data to source -e "$ED" --disable-pb
for _ in $(seq 1 120); do
    "$V" cutover status -e "$ED" 2>/dev/null | grep -q "cutover to target status: COMPLETED" && break
    sleep 1
done
assert_match "cutover to target completed" "cutover to target status: COMPLETED" "$("$V" cutover status -e "$ED")"
# Sequences on the new primary continue after every value the source handed out.
src_max=$(psql_as source sourcedb -c "SELECT max(id) FROM public.customers")
tgt_next=$(psql_as target yugabyte -c "SELECT nextval('public.customers_id_seq')")
[ "$tgt_next" -gt "$src_max" ] && ok "target sequence continues after the source's values" ||
    not_ok "target sequence continues after the source's values" "next $tgt_next, source max $src_max"
psql_as target yugabyte -c "SELECT setval('public.customers_id_seq', $tgt_next)" >/dev/null

# Phase 2: the application writes to the target; changes flow back to the source.
# COMPLETED means export data from target already captures the target: the application may switch.
workload_start target yugabyte 10 t
# The target importer turned itself into export data from target: crash it too, restart that by hand.
for k in $(seq 1 "$KILLS"); do
    random_sleep 10 30; proc_kill9 imps; proc_restart imps
    random_sleep 5 20; proc_kill9 imp; proc_kill9 expt
    proc_start expt "$V" export data from target -e "$ED" --disable-pb
done
workload_wait
# A TRUNCATE on the target flows back too, with the rows written after it.
psql_as target yugabyte -c "TRUNCATE public.\"MixedCase\"" \
    -c "INSERT INTO public.\"MixedCase\" SELECT g, jsonb_build_object('after', g), ARRAY['t'], '\\x00ff' FROM generate_series(1, 20) g" >/dev/null
wait_equal target source 120 yugabyte sourcedb && ok "phase 2: source follows the target under kills" ||
    not_ok "phase 2: source follows the target under kills"
compare_databases target source yugabyte sourcedb

check "initiate cutover to source" "$V" initiate cutover to source -e "$ED"
proc_wait imps 120 && assert_eq "import data to source ends after the cutover" 0 "$PROC_RC" ||
    not_ok "import data to source ends after the cutover"
for _ in $(seq 1 60); do
    "$V" cutover status -e "$ED" 2>/dev/null | grep -q "cutover to source status: COMPLETED" && break
    sleep 1
done
assert_match "cutover to source completed" "cutover to source status: COMPLETED" "$("$V" cutover status -e "$ED")"
compare_databases target source yugabyte sourcedb
tgt_max=$(psql_as target yugabyte -c "SELECT max(id) FROM public.customers")
src_next=$(psql_as source sourcedb -c "SELECT nextval('public.customers_id_seq')")
[ "$src_next" -gt "$tgt_max" ] && ok "source sequence continues after the target's values" ||
    not_ok "source sequence continues after the target's values" "next $src_next, target max $tgt_max"

check "data-migration report" "$V" get data-migration-report -e "$ED" --output-format json
python3 - "$LAST_OUT" <<'PY' && ok "report covers source and target for every table" || not_ok "report covers source and target for every table"
import json, sys
rows = json.load(open(sys.argv[1]))
seen = {(r["table_name"], r["db_type"]) for r in rows}
for t in ("customers", "Order", "MixedCase"):
    assert (t, "source") in seen and (t, "target") in seen, (t, seen)
assert any(r["exported_inserts"] for r in rows if r["db_type"] == "source")
assert any(r["imported_inserts"] for r in rows if r["db_type"] == "target")
PY
check "end migration" "$V" end migration -e "$ED" --backup-schema-files false --backup-data-files false \
    --backup-log-files false --save-migration-reports false --yes
assert_eq "no slot left on the source" "0" "$(psql_as source sourcedb -c "SELECT count(*) FROM pg_replication_slots")"
assert_eq "no slot left on the target" "0" "$(psql_as target yugabyte -c "SELECT count(*) FROM pg_replication_slots")"
done_testing
