#!/bin/bash
# 20 rounds of kill -9 of import data while the fault proxy drops its connections at
# random and withholds COMMIT answers (issue 11, defects 2 and 5): change apply (the
# mixed queue workload: keys, unique-key swaps, key moves, a table without a primary
# key), then a snapshot import. Each restart goes on from what the target committed;
# in the end the target equals the reference, every event counted exactly once.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/faultproxy.sh"
export YB_VOYAGER_RETRY_TIMEOUT=60
ROUNDS=${KILL_FAULT_ROUNDS:-20}
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
pg_start ref ref >/dev/null || { not_ok "ref cluster"; done_testing; exit 1; }
proxy_start tp "$TARGET_PORT" || { not_ok "proxy"; done_testing; exit 1; }
FAULTS=("drop_random 0.0001" "drop_after_commit every=150")

# sleep_ms MS
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# ---- change apply
psql_as target postgres -c "CREATE DATABASE mixed OWNER voyager" >/dev/null
queue_schema_sql mixed | psql_as target mixed >/dev/null
queue_schema_sql mixed | psql_as ref ref >/dev/null
ED=$(new_export_dir)
M=${KILL_FAULT_EVENTS:-15000}
next=$(queue_gen mixed 41 "$M" 1 "$TEST_TMP/m")
queue_append "$ED" source_db_exporter "$TEST_TMP/m.ndjson" --max-bytes 200000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
psql_as ref ref -f "$TEST_TMP/m.sql" >/dev/null || not_ok "reference workload applies"
proxy_rule tp "${FAULTS[@]}"
kills=0
for round in $(seq 1 "$ROUNDS"); do
    APPLY_DB=mixed APPLY_PORT=$TP_PROXY_PORT run_apply_bg "$ED" target target --parallel-jobs 3
    sleep_ms $((300 + RANDOM % 900))
    if kill -9 "$APPLY_PID" 2>/dev/null; then
        wait "$APPLY_PID" 2>/dev/null
        kills=$((kills + 1))
    else
        wait "$APPLY_PID"
        rc=$?
        [ "$rc" = 0 ] && break
        not_ok "a run ended by itself with exit $rc" "$(tail -3 "$TEST_TMP/apply.err")"
    fi
done
applied=$(channel_counts target mixed | awk '{print $1 + $2 + $3}')
echo "# change apply: killed $kills times, $applied events committed; proxy faults: $(proxy_fired tp)"
assert_match "killed many times while applying" '^([5-9]|[1-9][0-9]+)$' "$kills"
APPLY_DB=mixed APPLY_PORT=$TP_PROXY_PORT check "the last run (faults still on) runs to the end" \
    run_apply "$ED" target target --parallel-jobs 3
compare_databases ref target ref mixed
assert_eq "every event counted exactly once" "$((next - 1))" \
    "$(channel_counts target mixed | awk '{print $1 + $2 + $3}')"
LOG="$ED/logs/yb-voyager-import-data-to-target.log"
assert_eq "no duplicate key, no update/delete that found no row" "" \
    "$(grep -E 'duplicate key|found no row' "$LOG" | head -3)"

# ---- snapshot import
psql_as source sourcedb -c "CREATE TABLE keyed (id int PRIMARY KEY, v text)" \
    -c "INSERT INTO keyed SELECT g, md5(g::text) FROM generate_series(1, 150000) g" \
    -c "CREATE TABLE loose (a int, b text)" \
    -c "INSERT INTO loose SELECT g % 500, md5(g::text) FROM generate_series(1, 100000) g" >/dev/null
copy_schema source target || not_ok "schema"
conn_flags
SD=$(new_export_dir)
check "export data" "$VOYAGER" export data -e "$SD" "${SRC_FLAGS[@]}" --disable-pb true
PTGT=(--target-db-host 127.0.0.1 --target-db-port "$TP_PROXY_PORT" --target-db-user voyager --target-db-name yugabyte)
IMP=("$VOYAGER" import data -e "$SD" "${PTGT[@]}" --parallel-jobs 2 --batch-size 2000 --disable-pb true)
loaded() {
    psql_as target yugabyte -c "SELECT coalesce(sum(rows_imported), 0) FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3" 2>/dev/null || echo 0
}
kills=0
SR=$((ROUNDS / 2))
for round in $(seq 1 "$SR"); do
    # killed once a random point of its share of the rows is loaded, so every round dies mid-way
    goal=$(((round - 1) * 250000 / SR + RANDOM % (250000 / SR)))
    "${IMP[@]}" >>"$TEST_TMP/imp.out" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && [ "$(loaded)" -lt "$goal" ]; do sleep 0.05; done
    if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        kills=$((kills + 1))
    else
        wait "$pid"
        rc=$?
        [ "$rc" = 0 ] && break
        not_ok "a run ended by itself with exit $rc" "$(grep -hE '\] error: ' "$SD"/logs/*.log | tail -3)"
    fi
done
echo "# snapshot import: killed $kills times; proxy faults: $(proxy_fired tp)"
assert_match "killed several times while importing" '^([5-9]|[1-9][0-9]+)$' "$kills"
check "the last run (faults still on) runs to the end" "${IMP[@]}"
compare_databases source target
assert_eq "no duplicate key" "" "$(grep -h 'duplicate key' "$SD"/logs/*.log | head -3)"
proxy_stop tp
done_testing
