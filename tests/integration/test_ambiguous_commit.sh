#!/bin/bash
# Ambiguous COMMIT (issue 11, defect 2): the fault proxy closes the connection right
# after the server committed a batch, before the client reads the answer. The batch
# must count as committed, not be applied again: tables without a primary key would
# get duplicate rows (and replayed updates/deletes a second identical row), tables
# with one a duplicate-key error until the importer gives up.
#   1. change apply (the mixed queue workload: keyed tables, a table without a key)
#   2. snapshot batches (import data, a table with and one without a primary key)
#   3. the progress UPDATE is guarded: a stale writer cannot move it back
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
. "$HARNESS_DIR/snapshot.sh"
. "$HARNESS_DIR/faultproxy.sh"
export YB_VOYAGER_RETRY_TIMEOUT=60
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
pg_start ref ref >/dev/null || { not_ok "ref cluster"; done_testing; exit 1; }

# ---- 1. change apply
psql_as target postgres -c "CREATE DATABASE mixed OWNER voyager" >/dev/null
queue_schema_sql mixed | psql_as target mixed >/dev/null
queue_schema_sql mixed | psql_as ref ref >/dev/null
ED=$(new_export_dir)
M=${AMBIGUOUS_EVENTS:-6000}
next=$(queue_gen mixed 21 "$M" 1 "$TEST_TMP/m")
queue_append "$ED" source_db_exporter "$TEST_TMP/m.ndjson" --max-bytes 200000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
psql_as ref ref -f "$TEST_TMP/m.sql" >/dev/null || not_ok "reference workload applies"
nopk=$(psql_as ref ref -c "SELECT count(*) FROM public.nopk")
assert_match "the workload leaves rows in the table without a primary key" '^[1-9]' "$nopk"

proxy_start tp "$TARGET_PORT" || { not_ok "proxy"; done_testing; exit 1; }
# every 40th COMMIT the server makes is never answered (batches of every channel, both tables)
proxy_rule tp "drop_after_commit every=40"
APPLY_DB=mixed APPLY_PORT=$TP_PROXY_PORT check "change apply through ambiguous COMMITs runs to the end" \
    run_apply "$ED" target target --parallel-jobs 3
fired=$(proxy_fired tp "COMMIT reply withheld")
echo "# ambiguous COMMITs during change apply: $fired"
assert_match "the proxy withheld several COMMIT answers" '^([3-9]|[1-9][0-9]+)$' "$fired"
compare_databases ref target ref mixed
assert_eq "every event counted exactly once" "$((next - 1))" \
    "$(channel_counts target mixed | awk '{print $1 + $2 + $3}')"
LOG="$ED/logs/yb-voyager-import-data-to-target.log"
assert_match "replays were recognised as committed" '[1-9]' \
    "$(grep -c 'committed before the connection dropped' "$LOG")"
assert_eq "no duplicate key, no update/delete that found no row" "" \
    "$(grep -E 'duplicate key|found no row' "$LOG")"

# the table without a primary key alone (above, the keyed tables fail first on old code):
# its events only, applied with ambiguous COMMITs and without faults, must agree
for db in nopk_faults nopk_clean; do
    psql_as target postgres -c "CREATE DATABASE $db OWNER voyager" >/dev/null
    queue_schema_sql mixed | psql_as target "$db" >/dev/null
done
python3 - "$TEST_TMP/m.ndjson" >"$TEST_TMP/nopk.ndjson" <<'PY2'
import json, sys
v = 0
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e.get("table_name") == "nopk":
        v += 1
        e["vsn"] = v
        print(json.dumps(e))
print(json.dumps({"vsn": v + 1, "op": "cutover.target", "exporter_role": "source_db_exporter"}))
PY2
ED3=$(new_export_dir)
queue_append "$ED3" source_db_exporter "$TEST_TMP/nopk.ndjson" --close
ED4=$(new_export_dir)
queue_append "$ED4" source_db_exporter "$TEST_TMP/nopk.ndjson" --close
echo "# events of the table without a primary key: $(($(wc -l <"$TEST_TMP/nopk.ndjson") - 1))"
APPLY_DB=nopk_clean check "no primary key: apply without faults" run_apply "$ED4" target target
proxy_rule tp "drop_after_commit every=2"
APPLY_DB=nopk_faults APPLY_PORT=$TP_PROXY_PORT check "no primary key: apply through ambiguous COMMITs" \
    run_apply "$ED3" target target
assert_eq "no primary key: no duplicate or missing row" \
    "$(psql_as target nopk_clean -c "SELECT count(*), md5(string_agg(x::text || ':' || coalesce(y, '~'), ',' ORDER BY x, y)) FROM nopk")" \
    "$(psql_as target nopk_faults -c "SELECT count(*), md5(string_agg(x::text || ':' || coalesce(y, '~'), ',' ORDER BY x, y)) FROM nopk")"
