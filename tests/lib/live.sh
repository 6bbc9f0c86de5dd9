# Helpers of the live-migration (CDC) tests: a workload with every kind of
# change, and an independent reader of the queue (python) that checks vsn
# order and replays the events into a copy of the database as plain SQL, so
# that "the queue holds exactly the source's changes" is checked by comparison.
#
#   live_schema_sql                 tables of the workload (DDL + a few rows)
#   live_workload_sql N SEED        N transactions of inserts/updates/PK updates/deletes/TOAST
#   queue_vsn_check ED              "ok" or what is wrong with vsn order / markers
#   queue_replay_sql ED ROLE        SQL applying ROLE's events (each UPDATE/DELETE must hit 1 row)
#   queue_events ED ROLE            number of events (markers excluded)
#   copydb_create                   copydb on the source cluster: sourcedb's schema, no rows

live_schema_sql() {
    cat <<'SQL'
CREATE TABLE public.items (
    id bigint PRIMARY KEY, name text, qty int, price numeric(12,3), f8 double precision,
    flag boolean, d date, ts timestamptz, js jsonb, raw bytea, u uuid, tags text[],
    iv interval, doc text);
CREATE TABLE public."Mixed Case" ("Key" int PRIMARY KEY, "val ue" varchar(40), note text);
CREATE TABLE public.pairs (a int, b text, v text, PRIMARY KEY (a, b));
CREATE TABLE public.parted (k bigint, region text, v text, PRIMARY KEY (k, region)) PARTITION BY LIST (region);
CREATE TABLE public.parted_eu PARTITION OF public.parted FOR VALUES IN ('eu');
CREATE TABLE public.parted_us PARTITION OF public.parted FOR VALUES IN ('us');
ALTER TABLE public.parted_eu REPLICA IDENTITY FULL;
ALTER TABLE public.parted_us REPLICA IDENTITY FULL;
INSERT INTO public.parted VALUES (1, 'eu', 'seed'), (2, 'us', 'seed');
CREATE SEQUENCE public.counter_seq;
ALTER TABLE public.items REPLICA IDENTITY FULL;
ALTER TABLE public."Mixed Case" REPLICA IDENTITY FULL;
ALTER TABLE public.pairs REPLICA IDENTITY FULL;
INSERT INTO public.items (id, name, qty) SELECT g, 'seed ' || g, g FROM generate_series(1, 20) g;
INSERT INTO public."Mixed Case" VALUES (1, 'one', NULL), (2, 'two', 'x');
INSERT INTO public.pairs VALUES (1, 'a', 'v1'), (2, 'b', 'v2');
SQL
}

