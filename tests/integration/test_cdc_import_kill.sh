#!/bin/bash
# Exactly-once apply under kill -9: a long queue (200k events; every update sets a
# counter row to its vsn and counts its updates, every insert adds a row keyed by its
# vsn, deletes remove them, a few move a row to a new key) is applied while the
# applier is killed with SIGKILL at random moments, at least five times, and
# restarted. At the end the target equals the serially applied reference, and the
# bookkeeping counted every event exactly once (a batch applied twice would count
# twice; an insert applied twice would fail on its key; a skipped event would leave
# a counter or a row behind).
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
queue_schema_sql counters | psql_as target yugabyte >/dev/null
queue_schema_sql counters | psql_as ref ref >/dev/null
ED=$(new_export_dir)
N=${CDC_KILL_EVENTS:-200000}
next=$(queue_gen counters 11 "$N" 1 "$TEST_TMP/w")
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 2000000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference workload applies"

kills=0
progress=()
applied_now() { channel_counts target ${1:-} 2>/dev/null | awk '{n = $1 + $2 + $3} END {print n + 0}'; }
# Kill once the applier passed a random point of each eighth of the queue, so that
# at least five kills land mid-run however fast the machine is.
for round in 1 2 3 4 5 6 7; do
    goal=$((round * N / 8 + RANDOM % (N / 16)))
    run_apply_bg "$ED" target target --parallel-jobs 4
    while kill -0 "$APPLY_PID" 2>/dev/null && [ "$(applied_now)" -lt "$goal" ]; do sleep 0.02; done
    if kill -0 "$APPLY_PID" 2>/dev/null; then
        kill -9 "$APPLY_PID"
        wait "$APPLY_PID" 2>/dev/null
        kills=$((kills + 1))
        progress+=("$(applied_now)")
    else
        wait "$APPLY_PID"
        break
    fi
done
echo "# killed $kills times; events committed at each kill: ${progress[*]}"
assert_match "killed at least five times while applying" '^([5-9]|[1-9][0-9]+)$' "$kills"
distinct=$(printf '%s\n' "${progress[@]}" | sort -u | wc -l)
assert_match "each run made progress before its kill" "^[2-9]|^[1-9][0-9]" "$distinct"

check "the last restart runs to the end" run_apply "$ED" target target
compare_databases target ref yugabyte ref
want=$(queue_op_counts "$TEST_TMP/w.ndjson")
assert_eq "every event counted exactly once in the channel bookkeeping" "$want" "$(channel_counts target)"
assert_eq "and in the per-table bookkeeping" "$N" \
    "$(psql_as target yugabyte -c "SELECT sum(total_events) FROM ybvoyager_metadata.ybvoyager_imported_event_count_by_table")"
skipped=$(grep -o 'apply: [0-9]* event(s) skipped' "$ED/logs/yb-voyager-import-data-to-target.log" | awk '{s += $2} END {print s + 0}')
assert_match "restarts skipped what had committed" '^[1-9]' "$skipped"
assert_eq "no update or delete missed its row" "" "$(grep 'found no row' "$ED/logs/yb-voyager-import-data-to-target.log")"

# The same with the mixed workload: unique-key swaps across channels, primary-key moves
# (barriers), every type, a table without a primary key.
psql_as target postgres -c "CREATE DATABASE mixed OWNER voyager" >/dev/null
psql_as ref postgres -c "CREATE DATABASE mixed OWNER voyager" >/dev/null
queue_schema_sql mixed | psql_as target mixed >/dev/null
queue_schema_sql mixed | psql_as ref mixed >/dev/null
ED2=$(new_export_dir)
M=${CDC_KILL_MIXED_EVENTS:-30000}
next=$(queue_gen mixed 12 "$M" 1 "$TEST_TMP/m")
queue_append "$ED2" source_db_exporter "$TEST_TMP/m.ndjson" --max-bytes 300000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/mc.ndjson"
queue_append "$ED2" source_db_exporter "$TEST_TMP/mc.ndjson" --close
psql_as ref mixed -f "$TEST_TMP/m.sql" >/dev/null || not_ok "reference mixed workload applies"
kills=0
for round in 1 2 3 4 5 6 7; do
    goal=$((round * M / 8 + RANDOM % (M / 16)))
    APPLY_DB=mixed run_apply_bg "$ED2" target target --parallel-jobs 4
    while kill -0 "$APPLY_PID" 2>/dev/null && [ "$(applied_now mixed)" -lt "$goal" ]; do sleep 0.02; done
    if kill -0 "$APPLY_PID" 2>/dev/null; then
        kill -9 "$APPLY_PID"
        wait "$APPLY_PID" 2>/dev/null
        kills=$((kills + 1))
    else
        wait "$APPLY_PID"
        break
    fi
done
echo "# mixed: killed $kills times"
assert_match "mixed: killed at least five times while applying" '^([5-9]|[1-9][0-9]+)$' "$kills"
APPLY_DB=mixed check "mixed: the last restart runs to the end" run_apply "$ED2" target target
compare_databases target ref mixed mixed
assert_eq "mixed: every event counted exactly once" "$((next - 1))" \
    "$(channel_counts target mixed | awk '{print $1 + $2 + $3}')"
assert_eq "mixed: no update or delete missed its row, no unique conflict hit the database" "" \
    "$(grep -E 'found no row|duplicate key' "$ED2/logs/yb-voyager-import-data-to-target.log")"
done_testing
