#!/bin/bash
# Sequences in a schema of their own (no table of the migration in it, listed in
# --source-db-schema) go both ways: the source's value reaches the target at cutover to
# target, and the value the application moved it to on the target comes back to the source at
# cutover to source. Before, export data from target read only the schemas of its tables: the
# source kept the old value, and nextval there repeated values the target had handed out.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/live.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/snapshot.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb || exit 1
pg_start target yugabyte || exit 1
conn_flags
SRC_FLAGS=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SOURCE_PORT"
    --source-db-user voyager --source-db-name sourcedb --source-db-schema public,seqs)
{
    live_schema_sql
    echo "CREATE SCHEMA seqs; CREATE SEQUENCE seqs.order_id; GRANT USAGE ON SCHEMA seqs TO voyager;
        GRANT ALL ON SEQUENCE seqs.order_id TO voyager;
        SELECT setval('seqs.order_id', 1000); SELECT setval('public.counter_seq', 1000);"
} | psql_as source sourcedb >/dev/null || exit 1
copy_schema source target || exit 1
live_start_exporter
check "snapshot exported" status_wait "$ED" ExportDataDone 60
check "export data streams" wait_streaming
live_start_importer
check "snapshot imported" status_wait "$ED" ImportDataDone 60
check "initiate cutover to target with fall-back" "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true
cutover_done() { "$V" cutover status -e "$ED" | grep -q "to $1 status: COMPLETED"; }
for i in $(seq 1 150); do cutover_done target && break; sleep 0.4; done
check "cutover to target completed" cutover_done target
assert_eq "the sequence of the schema without tables reached the target" 1000 \
    "$(psql_as target yugabyte -c "SELECT last_value FROM seqs.order_id")"
# the application, now on the target, moves both sequences on
psql_as target yugabyte -c "SELECT setval('seqs.order_id', 5000); SELECT setval('public.counter_seq', 5000)" >/dev/null
check "initiate cutover to source" "$V" initiate cutover to source -e "$ED"
for i in $(seq 1 150); do cutover_done source && break; sleep 0.4; done
check "cutover to source completed" cutover_done source
assert_eq "public.counter_seq handed back to the source" 5000 \
    "$(psql_as source sourcedb -c "SELECT last_value FROM public.counter_seq")"
assert_eq "seqs.order_id (a schema without tables) handed back to the source" 5000 \
    "$(psql_as source sourcedb -c "SELECT last_value FROM seqs.order_id")"
wait_exit "$EXP_PID" 60 >/dev/null
wait_exit "$IMP_PID" 60 >/dev/null
done_testing