# One statement a line; BEGIN/COMMIT groups make multi-statement transactions.
live_workload_sql() {
    python3 - "$1" "$2" <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(seed)
ids = set(range(1, 21)); nxt = 100000 * (seed + 1); mixed = {1, 2}; pairs = {(1, 'a'), (2, 'b')}
def q(s): return "'" + s.replace("'", "''") + "'"
def big(): return "(SELECT string_agg(md5(random()::text || g), '') FROM generate_series(1, %d) g)" % rnd.choice([10, 200, 400])
parted = {1: 'eu', 2: 'us'}
def parted_stmt():
    global nxt
    r = rnd.random()
    if r < 0.4 or not parted:
        nxt += 1; parted[nxt] = rnd.choice(['eu', 'us'])
        return "INSERT INTO public.parted VALUES (%d, '%s', 'v')" % (nxt, parted[nxt])
    k = rnd.choice(sorted(parted))
    if r < 0.7:   # moves the row to the other partition
        parted[k] = 'us' if parted[k] == 'eu' else 'eu'
        return "UPDATE public.parted SET region = '%s', v = v || 'm' WHERE k = %d" % (parted[k], k)
    if r < 0.85:
        return "UPDATE public.parted SET v = v || 'u' WHERE k = %d" % k
    del parted[k]
    return "DELETE FROM public.parted WHERE k = %d" % k
def stmt():
    global nxt
    if rnd.random() < 0.1:
        return parted_stmt()
    r = rnd.random()
    if r < 0.35 or len(ids) < 5:
        nxt += 1; ids.add(nxt)
        name = rnd.choice(["plain", "quote ' it", 'dq " \\ back', "tab\there", "nl\nline", "é€ 😀", ""])
        return ("INSERT INTO public.items VALUES (%d, %s, %d, %s, %s, %s, date '2024-01-01' + %d, "
                "now(), %s, %s, gen_random_uuid(), ARRAY['a', %s], interval '%d minutes', %s)") % (
            nxt, q(name), rnd.randint(-5, 5000), rnd.choice(["12.5", "NULL", "-0.001"]),
            rnd.choice(["1.5e300", "0.1", "NULL", "'NaN'"]), rnd.choice(["true", "false", "NULL"]),
            rnd.randint(0, 900), rnd.choice(["'{\"k\": [1, 2, {\"x\": \"y\\\\\\\"\"}]}'", "NULL", "'[]'"]),
            rnd.choice(["'\\x00ff10'::bytea", "NULL", "''::bytea"]), q(name), rnd.randint(1, 999),
            rnd.choice([big(), "NULL", "'short'"]))
    if r < 0.55:
        i = rnd.choice(sorted(ids))
        return "UPDATE public.items SET qty = qty + 1, ts = now() WHERE id = %d" % i   # TOAST unchanged
    if r < 0.62:
        i = rnd.choice(sorted(ids))
        return "UPDATE public.items SET doc = %s, name = NULL WHERE id = %d" % (big(), i)
    if r < 0.70:
        i = rnd.choice(sorted(ids)); nxt += 1; ids.discard(i); ids.add(nxt)
        return "UPDATE public.items SET id = %d WHERE id = %d" % (nxt, i)          # PK change
    if r < 0.80:
        i = rnd.choice(sorted(ids)); ids.discard(i)
        return "DELETE FROM public.items WHERE id = %d" % i
    if r < 0.88:
        k = rnd.randint(3, 60) + 1000 * seed
        if k in mixed:
            return "UPDATE public.\"Mixed Case\" SET \"val ue\" = %s WHERE \"Key\" = %d" % (q("v%d" % rnd.randint(0, 99)), k)
        mixed.add(k)
        return "INSERT INTO public.\"Mixed Case\" VALUES (%d, 'new', NULL)" % k
    if r < 0.94 and pairs:
        a, b = rnd.choice(sorted(pairs)); pairs.discard((a, b)); nxt += 1; na = nxt; pairs.add((na, b))
        return "UPDATE public.pairs SET a = %d, v = v || 'x' WHERE a = %d AND b = %s" % (na, a, q(b))
    a = 10000000 + 100000 * seed + rnd.randint(1000, 9999); b = rnd.choice("xyz")
    if (a, b) in pairs:
        pairs.discard((a, b)); return "DELETE FROM public.pairs WHERE a = %d AND b = %s" % (a, q(b))
    pairs.add((a, b)); return "INSERT INTO public.pairs VALUES (%d, %s, NULL)" % (a, q(b))
out = []
for t in range(n):
    k = rnd.choice([1, 1, 1, 2, 5, 20])
    if k == 1:
        out.append(stmt() + ";")
    else:
        out.append("BEGIN;")
        out.extend(stmt() + ";" for _ in range(k))
        out.append("COMMIT;")
    if t % 50 == 0:
        out.append("SELECT nextval('public.counter_seq');")
print("\n".join(out))
PY
}

_queue_py='
import json, sqlite3, sys, os
ed = sys.argv[1]
db = sqlite3.connect(os.path.join(ed, "metainfo/meta.db"))
segs = db.execute("select segment_no, file_path, exporter_role, committed_size, is_closed, is_last from queue_segment order by segment_no").fetchall()
def events(role=None):
    for no, path, r, size, closed, last in segs:
        if role and r != role:
            continue
        with open(os.path.join(ed, path), "rb") as f:
            data = f.read(size)
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for i, l in enumerate(lines):
            if l == b"\\.":
                if i != len(lines) - 1 or not closed:
                    raise SystemExit("end-of-segment marker inside segment %d" % no)
                continue
            yield no, json.loads(l)
'

queue_vsn_check() {
    python3 -c "$_queue_py"'
prev = 0; markers = 0
for no, e in events():
    if e["vsn"] != prev + 1:
        raise SystemExit("vsn %d follows %d in segment %d" % (e["vsn"], prev, no))
    prev = e["vsn"]
    if e["op"].startswith("cutover."):
        markers += 1
for no, path, r, size, closed, last in segs[:-1]:
    if not closed:
        raise SystemExit("segment %d is not closed but is not the last" % no)
print("ok")
' "$1"
}

