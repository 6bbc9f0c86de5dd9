#!/bin/bash
# The exporter killed while it ends the stream at cutover: after the end marker and
# the last segment's end are fsynced but not recorded ("end-fsync"), and after the
# stream's end is recorded but before the cutover bookkeeping ("end"). A row is
# inserted on the source after each kill, then export data runs again. The queue
# must end with exactly one end marker, nothing after it, every vsn once, the last
# segment closed; the rerun does the cutover bookkeeping. Formerly the marker was
# recorded before the segment's close: a kill between them left a marker the rerun
# did not know of, and it streamed on after it (the row, then a second marker),
# where the target importer, stopping at the first, never applied the row.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/live.sh"
V=$VOYAGER
pg_start source sourcedb || exit 1
conn_flags
live_schema_sql | psql_as source sourcedb >/dev/null
copydb_create

# queue_summary ED: "markers LAST_OP LAST_SEGMENT_CLOSED LAST_SEGMENT_IS_LAST"
queue_summary() {
    python3 -c "$_queue_py"'
ops = [e["op"] for _, e in events()]
no, path, r, size, closed, last = segs[-1]
print(sum(1 for o in ops if o.startswith("cutover.")), ops[-1], closed, last)
' "$1"
}
# queue_has_pair ED A: is the pairs row with a = A inserted in the queue?
queue_has_pair() {
    python3 -c "$_queue_py"'
print(any(e["op"] == "c" and e["table_name"] == "pairs" and e["fields"]["a"] == sys.argv[2] for _, e in events()))
' "$1" "$2"
}

round=0
for point in end-fsync end; do
    round=$((round + 1))
    ED=$(new_export_dir)
    YB_VOYAGER_CDC_CRASH_AT=$point:1 live_start_exporter
    check "snapshot exported ($point)" status_wait "$ED" ExportDataDone 60
    check "export data streams ($point)" wait_streaming
    psql_as source sourcedb -c "INSERT INTO public.pairs VALUES ($((round * 100)), 'before', 'before cutover')" >/dev/null
    check "initiate cutover to target ($point)" "$V" initiate cutover to target -e "$ED"
    wait_exit "$EXP_PID" 60
    assert_eq "killed at crash point $point" 137 "$?"
    assert_match "crash point $point reached" "crash point $point:1 reached" "$(cat "$ED"/logs/*export-data*.log)"
    psql_as source sourcedb -c "INSERT INTO public.pairs VALUES ($((round * 100 + 1)), 'after', 'after the kill')" >/dev/null
    check "export data again ($point)" "$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true
    assert_eq "vsns in order, once each ($point)" ok "$(queue_vsn_check "$ED" 2>&1)"
    assert_eq "one end marker, the last event, in the closed last segment ($point)" "1 cutover.target 1 1" "$(queue_summary "$ED")"
    assert_eq "the row inserted before cutover is in the queue ($point)" True "$(queue_has_pair "$ED" $((round * 100)))"
    assert_eq "cutover bookkeeping done by the rerun ($point)" true "$(status_get "$ED" CutoverProcessedBySourceExporter)"
    assert_eq "the slot is dropped ($point)" 0 "$(psql_as source postgres -c "SELECT count(*) FROM pg_replication_slots")"
    if [ "$point" = end-fsync ]; then
        # nothing was recorded: the rerun drained again, past the row inserted after the kill
        assert_eq "the row inserted after the kill is before the marker ($point)" True "$(queue_has_pair "$ED" $((round * 100 + 1)))"
        queue_equals_source "$ED"
    else
        # the stream had ended: what the source commits after cutover is not the migration's
        assert_eq "the row inserted after the recorded end is not in the queue ($point)" False "$(queue_has_pair "$ED" $((round * 100 + 1)))"
    fi
done
done_testing
