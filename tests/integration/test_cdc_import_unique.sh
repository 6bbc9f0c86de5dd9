#!/bin/bash
# Unique values handed from row to row (issue 11, defect 10): through a lower(email)
# expression index, a partial unique index, a multi-column unique key with NULLs, a
# UNIQUE NULLS NOT DISTINCT column and a numeric unique column (1.5 and 1.50 collide
# though their text differs). Applied with 4 channels, then compared with a reference
# that got the same changes serially; no unique violation may reach the database, and
# the table without such indexes still shares multi-row statements.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
OW="$HARNESS_DIR/order_workloads.py"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
python3 "$OW" schema unique | psql_as target yugabyte >/dev/null
python3 "$OW" schema unique | psql_as ref ref >/dev/null
ED=$(new_export_dir)
next=$(python3 "$OW" gen unique 11 6000 1 "$TEST_TMP/w")
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference workload applies"
# Two runs: the first stops half-way (routing must be the same after a restart).
head -n 3000 "$TEST_TMP/w.ndjson" >"$TEST_TMP/w1.ndjson"
tail -n +3001 "$TEST_TMP/w.ndjson" >"$TEST_TMP/w2.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/w1.ndjson" --max-bytes 400000
run_apply_bg "$ED" target target --parallel-jobs 4
for _ in $(seq 1 300); do
    [ "$(channel_counts target | awk '{print $1 + $2 + $3}')" = 3000 ] && break
    kill -0 "$APPLY_PID" 2>/dev/null || break
    sleep 0.2
done
assert_eq "the first run applied the first half" 3000 "$(channel_counts target | awk '{print $1 + $2 + $3}')"
kill -INT "$APPLY_PID" 2>/dev/null
wait_exit "$APPLY_PID" 30 >/dev/null
queue_append "$ED" source_db_exporter "$TEST_TMP/w2.ndjson" --max-bytes 400000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close

check "the second run applies the rest to the end-of-stream event" run_apply "$ED" target target
compare_databases target ref yugabyte ref
assert_eq "no unique violation reached the database (none retried)" "" \
    "$(grep -E 'duplicate key|will retry|failed' "$TEST_TMP/apply.err" | head -3)"
assert_eq "every update and delete found its row" "" "$(grep 'found no row' "$TEST_TMP/apply.err")"
LOG="$ED/logs/yb-voyager-import-data-to-target.log"
assert_match "the expression-index table keeps source order in one channel" \
    'table "public"."u_expr": .*one channel' "$(cat "$LOG")"
assert_match "a plain integer unique key keeps the parallel path" \
    'table "public"."u_multi": 1 primary-key column\(s\), 1 unique key\(s\) followed by value, 0 not' "$(cat "$LOG")"
if [ "${BUILD:-build}" = build ]; then
    assert_match "like events still share multi-row statements" \
        "apply: [1-9][0-9]* event\\(s\\) applied through multi-row" "$(cat "$LOG")"
fi

# An expression index created on the target between two runs: the first run routed the table
# by key (recorded), so the second applies each of its changes alone, in order.
psql_as target postgres -c "CREATE DATABASE late OWNER voyager" >/dev/null
python3 "$OW" schema unique | psql_as target late >/dev/null
psql_as target late -c "DROP INDEX u_expr_email" >/dev/null
LATE=$(new_export_dir)
queue_append "$LATE" source_db_exporter "$TEST_TMP/w1.ndjson" --max-bytes 400000
APPLY_DB=late run_apply_bg "$LATE" target target --parallel-jobs 4
for _ in $(seq 1 300); do
    [ "$(APPLY_DB=late channel_counts target late | awk '{print $1 + $2 + $3}')" = 3000 ] && break
    sleep 0.2
done
kill -INT "$APPLY_PID" 2>/dev/null
wait_exit "$APPLY_PID" 30 >/dev/null
psql_as target late -c "CREATE UNIQUE INDEX u_expr_email ON public.u_expr (lower(email))" >/dev/null
queue_append "$LATE" source_db_exporter "$TEST_TMP/w2.ndjson" --max-bytes 400000
queue_append "$LATE" source_db_exporter "$TEST_TMP/c.ndjson" --close
APPLY_DB=late check "an index added between runs: the rest applies" run_apply "$LATE" target target
compare_databases target ref late ref
assert_match "its changes were applied alone" 'u_expr.*applied alone' "$(cat "$TEST_TMP/apply.err")"
assert_eq "no unique violation reached the database" "" \
    "$(grep -E 'duplicate key|will retry|failed' "$TEST_TMP/apply.err" | head -3)"

# Fall-back: the source importer applies the same hand-overs, captured on the target.
psql_as target postgres -c "CREATE DATABASE fb OWNER voyager" >/dev/null
python3 "$OW" schema unique | psql_as target fb >/dev/null
FB=$(new_export_dir)
sed 's/"source_db_exporter"/"target_db_exporter_fb"/' "$TEST_TMP/w.ndjson" >"$TEST_TMP/fb.ndjson"
queue_append "$FB" target_db_exporter_fb "$TEST_TMP/fb.ndjson" --max-bytes 400000
queue_cutover_event "$next" cutover.source target_db_exporter_fb >"$TEST_TMP/cfb.ndjson"
queue_append "$FB" target_db_exporter_fb "$TEST_TMP/cfb.ndjson" --close
APPLY_DB=fb check "fall-back: the source importer applies them with 4 channels" run_apply "$FB" target source --parallel-jobs 4
compare_databases target ref fb ref
assert_eq "fall-back: no unique violation reached the database" "" \
    "$(grep -E 'duplicate key|will retry|failed' "$TEST_TMP/apply.err" | head -3)"
done_testing