queue_events() {
    python3 -c "$_queue_py"'
print(sum(1 for _, e in events(sys.argv[2]) if e["op"] in ("c", "u", "d")))
' "$1" "$2"
}

queue_replay_sql() {
    python3 -c "$_queue_py"'
def lit(v): return "NULL" if v is None else "'"'"'" + v.replace("'"'"'", "'"'"''"'"'") + "'"'"'"
def ident(s): return "\"" + s.replace("\"", "\"\"") + "\""
def where(key): return " AND ".join("%s = %s" % (ident(k), lit(v)) if v is not None else "%s IS NULL" % ident(k) for k, v in key.items())
print("\\set ON_ERROR_STOP 1")
for no, e in events(sys.argv[2]):
    op = e["op"]
    if op.startswith("cutover."):
        print("-- end of stream %s at vsn %d" % (op, e["vsn"]))
        continue
    t = ident(e["schema_name"]) + "." + ident(e["table_name"])
    if op == "c":
        f = e["fields"]
        print("INSERT INTO %s (%s) VALUES (%s);" % (t, ", ".join(map(ident, f)), ", ".join(lit(v) for v in f.values())))
        continue
    check = "SELECT CASE WHEN count(*) = 1 THEN 1 ELSE ('"'"'vsn %d hit rows: '"'"' || count(*))::int END FROM x;" % e["vsn"]
    if op == "u":
        f = e["fields"] or {next(iter(e["key"])): e["key"][next(iter(e["key"]))]}
        print("WITH x AS (UPDATE %s SET %s WHERE %s RETURNING 1) %s" % (t, ", ".join("%s = %s" % (ident(k), lit(v)) for k, v in f.items()), where(e["key"]), check))
    elif op == "d":
        print("WITH x AS (DELETE FROM %s WHERE %s RETURNING 1) %s" % (t, where(e["key"]), check))
' "$1" "$2"
}

# snapshot_load_sql ED: psql \copy commands loading the snapshot data files of ED.
snapshot_load_sql() {
    python3 - "$1" <<'PY'
import json, os, sys
ed = sys.argv[1]
d = json.load(open(os.path.join(ed, "metainfo/dataFileDescriptor.json")))
def ident(s): return '"' + s.replace('"', '""') + '"'
for f in d["DataFileList"]:
    p = f["FilePath"] if f["FilePath"].startswith("/") else os.path.join(ed, f["FilePath"])
    print("\\copy %s.%s FROM '%s'" % (ident(f["SchemaName"]), ident(f["TableName"]), p.replace("'", "''")))
PY
}

# ---- a live export under faults (the source cluster is "source", database sourcedb) ----
# walsender: the pid of export data's walsender on the source, if it streams.
walsender() { psql_as source postgres -c "SELECT pid FROM pg_stat_replication WHERE application_name = 'yb-voyager-cdc'"; }
# wait_streaming: until the exporter's walsender runs (at most 60 s); sets WS.
wait_streaming() {
    local i
    for i in $(seq 1 300); do
        WS=$(walsender 2>/dev/null)
        [ -n "$WS" ] && return 0
        sleep 0.2
    done
    return 1
}
# workload SEED N: in the background, pid in WL (it may die with the source: what
# committed is what counts).
workload() {
    live_workload_sql "$2" "$1" >"$TEST_TMP/wl$1.sql"
    psql_as source sourcedb -f "$TEST_TMP/wl$1.sql" >/dev/null 2>>"$TEST_TMP/workload.err" &
    WL=$!
}
# wait_confirmed: the slot confirmed the source's current WAL position or beyond
# (the exporter has every change so far durably), at most 60 s.
wait_confirmed() {
    local want i
    want=$(psql_as source postgres -c "SELECT pg_current_wal_lsn()")
    for i in $(seq 1 300); do
        [ "$(psql_as source postgres -c "SELECT confirmed_flush_lsn >= '$want' FROM pg_replication_slots" 2>/dev/null)" = t ] && return 0
        sleep 0.2
    done
    return 1
}
# copydb_create: copydb on the source cluster, sourcedb's schema without its rows (the twin
# queue_equals_source fills).
copydb_create() {
    psql_as source postgres -c "CREATE DATABASE copydb OWNER voyager" >/dev/null
    "$PGBIN/pg_dump" -h "$TEST_TMP/source" -p "$SOURCE_PORT" -U postgres -s -d sourcedb | psql_as source copydb >/dev/null
}
# queue_equals_source ED: the queue's vsns are in order, and the snapshot loaded
# into sourcedb's empty twin copydb plus the replayed queue equals sourcedb.
queue_equals_source() {
    assert_eq "vsn strictly increasing, markers in place" ok "$(queue_vsn_check "$1" 2>&1)"
    snapshot_load_sql "$1" >"$TEST_TMP/load.sql"
    check "load the snapshot into the copy" psql_as source copydb -f "$TEST_TMP/load.sql"
    queue_replay_sql "$1" source_db_exporter >"$TEST_TMP/replay.sql"
    check "replay the queue: each update/delete hits one row, no duplicate insert" psql_as source copydb -f "$TEST_TMP/replay.sql"
    compare_databases source source sourcedb copydb
}

