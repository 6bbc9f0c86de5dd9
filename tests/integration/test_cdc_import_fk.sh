#!/bin/bash
# Foreign keys without the replica role (issue 11, defect 4): the target user is no
# superuser, so session_replication_role cannot be set and every foreign key is checked
# as changes apply. Parents, children (ON DELETE CASCADE), grandchildren (NO ACTION) and
# a self-referencing table get inserts and deletes interleaved so that only source order
# satisfies the keys; applied with 4 channels, in two runs, then compared with a reference
# that got the same changes serially. The same queue applied by a superuser (replica role)
# must still end equal.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
OW="$HARNESS_DIR/order_workloads.py"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
pwlit=${VOYAGER_PW//\'/\'\'}
psql_as target postgres -c "CREATE ROLE limited LOGIN PASSWORD '$pwlit'" >/dev/null
psql_as target postgres -c "CREATE DATABASE fkdb OWNER limited" >/dev/null
python3 "$OW" schema fk | psql_as target fkdb -c "SET ROLE limited" -f - >/dev/null
python3 "$OW" schema fk | psql_as target yugabyte >/dev/null
python3 "$OW" schema fk | psql_as ref ref >/dev/null
next=$(python3 "$OW" gen fk 5 5000 1 "$TEST_TMP/w")
psql_as ref ref -f "$TEST_TMP/w.sql" >/dev/null || not_ok "reference workload applies"
head -n 2500 "$TEST_TMP/w.ndjson" >"$TEST_TMP/w1.ndjson"
tail -n +2501 "$TEST_TMP/w.ndjson" >"$TEST_TMP/w2.ndjson"
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"

# run_limited ED [flags]: the applier as user "limited" on database fkdb (foreground / background)
limited_cmd() {
    APPLY_DB=${APPLY_DB:-fkdb} apply_cmd "$@"
    APPLY_ENV=$(printf '%s\n' "$APPLY_ENV" | sed '/^--target-db-user$/{n;s/.*/limited/}')
}

ED=$(new_export_dir)
queue_append "$ED" source_db_exporter "$TEST_TMP/w1.ndjson" --max-bytes 300000
limited_cmd "$ED" target target --parallel-jobs 4
VOYAGER_CDC_DRIVE=$APPLY_ENV "${APPLY_CMD[@]}" >"$TEST_TMP/apply1.out" 2>"$TEST_TMP/apply1.err" &
pid=$!
for _ in $(seq 1 300); do
    [ "$(channel_counts target fkdb | awk '{print $1 + $2 + $3}')" = 2500 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
done
assert_eq "the first run applied the first half" 2500 "$(channel_counts target fkdb | awk '{print $1 + $2 + $3}')"
assert_match "it says why and what to grant" \
    'session_replication_role.*GRANT SET ON PARAMETER session_replication_role TO' "$(tr '\n' ' ' <"$TEST_TMP/apply1.err")"
kill -INT "$pid" 2>/dev/null
wait_exit "$pid" 30 >/dev/null
queue_append "$ED" source_db_exporter "$TEST_TMP/w2.ndjson" --max-bytes 300000
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
limited_cmd "$ED" target target
VOYAGER_CDC_DRIVE=$APPLY_ENV "${APPLY_CMD[@]}" >"$TEST_TMP/apply2.out" 2>"$TEST_TMP/apply2.err"
assert_eq "the second run applies the rest to the end-of-stream event" 0 "$?"
compare_databases target ref fkdb ref
assert_eq "no foreign-key violation reached the database (none retried)" "" \
    "$(grep -hE 'violates|will retry|failed' "$TEST_TMP/apply1.err" "$TEST_TMP/apply2.err" | head -3)"
LOG="$ED/logs/yb-voyager-import-data-to-target.log"
assert_match "the linked tables share one channel" 'table "public"."toy": .*one channel' "$(cat "$LOG")"
assert_match "the table without foreign keys keeps the parallel path" \
    'table "public"."loose": 1 primary-key column\(s\), 0 unique key' "$(cat "$LOG")"

# Killed mid-way without the replica role, restarted by a superuser: the linked tables must
# stay on the channel they were routed to (a channel's progress only covers its own events).
psql_as target postgres -c "CREATE DATABASE fkdb2 OWNER limited" >/dev/null
python3 "$OW" schema fk | psql_as target fkdb2 -c "SET ROLE limited" -f - >/dev/null
ED3=$(new_export_dir)
queue_append "$ED3" source_db_exporter "$TEST_TMP/w1.ndjson" --max-bytes 300000
APPLY_DB=fkdb2 limited_cmd "$ED3" target target --parallel-jobs 4
VOYAGER_CDC_DRIVE=$APPLY_ENV "${APPLY_CMD[@]}" >"$TEST_TMP/apply3.out" 2>"$TEST_TMP/apply3.err" &
pid=$!
for _ in $(seq 1 300); do
    [ "$(channel_counts target fkdb2 | awk '{print $1 + $2 + $3}')" = 2500 ] && break
    sleep 0.2
done
# One channel is held on a row lock (the first update of the second half on a row of "loose"
# that exists after the first half) while the others run ahead; then the applier is killed.
row=$(python3 - "$TEST_TMP/w1.ndjson" "$TEST_TMP/w2.ndjson" <<'PY'
import json, sys
have = set()
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["table_name"] == "loose":
        (have.add if e["op"] == "c" else have.discard if e["op"] == "d" else (lambda k: None))(e["key"]["id"])
for l in open(sys.argv[2]):
    e = json.loads(l)
    if e["table_name"] == "loose" and e["op"] == "u" and e["key"]["id"] in have:
        print(e["key"]["id"]); break
PY
)
PGAPPNAME=locker psql_as target fkdb2 -c "BEGIN; SELECT 1 FROM loose WHERE id = $row FOR UPDATE; SELECT pg_sleep(120); COMMIT" >/dev/null 2>&1 &
locker=$!
for _ in $(seq 1 50); do
    [ "$(psql_as target fkdb2 -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'locker' AND wait_event = 'PgSleep'")" = 1 ] && break
    sleep 0.1
done
queue_append "$ED3" source_db_exporter "$TEST_TMP/w2.ndjson" --max-bytes 300000
queue_append "$ED3" source_db_exporter "$TEST_TMP/c.ndjson" --close
prev=-1
for _ in $(seq 1 150); do
    now=$(channel_counts target fkdb2 | awk '{print $1 + $2 + $3}')
    waiting=$(psql_as target fkdb2 -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'yb-voyager-apply' AND wait_event_type = 'Lock'")
    [ "$waiting" -ge 1 ] && [ "$now" = "$prev" ] && break
    prev=$now
    sleep 0.3
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
# the killed applier's sessions still hold a sent batch: end them before the lock goes
psql_as target fkdb2 -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ('yb-voyager-apply', 'yb-voyager') OR (application_name <> 'locker' AND usename = 'limited')" >/dev/null
psql_as target fkdb2 -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'locker'" >/dev/null
wait "$locker" 2>/dev/null
applied=$(channel_counts target fkdb2 | awk '{print $1 + $2 + $3}')
echo "# killed after $applied events, channels at $(psql_as target fkdb2 -c "SELECT string_agg(last_applied_vsn::text, ' ' ORDER BY channel_no) FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo" 2>/dev/null)"
assert_eq "killed with one channel behind" yes "$([ "$applied" -gt 2500 ] && [ "$applied" -lt 5000 ] && echo yes || echo "no ($applied applied)")"
APPLY_DB=fkdb2 check "a superuser finishes it" run_apply "$ED3" target target
compare_databases target ref fkdb2 ref
assert_eq "the linked tables kept their recorded channel in both runs" 2 \
    "$(grep -c 'table "public"."child": all its changes go through one channel' "$ED3/logs/yb-voyager-import-data-to-target.log")"

# The other way round: a superuser applied in parallel (replica role) and stopped; the same
# migration without the role cannot know its foreign keys hold: refused with the GRANT to run.
psql_as target postgres -c "CREATE DATABASE fkdb3 OWNER limited" >/dev/null
python3 "$OW" schema fk | psql_as target fkdb3 -c "SET ROLE limited" -f - >/dev/null
ED4=$(new_export_dir)
queue_append "$ED4" source_db_exporter "$TEST_TMP/w1.ndjson" --max-bytes 300000
APPLY_DB=fkdb3 run_apply_bg "$ED4" target target --parallel-jobs 4
for _ in $(seq 1 300); do
    [ "$(channel_counts target fkdb3 | awk '{print $1 + $2 + $3}')" = 2500 ] && break
    sleep 0.2
done
kill -INT "$APPLY_PID" 2>/dev/null
wait_exit "$APPLY_PID" 30 >/dev/null
psql_as target fkdb3 -c "REASSIGN OWNED BY voyager TO limited" >/dev/null # its bookkeeping tables
queue_append "$ED4" source_db_exporter "$TEST_TMP/w2.ndjson" --max-bytes 300000
before=$(channel_counts target fkdb3)
APPLY_DB=fkdb3 limited_cmd "$ED4" target target
expect_fail "without the role after a parallel run: refused with the GRANT to run" 5 \
    'GRANT SET ON PARAMETER session_replication_role TO "limited";.*run the same command again' \
    env VOYAGER_CDC_DRIVE="$APPLY_ENV" "${APPLY_CMD[@]}"
assert_eq "and nothing applied" "$before" "$(channel_counts target fkdb3)"

ED2=$(new_export_dir)
queue_append "$ED2" source_db_exporter "$TEST_TMP/w1.ndjson" --max-bytes 300000
queue_append "$ED2" source_db_exporter "$TEST_TMP/w2.ndjson" --max-bytes 300000
queue_append "$ED2" source_db_exporter "$TEST_TMP/c.ndjson" --close
check "a superuser (replica role) applies the same queue" run_apply "$ED2" target target --parallel-jobs 4
compare_databases target ref yugabyte ref
assert_eq "no foreign-key violation there either" "" "$(grep -E 'violates|will retry' "$TEST_TMP/apply.err" | head -3)"
LOG2="$ED2/logs/yb-voyager-import-data-to-target.log"
assert_match "with the replica role linked tables stay parallel" \
    'table "public"."toy": 1 primary-key column\(s\), 0 unique key' "$(cat "$LOG2")"
done_testing
