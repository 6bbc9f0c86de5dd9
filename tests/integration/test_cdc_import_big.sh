#!/bin/bash
# Large values: 150 events of 0.5-1 MiB rows (100 MB of queue) applied while the
# target holds the table locked for a while, so the reader runs far ahead of the
# channels: memory stays bounded (peak RSS under 100 MB; without the byte bounds on
# the channel queues it passes 150 MB) and the rows arrive intact.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
for c in target:yugabyte ref:ref; do
    psql_as "${c%%:*}" "${c#*:}" -c "CREATE TABLE big (id int PRIMARY KEY, t text, b bytea)" >/dev/null
done
ED=$(new_export_dir)
python3 - "$TEST_TMP/big" <<'PY'
import json, random, sys
r = random.Random(3)
with open(sys.argv[1] + ".ndjson", "w") as ev, open(sys.argv[1] + ".sql", "w") as sql:
    for vsn in range(1, 151):
        t = "".join(r.choice("abcdefgh") for _ in range(64)) * 8192  # 512 KiB
        if vsn <= 100:
            k = vsn
            b = "\\x" + bytes(r.getrandbits(8) for _ in range(64)).hex() * 2048
            e = {"op": "c", "key": {"id": str(k)}, "fields": {"id": str(k), "t": t, "b": b}}
            sql.write("INSERT INTO big VALUES (%d, '%s', '%s');\n" % (k, t, b))
        else:
            k = r.randrange(1, 101)
            e = {"op": "u", "key": {"id": str(k)}, "fields": {"t": t}}
            sql.write("UPDATE big SET t = '%s' WHERE id = %d;\n" % (t, k))
        e.update({"vsn": vsn, "schema_name": "public", "table_name": "big", "exporter_role": "source_db_exporter"})
        ev.write(json.dumps(e) + "\n")
PY
queue_append "$ED" source_db_exporter "$TEST_TMP/big.ndjson" --max-bytes 20000000
queue_cutover_event 151 cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
psql_as ref ref -f "$TEST_TMP/big.sql" >/dev/null

psql_as target yugabyte -c "BEGIN; LOCK TABLE big; SELECT pg_sleep(3); COMMIT" >/dev/null &
LOCK_PID=$!
sleep 0.5
run_apply_bg "$ED" target target --parallel-jobs 4
peak=$(peak_rss "$APPLY_PID")
wait "$APPLY_PID"
assert_eq "the apply completes" 0 "$?"
wait "$LOCK_PID"
echo "# peak RSS ${peak} KB"
assert_match "peak RSS under 100 MB while the target lags" '^[0-9]{1,5}$' "$peak"
compare_databases target ref yugabyte ref
done_testing
