#!/bin/bash
# A batch still committing when its importer is killed and restarted: kill -9 ends
# the client, not its server session, which goes on with the batch it was sent
# (pipelined: all of it) and commits it. The restarted importer has read the channel's
# progress from before that commit and sends the same events again. Only one of the
# two may commit them, and the restart must go on after them. Before, the restart
# stopped (a stale batch, or duplicate keys until its retries ran out) when its batch
# ended where the earlier one did or before; when it reached further, it committed
# too, and a table without a primary key got the earlier batch's rows twice.
# A trigger makes the batch holding the row y = 'slow' sleep at its COMMIT (deferred,
# ENABLE ALWAYS so that the replica role fires it); the slow row is alone in the
# earlier importer's last batch, the importer is killed then, the queue grows, and the
# importer restarts while the old session still sleeps.
#   1. change apply: the earlier batch only inserts into a table without a primary key
#   2. change apply: the earlier batches also insert into a keyed table the restart updates
#   3. snapshot batches (import data): the restart's batch must not stop on the keys of
#      the one still committing (before, it stopped on a duplicate key)
. "$(dirname "$0")/../lib/harness.sh"
. "$HARNESS_DIR/queue.sh"
start_clusters source target || { not_ok "clusters"; done_testing; exit 1; }
SLOW=${INFLIGHT_SLOW_SECONDS:-6}

schema_sql() {
    cat <<SQL
CREATE TABLE public.nopk (x int, y text);
CREATE TABLE public.k (id int PRIMARY KEY, v int);
CREATE FUNCTION public.slow_commit() RETURNS trigger LANGUAGE plpgsql AS
  \$\$ BEGIN IF NEW.y = 'slow' THEN PERFORM pg_sleep($SLOW); END IF; RETURN NULL; END \$\$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON public.nopk DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION public.slow_commit();
ALTER TABLE public.nopk ENABLE ALWAYS TRIGGER slow_commit;
SQL
}

# events.py KEYED PREFIX: PREFIX.0.ndjson (before the slow row), PREFIX.1.ndjson (the slow
# row), PREFIX.2.ndjson (the rest, then the end marker), PREFIX.want (the tables' content
# after all of them).
cat >"$TEST_TMP/events.py" <<'PY'
import json, sys
keyed, prefix = sys.argv[1] == "1", sys.argv[2]
ev, nopk, k = [], [], {}
def add(table, op, key, fields):
    ev.append({"vsn": len(ev) + 1, "op": op, "schema_name": "public", "table_name": table,
               "key": key, "fields": fields, "exporter_role": "source_db_exporter"})
for i in range(1, 201):
    add("nopk", "c", {}, {"x": str(i), "y": "a"}); nopk.append((i, "a"))
    if keyed:
        add("k", "c", {"id": str(i)}, {"id": str(i), "v": "0"}); k[i] = 0
before = len(ev)
add("nopk", "c", {}, {"x": "0", "y": "slow"}); nopk.append((0, "slow"))
first = len(ev)
for i in range(201, 601):
    add("nopk", "c", {}, {"x": str(i), "y": "b"}); nopk.append((i, "b"))
    add("k", "c", {"id": str(1000 + i)}, {"id": str(1000 + i), "v": "1"}); k[1000 + i] = 1
    if keyed:
        add("k", "u", {"id": str((i - 1) % 200 + 1)}, {"v": str(i)}); k[(i - 1) % 200 + 1] = i
with open(prefix + ".0.ndjson", "w") as f:
    f.writelines(json.dumps(e) + "\n" for e in ev[:before])
with open(prefix + ".1.ndjson", "w") as f:
    f.writelines(json.dumps(e) + "\n" for e in ev[before:first])
with open(prefix + ".2.ndjson", "w") as f:
    f.writelines(json.dumps(e) + "\n" for e in ev[first:])
    f.write(json.dumps({"vsn": len(ev) + 1, "op": "cutover.target",
                        "exporter_role": "source_db_exporter"}) + "\n")
with open(prefix + ".want", "w") as f:
    f.write("%d\n" % len(ev))
    f.writelines("%d|%s\n" % r for r in sorted(nopk))
    f.writelines("k %d|%d\n" % (i, v) for i, v in sorted(k.items()))
PY

content() {
    psql_as target "$1" -c "SELECT sum(num_inserts + num_updates + num_deletes)
        FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo"
    psql_as target "$1" -c "SELECT x || '|' || y FROM nopk ORDER BY x, y"
    psql_as target "$1" -c "SELECT 'k ' || id || '|' || v FROM k ORDER BY id"
}