fired=$(proxy_fired tp "COMMIT reply withheld")

# ---- 3. the guard: a batch that does not follow the channel's progress cannot commit
ch0=$(psql_as target mixed -c "SELECT last_applied_vsn FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo WHERE channel_no = 0")
# the statement exactly as the importer sends it (the macro, through the preprocessor)
stale=$(printf '#include "source/pg_bookkeeping.h"\nCDC_SQL_CHANNEL_PROGRESS\n' |
    cc -E -P -I "$REPO_ROOT/src" -I/usr/include/postgresql - 2>/dev/null | tail -1 |
    python3 -c 'import ast, re, sys; print("".join(ast.literal_eval(t) for t in re.findall(r"\"(?:[^\"\\\\]|\\\\.)*\"", sys.stdin.read())))')
assert_match "the progress update is guarded" 'last_applied_vsn = \$7' "$stale"
uuid=$(psql_as target mixed -c "SELECT migration_uuid FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo LIMIT 1")
prep="PREPARE p(uuid, int, bigint, bigint, bigint, bigint, bigint) AS $stale"
err=$(psql_as target mixed -c "$prep" -c "EXECUTE p('$uuid', 0, 1, 0, 0, 0, $ch0)" 2>&1)
assert_match "a progress update behind the progress fails its transaction" 'stale batch' "$err"
err=$(psql_as target mixed -c "$prep" -c "EXECUTE p('$uuid', 0, $((ch0 + 10)), 0, 0, 0, $((ch0 - 1)))" 2>&1)
assert_match "so does one past it that follows an older progress (a killed importer's restart)" \
    'stale batch' "$err"
assert_eq "one that follows the progress moves it (rolled back here)" "1" \
    "$(psql_as target mixed -c "BEGIN" -c "$prep" -c "EXECUTE p('$uuid', 0, $((ch0 + 10)), 0, 0, 0, $ch0)" \
        -c "ROLLBACK" | grep -x 1)"
assert_eq "and leaves the progress where it was" "$ch0" \
    "$(psql_as target mixed -c "SELECT last_applied_vsn FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo WHERE channel_no = 0")"

# ---- 2. snapshot batches
psql_as source sourcedb -c "CREATE TABLE keyed (id int PRIMARY KEY, v text)" \
    -c "INSERT INTO keyed SELECT g, md5(g::text) FROM generate_series(1, 20000) g" \
    -c "CREATE TABLE loose (a int, b text)" \
    -c "INSERT INTO loose SELECT g % 500, repeat('x', g % 7) FROM generate_series(1, 20000) g" >/dev/null
copy_schema source target || not_ok "schema"
conn_flags
SD=$(new_export_dir)
check "export data" "$VOYAGER" export data -e "$SD" "${SRC_FLAGS[@]}" --disable-pb true
proxy_rule tp "drop_after_commit every=3"
PTGT=(--target-db-host 127.0.0.1 --target-db-port "$TP_PROXY_PORT" --target-db-user voyager --target-db-name yugabyte)
# the table without a primary key first, alone: on old code the keyed table's 23505 stops the import before
check "import data (the table without a primary key) through ambiguous COMMITs" \
    "$VOYAGER" import data -e "$SD" "${PTGT[@]}" --table-list loose --parallel-jobs 2 --batch-size 1000 --disable-pb true
assert_eq "no primary key: the snapshot import loaded each row once" \
    "$(psql_as source sourcedb -c "SELECT count(*), md5(string_agg(a || b, ',' ORDER BY a, b)) FROM loose")" \
    "$(psql_as target yugabyte -c "SELECT count(*), md5(string_agg(a || b, ',' ORDER BY a, b)) FROM loose")"
check "import data (every table) through ambiguous COMMITs runs to the end" \
    "$VOYAGER" import data -e "$SD" "${PTGT[@]}" --parallel-jobs 2 --batch-size 1000 --disable-pb true
fired2=$(( $(proxy_fired tp "COMMIT reply withheld") - fired ))
echo "# ambiguous COMMITs during the snapshot import: $fired2"
assert_match "the proxy withheld several COMMIT answers" '^([3-9]|[1-9][0-9]+)$' "$fired2"
compare_databases source target
ILOG="$SD/logs/yb-voyager-import-data.log"
assert_match "replayed batches were recognised as loaded" '[1-9]' \
    "$(cat "$SD"/logs/*.log | grep -c 'committed before the connection dropped')"
assert_eq "no duplicate key" "" "$(cat "$SD"/logs/*.log | grep 'duplicate key')"
: "$ILOG"
proxy_stop tp
done_testing
