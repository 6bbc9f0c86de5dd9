#!/bin/bash
# Change apply (import data, live): a hand-made queue with every kind of change
# (inserts/updates/deletes, primary-key updates, unique-key swaps across rows,
# NULLs, every type, case-sensitive and reserved names, a table without a
# primary key, identity columns) is applied to a target; a reference database
# gets the same changes as plain SQL, serially. Then: bookkeeping counts equal
# the events, segments are marked applied, the end-of-stream event restores
# sequences and records the cutover, and a restart applies nothing again.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
queue_schema_sql mixed | psql_as target yugabyte >/dev/null
queue_schema_sql mixed | psql_as ref ref >/dev/null
ED=$(new_export_dir)

N=4000
next=$(queue_gen mixed 7 $N 1 "$TEST_TMP/w")
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 300000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
# the final sequence values the exporter hands over at cutover (catalog/catalog_schema.c)
python3 - "$ED/metainfo/meta.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS sequence_last_values (phase TEXT, schema_name TEXT, sequence_name TEXT,"
           " last_value INTEGER, is_called INTEGER, PRIMARY KEY (phase, schema_name, sequence_name))")
db.executemany("INSERT INTO sequence_last_values VALUES (?,?,?,?,?)",
               [("cutover.target", "public", "seq_a", 1234, 1), ("cutover.target", "Mixed Case", "Seq B", 77, 0),
                ("snapshot", "public", "seq_a", 5, 1)])
db.commit()
PY
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference workload applies"
psql_as ref ref -c "SELECT setval('public.seq_a', 1234, true), setval('\"Mixed Case\".\"Seq B\"', 77, false)" >/dev/null

check "apply runs to the end-of-stream event" run_apply "$ED" target target --parallel-jobs 4
assert_match "it says the cutover is processed" "cutover processed by target_db_importer" "$(cat "$TEST_TMP/apply.out")"
assert_match "metrics as lines without a terminal" \
    "Total Imported events: $N;Events Imported in this Run: $N;Ingestion Rate \\(last 3 mins\\): [0-9]+ events/sec;Ingestion Rate \\(last 10 mins\\): [0-9]+ events/sec;Time taken in this Run: 00:00:[0-9]+;Remaining Events: 0;Estimated Time to catch up: 00:00:00" \
    "$(cat "$TEST_TMP/apply.out")"
compare_databases target ref yugabyte ref
assert_eq "unique-key conflicts were all waited for, none hit the database" "" \
    "$(grep -E 'duplicate key|will retry' "$TEST_TMP/apply.err")"
assert_eq "every update and delete found its row (primary-key moves kept in order)" "" \
    "$(grep 'found no row' "$TEST_TMP/apply.err")"

# Batches only grow when the reader outpaces the channels, which a sanitizer build does not.
if [ "${BUILD:-build}" = build ]; then
    assert_match "like events shared multi-row statements" "apply: [1-9][0-9]* event\\(s\\) applied through multi-row" \
        "$(cat "$ED"/logs/yb-voyager-import-data-to-target.log)"
fi

want=$(queue_op_counts "$TEST_TMP/w.ndjson")
assert_eq "channel bookkeeping counts every event once" "$want" "$(channel_counts target)"
assert_eq "four channels recorded" 4 "$(psql_as target yugabyte -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"
assert_eq "per-table counts add up to the events" "$N" \
    "$(psql_as target yugabyte -c "SELECT sum(total_events) FROM ybvoyager_metadata.ybvoyager_imported_event_count_by_table")"
assert_eq "per-table counts name the case-sensitive table" "1" \
    "$(psql_as target yugabyte -c "SELECT count(DISTINCT table_name) FROM ybvoyager_metadata.ybvoyager_imported_event_count_by_table WHERE table_name = '\"Mixed Case\".\"Select\"'")"
assert_eq "last_applied_vsn never passes the last event" "t" \
    "$(psql_as target yugabyte -c "SELECT max(last_applied_vsn) = $((next - 1)) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"
segs=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*), sum(imported_by_target_db_importer), sum(imported_by_source_db_importer) from queue_segment').fetchone())" "$ED/metainfo/meta.db")
assert_match "several segments, all marked applied by the target importer only" '^\(([2-9]|[1-9][0-9]+), \1, 0\)$' "$segs"
assert_eq "cutover recorded for the target importer" true "$(status_get "$ED" CutoverProcessedByTargetImporter)"
assert_eq "sequences restored from the cutover values" "1234 true|77 false" \
    "$(psql_as target yugabyte -c "SELECT last_value || ' ' || is_called FROM public.seq_a UNION ALL SELECT last_value || ' ' || is_called FROM \"Mixed Case\".\"Seq B\"" | paste -sd'|')"

# A restart after the end applies nothing again.
before=$(channel_counts target)
check "a restart after the cutover succeeds" run_apply "$ED" target target
assert_match "and says there is nothing to do" "nothing to do" "$(cat "$TEST_TMP/apply.out")"
assert_eq "counts unchanged by the restart" "$before" "$(channel_counts target)"
compare_databases target ref yugabyte ref

# As if the importer died after its last batch but before recording anything in meta.db:
# the rerun reads past what every channel committed (each segment entered at a line found by
# bisection), skips the committed events it reads again, and applies nothing twice.
status_set "$ED" CutoverProcessedByTargetImporter false
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('update queue_segment set imported_by_target_db_importer = 0'); d.commit()" "$ED/metainfo/meta.db"
check "a rerun over a fully applied queue succeeds" run_apply "$ED" target target
assert_match "it read each segment from near its end (bisection by vsn), not from its start" \
    "queue: segment 0 read from byte [1-9][0-9]* on" "$(cat "$ED"/logs/yb-voyager-import-data-to-target.log)"
