#!/bin/bash
# An EXCLUDE constraint on the database changes are applied to (review finding 1): the
# source frees a slot (moves booking i a year later) and then books it for a new row
# 10000+i; only that order is legal. Applied by primary key over 4 channels, the insert
# could commit first and fail with 23P01 (exclusion_violation), which stopped import
# data for good. The table must keep source order (as for an expression unique index):
# import data exits 0 at the cutover and the table equals a reference that got the same
# changes serially. The same through import data to source (fall-back), where the
# source keeps the constraint YugabyteDB cannot hold.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null && pg_start ref ref >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
schema() {
    cat <<'SQL'
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE public.bookings (id int PRIMARY KEY, room int NOT NULL, during tsrange NOT NULL, who text,
  CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&));
INSERT INTO public.bookings SELECT g, g % 3, tsrange('2024-01-01'::timestamp + g * interval '1 hour',
  '2024-01-01'::timestamp + (g + 1) * interval '1 hour'), 'w' || g FROM generate_series(1, 400) g;
SQL
}
if ! schema | psql_as target yugabyte >/dev/null 2>"$TEST_TMP/schema.err"; then
    not_ok "btree_gist available (postgresql-contrib): $(head -1 "$TEST_TMP/schema.err")"
    done_testing
    exit 1
fi
schema | psql_as ref ref >/dev/null

# 400 free/rebook pairs, as events and as the same SQL for the reference
next=$(python3 - "$TEST_TMP/w" <<'PY'
import datetime, json, sys
out = sys.argv[1]
base = datetime.datetime(2024, 1, 1)
def rng(start):
    f = "%Y-%m-%d %H:%M:%S"
    return '["%s","%s")' % (start.strftime(f), (start + datetime.timedelta(hours=1)).strftime(f))
ev, sql, vsn = [], [], 1
for i in range(1, 401):
    old = base + datetime.timedelta(hours=i)
    new = old.replace(year=old.year + 1)
    ev.append({"vsn": vsn, "op": "u", "schema_name": "public", "table_name": "bookings",
               "key": {"id": str(i)}, "fields": {"during": rng(new)}, "exporter_role": "source_db_exporter"})
    sql.append("UPDATE public.bookings SET during = '%s' WHERE id = %d;" % (rng(new), i))
    ev.append({"vsn": vsn + 1, "op": "c", "schema_name": "public", "table_name": "bookings", "key": None,
               "fields": {"id": str(10000 + i), "room": str(i % 3), "during": rng(old), "who": "new"},
               "exporter_role": "source_db_exporter"})
    sql.append("INSERT INTO public.bookings VALUES (%d, %d, '%s', 'new');" % (10000 + i, i % 3, rng(old)))
    vsn += 2
with open(out + ".ndjson", "w") as f:
    f.writelines(json.dumps(e) + "\n" for e in ev)
with open(out + ".sql", "w") as f:
    f.write("\n".join(sql) + "\n")
print(vsn)
PY
)
psql_as ref ref -v ON_ERROR_STOP=1 -f "$TEST_TMP/w.sql" >/dev/null || not_ok "the reference takes the changes serially"

ED=$(new_export_dir)
queue_append "$ED" source_db_exporter "$TEST_TMP/w.ndjson" --max-bytes 40000
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close
YB_VOYAGER_RETRY_TIMEOUT=20 run_apply "$ED" target target --parallel-jobs 4 >/dev/null 2>&1
rc=$?
assert_eq "import data with 4 channels exits 0 at the cutover" 0 "$rc"
[ "$rc" = 0 ] || grep -E '^error' "$TEST_TMP/apply.err" | head -2 | cut -c1-250 | sed 's/^/#   /'
compare_databases target ref yugabyte ref
assert_match "the table keeps source order (its exclusion index is not followed by value)" \
    '"public"\."bookings": 1 primary-key column\(s\), 0 unique key\(s\) followed by value, 1 not' \
    "$(cat "$ED/logs/yb-voyager-import-data-to-target.log")"
assert_eq "no exclusion violation reached the database" "" \
    "$(grep -E 'exclusion constraint|will retry|failed' "$TEST_TMP/apply.err" | head -3)"

# The constraint created on the target between two runs: the first run routed the table by
# key (recorded), so the second applies each of its changes alone, in order.
psql_as target postgres -c "CREATE DATABASE late OWNER voyager" >/dev/null
schema | psql_as target late >/dev/null
psql_as target late -c "ALTER TABLE public.bookings DROP CONSTRAINT no_overlap" >/dev/null
head -n 400 "$TEST_TMP/w.ndjson" >"$TEST_TMP/w1.ndjson"
tail -n +401 "$TEST_TMP/w.ndjson" >"$TEST_TMP/w2.ndjson"
LATE=$(new_export_dir)
queue_append "$LATE" source_db_exporter "$TEST_TMP/w1.ndjson" --max-bytes 40000
APPLY_DB=late run_apply_bg "$LATE" target target --parallel-jobs 4
for _ in $(seq 1 300); do
    [ "$(channel_counts target late | awk '{print $1 + $2 + $3}')" = 400 ] && break
    sleep 0.2
done
kill -INT "$APPLY_PID" 2>/dev/null
wait_exit "$APPLY_PID" 30 >/dev/null
psql_as target late -c "ALTER TABLE public.bookings ADD CONSTRAINT no_overlap
    EXCLUDE USING gist (room WITH =, during WITH &&)" >/dev/null
queue_append "$LATE" source_db_exporter "$TEST_TMP/w2.ndjson" --max-bytes 40000
queue_append "$LATE" source_db_exporter "$TEST_TMP/c.ndjson" --close
APPLY_DB=late YB_VOYAGER_RETRY_TIMEOUT=20 run_apply "$LATE" target target >/dev/null 2>&1
rc=$?
assert_eq "a constraint added between runs: the rest applies, exit 0 at the cutover" 0 "$rc"
[ "$rc" = 0 ] || grep -E '^error' "$TEST_TMP/apply.err" | head -2 | cut -c1-250 | sed 's/^/#   /'
compare_databases target ref late ref
assert_match "its changes were applied alone" 'bookings.*applied alone' "$(cat "$TEST_TMP/apply.err")"

# Fall-back: the source importer applies the same changes, captured on the target.
psql_as target postgres -c "CREATE DATABASE fb OWNER voyager" >/dev/null
schema | psql_as target fb >/dev/null
FB=$(new_export_dir)
sed 's/"source_db_exporter"/"target_db_exporter_fb"/' "$TEST_TMP/w.ndjson" >"$TEST_TMP/fb.ndjson"
queue_append "$FB" target_db_exporter_fb "$TEST_TMP/fb.ndjson" --max-bytes 40000
queue_cutover_event "$next" cutover.source target_db_exporter_fb >"$TEST_TMP/cfb.ndjson"
queue_append "$FB" target_db_exporter_fb "$TEST_TMP/cfb.ndjson" --close
APPLY_DB=fb YB_VOYAGER_RETRY_TIMEOUT=20 run_apply "$FB" target source --parallel-jobs 4 >/dev/null 2>&1
rc=$?
assert_eq "fall-back: import data to source with 4 channels exits 0 at the cutover" 0 "$rc"
[ "$rc" = 0 ] || grep -E '^error' "$TEST_TMP/apply.err" | head -2 | cut -c1-250 | sed 's/^/#   /'
compare_databases target ref fb ref
assert_eq "fall-back: no exclusion violation reached the database" "" \
    "$(grep -E 'exclusion constraint|will retry|failed' "$TEST_TMP/apply.err" | head -3)"
done_testing
