# Hand-made change queues for the applier's tests (no exporter needed).
# Source after harness.sh:   . "$(dirname "$0")/../lib/queue.sh"
#
#   queue_gen WORKLOAD SEED N START_VSN OUT_PREFIX [ROLE]  # OUT.ndjson (events) + OUT.sql (same as SQL);
#       prints the next vsn (a step may write a few events: about N events)
#       WORKLOAD: mixed | counters.  Writes OUT.state so a later call continues the same rows.
#   queue_append DIR ROLE EVENTS [--max-bytes N] [--close] [--garbage-tail]
#       append events to DIR/data/queue segments (rotating), fsync, bump committed_size in meta.db;
#       --close ends the last segment with the end-of-segment marker (is_last when it holds a cutover);
#       --garbage-tail writes an uncommitted line past committed_size (a restarting writer truncates it)
#   queue_cutover_event VSN OP ROLE               # prints an end-of-stream line
#   queue_schema_sql WORKLOAD                      # the tables the workload changes
#   run_apply DIR CLUSTER [importer: target|source|source-replica] [extra flags...]
#       runs the applier (unit-tests driver) in the foreground; run_apply_bg does it in background (APPLY_PID);
#       APPLY_DB=name overrides the cluster's database, APPLY_PORT=port its port (a fault proxy's)
#   seq_values DIR PHASE SCHEMA NAME VALUE IS_CALLED   # a row of meta.db sequence_last_values

QUEUE_TOOL="$TEST_TMP/queue_tool.py"
cat >"$QUEUE_TOOL" <<'PY'
import json, os, random, sqlite3, sys

QUEUE_META_DDL = """
CREATE TABLE IF NOT EXISTS queue_segment (segment_no INTEGER PRIMARY KEY, file_path TEXT NOT NULL,
 exporter_role TEXT NOT NULL, committed_size INTEGER NOT NULL DEFAULT 0, first_vsn INTEGER, last_vsn INTEGER,
 total_events INTEGER NOT NULL DEFAULT 0, is_closed INTEGER NOT NULL DEFAULT 0, is_last INTEGER NOT NULL DEFAULT 0,
 imported_by_target_db_importer INTEGER NOT NULL DEFAULT 0,
 imported_by_source_replica_db_importer INTEGER NOT NULL DEFAULT 0,
 imported_by_source_db_importer INTEGER NOT NULL DEFAULT 0, archived INTEGER NOT NULL DEFAULT 0,
 deleted INTEGER NOT NULL DEFAULT 0, archive_location TEXT);
CREATE TABLE IF NOT EXISTS queue_table_counts (exporter_role TEXT NOT NULL, schema_name TEXT NOT NULL,
 table_name TEXT NOT NULL, num_inserts INTEGER NOT NULL DEFAULT 0, num_updates INTEGER NOT NULL DEFAULT 0,
 num_deletes INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (exporter_role, schema_name, table_name));
"""

def qi(s):
    return '"' + s.replace('"', '""') + '"'

def lit(v):
    return 'NULL' if v is None else "'" + v.replace("'", "''") + "'"

# ---------------------------------------------------------------- workloads
TEXTS = ["plain", "it's", 'dq"uote', "back\\slash", "new\nline", "tab\there", "ünïcødé ✓", "", " lead",
         "{brace}", "comma,x", "NULL", "\\N", "a" * 3000]

def rnd_text(r):
    return r.choice(TEXTS) + str(r.randint(0, 99))

