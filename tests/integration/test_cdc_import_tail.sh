#!/bin/bash
# Tailing a growing queue: the applier runs while segments grow and rotate
# (append + bump committed_size, as the exporter does); bytes past committed_size
# (a line a crashed writer left) are never applied; a kill -9 while tailing and a
# restart lose and double nothing; the end-of-stream event ends the run.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
queue_schema_sql mixed | psql_as target yugabyte >/dev/null
queue_schema_sql mixed | psql_as ref ref >/dev/null
ED=$(new_export_dir)

applied() { channel_counts target 2>/dev/null | awk '{print $1 + $2 + $3}'; }
wait_applied() { # wait_applied N: until N events are committed (30 s at most)
    local i
    for i in $(seq 1 300); do
        [ "$(applied)" = "$1" ] && return 0
        kill -0 "$APPLY_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# part 1: about 1500 events, then a line past committed_size (a table that does not exist:
# applying it would stop the applier with an error)
vsn=$(queue_gen mixed 5 1500 1 "$TEST_TMP/w")
mv "$TEST_TMP/w.ndjson" "$TEST_TMP/w1.ndjson"; mv "$TEST_TMP/w.sql" "$TEST_TMP/w1.sql"
queue_append "$ED" source_db_exporter "$TEST_TMP/w1.ndjson" --max-bytes 150000 --garbage-tail
run_apply_bg "$ED" target target --parallel-jobs 3
check "the committed part is applied while the applier keeps running" wait_applied $((vsn - 1))
sleep 0.5
check "the uncommitted tail is not applied (still running, no error)" kill -0 "$APPLY_PID"
assert_eq "no error about the uncommitted line" "" "$(grep -i 'no_such\|error' "$TEST_TMP/apply.err")"

# part 2: the writer truncates the tail and goes on, rotating segments
vsn=$(queue_gen mixed 5 1500 "$vsn" "$TEST_TMP/w")
mv "$TEST_TMP/w.ndjson" "$TEST_TMP/w2.ndjson"; mv "$TEST_TMP/w.sql" "$TEST_TMP/w2.sql"
queue_append "$ED" source_db_exporter "$TEST_TMP/w2.ndjson" --max-bytes 150000
check "events appended later are applied" wait_applied $((vsn - 1))

# part 2b: the database drops the apply connections (admin shutdown of the sessions);
# the channels reconnect and retry
psql_as target yugabyte -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'yb-voyager-apply'" >/dev/null
vsn=$(queue_gen mixed 5 800 "$vsn" "$TEST_TMP/w")
mv "$TEST_TMP/w.ndjson" "$TEST_TMP/w2b.ndjson"; mv "$TEST_TMP/w.sql" "$TEST_TMP/w2b.sql"
queue_append "$ED" source_db_exporter "$TEST_TMP/w2b.ndjson" --max-bytes 150000
check "after the connections were dropped the applier reconnects and catches up" wait_applied $((vsn - 1))
assert_match "it said it retried" "will retry" "$(cat "$TEST_TMP/apply.err")"

# part 3: kill -9 while tailing; more events arrive while it is down; restart
kill -9 "$APPLY_PID"; wait "$APPLY_PID" 2>/dev/null
vsn=$(queue_gen mixed 5 2000 "$vsn" "$TEST_TMP/w")
mv "$TEST_TMP/w.ndjson" "$TEST_TMP/w3.ndjson"; mv "$TEST_TMP/w.sql" "$TEST_TMP/w3.sql"
queue_append "$ED" source_db_exporter "$TEST_TMP/w3.ndjson" --max-bytes 150000
run_apply_bg "$ED" target target
check "after a kill -9 the restart catches up" wait_applied $((vsn - 1))

# SIGTERM: a clean stop with the restart hint, then a restart
kill -TERM "$APPLY_PID"
wait "$APPLY_PID"
assert_eq "SIGTERM stops the applier with the bad-state code" 3 "$?"
assert_match "and says how to continue" "interrupted: .*run the same command again" "$(tr '\n' ' ' <"$TEST_TMP/apply.err")"
run_apply_bg "$ED" target target

queue_cutover_event "$vsn" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
wait "$APPLY_PID"
assert_eq "the end-of-stream event ends the run with success" 0 "$?"
assert_eq "cutover recorded" true "$(status_get "$ED" CutoverProcessedByTargetImporter)"
for p in w1 w2 w2b w3; do psql_as ref ref -f "$TEST_TMP/$p.sql" >/dev/null || not_ok "reference $p applies"; done
compare_databases target ref yugabyte ref
assert_eq "every event counted once" $((vsn - 1)) "$(applied)"
assert_eq "channel count fixed by the first run" 3 \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"
unmarked=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from queue_segment where imported_by_target_db_importer = 0').fetchone()[0])" "$ED/metainfo/meta.db")
assert_eq "every segment marked applied" 0 "$unmarked"
done_testing