assert_match "and skipped the committed events it read again" "apply: [1-9][0-9]* event\\(s\\) skipped" \
    "$(cat "$ED"/logs/yb-voyager-import-data-to-target.log)"
assert_eq "counts unchanged by the rerun" "$before" "$(channel_counts target)"
compare_databases target ref yugabyte ref

# The same over bookkeeping of a version without queue_generation (the DDL runs only when
# something is missing), and with more --parallel-jobs than the 4 channels recorded (the
# channels connect in parallel; the surplus connections are closed).
status_set "$ED" CutoverProcessedByTargetImporter false
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('update queue_segment set imported_by_target_db_importer = 0'); d.commit()" "$ED/metainfo/meta.db"
psql_as target yugabyte -c "ALTER TABLE ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo DROP COLUMN queue_generation" >/dev/null
check "a rerun with --parallel-jobs 6 over older bookkeeping succeeds" run_apply "$ED" target target --parallel-jobs 6
assert_match "it keeps the 4 channels recorded, and says so on stderr" \
    "^warning: apply: --parallel-jobs 6 ignored: this migration's changes were routed to 4 channels" \
    "$(cat "$TEST_TMP/apply.err")"
assert_eq "the column is back, every row of the current generation" "4" \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo WHERE queue_generation IS NOT NULL")"
assert_eq "counts unchanged by that rerun" "$before" "$(channel_counts target)"
compare_databases target ref yugabyte ref

# On a terminal (and without --disable-pb) the metrics are redrawn in place.
psql_as target postgres -c "CREATE DATABASE tty OWNER voyager" >/dev/null
queue_schema_sql counters | psql_as target tty >/dev/null
ED3=$(new_export_dir)
v=$(queue_gen counters 2 3000 1 "$TEST_TMP/t3")
queue_append "$ED3" source_db_exporter "$TEST_TMP/t3.ndjson"
queue_cutover_event "$v" cutover.target source_db_exporter >"$TEST_TMP/c3.ndjson"
queue_append "$ED3" source_db_exporter "$TEST_TMP/c3.ndjson" --close
APPLY_DB=tty apply_cmd "$ED3" target target
VOYAGER_CDC_DRIVE=$(printf '%s\n' "$APPLY_ENV" | grep -v -x -e --disable-pb -e true) \
    script -qec "${APPLY_CMD[*]}" /dev/null >"$TEST_TMP/tty.out" 2>&1
assert_match "metrics drawn in place on a terminal" $'\033\\[2K\\| Remaining Events +\\| +0 \\|' "$(cat "$TEST_TMP/tty.out")"
assert_match "the grid is redrawn over itself" $'\033\\[11A' "$(cat "$TEST_TMP/tty.out")"

# A first run with more --parallel-jobs than the 64 channels one apply uses: said on stderr.
psql_as target postgres -c "CREATE DATABASE wide OWNER voyager" >/dev/null
queue_schema_sql counters | psql_as target wide >/dev/null
ED5=$(new_export_dir)
queue_append "$ED5" source_db_exporter "$TEST_TMP/t3.ndjson"
queue_append "$ED5" source_db_exporter "$TEST_TMP/c3.ndjson" --close
APPLY_DB=wide check "apply with --parallel-jobs 65" run_apply "$ED5" target target --parallel-jobs 65
assert_match "the cap is a warning on stderr naming the value used" \
    "^warning: apply: --parallel-jobs 65 lowered to 64: changes are applied over at most 64 channels" \
    "$(cat "$TEST_TMP/apply.err")"
assert_eq "64 channels" "64" \
    "$(psql_as target wide -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"

# import data --exclude-table-list: the changes of excluded tables are skipped.
psql_as target postgres -c "CREATE DATABASE filt OWNER voyager" >/dev/null
psql_as ref postgres -c "CREATE DATABASE filt OWNER voyager" >/dev/null
queue_schema_sql counters | psql_as target filt >/dev/null
queue_schema_sql counters | psql_as ref filt >/dev/null
psql_as ref filt -f "$TEST_TMP/t3.sql" >/dev/null
ED4=$(new_export_dir)
queue_append "$ED4" source_db_exporter "$TEST_TMP/t3.ndjson"
queue_append "$ED4" source_db_exporter "$TEST_TMP/c3.ndjson" --close
APPLY_DB=filt check "apply with --exclude-table-list" run_apply "$ED4" target target --exclude-table-list evlog
ctr_sum="SELECT count(*) || ' ' || md5(string_agg(c::text, ',' ORDER BY id)) FROM ctr c"
assert_eq "the included table got its changes" "$(psql_as ref filt -c "$ctr_sum")" "$(psql_as target filt -c "$ctr_sum")"
assert_eq "the excluded table got none" 0 "$(psql_as target filt -c "SELECT count(*) FROM evlog")"

# Bad input: a non-retryable error stops with the table, the vsn and the error.
ED2=$(new_export_dir)
printf '{"vsn":1,"op":"c","schema_name":"public","table_name":"uk","key":{"id":"1"},"fields":{"id":"1","code":"x","v":"not a number"},"exporter_role":"source_db_exporter"}\n' >"$TEST_TMP/bad.ndjson"
queue_append "$ED2" source_db_exporter "$TEST_TMP/bad.ndjson"
psql_as target yugabyte -c "SET client_min_messages = warning; DROP SCHEMA ybvoyager_metadata CASCADE" >/dev/null
expect_fail "a bad value stops the apply naming vsn, table and error" 5 \
    'vsn 1 \(insert on "public"."uk"\).*invalid input syntax for type integer' run_apply "$ED2" target target

done_testing
