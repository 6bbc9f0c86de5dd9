#!/bin/bash
# export data through the fault-injection proxy: the network between the
# exporter and the source drops (every connection cut mid workload, cut after
# some bytes, cut at random) and stalls (nothing forwarded, the connection
# stays open). Each is ridden out without a person (warnings, reconnects) and
# the queue holds every transaction exactly once: snapshot + replayed queue
# == source.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/faultproxy.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
copydb_create
proxy_start src "$SOURCE_PORT" || exit 1
export QUEUE_SEGMENT_MAX_BYTES=200000
export YB_VOYAGER_REPLICATION_TIMEOUT=3 YB_VOYAGER_RETRY_TIMEOUT=120
EXP=("$V" export data -e "$ED" "${SRC_FLAGS[@]}" --source-db-port "$SRC_PROXY_PORT"
    --export-type snapshot-and-changes --disable-pb true)
OUT=$TEST_TMP/exporter.out

"${EXP[@]}" >>"$OUT" 2>&1 &
EXP_PID=$!
check "export data streams changes through the proxy" wait_streaming

# 1. Every connection cut in the middle of a workload, three times.
workload 41 600
for round in 1 2 3; do
    sleep 0.7
    proxy_rule src drop_all
done
wait "$WL"
proxy_clear src
assert_match "the proxy cut the open connections" "^[1-9]" "$(proxy_fired src 'closed')"
check "the exporter reconnected after the network dropped" wait_streaming
check "and confirmed every change" wait_confirmed
check "the exporter is still running" kill -0 "$EXP_PID"

# 2. Cut after some bytes, again and again, while changes stream.
proxy_rule src "drop_after_bytes 40000 always"
workload 42 400
wait "$WL"
sleep 2
proxy_clear src
check "the exporter reconnected after repeated cuts" wait_streaming
check "and confirmed every change" wait_confirmed
assert_match "the proxy cut connections after some bytes" "^[1-9]" "$(proxy_fired src 'bytes')"

# 3. A stall: the connection stays open, nothing passes for longer than the silence limit.
workload 43 200
wait "$WL"
proxy_rule src "stall 8"
sleep 9
proxy_clear src
check "the exporter reconnected after the stall" wait_streaming
check "and confirmed every change" wait_confirmed
assert_match "silence detected on the stalled connection" "nothing received on the replication connection" "$(cat "$OUT")"
check "the exporter is still running" kill -0 "$EXP_PID"
assert_eq "network faults are warnings, not errors" "" "$(grep '^error' "$OUT")"

workload 44 200
wait "$WL"
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 90
assert_eq "export data drains and exits 0 at cutover" 0 "$?"

queue_equals_source "$ED"
proxy_stop src
done_testing
