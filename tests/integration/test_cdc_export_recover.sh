#!/bin/bash
# export data rides out faults of the source while it streams changes, without
# a person: an immediate restart of the source, its walsender terminated, its
# walsender stopped (SIGSTOP: the connection goes silent, the slot stays held
# until it is continued). Each is a warning and a reconnect, never "error:";
# only a fault that outlasts YB_VOYAGER_RETRY_TIMEOUT ends the command, with
# exit 3 and "run the same command again", and the rerun continues. The queue
# holds every transaction exactly once: snapshot + replayed queue == source.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
copydb_create
export QUEUE_SEGMENT_MAX_BYTES=200000
# Silence: dead after 3 s without an answer (the default follows wal_sender_timeout).
export YB_VOYAGER_REPLICATION_TIMEOUT=3 YB_VOYAGER_RETRY_TIMEOUT=120
EXP=("$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true)
OUT=$TEST_TMP/exporter.out

"${EXP[@]}" >>"$OUT" 2>&1 &
EXP_PID=$!
wait_streaming
check "export data streams changes" test -n "$WS"

# 1. Immediate restart of the source in the middle of a workload.
workload 31 400
sleep 1
_as_pg "$PGBIN/pg_ctl" -D "$TEST_TMP/source/data" -l "$TEST_TMP/source/server.log" -m immediate -w -t 60 restart >/dev/null
wait "$WL" 2>/dev/null
workload 32 200
wait "$WL"
check "the exporter reconnected after the source's immediate restart" wait_streaming
check "and confirmed the changes made after it" wait_confirmed
check "the exporter is still running" kill -0 "$EXP_PID"

# 2. The walsender terminated in the middle of a workload.
workload 33 400
sleep 0.5
psql_as source postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_replication" >/dev/null
wait "$WL"
check "the exporter reconnected after its walsender was terminated" wait_streaming
check "and confirmed every change" wait_confirmed
check "the exporter is still running" kill -0 "$EXP_PID"

# 3. The walsender stopped: nothing arrives, the slot stays in use until it continues.
stopped=$WS
kill -STOP "$stopped"
workload 34 300
wait "$WL"
sleep 8
assert_match "silence detected: the exporter says it reconnects" "nothing received on the replication connection" "$(cat "$OUT")"
assert_match "the slot still held by the stopped walsender: it keeps trying" "still in use by another process" "$(cat "$OUT")"
kill -CONT "$stopped"
check "the exporter reconnected once the stalled walsender went" wait_streaming
check "and confirmed every change" wait_confirmed
check "the exporter is still running" kill -0 "$EXP_PID"
assert_eq "every fault so far was a warning, not an error" "" "$(grep '^error' "$OUT")"
assert_match "each reconnect attempt is a warning" "^warning: source database: .*reconnecting \(attempt 1" "$(cat "$OUT")"

# 4. A fault longer than the retry deadline: exit 3, resumable.
kill -TERM "$EXP_PID"
wait "$EXP_PID"
assert_eq "interrupted: exit 3" 3 "$?"
YB_VOYAGER_RETRY_TIMEOUT=4 "${EXP[@]}" >"$TEST_TMP/giveup.out" 2>&1 &
EXP_PID=$!
wait_streaming
pg_stop source
wait_exit "$EXP_PID" 60
assert_eq "source down longer than YB_VOYAGER_RETRY_TIMEOUT: exit 3" 3 "$?"
assert_match "it says to run the same command again" "gave up reconnecting after .*run the same command again" "$(tail -3 "$TEST_TMP/giveup.out" | tr '\n' ' ')"
_as_pg "$PGBIN/pg_ctl" -D "$TEST_TMP/source/data" -l "$TEST_TMP/source/server.log" -w -t 60 start >/dev/null
"${EXP[@]}" >>"$OUT" 2>&1 &
EXP_PID=$!
workload 35 200
wait "$WL"
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 90
assert_eq "the rerun drains and exits 0 at cutover" 0 "$?"

queue_equals_source "$ED"
done_testing
