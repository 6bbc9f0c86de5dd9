#!/bin/bash
# Change apply into "YugabyteDB" through the YugabyteDB-personality proxy (tests/lib/yb.sh:
# NOT a YugabyteDB server), with the faults that meet the row statements themselves:
# YugabyteDB's transient errors on the executions of the applier's named prepared INSERT /
# UPDATE / DELETE statements (where conflicts really happen, not only at COMMIT), and
# commit-then-drop (the server commits, the client never hears it). Exactly-once is kept:
# the target equals a reference that got the same changes serially, and the counts are exact.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/queue.sh"
. "$HARNESS_DIR/faultproxy.sh"
. "$HARNESS_DIR/yb.sh"
. "$HARNESS_DIR/yb_queue.sh"
export YB_VOYAGER_RETRY_TIMEOUT=60
N=3000
yb_queue_setup 2 23 $N

for i in 1 2; do
    proxy_rule "yb$i" "yb_error restart_read match=^INSERT every=97" "yb_error conflict match=^UPDATE every=61" \
        "yb_error txn_aborted match=^DELETE nth=5" "yb_error schema_mismatch match=^UPDATE nth=7" \
        "drop_after_commit nth=9" "drop_after_commit nth=40" \
        "yb_error schema_mismatch match=^CREATE.TABLE.IF.NOT.EXISTS.*event_channels_metainfo once"
done
APPLY_PORT=$YB1_PROXY_PORT check "apply under errors on prepared row statements and commit-then-drop" \
    run_apply "$ED" target target --parallel-jobs 4
assert_match "every event counted once" "Total Imported events: $N;" "$(cat "$TEST_TMP/apply.out")"
compare_databases target ref yugabyte ref
want=$(queue_op_counts "$TEST_TMP/w.ndjson")
assert_eq "channel counts are exact (inserts updates deletes)" "$want" "$(channel_counts target)"
for k in restart_read conflict txn_aborted schema_mismatch; do
    n=$(( $(proxy_fired yb1 "yb $k") + $(proxy_fired yb2 "yb $k") ))
    [ "$n" -ge 1 ] && ok "injected $k on row statements $n times" || not_ok "injected $k" "$n"
done
n=$(( $(proxy_fired yb1 "COMMIT reply withheld") + $(proxy_fired yb2 "COMMIT reply withheld") ))
[ "$n" -ge 2 ] && ok "commits acknowledged to nobody: $n" || not_ok "commit-then-drop fired" "$n"
stmts=$(grep -h "fault: yb " "$TEST_TMP"/proxy.yb*/log | grep -Ec "on '(INSERT|UPDATE|DELETE).*at the Bind of a prepared statement")
[ "$stmts" -ge 4 ] && ok "the errors hit executions of prepared row statements ($stmts)" ||
    not_ok "errors on prepared row statements" "$stmts"
n=$(( $(proxy_fired yb1 "yb schema_mismatch.*CREATE TABLE") + $(proxy_fired yb2 "yb schema_mismatch.*CREATE TABLE") ))
[ "$n" -ge 1 ] && ok "an error on creating the apply bookkeeping at start ($n) was retried" ||
    not_ok "error injected on the bookkeeping's CREATE TABLE" "$n"
assert_match "the errors were retried" "will retry.*(Restart read required|conflicts with higher priority)" \
    "$(cat "$TEST_TMP/apply.err")"

# ---- a node goes away mid apply: its channels move to the other nodes ----
pg_start t2 yugabyte >/dev/null || not_ok "second target"
queue_schema_sql mixed | psql_as t2 yugabyte >/dev/null
yb_nodes_start t2 3 zz || not_ok "second target's nodes"
ED2=$(new_export_dir)
queue_append "$ED2" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 300000
queue_append "$ED2" source_db_exporter "$TEST_TMP/c.ndjson" --close
for i in 1 2 3; do proxy_rule "zz$i" "delay 0.15 match=^COMMIT"; done # slow enough to be caught mid way
: >"$TEST_TMP/apply.out"; : >"$TEST_TMP/apply.err"
APPLY_PORT=$ZZ1_PROXY_PORT run_apply_bg "$ED2" t2 target --parallel-jobs 6
applied() { psql_as t2 yugabyte -c "SELECT coalesce(sum(num_inserts + num_updates + num_deletes), 0)
    FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo" 2>/dev/null || echo 0; }
for _ in $(seq 1 300); do [ "$(applied)" -gt 0 ] && break; sleep 0.1; done
mid=$(applied)
proxy_stop zz2
[ "$mid" -gt 0 ] && [ "$mid" -lt "$N" ] && ok "node zz2 stopped mid apply ($mid of $N events applied)" ||
    not_ok "node stopped mid apply" "$mid of $N"
for i in 1 3; do proxy_rule "zz$i"; done
wait_exit "$APPLY_PID" 180
assert_eq "apply completes with a node gone" 0 "$?"
assert_match "every event counted once" "Total Imported events: $N;" "$(cat "$TEST_TMP/apply.out")"
compare_databases t2 ref yugabyte ref
assert_eq "channel counts are exact after the move" "$want" "$(channel_counts t2)"
assert_match "the channels of the lost node moved (logged)" \
    "node 127.0.0.1:$ZZ2_PROXY_PORT unreachable: connection [0-9]+ \\(yb-voyager-apply\\) uses node" \
    "$(cat "$TEST_TMP/apply.err")"
moved=$(( $(yb_conns zz1 yb-voyager-apply) + $(yb_conns zz3 yb-voyager-apply) ))
[ "$moved" -gt 4 ] && ok "zz1 and zz3 took new apply connections ($moved, 4 at start)" ||
    not_ok "apply connections moved to zz1 and zz3" "$moved"

done_testing
