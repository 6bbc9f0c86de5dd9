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
done_testing
