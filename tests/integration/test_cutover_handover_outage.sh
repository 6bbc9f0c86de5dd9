#!/bin/bash
# At the cutover to target with fall-back, import data turns into export data from target and
# export data into import data to source. A database refusing new connections at that moment
# (restarting, or a network blip) ended the new command at once (exit 5 / exit 4): the cutover
# stayed INITIATED, or the target's changes waited in the queue, until the operator restarted
# it by hand (review-chaos findings 1, 2). Both now wait out the outage under the retry policy,
# as every other phase does: the cutover completes by itself, the target's changes reach the
# source, and the cutover back to the source ends with equal databases.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/faultproxy.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
pg_start source sourcedb >/dev/null && pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
psql_as source sourcedb -c "CREATE TABLE t (id int PRIMARY KEY, v text); ALTER TABLE t REPLICA IDENTITY FULL;
    INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g" >/dev/null
proxy_start src "$SOURCE_PORT" && proxy_start tgt "$TARGET_PORT" || { not_ok "proxies"; done_testing; exit 1; }
ED=$(new_export_dir)
SRC=(--source-db-type postgresql --source-db-host 127.0.0.1 --source-db-port "$SRC_PROXY_PORT" --source-db-user voyager
    --source-db-name sourcedb --source-db-schema public)
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TGT_PROXY_PORT" --target-db-user voyager --target-db-name yugabyte)
check "export schema" "$V" export schema -e "$ED" "${SRC[@]}"
check "import schema" "$V" import schema -e "$ED" "${TGT[@]}"
"$V" export data -e "$ED" "${SRC[@]}" --export-type snapshot-and-changes --disable-pb true >"$TEST_TMP/exp.out" 2>&1 &
EXP=$!
check "snapshot exported" status_wait "$ED" ExportDataDone 60
"$V" import data -e "$ED" "${TGT[@]}" --disable-pb true >"$TEST_TMP/imp.out" 2>&1 &
IMP=$!
psql_as source sourcedb -c "UPDATE t SET v = v || 'x' WHERE id <= 10" >/dev/null
caught_up() { [ "$(psql_as target yugabyte -c "SELECT count(*) FROM t WHERE v LIKE '%x'" 2>/dev/null)" = 10 ]; }
wait_for() { local i; for i in $(seq 1 "$1"); do "${@:2}" && return 0; sleep 0.5; done; return 1; }
check "the target caught up" wait_for 120 caught_up

# both databases refuse new connections for 12 s from just before the cutover
proxy_rule src 'refuse 12'
proxy_rule tgt 'refuse 12'
check "initiate cutover to target --prepare-for-fall-back" "$V" initiate cutover to target -e "$ED" --prepare-for-fall-back true
sleep 6
check "import data, turned into export data from target, waits out the target's outage" kill -0 "$IMP"
check "export data, turned into import data to source, waits out the source's outage" kill -0 "$EXP"
completed() { "$V" cutover status -e "$ED" 2>/dev/null | grep -q 'cutover to target status: COMPLETED'; }
check "after the outage the cutover to target completes by itself" wait_for 120 completed
assert_match "the outage was a wait, not an error" "retry|reconnect|waiting|unreachable|refused" \
    "$(grep -ihE 'warning' "$TEST_TMP/imp.out" "$TEST_TMP/exp.out" | tr '\n' ' ')"

psql_as target yugabyte -c "INSERT INTO t VALUES (1000, 'written on the target'); UPDATE t SET v = 'back' WHERE id = 1" >/dev/null
back() { [ "$(psql_as source sourcedb -c "SELECT count(*) FROM t WHERE id = 1000 OR v = 'back'")" = 2 ]; }
check "the target's changes reach the source" wait_for 120 back
check "initiate cutover to source" "$V" initiate cutover to source -e "$ED"
to_source() { "$V" cutover status -e "$ED" 2>/dev/null | grep -q 'cutover to source status: COMPLETED'; }
check "the cutover to source completes" wait_for 120 to_source
wait_exit "$IMP" 60 >/dev/null
wait_exit "$EXP" 60 >/dev/null
compare_databases source target
done_testing
