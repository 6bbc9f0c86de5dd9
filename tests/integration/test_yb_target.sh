#!/bin/bash
# YugabyteDB target paths, through the YugabyteDB-personality proxy (tests/lib/yb.sh): NOT a
# YugabyteDB server, a PostgreSQL 15 cluster made to answer as YugabyteDB does (version, yb_*
# settings, yb_servers(), error texts and SQLSTATEs checked against upstream's).
# Detection, node spreading (per-node connection counts), --target-endpoints, --use-public-ip,
# upsert mode, transient YB errors retried with the data equal, a node going away mid import.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/faultproxy.sh"
. "$HARNESS_DIR/yb.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
export YB_VOYAGER_RETRY_TIMEOUT=60
snapshot_clusters || { not_ok "clusters"; done_testing; exit 1; }
conn_flags
SRC=("${SRC_FLAGS[@]}")
SRC[${#SRC[@]}-1]=$ALL_SCHEMAS
yb_nodes_start target 3 || { not_ok "yb nodes"; done_testing; exit 1; }
YB=(--target-db-host 127.0.0.1 --target-db-port "$YB1_PROXY_PORT" --target-db-user voyager --target-db-name yugabyte)
WORKER='yb-voyager import data worker'

ED=$(new_export_dir)
export VOYAGER_EXPORT_SPLIT_BYTES=65536
check "export data" "$V" export data -e "$ED" "${SRC[@]}" --parallel-jobs 2 --disable-pb

# ---- detection, node discovery, spreading, session settings ----
check "import data through the YB personality (6 workers, upsert)" "$V" import data -e "$ED" "${YB[@]}" \
    --parallel-jobs 6 --batch-size 500 --enable-upsert true --disable-pb
compare_databases source target
assert_match "YugabyteDB detected, nodes discovered" "spreading import connections over 3 nodes" "$(cat "$ED"/logs/*.log)"
assert_match "target recorded as yugabytedb" '"yugabytedb"' "$(status_get "$ED" TargetDBConf | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin).get("DBType")))')"
for i in 1 2 3; do
    n=$(yb_conns "yb$i" "$WORKER")
    [ "$n" -ge 2 ] && ok "node yb$i got $n worker connections" || not_ok "node yb$i worker connections" "$n"
    assert_eq "node yb$i: over the private address" 0 "$(yb_conns "yb$i" "$WORKER" 127.0.0.2)"
done
sets=$(( $(yb_sets yb1 'yb_enable_upsert_mode = true') + $(yb_sets yb2 'yb_enable_upsert_mode = true') + $(yb_sets yb3 'yb_enable_upsert_mode = true') ))
[ "$sets" -ge 6 ] && ok "upsert mode set on every worker connection ($sets)" || not_ok "upsert mode set" "$sets"
# the batch's bookkeeping row is inserted with upsert mode off: as an upsert it would never fail
# on the key of the same batch committed by a killed importer's session (test_import_inflight.sh)
claims=$(( $(yb_sets yb1 'yb_enable_upsert_mode = false') + $(yb_sets yb2 'yb_enable_upsert_mode = false') + $(yb_sets yb3 'yb_enable_upsert_mode = false') ))
assert_eq "upsert mode off for each batch's bookkeeping row" \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3")" "$claims"

# Each phase reads only its own proxy log lines.
yb_reset_logs() { local i; for i in 1 2 3; do : >"$TEST_TMP/proxy.yb$i/log"; done; }
IMPORT_AGAIN=(--start-clean true --truncate-tables true --yes)

# ---- --target-endpoints: only the nodes listed get workers ----
yb_reset_logs
check "import data --target-endpoints yb2,yb3" "$V" import data -e "$ED" "${YB[@]}" "${IMPORT_AGAIN[@]}" \
    --parallel-jobs 4 --batch-size 500 --enable-upsert false --target-endpoints "127.0.0.1:$YB2_PROXY_PORT,127.0.0.1:$YB3_PROXY_PORT" --disable-pb
compare_databases source target
assert_eq "endpoints: no worker on yb1" 0 "$(yb_conns yb1 "$WORKER")"
assert_eq "endpoints: 2 workers on yb2" 2 "$(yb_conns yb2 "$WORKER")"
assert_eq "endpoints: 2 workers on yb3" 2 "$(yb_conns yb3 "$WORKER")"
assert_eq "no upsert mode with --enable-upsert false" 0 "$(( $(yb_sets yb2 yb_enable_upsert_mode) + $(yb_sets yb3 yb_enable_upsert_mode) ))"

# ---- --use-public-ip: workers go to yb_servers()' public_ip ----
yb_reset_logs
check "import data --use-public-ip" "$V" import data -e "$ED" "${YB[@]}" "${IMPORT_AGAIN[@]}" \
    --parallel-jobs 3 --batch-size 500 --use-public-ip true --disable-pb
compare_databases source target
for i in 1 2 3; do
    assert_eq "public ip: yb$i worker over 127.0.0.2" "1 0" \
        "$(yb_conns "yb$i" "$WORKER" 127.0.0.2) $(yb_conns "yb$i" "$WORKER" 127.0.0.1)"
done

# ---- transient YugabyteDB errors: retried, the data ends equal ----
yb_reset_logs
for i in 1 2 3; do
    proxy_rule "yb$i" "yb_error restart_read match=^COPY every=3" "yb_error conflict match=^COMMIT every=4" \
        "yb_error txn_aborted match=^COPY nth=2" "yb_error schema_mismatch match=^COPY nth=4" \
        "yb_error deadlock match=^COMMIT nth=3" "yb_too_many_clients app=worker once" \
        "yb_error restart_read match=^SELECT.1$ nth=2"
done
check "import data under restart read / conflicts / aborts / 53300" "$V" import data -e "$ED" "${YB[@]}" \
    "${IMPORT_AGAIN[@]}" --parallel-jobs 3 --batch-size 200 --disable-pb
compare_databases source target
for k in restart_read conflict txn_aborted schema_mismatch deadlock too_many_clients; do
    n=$(( $(proxy_fired yb1 "yb $k") + $(proxy_fired yb2 "yb $k") + $(proxy_fired yb3 "yb $k") ))
    [ "$n" -ge 1 ] && ok "injected $k $n times" || not_ok "injected $k" "$n"
done
assert_match "retries were logged" "Restart read required.*retrying" "$(cat "$LAST_ERR" "$ED"/logs/*.log)"
n=$(( $(proxy_fired yb1 "yb restart_read.*'SELECT 1'") + $(proxy_fired yb2 "yb restart_read.*'SELECT 1'") + $(proxy_fired yb3 "yb restart_read.*'SELECT 1'") ))
[ "$n" -ge 1 ] && ok "SELECT 1 opens each batch transaction (an error there is retried too: $n)" || not_ok "SELECT 1 first in a batch" "$n"
assert_eq "no batch recorded twice" "$(psql_as target yugabyte -c "SELECT count(*) FROM (SELECT DISTINCT data_file_name, batch_number FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3) d")" \
    "$(metainfo_rows target yugabyte)"
for i in 1 2 3; do proxy_clear "yb$i"; done

# ---- "Sending too long RPC message": the batch is sent again as smaller COPYs ----
# big_values' rows are ~5.5 MB each (all_types.sql): 4 in one batch exceed a 12 MB limit.
yb_reset_logs
for i in 1 2 3; do proxy_rule "yb$i" "yb_rpc_limit 12000000"; done
check "import data under a 12 MB RPC limit" "$V" import data -e "$ED" "${YB[@]}" "${IMPORT_AGAIN[@]}" \
    --parallel-jobs 3 --disable-pb
compare_databases source target
n=$(( $(proxy_fired yb1 rpc_too_long) + $(proxy_fired yb2 rpc_too_long) + $(proxy_fired yb3 rpc_too_long) ))
[ "$n" -ge 1 ] && ok "the RPC limit was hit ($n times)" || not_ok "the RPC limit was hit" "$n"
assert_match "the batch was split" "big_values: batch 1 of big_values_data.sql: .*Sending too long RPC message.*sending it again as COPYs of at most" \
    "$(cat "$LAST_ERR")"
# a row larger than the limit: no split helps; a clear message, nothing half loaded
for i in 1 2 3; do proxy_rule "yb$i" "yb_rpc_limit 1000000"; done
expect_fail "import data: rows above the RPC limit stop with a clear message" 5 \
    "big_values.*Sending too long RPC message.*rows too large for YugabyteDB's RPC message limit" \
    "$V" import data -e "$ED" "${YB[@]}" "${IMPORT_AGAIN[@]}" --parallel-jobs 3 --disable-pb
assert_eq "nothing of big_values loaded" 0 "$(psql_as target yugabyte -c "SELECT count(*) FROM big_values")"
for i in 1 2 3; do proxy_clear "yb$i"; done

# ---- a node goes away mid import: its workers move to the others ----
yb_reset_logs
for i in 1 2 3; do proxy_rule "yb$i" "delay 0.15 match=^COPY"; done
"$V" import data -e "$ED" "${YB[@]}" "${IMPORT_AGAIN[@]}" --parallel-jobs 3 --batch-size 100 --disable-pb \
    >"$TEST_TMP/node.out" 2>"$TEST_TMP/node.err" &
IPID=$!
for _ in $(seq 1 200); do grep -q "app=$WORKER" "$TEST_TMP/proxy.yb3/log" && break; sleep 0.05; done
sleep 0.5
proxy_stop yb3
rc=0; wait_exit "$IPID" 240 || rc=$?
assert_eq "import data survives node yb3 going away" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$TEST_TMP/node.err" | tail -5
compare_databases source target
assert_match "worker moved to another node" "node 127.0.0.1:$YB3_PROXY_PORT unreachable: connection 2 \\(yb-voyager import data worker\\) uses node" "$(cat "$TEST_TMP/node.err" "$ED"/logs/*.log)"
moved=$(( $(yb_conns yb1 "$WORKER") + $(yb_conns yb2 "$WORKER") ))
[ "$moved" -ge 3 ] && ok "yb1+yb2 took over yb3's work ($moved worker connections)" || not_ok "yb1+yb2 took over" "$moved"

done_testing
