#!/bin/bash
# Change apply (import data to target, live) into "YugabyteDB" through the YugabyteDB-personality
# proxy (tests/lib/yb.sh: NOT a YugabyteDB server): channels spread over the nodes of
# yb_servers() (per-node connection counts), and YugabyteDB's transient errors injected on
# COMMIT and on the channel bookkeeping statement are retried with exactly-once kept: the
# target equals a reference that got the same changes serially, and the event count is exact.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/queue.sh"
. "$HARNESS_DIR/faultproxy.sh"
. "$HARNESS_DIR/yb.sh"
. "$HARNESS_DIR/yb_queue.sh"
export YB_VOYAGER_RETRY_TIMEOUT=60
N=3000
yb_queue_setup 3 11 $N

for i in 1 2 3; do
    proxy_rule "yb$i" "yb_error restart_read match=^COMMIT every=20" "yb_error conflict match=^COMMIT every=29" \
        "yb_error txn_aborted match=^COMMIT nth=3" "yb_error deadlock match=^COMMIT nth=4" \
        "yb_error schema_mismatch match=channels_metainfo.SET.last_applied_vsn nth=2"
done
APPLY_PORT=$YB1_PROXY_PORT check "apply through 3 YB nodes under injected restart read / conflicts / aborts" \
    run_apply "$ED" target target --parallel-jobs 6
assert_match "it says the cutover is processed" "cutover processed by target_db_importer" "$(cat "$TEST_TMP/apply.out")"
assert_match "every event counted once" "Total Imported events: $N;" "$(cat "$TEST_TMP/apply.out")"
compare_databases target ref yugabyte ref
for i in 1 2 3; do
    assert_eq "node yb$i: 2 of the 6 channels" 2 "$(yb_conns "yb$i" yb-voyager-apply)"
done
for k in restart_read conflict txn_aborted deadlock schema_mismatch; do
    n=$(( $(proxy_fired yb1 "yb $k") + $(proxy_fired yb2 "yb $k") + $(proxy_fired yb3 "yb $k") ))
    [ "$n" -ge 1 ] && ok "injected $k $n times" || not_ok "injected $k" "$n"
done
# public.nopk has no key: its updates and deletes find their row by ybctid, as YugabyteDB has no
# ctid (the proxy refuses ctid and reads ybctid as ctid)
nyb=$(( $(yb_logged yb1 "yb: ybctid as ctid") + $(yb_logged yb2 "yb: ybctid as ctid") + $(yb_logged yb3 "yb: ybctid as ctid") ))
[ "$nyb" -ge 1 ] && ok "rows without a key found by ybctid ($nyb statements)" || not_ok "rows without a key found by ybctid"
assert_eq "no statement named ctid" 0 \
    "$(( $(yb_logged yb1 "yb: ctid refused") + $(yb_logged yb2 "yb: ctid refused") + $(yb_logged yb3 "yb: ctid refused") ))"
assert_eq "channel bookkeeping rows: one per channel" 6 \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"

# ---- keyless rows with columns that have no "=" (json, point) or a coarse one (numeric): ----
# found by ybctid and by text, the right row each time
psql_as target yugabyte -c "CREATE TABLE public.kj (at int, payload json, loc point, n numeric);
    INSERT INTO public.kj VALUES (1, '{\"a\": 1}', '(1,2)', 1.0), (1, '{\"a\": 1}', '(1,2)', 1.00),
        (2, '{\"a\": 2}', '(3,4)', 2)" >/dev/null
kev() { # kev VSN OP KEY-JSON FIELDS-JSON
    printf '{"vsn":%d,"op":"%s","schema_name":"public","table_name":"kj","key":%s,"fields":%s,"exporter_role":"source_db_exporter"}\n' "$@"
}
ED3=$(new_export_dir)
{
    kev 1 u '{"at":"1","payload":"{\"a\": 1}","loc":"(1,2)","n":"1.00"}' '{"at":"10"}'
    kev 2 d '{"at":"2","payload":"{\"a\": 2}","loc":"(3,4)","n":"2"}' null
    queue_cutover_event 3 cutover.target source_db_exporter
} >"$TEST_TMP/kj.ndjson"
queue_append "$ED3" source_db_exporter "$TEST_TMP/kj.ndjson" --close
APPLY_PORT=$YB1_PROXY_PORT check "keyless json/point/numeric table: apply exits 0 at the cutover" \
    run_apply "$ED3" target target --parallel-jobs 2
assert_eq "the update changed the 1.00 row, the delete its row" "1|1.0 10|1.00" \
    "$(psql_as target yugabyte -c "SELECT string_agg(at || '|' || n, ' ' ORDER BY at) FROM public.kj")"

# ---- a node down when apply starts: its channels go to the other nodes ----
pg_start t2 yugabyte >/dev/null || not_ok "second target"
queue_schema_sql mixed | psql_as t2 yugabyte >/dev/null
yb_nodes_start t2 3 zz || not_ok "second target's nodes"
proxy_stop zz2
ED2=$(new_export_dir)
queue_append "$ED2" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 300000
queue_append "$ED2" source_db_exporter "$TEST_TMP/c.ndjson" --close
APPLY_PORT=$ZZ1_PROXY_PORT check "apply with node zz2 down" run_apply "$ED2" t2 target --parallel-jobs 6
compare_databases t2 ref yugabyte ref
# channels 1 and 4 (zz2's) move to the next node, zz3
assert_eq "zz1 and zz3 got the 6 channels" "2 4" "$(yb_conns zz1 yb-voyager-apply) $(yb_conns zz3 yb-voyager-apply)"
assert_match "the move was logged" "node 127.0.0.1:$ZZ2_PROXY_PORT unreachable: connection [0-9]+ \\(yb-voyager-apply\\) uses node" \
    "$(cat "$TEST_TMP/apply.err")"

done_testing