def rnd_array_text(r):
    items = []
    for _ in range(r.randint(0, 3)):
        c = r.random()
        if c < 0.2:
            items.append("NULL")
        else:
            s = r.choice(["a b", 'q"t', "back\\s", "x", "{y}", "c,d", "NULL"]) + str(r.randint(0, 9))
            items.append('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(items) + "}"

def types_row(r, key):
    row = {
        "id": str(key),
        "i": r.choice([None, str(r.randint(-2**31, 2**31 - 1))]),
        "n": r.choice([None, "NaN", "0", "-12.3400", "123456789012345678901234567890.123456789", "1e-5"]),
        "f": r.choice([None, "Infinity", "-Infinity", "NaN", "1.5", "-0", "3.141592653589793"]),
        "t": r.choice([None, rnd_text(r)]),
        "b": r.choice([None, "\\x", "\\x00ff10", "\\x" + os.urandom(r.randint(1, 40)).hex()]),
        "ts": r.choice([None, "2024-02-29 23:59:59.123456+00", "1999-12-31 19:00:00-05", "infinity"]),
        "d": r.choice([None, "2000-01-01", "0044-03-15 BC" if False else "1970-01-01", "-infinity"]),
        "j": r.choice([None, '{"a": [1, 2, {"b": null}]}', '"str"', '[]', '{"k":  "spaces kept"}']),
        "jb": r.choice([None, '{"z": 1, "a": [true, false]}', 'null', '{"nested": {"x": "\\u00e9"}}']),
        "arr": r.choice([None, "{}", "{1,2,3}", "{NULL,5}", "{{1,2},{3,4}}"]),
        "tarr": r.choice([None, rnd_array_text(r)]),
        "m": r.choice([None, "sad", "ok", "happy"]),
        "p": r.choice([None, "1", "42"]),
        "u": r.choice([None, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]),
        "bo": r.choice([None, "t", "f"]),
        "iv": r.choice([None, "1 day 02:03:04", "-1 mons", "00:00:00.5"]),
        "ip": r.choice([None, "10.0.0.1", "::1/128", "192.168.0.0/16"]),
    }
    return row

class Gen:
    def __init__(self, workload, seed, state_path):
        self.r = random.Random(seed)
        self.workload = workload
        self.state_path = state_path
        self.tables = {}   # name -> {"schema", "table", "pk": [cols], "rows": {pkjson: row}}
        self.next_key = 1
        self.fresh = []  # fold: keys of rows inserted in the last few steps
        if os.path.exists(state_path):
            with open(state_path) as f:
                st = json.load(f)
            self.tables = st["tables"]
            self.next_key = st["next_key"]
            self.r = random.Random(seed + st["next_key"])
        else:
            self.setup()

    def save(self):
        with open(self.state_path, "w") as f:
            json.dump({"tables": self.tables, "next_key": self.next_key}, f)

    def add_table(self, name, schema, table, pk):
        self.tables[name] = {"schema": schema, "table": table, "pk": pk, "rows": {}}

    def setup(self):
        if self.workload == "mixed":
            self.add_table("types", "public", "t_types", ["id"])
            self.add_table("uk", "public", "uk", ["id"])
            self.add_table("comp", "public", "comp", ["a", "b"])
            self.add_table("mc", "Mixed Case", "Select", ["Key"])
            self.add_table("nopk", "public", "nopk", [])
            self.add_table("ident", "public", "ident", ["id"])
        elif self.workload == "fold":
            self.add_table("fold", "public", "fold", ["id"])
            self.add_table("fold_uk", "public", "fold_uk", ["id"])
        else:
            self.add_table("ctr", "public", "ctr", ["id"])
            self.add_table("evlog", "public", "evlog", ["id"])

    def key_of(self, t, row):
        return json.dumps([row[c] for c in t["pk"]]) if t["pk"] else json.dumps(sorted(row.items()))

    # each op returns (event without vsn, sql)
    def ins(self, name, row):
        t = self.tables[name]
        k = self.key_of(t, row)
        if t["pk"]:
            t["rows"][k] = row
        else:
            t["rows"].setdefault("all", []).append(row)
        cols = list(row.keys())
        ev = {"op": "c", "schema_name": t["schema"], "table_name": t["table"],
              "key": {c: row[c] for c in t["pk"]}, "fields": row}
        sql = "INSERT INTO %s.%s (%s) OVERRIDING SYSTEM VALUE VALUES (%s);" % (
            qi(t["schema"]), qi(t["table"]), ", ".join(qi(c) for c in cols), ", ".join(lit(row[c]) for c in cols))
        return ev, sql

    def where(self, t, row):
        if t["pk"]:
            return " AND ".join("%s = %s" % (qi(c), lit(row[c])) for c in t["pk"])
        return "ctid = (SELECT ctid FROM %s.%s WHERE %s LIMIT 1)" % (
            qi(t["schema"]), qi(t["table"]),
            " AND ".join("%s IS NOT DISTINCT FROM %s" % (qi(c), lit(v)) for c, v in row.items()))

    def upd(self, name, k, changes):
        t = self.tables[name]
        if t["pk"]:
            old = t["rows"][k]
        else:
            old = t["rows"]["all"][k]
        new = dict(old)
        new.update(changes)
        ev = {"op": "u", "schema_name": t["schema"], "table_name": t["table"],
              "key": {c: old[c] for c in t["pk"]} if t["pk"] else dict(old),
              "fields": changes, "before_fields": old}
        sql = "UPDATE %s.%s SET %s WHERE %s;" % (qi(t["schema"]), qi(t["table"]),
              ", ".join("%s = %s" % (qi(c), lit(v)) for c, v in changes.items()), self.where(t, old))
        if t["pk"]:
            del t["rows"][k]
            t["rows"][self.key_of(t, new)] = new
        else:
            t["rows"]["all"][k] = new
        return ev, sql

    def dele(self, name, k):
        t = self.tables[name]
        if t["pk"]:
            old = t["rows"].pop(k)
        else:
            old = t["rows"]["all"].pop(k)
        ev = {"op": "d", "schema_name": t["schema"], "table_name": t["table"],
              "key": {c: old[c] for c in t["pk"]} if t["pk"] else dict(old), "before_fields": old}
        sql = "DELETE FROM %s.%s WHERE %s;" % (qi(t["schema"]), qi(t["table"]), self.where(t, old))
        return ev, sql

    def newkey(self):
        self.next_key += 1
        return self.next_key

    def pick(self, name):
        rows = self.tables[name]["rows"]
        if self.tables[name]["pk"]:
            return self.r.choice(list(rows.keys())) if rows else None
        lst = rows.get("all", [])
        return self.r.randrange(len(lst)) if lst else None

    def used_codes(self):
        return {row["code"] for row in self.tables["uk"]["rows"].values()}

    def step_mixed(self):
        r = self.r
        c = r.random()
        out = []
        if c < 0.25:
            name = r.choice(["types", "types", "uk", "comp", "mc", "nopk", "ident"])
            k = self.newkey()
            if name == "types":
                out.append(self.ins(name, types_row(r, k)))
            elif name == "uk":
                code = "c%d" % k
                out.append(self.ins(name, {"id": str(k), "code": code, "v": str(r.randint(0, 9))}))
            elif name == "comp":
                out.append(self.ins(name, {"a": str(k % 7), "b": "b%d" % k, "v": None}))
            elif name == "mc":
                out.append(self.ins(name, {"Key": str(k), "order": rnd_text(r), "User": r.choice([None, "u%d" % k])}))
            elif name == "nopk":
                out.append(self.ins(name, {"x": str(r.randint(0, 3)), "y": r.choice([None, "dup", rnd_text(r)])}))
            else:
                out.append(self.ins(name, {"id": str(k), "v": rnd_text(r)}))
        elif c < 0.55:
            name = r.choice(["types", "types", "comp", "mc", "nopk", "ident"])
            k = self.pick(name)
            if k is None:
                return out
            if name == "types":
                full = types_row(r, 0)
                cols = [c for c in full if c != "id"]  # whole rows: like updates share statements
                if r.random() < 0.5:
                    cols = r.sample(cols, r.randint(1, 5))
                out.append(self.upd(name, k, {c: full[c] for c in cols}))
            elif name == "comp":
                out.append(self.upd(name, k, {"v": str(r.randint(0, 100))}))
            elif name == "mc":
                out.append(self.upd(name, k, {"order": rnd_text(r)}))
            elif name == "nopk":
                out.append(self.upd(name, k, {"y": r.choice([None, "dup", rnd_text(r)])}))
            else:
                out.append(self.upd(name, k, {"v": rnd_text(r)}))
        elif c < 0.65:
            # primary-key changes (then often reuse of the old key)
            name = r.choice(["types", "comp", "mc"])
            k = self.pick(name)
            if k is None:
                return out
            t = self.tables[name]
            old = t["rows"][k]
            nk = self.newkey()
            if name == "types":
                ch = {"id": str(nk)}
            elif name == "comp":
                ch = {"b": "b%d" % nk}
            else:
                ch = {"Key": str(nk), "order": "moved"}
            out.append(self.upd(name, k, ch))
            if r.random() < 0.5 and name == "types":
                out.append(self.ins(name, types_row(r, int(old["id"]))))
        elif c < 0.85:
            # unique-key traffic on uk: swaps, delete-then-take, change-then-take
            rows = self.tables["uk"]["rows"]
            if len(rows) < 2:
                return out
            ka, kb = r.sample(list(rows.keys()), 2)
            a, b = rows[ka], rows[kb]
            mode = r.random()
            if mode < 0.4:
                ca, cb = a["code"], b["code"]
                tmp = "tmp%d" % self.newkey()
                out.append(self.upd("uk", ka, {"code": tmp}))
                out.append(self.upd("uk", kb, {"code": ca}))
                out.append(self.upd("uk", ka, {"code": cb}))
            elif mode < 0.7:
                code = a["code"]
                out.append(self.dele("uk", ka))
                nk = self.newkey()
                out.append(self.ins("uk", {"id": str(nk), "code": code, "v": "0"}))
            else:
                code = a["code"]
                out.append(self.upd("uk", ka, {"code": "n%d" % self.newkey()}))
                out.append(self.upd("uk", kb, {"code": code, "v": str(r.randint(0, 9))}))
        else:
            name = r.choice(["types", "uk", "comp", "mc", "nopk", "ident"])
            k = self.pick(name)
            if k is not None:
                out.append(self.dele(name, k))
        return out

    # rows updated soon after their insert (in the same batch), in every shape: some
    # columns, NULLs, several updates, a key change, a delete, an insert without a column,
    # and a table with a unique column
    def step_fold(self):
        r = self.r
        out = []
        k = self.newkey()
        if r.random() < 0.1:
            out.append(self.ins("fold", {"id": str(k), "a": str(k), "b": "b%d" % k, "d": None}))
        else:
            out.append(self.ins("fold", {"id": str(k), "a": str(k), "b": r.choice([None, "b%d" % k]),
                                         "c": r.choice([None, '{"k": %d}' % k]), "d": str(k % 5)}))
        self.fresh = (self.fresh + [json.dumps([str(k)])])[-8:]
        if r.random() < 0.3:
            out.append(self.ins("fold_uk", {"id": str(k), "code": "c%d" % k, "v": "0"}))
            out.append(self.upd("fold_uk", json.dumps([str(k)]), {"code": "u%d" % k, "v": "1"}))
        for _ in range(r.randint(0, 3)):
            rows = self.tables["fold"]["rows"]
            live = [f for f in self.fresh if f in rows]
            if not live:
                break
            fk = r.choice(live) if r.random() < 0.9 else self.pick("fold")  # an older row too
            c = r.random()
            if c < 0.5:
                out.append(self.upd("fold", fk, r.choice([{"a": str(r.randint(0, 99))}, {"b": None},
                    {"b": rnd_text(r), "c": '{"u": %d}' % r.randint(0, 9)}, {"c": None, "d": "7"}])))
            elif c < 0.6:
                out.append(self.upd("fold", fk, {"c": '[1, 2]'}))
            elif c < 0.75:
                nk = self.newkey()
                out.append(self.upd("fold", fk, {"id": str(nk)}))
                self.fresh.append(json.dumps([str(nk)]))
            elif c < 0.85:
                out.append(self.dele("fold", fk))
            else:
                out.append(self.upd("fold", fk, {"a": str(r.randint(0, 9)), "b": "x", "c": "{}", "d": "1"}))
        # hot rows (the four oldest live ones), updated by most steps as a balance or a
        # counter is: a later update setting no column the earlier one does not folds into it
        hot = list(self.tables["fold"]["rows"])[:4]
        for _ in range(r.randint(0, 2) if len(hot) == 4 else 0):
            out.append(self.upd("fold", r.choice(hot), r.choice([{"a": str(r.randint(0, 99))},
                {"a": str(r.randint(0, 99)), "d": str(r.randint(0, 9))}, {"d": None}, {"b": rnd_text(r)}])))
        return out

    # the counters tables, every change to one row: one channel gets them all
    def step_onerow(self, vsn):
        rows = self.tables["ctr"]["rows"]
        if not rows:
            return [self.ins("ctr", {"id": "1", "v": str(vsn), "n": "1"})]
        k = next(iter(rows))
        return [self.upd("ctr", k, {"v": str(vsn), "n": str(int(rows[k]["n"]) + 1)})]

    def step_counters(self, vsn):
        r = self.r
        out = []
        if len(self.tables["ctr"]["rows"]) < 200:
            k = self.newkey()
            out.append(self.ins("ctr", {"id": str(k), "v": str(vsn), "n": "1"}))
            return out
        c = r.random()
        if c < 0.5:
            k = self.pick("ctr")
            row = self.tables["ctr"]["rows"][k]
            out.append(self.upd("ctr", k, {"v": str(vsn), "n": str(int(row["n"]) + 1)}))
        elif c < 0.8 or len(self.tables["evlog"]["rows"]) < 10:
            out.append(self.ins("evlog", {"id": str(vsn), "c": str(r.randint(0, 5)), "note": r.choice([None, "n%d" % vsn])}))
        elif c < 0.998:
            out.append(self.dele("evlog", self.pick("evlog")))
        else:
            k = self.pick("evlog")
            out.append(self.upd("evlog", k, {"id": str(-vsn)}))
        return out

def cmd_gen(workload, seed, n, start_vsn, prefix, role="source_db_exporter"):
    g = Gen(workload, int(seed), prefix + ".state")
    n, vsn = int(n), int(start_vsn)
    with open(prefix + ".ndjson", "w", encoding="utf-8") as ev_out, \
            open(prefix + ".sql", "w", encoding="utf-8") as sql_out:
        sql_out.write("BEGIN;\n")
        written = 0
        while written < n:
            steps = (g.step_mixed() if workload == "mixed" else g.step_fold() if workload == "fold"
                     else g.step_onerow(vsn) if workload == "onerow" else g.step_counters(vsn))
            for ev, sql in steps:
                # the exporter's layout (cdc/event_json.c): vsn first, no spaces
                ev = dict({"vsn": vsn}, **ev)
                ev["exporter_role"] = role
                ev_out.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n")
                sql_out.write(sql + "\n")
                vsn += 1
                written += 1
        sql_out.write("COMMIT;\n")
    g.save()
    print(vsn)  # next vsn

# ---------------------------------------------------------------- queue writer
def cmd_append(d, role, events, *opts):
    max_bytes = 1 << 30
    close = garbage = False
    it = iter(opts)
    for o in it:
        if o == "--max-bytes":
            max_bytes = int(next(it))
        elif o == "--close":
            close = True
        elif o == "--garbage-tail":
            garbage = True
    qdir = os.path.join(d, "data", "queue")
    os.makedirs(qdir, exist_ok=True)
    os.makedirs(os.path.join(d, "metainfo"), exist_ok=True)
    db = sqlite3.connect(os.path.join(d, "metainfo", "meta.db"), timeout=30)
    db.executescript(QUEUE_META_DDL)
    db.execute("PRAGMA journal_mode=WAL")
    cur = db.execute("SELECT segment_no, committed_size, is_closed, exporter_role FROM queue_segment "
                     "ORDER BY segment_no DESC LIMIT 1").fetchone()
    if cur is None or cur[2] or cur[3] != role:
        if cur is not None and not cur[2]:
            close_segment(db, d, cur[0], cur[1])
        seg = 0 if cur is None else cur[0] + 1
        open_segment(db, d, seg, role)
        size = 0
    else:
        seg, size = cur[0], cur[1]
    path = os.path.join(d, "data/queue/segment.%d.ndjson" % seg)
    f = open(path, "r+b" if os.path.exists(path) else "wb")
    f.truncate(size)  # drop any uncommitted tail, as a restarting writer does
    f.seek(size)
    counts = {}
    def commit(lines_meta):
        f.flush(); os.fsync(f.fileno())
        first = min(m for m in lines_meta) if lines_meta else None
        last = max(m for m in lines_meta) if lines_meta else None
        db.execute("UPDATE queue_segment SET committed_size = ?, first_vsn = coalesce(first_vsn, ?), "
                   "last_vsn = coalesce(?, last_vsn), total_events = total_events + ? WHERE segment_no = ?",
                   (f.tell(), first, last, len(lines_meta), seg))
        for (sch, tab, op), c in counts.items():
            db.execute("INSERT INTO queue_table_counts (exporter_role, schema_name, table_name) VALUES (?,?,?) "
                       "ON CONFLICT DO NOTHING", (role, sch, tab))
            col = {"c": "num_inserts", "u": "num_updates", "d": "num_deletes"}[op]
            db.execute("UPDATE queue_table_counts SET %s = %s + ? WHERE exporter_role = ? AND schema_name = ? "
                       "AND table_name = ?" % (col, col), (c, role, sch, tab))
        counts.clear()
        db.commit()
    pending = []
    last_line = None
    with open(events, "rb") as src:
        for line in src:
            if f.tell() + len(line) > max_bytes and f.tell() > 0:
                commit(pending); pending = []
                f.write(b"\\.\n")
                close_segment(db, d, seg, f.tell(), f)
                f.close()
                seg += 1
                open_segment(db, d, seg, role)
                path = os.path.join(d, "data/queue/segment.%d.ndjson" % seg)
                f = open(path, "wb")
            f.write(line)
            ev = json.loads(line)
            pending.append(ev["vsn"])
            last_line = ev
            if ev["op"] in ("c", "u", "d"):
                key = (ev["schema_name"], ev["table_name"], ev["op"])
                counts[key] = counts.get(key, 0) + 1
            if len(pending) >= 5000:
                commit(pending); pending = []
    commit(pending)
    if garbage:
        f.write(json.dumps({"vsn": 10**12, "op": "c", "schema_name": "public", "table_name": "no_such",
                            "key": {}, "fields": {"x": "1"}, "exporter_role": role}).encode() + b"\n")
        f.flush()
    if close:
        f.truncate(f.tell() if not garbage else committed_of(db, seg))
        f.seek(0, 2)
        f.write(b"\\.\n")
        is_last = 1 if last_line and last_line["op"].startswith("cutover") else 0
        close_segment(db, d, seg, f.tell(), f, is_last)
    f.close()
    db.close()

def committed_of(db, seg):
    return db.execute("SELECT committed_size FROM queue_segment WHERE segment_no = ?", (seg,)).fetchone()[0]

def open_segment(db, d, seg, role):
    db.execute("INSERT INTO queue_segment (segment_no, file_path, exporter_role) VALUES (?, ?, ?)",
               (seg, "data/queue/segment.%d.ndjson" % seg, role))
    db.commit()

def close_segment(db, d, seg, size, f=None, is_last=0):
    if f is not None:
        f.flush(); os.fsync(f.fileno())
    else:
        with open(os.path.join(d, "data/queue/segment.%d.ndjson" % seg), "ab") as g:
            g.truncate(size); g.write(b"\\.\n"); size = g.tell()
    db.execute("UPDATE queue_segment SET committed_size = ?, is_closed = 1, is_last = ? WHERE segment_no = ?",
               (size, is_last, seg))
    db.commit()

if __name__ == "__main__":
    {"gen": cmd_gen, "append": cmd_append}[sys.argv[1]](*sys.argv[2:])
PY

queue_gen() { python3 "$QUEUE_TOOL" gen "$@"; }
queue_append() { python3 "$QUEUE_TOOL" append "$@"; }
seq_values() {
    python3 - "$1/metainfo/meta.db" "${@:2}" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("CREATE TABLE IF NOT EXISTS sequence_last_values (phase TEXT, schema_name TEXT, sequence_name TEXT,"
           " last_value INTEGER, is_called INTEGER, PRIMARY KEY (phase, schema_name, sequence_name))")
db.execute("INSERT OR REPLACE INTO sequence_last_values VALUES (?,?,?,?,?)", tuple(sys.argv[2:7]))
db.commit()
PY
}
# queue_op_counts FILE: "inserts updates deletes" of the events in an ndjson file (as channel_counts).
queue_op_counts() {
    python3 - "$1" <<'PY'
import json, sys
c = {"c": 0, "u": 0, "d": 0}
for l in open(sys.argv[1], encoding="utf-8"):
    c[json.loads(l)["op"]] += 1
print(c["c"], c["u"], c["d"])
PY
}
queue_cutover_event() { printf '{"vsn":%s,"op":"%s","exporter_role":"%s"}\n' "$1" "$2" "$3"; }

queue_schema_sql() {
    case $1 in
    mixed)
        cat <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE public.t_types (id bigint PRIMARY KEY, i int, n numeric, f float8, t text, b bytea,
  ts timestamptz, d date, j json, jb jsonb, arr int[], tarr text[], m mood, p posint, u uuid,
  bo boolean, iv interval, ip inet);
CREATE TABLE public.uk (id int PRIMARY KEY, code text NOT NULL UNIQUE, v int);
CREATE TABLE public.comp (a int, b text, v int, PRIMARY KEY (a, b));
CREATE SCHEMA "Mixed Case";
CREATE TABLE "Mixed Case"."Select" ("Key" int PRIMARY KEY, "order" text, "User" text UNIQUE);
CREATE TABLE public.nopk (x int, y text);
CREATE TABLE public.ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
CREATE SEQUENCE public.seq_a;
CREATE SEQUENCE "Mixed Case"."Seq B";
SQL
        ;;
    fold)
        cat <<'SQL'
