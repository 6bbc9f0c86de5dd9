#!/bin/bash
# The queue generation, for the change applier of each role (import data to
# target, to source-replica and to source): a queue
# applied to its end, then started over as export data --start-clean does (new
# QueueGeneration, empty queue, vsn from 1) with fewer events than the old
# watermark. Without --start-clean the importer refuses (exit 3); with it, it
# forgets the old progress and applies the whole new queue: the database equals
# a reference that got both queues as SQL. import data to source --start-clean
# on the same generation is refused: it has no snapshot to reload.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }

for kind in target source-replica source; do
    case $kind in
    target) erole=source_db_exporter op=cutover.target done_key=CutoverProcessedByTargetImporter ;;
    source-replica) erole=source_db_exporter op=cutover.source_replica done_key=CutoverProcessedBySourceReplicaImporter ;;
    source) erole=target_db_exporter_fb op=cutover.source done_key=CutoverProcessedBySourceImporter ;;
    esac
    db=gen_${kind/-/_}
    psql_as target postgres -c "CREATE DATABASE $db OWNER voyager" >/dev/null
    psql_as ref postgres -c "CREATE DATABASE $db OWNER voyager" >/dev/null
    queue_schema_sql mixed | psql_as target "$db" >/dev/null
    queue_schema_sql mixed | psql_as ref "$db" >/dev/null
    ED=$(new_export_dir)
    v=$(queue_gen mixed 31 1500 1 "$TEST_TMP/$kind" "$erole")
    queue_append "$ED" "$erole" "$TEST_TMP/$kind.ndjson" --max-bytes 200000
    queue_cutover_event "$v" "$op" "$erole" >"$TEST_TMP/c.ndjson"
    queue_append "$ED" "$erole" "$TEST_TMP/c.ndjson" --close
    psql_as ref "$db" -f "$TEST_TMP/$kind.sql" >/dev/null
    APPLY_DB=$db check "$kind: the first queue is applied" run_apply "$ED" target "$kind" --parallel-jobs 3

    # export data --start-clean: a new generation, the queue emptied, vsn from 1
    status_set "$ED" QueueGeneration '"6c1d4a52-9a1e-4c57-9a53-0c6f4a1b2c3d"' "$done_key" false
    rm -f "$ED"/data/queue/*
    python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('delete from queue_segment'); d.execute('delete from queue_table_counts'); d.commit()" "$ED/metainfo/meta.db"
    v=$(queue_gen mixed 31 300 1 "$TEST_TMP/$kind" "$erole")
    queue_append "$ED" "$erole" "$TEST_TMP/$kind.ndjson"
    queue_cutover_event "$v" "$op" "$erole" >"$TEST_TMP/c.ndjson"
    queue_append "$ED" "$erole" "$TEST_TMP/c.ndjson" --close
    psql_as ref "$db" -f "$TEST_TMP/$kind.sql" >/dev/null

    APPLY_DB=$db expect_refusal "$kind: progress of the old queue, no --start-clean: refused" 3 \
        "queue that was started over since \(export data --start-clean\) hint: rerun with --start-clean true" \
        run_apply "$ED" target "$kind"
    APPLY_DB=$db check "$kind: --start-clean applies the new queue from its first event" \
        run_apply "$ED" target "$kind" --start-clean true
    assert_match "$kind: it says it forgot the old progress" "forgot the progress of the earlier change queue" \
        "$(cat "$TEST_TMP/apply.out")"
    compare_databases target ref "$db" "$db"
    assert_eq "$kind: every channel row is of the new generation" "6c1d4a52-9a1e-4c57-9a53-0c6f4a1b2c3d" \
        "$(psql_as target "$db" -c "SELECT string_agg(DISTINCT queue_generation, ',') FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo")"
done

status_set "$ED" CutoverProcessedBySourceImporter false
APPLY_DB=gen_source expect_fail "import data to source --start-clean on the queue it applied: refused" 2 \
    "would apply the target's changes to the source database a second time" \
    run_apply "$ED" target source --start-clean true
compare_databases target ref gen_source gen_source
done_testing
