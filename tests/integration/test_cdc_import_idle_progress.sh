#!/bin/bash
# An idle apply channel records its progress (channels.c, progress_beat): a restarted
# importer reads the queue from the least progress of all channels, so a channel that no
# change is routed to would otherwise send every restart back to the start of the segment.
# Phase 1: every change is to one row (one channel gets them all, the other none), the
# queue stays open, the importer idles; the server ends its sessions, more changes to the row
# come, and it is killed with SIGKILL. The idle channel's progress must have reached the last vsn
# each time without applying anything (the second time on a connection made again). The restart must read
# the segment from near its end. Phase 2: changes to many rows (both channels), appended
# while the restarted importer runs, then the end of stream. The target must equal the
# serially applied reference, and the bookkeeping must count every event once. A progress
# recorded past a change still to come to that channel would skip it.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
queue_schema_sql counters | psql_as target yugabyte >/dev/null
queue_schema_sql counters | psql_as ref ref >/dev/null
ED=$(new_export_dir)
LOG=$ED/logs/yb-voyager-import-data-to-target.log
progress() {
    psql_as target yugabyte -c "SELECT string_agg(last_applied_vsn::text, ' ' ORDER BY channel_no)
        FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo"
}
events_applied() { channel_counts target 2>/dev/null | awk '{n = $1 + $2 + $3} END {print n + 0}'; }
# await TRIES WANT CMD...: poll CMD every 50 ms until it prints WANT, at most TRIES times
await() {
    local tries=$1 want=$2 i
    shift 2
    for i in $(seq 1 "$tries"); do
        [ "$("$@")" = "$want" ] && return
        sleep 0.05
    done
}

N1=3000
next=$(queue_gen onerow 21 $N1 1 "$TEST_TMP/w")
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson"
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference phase 1 applies"
want1=$(queue_op_counts "$TEST_TMP/w.ndjson")
last1=$((next - 1))

run_apply_bg "$ED" target target --parallel-jobs 2
await 300 "$N1" events_applied
assert_eq "phase 1 applied" "$N1" "$(events_applied)"
# one channel applied everything; the other records progress within a second of idling
await 100 "$last1 $last1" progress
assert_eq "both channels' progress at the last vsn, the idle one's without a change" \
    "$last1 $last1" "$(progress)"
# the server ends the importer's sessions; more changes to the row: the busy channel reconnects
# for its batch, the idle one to record its progress
psql_as target postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'yb-voyager-apply'" >/dev/null
next=$(queue_gen onerow 23 500 "$next" "$TEST_TMP/w")
want1b=$(queue_op_counts "$TEST_TMP/w.ndjson")
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson"
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference phase 1b applies"
last1=$((next - 1))
await 200 "$last1 $last1" progress
assert_eq "after its session was ended, the idle channel connects again and records" \
    "$last1 $last1" "$(progress)"
kill -9 "$APPLY_PID"
wait "$APPLY_PID" 2>/dev/null
read -r i1 u1 d1 <<<"$want1"
read -r i0 u0 d0 <<<"$want1b"
want1="$((i1 + i0)) $((u1 + u0)) $((d1 + d0))"
assert_eq "the idle channel's progress counted no event" "$want1" "$(channel_counts target)"

# Phase 2, into the open segment while the restarted importer runs.
: >"$TEST_TMP/apply.err"
run_apply_bg "$ED" target target --parallel-jobs 2
next=$(queue_gen counters 22 4000 "$next" "$TEST_TMP/w")
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson"
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference phase 2 applies"
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
wait "$APPLY_PID"
assert_eq "the restarted importer runs to the end of stream" 0 $?
assert_match "the restart read the segment from near its end, not from its start" \
    "queue: segment 0 read from byte [1-9][0-9]* on" "$(cat "$LOG")"
compare_databases target ref yugabyte ref
read -r i1 u1 d1 <<<"$want1"
read -r i2 u2 d2 <<<"$(queue_op_counts "$TEST_TMP/w.ndjson")"
assert_eq "every event counted once in the channel bookkeeping" \
    "$((i1 + i2)) $((u1 + u2)) $((d1 + d2))" "$(channel_counts target)"
assert_eq "no update or delete missed its row" "" "$(grep 'found no row' "$LOG")"

done_testing