# await_sleeping DB APP PID: the pid of DB's backend of application APP sleeping in the trigger,
# once there is one (empty when the importer PID ended first or after 15 s).
await_sleeping() {
    local i sleeping=""
    for i in $(seq 1 300); do
        sleeping=$(psql_as target "$1" -c "SELECT pid FROM pg_stat_activity WHERE datname = '$1'
            AND application_name = '$2' AND wait_event = 'PgSleep'")
        [ -n "$sleeping" ] && break
        kill -0 "$3" 2>/dev/null || break
        sleep 0.05
    done
    echo "$sleeping"
}

scenario() {
    local db=$1 keyed=$2 what=$3
    psql_as target postgres -c "CREATE DATABASE $db OWNER voyager" >/dev/null
    schema_sql | psql_as target "$db" >/dev/null
    python3 "$TEST_TMP/events.py" "$keyed" "$TEST_TMP/$db"
    local ed
    ed=$(new_export_dir)
    queue_append "$ed" source_db_exporter "$TEST_TMP/$db.0.ndjson"
    APPLY_DB=$db run_apply_bg "$ed" target target --parallel-jobs 1
    # the slow row alone in the last batch: the restart's first batch reaches further
    local n0 i
    n0=$(wc -l <"$TEST_TMP/$db.0.ndjson")
    for i in $(seq 1 300); do
        [ "$(channel_counts target "$db" 2>/dev/null | awk '{print $1 + $2 + $3}')" = "$n0" ] && break
        sleep 0.05
    done
    queue_append "$ed" source_db_exporter "$TEST_TMP/$db.1.ndjson"
    local old
    old=$(await_sleeping "$db" yb-voyager-apply "$APPLY_PID")
    assert_match "$what: the batch with the slow row is at its COMMIT" '^[0-9]+$' "$old"
    kill -9 "$APPLY_PID"
    wait "$APPLY_PID" 2>/dev/null
    queue_append "$ed" source_db_exporter "$TEST_TMP/$db.2.ndjson" --close
    APPLY_DB=$db run_apply_bg "$ed" target target --parallel-jobs 1
    sleep 1
    assert_eq "$what: the killed importer's session still commits while the restart runs" "$old" \
        "$(psql_as target "$db" -c "SELECT pid FROM pg_stat_activity WHERE pid = ${old:-0}")"
    check "$what: the restarted importer runs to the end" wait "$APPLY_PID"
    assert_eq "$what: every row once, every event counted once" "$(cat "$TEST_TMP/$db.want")" \
        "$(content "$db")"
    local log="$ed/logs/yb-voyager-import-data-to-target.log"
    assert_match "$what: the restart saw the earlier session's commit and did not apply it again" \
        '[1-9]' "$(grep -c 'committed by an earlier session' "$log")"
}

scenario inflight_nopk 0 "no primary key"
scenario inflight_keyed 1 "keyed rows too"

# ---- 3. snapshot batches
snap_sql() {
    cat <<SQL
CREATE TABLE public.snap_k (id int PRIMARY KEY, v text);
CREATE TABLE public.snap_n (a int, b text);
SQL
}
snap_sql | psql_as source sourcedb >/dev/null
psql_as source sourcedb -c "INSERT INTO snap_k SELECT g, md5(g::text) FROM generate_series(1, 3000) g" \
    -c "INSERT INTO snap_n SELECT g % 100, md5(g::text) FROM generate_series(1, 3000) g" >/dev/null
snap_sql | psql_as target yugabyte >/dev/null
psql_as target yugabyte >/dev/null <<SQL
CREATE FUNCTION public.slow_commit() RETURNS trigger LANGUAGE plpgsql AS
  \$\$ BEGIN IF NEW.id = 1500 THEN PERFORM pg_sleep($SLOW); END IF; RETURN NULL; END \$\$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON public.snap_k DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION public.slow_commit();
ALTER TABLE public.snap_k ENABLE ALWAYS TRIGGER slow_commit;
SQL
conn_flags
SD=$(new_export_dir)
check "snapshot: export data" "$VOYAGER" export data -e "$SD" "${SRC_FLAGS[@]}" \
    --table-list snap_k,snap_n --disable-pb true
IMPORT=("$VOYAGER" import data -e "$SD" "${TGT_FLAGS[@]}" --batch-size 500 --parallel-jobs 1
    --disable-pb true)
"${IMPORT[@]}" >"$TEST_TMP/snap1.out" 2>&1 &
pid=$!
old=$(await_sleeping yugabyte "yb-voyager import data worker" "$pid")
assert_match "snapshot: the batch with the slow row is at its COMMIT" '^[0-9]+$' "$old"
kill -9 "$pid"
wait "$pid" 2>/dev/null
"${IMPORT[@]}" >"$TEST_TMP/snap2.out" 2>&1 &
pid=$!
sleep 1
assert_eq "snapshot: the killed importer's session still commits while the restart runs" "$old" \
    "$(psql_as target yugabyte -c "SELECT pid FROM pg_stat_activity WHERE pid = ${old:-0}")"
check "snapshot: the restarted import runs to the end" wait "$pid"
for t in snap_k snap_n; do
    q="SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM $t t"
    assert_eq "snapshot: $t on the target equals the source" "$(psql_as source sourcedb -c "$q")" \
        "$(psql_as target yugabyte -c "$q")"
done
assert_eq "snapshot: every batch recorded once" "12" \
    "$(psql_as target yugabyte -c "SELECT count(*) FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3")"
assert_eq "snapshot: no duplicate key" "" "$(grep -h 'duplicate key' "$TEST_TMP"/snap*.out "$SD"/logs/*.log)"
done_testing