CREATE TABLE public.fold (id int PRIMARY KEY, a int, b text, c jsonb, d int);
CREATE TABLE public.fold_uk (id int PRIMARY KEY, code text NOT NULL UNIQUE, v int);
SQL
        ;;
    counters)
        cat <<'SQL'
CREATE TABLE public.ctr (id int PRIMARY KEY, v bigint NOT NULL, n bigint NOT NULL);
CREATE TABLE public.evlog (id bigint PRIMARY KEY, c int, note text);
SQL
        ;;
    esac
}

# apply_cmd DIR CLUSTER [target|source|source-replica] [flags...]: sets APPLY_ENV and APPLY_CMD
# (the applier through the unit-tests driver, flags as `import data to ...` takes them).
apply_cmd() {
    local dir=$1 cluster=$2 kind=${3:-target}
    shift 2
    [ $# -gt 0 ] && shift
    local port db
    port=${APPLY_PORT:-$(cluster_port "$cluster")}
    db=${APPLY_DB:-$(eval "echo \${$(echo "$cluster" | tr 'a-z-' 'A-Z_')_DB}")}
    local args=(import data to "$kind" --export-dir "$dir" --"$kind"-db-host 127.0.0.1
        --"$kind"-db-port "$port" --"$kind"-db-user voyager --"$kind"-db-name "$db" --disable-pb true "$@")
    [ "$kind" = source ] && args+=(--source-db-type postgresql)
    APPLY_ENV=$(printf '%s\n' "${args[@]}")
    APPLY_CMD=("$REPO_ROOT/${BUILD:-build}/unit-tests" cdc_apply_drive)
}

# run_apply DIR CLUSTER [kind] [flags...]: in the foreground; output in $TEST_TMP/apply.out/.err.
run_apply() {
    apply_cmd "$@"
    VOYAGER_CDC_DRIVE=$APPLY_ENV "${APPLY_CMD[@]}" >"$TEST_TMP/apply.out" 2>"$TEST_TMP/apply.err"
    local rc=$?
    cat "$TEST_TMP/apply.out"
    cat "$TEST_TMP/apply.err" >&2
    return $rc
}

# run_apply_bg DIR CLUSTER [kind] [flags...]: in the background; APPLY_PID is the applier itself.
run_apply_bg() {
    apply_cmd "$@"
    VOYAGER_CDC_DRIVE=$APPLY_ENV "${APPLY_CMD[@]}" >>"$TEST_TMP/apply.out" 2>>"$TEST_TMP/apply.err" &
    APPLY_PID=$!
}

# channel_counts CLUSTER [DB]: "inserts updates deletes" summed over the channels of the applier.
channel_counts() {
    local db=${2:-}
    [ -n "$db" ] || db=$(eval "echo \${$(echo "$1" | tr 'a-z-' 'A-Z_')_DB}")
    psql_as "$1" "$db" -F' ' -c "SELECT sum(num_inserts), sum(num_updates), sum(num_deletes)
        FROM ybvoyager_metadata.ybvoyager_import_data_event_channels_metainfo"
}
