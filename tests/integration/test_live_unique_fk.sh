#!/bin/bash
# Live migration end to end (issue 11, defects 4 and 10): export data streams a source
# workload that hands unique values from row to row (expression, partial, multi-column,
# NULLS NOT DISTINCT, numeric unique indexes) and interleaves parent/child inserts and
# deletes (ON DELETE CASCADE, NO ACTION, self-reference); import data applies it with 4
# channels as a target user without superuser rights (no replica role: foreign keys are
# checked). After the cutover, source and target are compared row by row.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
OW="$HARNESS_DIR/order_workloads.py"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb >/dev/null || exit 1
pg_start target yugabyte >/dev/null || exit 1
conn_flags
pwlit=${VOYAGER_PW//\'/\'\'}
psql_as target postgres -c "CREATE ROLE limited LOGIN PASSWORD '$pwlit'" >/dev/null
psql_as target postgres -c "CREATE DATABASE app OWNER limited" >/dev/null
{ python3 "$OW" schema unique; python3 "$OW" schema fk; } >"$TEST_TMP/schema.sql"
psql_as source sourcedb -f "$TEST_TMP/schema.sql" >/dev/null
psql_as source sourcedb -c "DO \$\$DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('ALTER TABLE public.%I REPLICA IDENTITY FULL', t); END LOOP; END\$\$" >/dev/null
psql_as target app -c "SET ROLE limited" -f "$TEST_TMP/schema.sql" >/dev/null
python3 "$OW" gen unique 23 3000 1 "$TEST_TMP/u" >/dev/null
python3 "$OW" gen fk 29 3000 1 "$TEST_TMP/f" >/dev/null
export QUEUE_SEGMENT_MAX_BYTES=300000
TGT=(--target-db-host 127.0.0.1 --target-db-port "$TARGET_PORT" --target-db-user limited --target-db-name app)

"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >>"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
check "snapshot exported" status_wait "$ED" ExportDataDone 60
"$V" import data -e "$ED" "${TGT[@]}" --parallel-jobs 4 --disable-pb true >>"$TEST_TMP/importer.out" 2>&1 &
IMP_PID=$!
# the two workloads at once, in transactions of 50 statements
split_txn() { awk 'NR > 1 && !/^(BEGIN|COMMIT);$/ { print; if (++n % 50 == 0) print "COMMIT; BEGIN;" } BEGIN { print "BEGIN;" } END { print "COMMIT;" }' "$1"; }
split_txn "$TEST_TMP/u.sql" | psql_as source sourcedb >/dev/null 2>"$TEST_TMP/wl1.err" &
W1=$!
split_txn "$TEST_TMP/f.sql" | psql_as source sourcedb >/dev/null 2>"$TEST_TMP/wl2.err"
wait "$W1"
assert_eq "source workloads ran without error" "" "$(head -c 300 "$TEST_TMP/wl1.err" "$TEST_TMP/wl2.err" 2>/dev/null | grep -v '^==>' | grep .)"
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 60
assert_eq "export data exits 0 after the end of stream" 0 "$?"
wait_exit "$IMP_PID" 120
assert_eq "import data exits 0 after the end of stream" 0 "$?"
compare_databases source target sourcedb app
assert_eq "no unique or foreign-key violation reached the target" "" \
    "$(grep -E 'violates|will retry' "$TEST_TMP/importer.out" | head -3)"
# The queue's updates carry the old values of their table's unique columns when they change
# one of them or the key (all of them then: u_multi's a and b when only b changes), and none
# when they leave them as they are (the importer's conflict tracking reads no other).
CHECKED=$(python3 - "$ED/data/queue" <<'PY'
import glob, json, sys
uniq = {"u_multi": {"a", "b"}, "u_nnd": {"c"}, "u_num": {"n"}, "u_part": {"code"}}
seen = {"changed": 0, "unchanged": 0, "multi_one_column": 0}
bad = []
for f in sorted(glob.glob(sys.argv[1] + "/segment.*.ndjson")):
    for line in open(f, "rb"):
        if not line.startswith(b"{"):
            continue
        e = json.loads(line)
        if e.get("op") != "u" or e["table_name"] not in uniq:
            continue
        cols = uniq[e["table_name"]]
        fields, before = set(e.get("fields", {})), set(e.get("before_fields", {}))
        want = cols if fields & (cols | {"id"}) else set()
        if not want:
            seen["unchanged"] += 1
        elif len(cols) > 1 and len(fields & cols) < len(cols):
            seen["multi_one_column"] += 1
        else:
            seen["changed"] += 1
        if before != want:
            bad.append("%s fields=%s before=%s" % (e["table_name"], sorted(fields), sorted(before)))
print(" ".join("%s=%s" % (k, "yes" if v else "none") for k, v in sorted(seen.items())), "wrong=%d" % len(bad), *bad[:3])
PY
)
assert_eq "updates carry the unique columns' old values when they change one, else none" \
    "changed=yes multi_one_column=yes unchanged=yes wrong=0" "$CHECKED"
assert_match "it applied without the replica role" 'may not set session_replication_role' "$(cat "$TEST_TMP/importer.out")"
done_testing