# ---- the prelude of the live tests on two clusters ----
#   live_setup [IMPORT-ARGS...]   clusters source (sourcedb, live_schema_sql) and target (yugabyte,
#                                 the same schema by pg_dump); conn_flags; ED a new export dir;
#                                 export data (snapshot-and-changes) running, checked "snapshot
#                                 exported" and "export data streams"; import data IMPORT-ARGS
#                                 running, checked "import data streams" (snapshot imported, alive).
#                                 QUEUE_SEGMENT_MAX_BYTES is the caller's: export it before.
#   live_start_exporter [ARGS...] export data in the background: EXP_PID, $TEST_TMP/exporter.out
#   live_start_importer [ARGS...] import data (--parallel-jobs 2) in the background: IMP_PID,
#                                 $TEST_TMP/importer.out
#   live_stop PID                 SIGTERM, then wait for its exit (at most 30 s)
#   live_applied                  changes import data applied on the target (its progress table)
#   live_cutover_to_target [DESC] cutover to target: export data and import data exit 0 after the
#                                 end of stream (DESC: the import's check title), target equals source
live_start_exporter() {
    "$VOYAGER" export data -e "$ED" "${SRC_FLAGS[@]}" --export-type snapshot-and-changes --disable-pb true "$@" \
        >>"$TEST_TMP/exporter.out" 2>&1 &
    EXP_PID=$!
}
live_start_importer() {
    "$VOYAGER" import data -e "$ED" "${TGT_FLAGS[@]}" --disable-pb true --parallel-jobs 2 "$@" \
        >>"$TEST_TMP/importer.out" 2>&1 &
    IMP_PID=$!
}
live_stop() { kill -TERM "$1" 2>/dev/null; wait_exit "$1" 30 >/dev/null; }
live_applied() {
    psql_as target yugabyte -c "SELECT coalesce(sum(num_inserts + num_updates + num_deletes), 0)
        FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo" 2>/dev/null
}
_live_importing() { [ "$(status_get "$ED" ImportDataDone)" = true ] && kill -0 "$IMP_PID" 2>/dev/null; }
live_setup() {
    local i
    . "$HARNESS_DIR/status.sh"
    . "$HARNESS_DIR/snapshot.sh"
    ED=$(new_export_dir)
    pg_start source sourcedb || return 1
    pg_start target yugabyte || return 1
    conn_flags
    live_schema_sql | psql_as source sourcedb >/dev/null || return 1
    copy_schema source target || return 1
    live_start_exporter
    check "snapshot exported" status_wait "$ED" ExportDataDone 60
    check "export data streams" wait_streaming
    live_start_importer "$@"
    for i in $(seq 1 300); do
        _live_importing && break
        kill -0 "$IMP_PID" 2>/dev/null || break
        sleep 0.2
    done
    check "import data streams (snapshot imported, still running)" _live_importing
}
live_cutover_to_target() {
    check "initiate cutover to target" "$VOYAGER" initiate cutover to target -e "$ED"
    wait_exit "$EXP_PID" 60
    assert_eq "export data exits 0 after the end of stream" 0 "$?"
    wait_exit "$IMP_PID" 60
    assert_eq "${1:-import data exits 0 after the end of stream}" 0 "$?"
    compare_databases source target
}
