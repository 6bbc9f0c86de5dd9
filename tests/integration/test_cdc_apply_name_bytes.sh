#!/bin/bash
# Names and key values may hold any byte but NUL, 0x1F too: keys the applier builds from
# several of them (the importer's table cache: schema and table; a batch's row key: the primary
# key's values; a statement's shape: its column names) must keep apart what a 0x1F join
# confuses. A hand-made queue on tables "a<US>b".c and a."b<US>c" (<US> = 0x1F), a two-column
# text key ('x<US>', 'y') / ('x', '<US>y'), and updates setting columns ("a<US>b", c) and
# (a, "b<US>c"); each change must land on its own table, row and columns.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null || { not_ok "cluster"; done_testing; exit 1; }
psql_as target yugabyte >/dev/null <<'SQL' || not_ok "schema"
CREATE SCHEMA a;
DO $$ BEGIN
 EXECUTE format('CREATE SCHEMA %I', 'a' || chr(31) || 'b');
 EXECUTE format('CREATE TABLE a.%I (id int PRIMARY KEY, v text)', 'b' || chr(31) || 'c');
 EXECUTE format('CREATE TABLE %I.c (id int PRIMARY KEY, v text)', 'a' || chr(31) || 'b');
 EXECUTE format('CREATE TABLE a.cn (id int PRIMARY KEY, %I text, a text, %I text, c text)',
                'a' || chr(31) || 'b', 'b' || chr(31) || 'c');
END $$;
CREATE TABLE a.ck (x text, y text, n int, PRIMARY KEY (x, y));
INSERT INTO a.ck VALUES (E'x\x1f', 'y', 1), ('x', E'\x1fy', 1);
INSERT INTO a.cn (id) VALUES (1), (2);
CREATE TABLE a.filler (id int PRIMARY KEY, v int);
SQL
ED=$(new_export_dir)

# A run of filler inserts first keeps the one channel busy, so the key-value updates that
# follow wait for it together and share a batch (where rows are matched by key).
python3 - "$TEST_TMP/q.ndjson" <<'PY'
import json, sys
US = "\x1f"
evs = [{"op": "c", "schema_name": "a", "table_name": "filler", "key": {"id": str(i)},
        "fields": {"id": str(i), "v": "0"}} for i in range(1, 3001)]
evs += [
    {"op": "c", "schema_name": "a", "table_name": "b" + US + "c", "key": {"id": "100"},
     "fields": {"id": "100", "v": "new in a"}},
    {"op": "c", "schema_name": "a" + US + "b", "table_name": "c", "key": {"id": "200"},
     "fields": {"id": "200", "v": "new in a-US-b"}},
]
for _ in range(3):
    evs += [
        {"op": "u", "schema_name": "a", "table_name": "ck", "key": {"x": "x" + US, "y": "y"},
         "fields": {"n": "2"}, "before_fields": {"x": "x" + US, "y": "y", "n": "1"}},
        {"op": "u", "schema_name": "a", "table_name": "ck", "key": {"x": "x", "y": US + "y"},
         "fields": {"n": "3"}, "before_fields": {"x": "x", "y": US + "y", "n": "1"}},
    ]
evs += [
    {"op": "u", "schema_name": "a", "table_name": "cn", "key": {"id": "1"},
     "fields": {"a" + US + "b": "P", "c": "Q"}},
    {"op": "u", "schema_name": "a", "table_name": "cn", "key": {"id": "2"},
     "fields": {"a": "R", "b" + US + "c": "S"}},
]
with open(sys.argv[1], "w") as f:
    for i, e in enumerate(evs, 1):
        e["vsn"] = i
        e["exporter_role"] = "source_db_exporter"
        f.write(json.dumps(e) + "\n")
PY
next=$(wc -l <"$TEST_TMP/q.ndjson"); next=$((next + 1))
queue_append "$ED" source_db_exporter "$TEST_TMP/q.ndjson"
queue_cutover_event "$next" cutover.target source_db_exporter >"$TEST_TMP/c.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/c.ndjson" --close

check "apply runs to the end-of-stream event" run_apply "$ED" target target --parallel-jobs 1
q() { psql_as target yugabyte -c "$1"; }
assert_eq "each insert landed in its own table (a.\"b<US>c\")" "100:new in a" \
    "$(q "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM a.\"b$(printf '\037')c\" WHERE id >= 100")"
assert_eq "each insert landed in its own table (\"a<US>b\".c)" "200:new in a-US-b" \
    "$(q "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM \"a$(printf '\037')b\".c WHERE id >= 100")"
assert_eq "each update of a two-text-column key reached its own row" "78/1f79:3,781f/79:2" \
    "$(q "SELECT string_agg(encode(x::bytea, 'hex') || '/' || encode(y::bytea, 'hex') || ':' || n, ',' ORDER BY x, y) FROM a.ck")"
assert_eq "each update set its own columns" "1:P,,,Q 2:,R,S," \
    "$(q "SELECT string_agg(id || ':' || concat_ws(',', coalesce(\"a$(printf '\037')b\", ''), coalesce(a, ''), coalesce(\"b$(printf '\037')c\", ''), coalesce(c, '')), ' ' ORDER BY id) FROM a.cn")"
assert_eq "the filler is all there" "3000" "$(q "SELECT count(*) FROM a.filler")"
assert_match "the key updates shared a batch (folded)" "apply: [0-9]+ update\\(s\\) folded into the insert of their row in the same batch, [1-9][0-9]* into its update" \
    "$(cat "$ED/logs/yb-voyager-import-data-to-target.log")"
done_testing
