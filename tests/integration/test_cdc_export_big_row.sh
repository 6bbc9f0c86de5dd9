#!/bin/bash
# Issue 15: with REPLICA IDENTITY FULL the source sends the whole old row of every update
# and delete, here rows of 50 MB (a bytea). The queue gets only what apply and conflict
# detection use: the key, the changed columns, and the old values of unique columns.
# An update of one int column of such a row is a line of a few hundred bytes (it was
# ~100 MB: the old row as before_fields, the bytea in hex), a change of its unique
# column carries that column's old value (an update that leaves it and the key as they
# were does not: the importer's conflict tracking does not read it then), and the live
# migration still ends with the target equal to the source.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/status.sh"
V=$VOYAGER
ED=$(new_export_dir)
pg_start source sourcedb >/dev/null || exit 1
pg_start target yugabyte >/dev/null || exit 1
conn_flags
SCHEMA="CREATE TABLE big (id int PRIMARY KEY, n int, u text UNIQUE, b bytea);"
psql_as source sourcedb -c "$SCHEMA" -c "ALTER TABLE big REPLICA IDENTITY FULL" >/dev/null
psql_as target yugabyte -c "$SCHEMA" >/dev/null
# 50 MB of bytes that do not compress (md5 digests), in rows 1 and 2
psql_as source sourcedb -c "INSERT INTO big SELECT k, 0, 'u' || k,
    (SELECT decode(string_agg(md5((g * k)::text), ''), 'hex') FROM generate_series(1, 3276800) g)
    FROM generate_series(1, 2) k" -c "INSERT INTO big VALUES (3, 0, 'u3', '\x00')" >/dev/null
assert_eq "the big rows hold 50 MB each" "52428800 52428800" \
    "$(psql_as source sourcedb -c "SELECT string_agg(length(b)::text, ' ' ORDER BY id) FROM big WHERE id <= 2")"

"$V" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true >>"$TEST_TMP/exporter.out" 2>&1 &
EXP_PID=$!
# the exporter's peak RSS, sampled while it runs (issue 15: memory bounded by bytes)
peak_rss "$EXP_PID" >"$TEST_TMP/exp.hwm" &
HWM_PID=$!
check "snapshot exported" status_wait "$ED" ExportDataDone 120
# the snapshot's rows of 100 MB (the bytea in hex) are above the reader's default limit
CSV_READER_MAX_BUFFER_SIZE_BYTES=$((256 << 20)) "$V" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true >>"$TEST_TMP/importer.out" 2>&1 &
IMP_PID=$!
psql_as source sourcedb -c "UPDATE big SET n = n + 1 WHERE id = 1" \
    -c "UPDATE big SET u = 'moved' WHERE id = 2" -c "UPDATE big SET u = 'u2' WHERE id = 3" \
    -c "DELETE FROM big WHERE id = 2" -c "UPDATE big SET n = 7, b = '\x0102' WHERE id = 3" >/dev/null
check "initiate cutover to target" "$V" initiate cutover to target -e "$ED"
wait_exit "$EXP_PID" 120
assert_eq "export data exits 0 after the end of stream" 0 "$?"
wait_exit "$IMP_PID" 180
assert_eq "import data exits 0 after the end of stream" 0 "$?"

# every event line of the queue in order: op, length, and the columns it carries
LINES=$(python3 - "$ED/data/queue" <<'PY'
import glob, json, sys
rows = []
for f in sorted(glob.glob(sys.argv[1] + "/segment.*.ndjson")):
    for line in open(f, "rb"):
        if not line.startswith(b"{"):
            continue
        e = json.loads(line)
        if e.get("op") in ("c", "u", "d"):
            rows.append("%s id=%s %d fields=%s before=%s" % (e["op"], e["key"].get("id"), len(line),
                        ",".join(e.get("fields", {})), ",".join(e.get("before_fields", {}))))
print("\n".join(rows))
PY
)
echo "$LINES" | sed 's/^/# /'
assert_eq "five changes in the queue" 5 "$(echo "$LINES" | grep -c .)"
assert_eq "every line is under 1 MB" "" "$(echo "$LINES" | awk '$3 >= 1048576')"
assert_eq "the int update of the 50 MB row carries the key and the changed column (its unique column did not change)" \
    "u id=1 fields=n before=" "$(echo "$LINES" | awk '$2 == "id=1" { print $1, $2, $4, $5 }')"
assert_eq "row 3: the change of its unique column carries the old value, the next update (u unchanged) none" \
    "u id=3 fields=u before=u|u id=3 fields=n,b before=" \
    "$(echo "$LINES" | awk '$2 == "id=3" { print $1, $2, $4, $5 }' | paste -sd'|')"
assert_eq "a change of the unique column carries its old value" \
    "u id=2 fields=u before=u" "$(echo "$LINES" | awk '$2 == "id=2" && $1 == "u" { print $1, $2, $4, $5 }')"
assert_eq "the delete of the 50 MB row carries the key and the unique column's old value" \
    "d id=2 fields= before=u" "$(echo "$LINES" | awk '$2 == "id=2" && $1 == "d" { print $1, $2, $4, $5 }')"
# Measured ~220 MB: libpq holds a whole message (the snapshot's COPY row, or a change whose
# REPLICA IDENTITY FULL old row is 100 MB of hex) in its input buffer and PQgetCopyData
# returns a second copy, so the exporter's peak is about twice its largest message; what it
# writes to the queue is small (above). A sanitizer build keeps freed memory: no bound there.
wait "$HWM_PID"
echo "# export data peak RSS $(cat "$TEST_TMP/exp.hwm") KB"
if [ "${BUILD:-build}" = build ]; then
    assert_match "export data's peak RSS stays under 300 MB with 50 MB rows (2x its largest message)" \
        '^([0-9]{1,5}|[12][0-9]{5})$' "$(cat "$TEST_TMP/exp.hwm")"
fi
compare_databases source target sourcedb yugabyte
done_testing
