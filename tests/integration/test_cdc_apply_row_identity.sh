#!/bin/bash
# An update or delete changes exactly the row its event is about, where a plain
# "WHERE key = ..." would change two:
# - a DEFERRABLE primary key on the target: rows may share a key inside a source
#   transaction (keys swapped), and under session_replication_role = replica nothing
#   checks it at commit. The swap's second update would change both rows (a duplicate
#   key left behind, exit 0); it must fail instead, naming the cause, with the target
#   as it was. Ordinary changes of such a table apply as usual.
# - a partitioned table without a primary key: rows of two partitions can have the
#   same ctid, and the update/delete by ctid changed both.
# - tables without a primary key whose columns have no "=" (json, xml, point): the
#   row is found by those columns' text ("json = unknown" stopped import data at the
#   first update/delete), also where a UNIQUE NOT NULL column is the only key.
# - keyless rows equal under "=" but not identical (numeric 1.0/1.00, interval
#   '1 day'/'24:00:00', citext Bob/bob): the row the event is about changes, not
#   the first equal-looking one.
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
pg_start target yugabyte >/dev/null || { not_ok "clusters"; done_testing; exit 1; }
rows() { psql_as target yugabyte -c "SELECT string_agg($2, ' ' ORDER BY $2) FROM $1"; }
log_of() { cat "$1/logs/yb-voyager-import-data-to-target.log"; }
ev() { # ev VSN OP TABLE KEY-JSON FIELDS-JSON
    printf '{"vsn":%d,"op":"%s","schema_name":"public","table_name":"%s","key":%s,"fields":%s,"exporter_role":"source_db_exporter"}\n' "$@"
}

psql_as target yugabyte -c "CREATE TABLE public.d (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text);
    INSERT INTO public.d VALUES (1, 'a'), (2, 'b'), (3, 'c');
    CREATE TABLE public.p (k int, r text, v text) PARTITION BY LIST (r);
    CREATE TABLE public.p_a PARTITION OF public.p FOR VALUES IN ('a');
    CREATE TABLE public.p_b PARTITION OF public.p FOR VALUES IN ('b');
    INSERT INTO public.p VALUES (1, 'a', 'x'), (1, 'b', 'x'), (2, 'a', 'y'), (2, 'b', 'y')" >/dev/null
assert_eq "the twins of two partitions share a ctid" "(0,1) (0,1)" \
    "$(psql_as target yugabyte -c "SELECT string_agg(ctid::text, ' ') FROM public.p WHERE k = 1")"

# Ordinary changes of the DEFERRABLE table, and the partitioned one's by whole row.
ED=$(new_export_dir)
{
    ev 1 u d '{"id":"3"}' '{"v":"c2"}'
    ev 2 c d null '{"id":"4","v":"d"}'
    ev 3 d d '{"id":"1"}' null
    ev 4 u d '{"id":"2"}' '{"id":"5"}'
    ev 5 u p '{"k":"1","r":"a","v":"x"}' '{"v":"x changed"}'
    ev 6 d p '{"k":"2","r":"b","v":"y"}' null
} >"$TEST_TMP/a.ndjson"
queue_append "$ED" source_db_exporter "$TEST_TMP/a.ndjson"
run_apply_bg "$ED" target target --parallel-jobs 2
for i in $(seq 1 100); do
    [ "$(psql_as target yugabyte -c "SELECT min(last_applied_vsn) >= 6 FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo" 2>/dev/null)" = t ] && break
    sleep 0.2
done
kill -TERM "$APPLY_PID" 2>/dev/null
wait "$APPLY_PID" 2>/dev/null
assert_eq "DEFERRABLE key: update, insert, delete, key change applied" "3|c2 4|d 5|b" \
    "$(rows public.d "id || '|' || v")"
assert_match "the table is applied in source order, its key being DEFERRABLE" "\"public\"\\.\"d\".*a key is DEFERRABLE" "$(log_of "$ED")"
assert_eq "partitioned, no key: the update and the delete changed one row each" "1|a|x changed 1|b|x 2|a|y" \
    "$(rows public.p "k || '|' || r || '|' || v")"

