# The change-apply tests into "YugabyteDB" (test_yb_apply*.sh) start from the same place: a
# target behind YugabyteDB-personality nodes (yb.sh: NOT a YugabyteDB server), a reference
# cluster, and a closed queue of generated changes ending in the cutover event. Source after
# harness.sh, status.sh, queue.sh, faultproxy.sh and yb.sh.
#
#   yb_queue_setup NODES SEED N   # clusters target (db yugabyte) and ref (db ref) with
#                                 # queue_schema_sql mixed; NODES nodes yb1.. in front of the
#                                 # target; in a new export dir $ED, N changes (queue_gen
#                                 # seed SEED: $TEST_TMP/w.ndjson, segments of at most 300 kB)
#                                 # and the cutover event, queued by source_db_exporter; ref
#                                 # has applied the same changes serially ($TEST_TMP/w.sql).
#                                 # Ends the test when a cluster or node does not start.

yb_queue_setup() {
    local nodes=$1 seed=$2 n=$3 next
    pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
    queue_schema_sql mixed | psql_as target yugabyte >/dev/null
    queue_schema_sql mixed | psql_as ref ref >/dev/null
    yb_nodes_start target "$nodes" || { not_ok "yb nodes"; done_testing; exit 1; }
    ED=$(new_export_dir)
    next=$(queue_gen mixed "$seed" "$n" 1 "$TEST_TMP/w")
    queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 300000
    queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
    queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
    psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference workload applies"
}
