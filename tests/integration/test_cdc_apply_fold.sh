#!/bin/bash
# An update of a row whose insert or update came earlier in its batch is folded into that
# change (pg_apply.c, fold_update): a hand-made queue of rows updated right after their
# insert, in every shape (some columns, NULLs, several updates, a key change, a delete, an
# insert lacking a column the update sets, an older row, a table with a unique column, which
# never folds), and of hot rows updated by most steps with column sets that do and do not
# contain each other, applied through two channels; a reference database gets the same changes as plain
# SQL, serially. The target must equal it, the bookkeeping must count every update (folded or
# not), and a rerun over the applied queue must change nothing.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
queue_schema_sql fold | psql_as target yugabyte >/dev/null
queue_schema_sql fold | psql_as ref ref >/dev/null
ED=$(new_export_dir)

N=6000
next=$(queue_gen fold 11 $N 1 "$TEST_TMP/w")
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 200000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference workload applies"
NEV=$((next - 1)) # a step's events are written whole: N or a few more

check "apply runs to the end-of-stream event" run_apply "$ED" target target --parallel-jobs 2
compare_databases target ref yugabyte ref
assert_eq "every update and delete found its row" "" "$(grep 'found no row' "$TEST_TMP/apply.err")"
LOG=$ED/logs/yb-voyager-import-data-to-target.log
# Batches only grow when the reader outpaces the channels, which a sanitizer build does not.
if [ "${BUILD:-build}" = build ]; then
    assert_match "updates were folded into their rows' inserts, and into their rows' updates" \
        "apply: [1-9][0-9]* update\\(s\\) folded into the insert of their row in the same batch, [1-9][0-9]* into its update" \
        "$(cat "$LOG")"
fi
want=$(queue_op_counts "$TEST_TMP/w.ndjson")
assert_eq "channel bookkeeping counts every event once, folded updates as updates" "$want" "$(channel_counts target)"
assert_eq "per-table counts add up to the events" "$NEV" \
    "$(psql_as target yugabyte -c "SELECT sum(total_events) FROM ybvoyager_metadata.ybvoyager_imported_event_count_by_table")"

# The importer dies after its last batch, before recording anything in meta.db: the rerun reads
# past what every channel committed (each segment entered at a line found by bisection), skips
# the committed events it reads again, and applies nothing twice.
before=$(channel_counts target)
. "$HARNESS_DIR/status.sh"
status_set "$ED" CutoverProcessedByTargetImporter false
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('update queue_segment set imported_by_target_db_importer = 0'); d.commit()" "$ED/metainfo/meta.db"
check "a rerun over the applied queue succeeds" run_apply "$ED" target target --parallel-jobs 2
assert_match "it read each segment from near its end (bisection by vsn), not from its start" \
    "queue: segment 0 read from byte [1-9][0-9]* on" "$(cat "$LOG")"
assert_match "and skipped the committed events it read again" "apply: [1-9][0-9]* event\\(s\\) skipped" "$(cat "$LOG")"
assert_eq "counts unchanged by the rerun" "$before" "$(channel_counts target)"
compare_databases target ref yugabyte ref

done_testing