# Keys swapped inside one source transaction: refused, nothing applied.
ED2=$(new_export_dir)
{
    ev 1 u d '{"id":"3"}' '{"id":"5"}'
    ev 2 u d '{"id":"5"}' '{"id":"3"}'
    queue_cutover_event 3 cutover.target source_db_exporter
} >"$TEST_TMP/b.ndjson"
psql_as target yugabyte -c "DELETE FROM public.d WHERE id = 4" >/dev/null
queue_append "$ED2" source_db_exporter "$TEST_TMP/b.ndjson" --close
YB_VOYAGER_RETRY_TIMEOUT=5 run_apply "$ED2" target target --parallel-jobs 2 >"$TEST_TMP/swap.out" 2>&1
rc=$?
check "keys swapped through a duplicate: import data fails (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
assert_match "the error names the DEFERRABLE key" "division by zero .*a key another row has: its DEFERRABLE key" "$(log_of "$ED2")"
assert_eq "the target is as it was: no duplicate key" "3|c2 5|b" "$(rows public.d "id || '|' || v")"

# Keyless tables: types without "=", and types whose "=" is coarser than identity.
psql_as target yugabyte -c "CREATE EXTENSION IF NOT EXISTS citext" >/dev/null 2>&1 && has_citext=1 || has_citext=0
psql_as target yugabyte -c "CREATE TABLE public.j (at int, payload json, doc xml, loc point);
    INSERT INTO public.j VALUES (1, '{\"a\": 1}', '<a>1</a>', '(1,2)'), (2, '{\"a\": 2}', '<b/>', '(3,4)'),
        (3, '{\"a\": 3}', NULL, '(5,6)');
    CREATE TABLE public.uj (id bigint NOT NULL UNIQUE, kind text, payload json);
    INSERT INTO public.uj VALUES (1, 'k', '{\"n\":1}'), (2, 'k', '{\"n\":1}'), (3, 'k', '{\"n\":1}');
    CREATE TABLE public.cn (n numeric);
    INSERT INTO public.cn VALUES (1.0), (1.00);
    CREATE TABLE public.ci (i interval);
    INSERT INTO public.ci VALUES ('1 day'), ('24:00:00')" >/dev/null
[ "$has_citext" = 1 ] && psql_as target yugabyte -c "CREATE TABLE public.cc (t citext);
    INSERT INTO public.cc VALUES ('Bob'), ('bob')" >/dev/null
ED3=$(new_export_dir)
{
    ev 1 u j '{"at":"1","payload":"{\"a\": 1}","doc":"<a>1</a>","loc":"(1,2)"}' '{"at":"10"}'
    ev 2 d j '{"at":"2","payload":"{\"a\": 2}","doc":"<b/>","loc":"(3,4)"}' null
    ev 3 u j '{"at":"3","payload":"{\"a\": 3}","doc":null,"loc":"(5,6)"}' '{"loc":"(7,8)"}'
    ev 4 u uj '{"id":"3","kind":"k","payload":"{\"n\":1}"}' '{"kind":"seen"}'
    ev 5 d uj '{"id":"2","kind":"k","payload":"{\"n\":1}"}' null
    ev 6 u cn '{"n":"1.00"}' '{"n":"2"}'
    ev 7 u ci '{"i":"24:00:00"}' '{"i":"2 days"}'
    if [ "$has_citext" = 1 ]; then ev 8 u cc '{"t":"bob"}' '{"t":"carol"}'; fi
    queue_cutover_event 9 cutover.target source_db_exporter
} >"$TEST_TMP/c.ndjson"
queue_append "$ED3" source_db_exporter "$TEST_TMP/c.ndjson" --close
YB_VOYAGER_RETRY_TIMEOUT=5 run_apply "$ED3" target target --parallel-jobs 2 >"$TEST_TMP/keyless.out" 2>&1
rc=$?
assert_eq "keyless tables with json/xml/point: import data exits 0 at cutover" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$TEST_TMP/keyless.out" | tail -5
assert_eq "no key, json/xml/point: the updates and the delete applied by text" \
    '10|{"a": 1}|<a>1</a>|(1,2) 3|{"a": 3}||(7,8)' \
    "$(rows public.j "concat_ws('|', at, payload, coalesce(doc::text, ''), loc)")"
assert_eq "UNIQUE NOT NULL + json: the update and the delete applied" '1|k 3|seen' "$(rows public.uj "id || '|' || kind")"
assert_eq "numeric 1.0 / 1.00: the update changed 1.00, not 1.0" "1.0 2" "$(rows public.cn "n::text")"
assert_eq "interval '1 day' / '24:00:00': the update changed '24:00:00'" "1 day 2 days" "$(rows public.ci "i::text")"
if [ "$has_citext" = 1 ]; then
    assert_eq "citext Bob / bob: the update changed bob" "Bob carol" "$(rows public.cc "t::text")"
else
    echo "# citext not available: its case skipped"
fi
done_testing
