# Change-queue workloads whose correctness depends on apply order across rows and tables
# (no exporter needed: events and the same changes as SQL, as queue.sh's queue_gen does).
#
#   python3 order_workloads.py schema unique|fk          DDL of the workload's tables
#   python3 order_workloads.py gen unique|fk SEED N START_VSN OUT_PREFIX
#       writes OUT.ndjson (events, source_db_exporter) and OUT.sql; prints the next vsn
#
# unique: unique values handed from row to row many times, through a lower(email) expression
#         index, a partial unique index, a multi-column unique key with NULLs, a UNIQUE NULLS
#         NOT DISTINCT column, an unconstrained numeric unique column (1.0 and 1.00 are equal)
#         and unique indexes of single partitions (expression; partial) of a partitioned table.
# fk:     parent/child/grandchild with ON DELETE CASCADE and NO ACTION, a self-referencing
#         table; inserts and deletes interleaved so that only source order satisfies the keys.
import json, random, sys

SCHEMA = {
    "unique": """
CREATE TABLE public.u_expr (id int PRIMARY KEY, email text NOT NULL, v int);
CREATE UNIQUE INDEX u_expr_email ON public.u_expr (lower(email));
CREATE TABLE public.u_part (id int PRIMARY KEY, code text, active boolean NOT NULL, v int);
CREATE UNIQUE INDEX u_part_code ON public.u_part (code) WHERE active;
CREATE TABLE public.u_multi (id int PRIMARY KEY, a int, b int, v int, UNIQUE (a, b));
CREATE TABLE public.u_nnd (id int PRIMARY KEY, c text, v int, UNIQUE NULLS NOT DISTINCT (c));
CREATE TABLE public.u_num (id int PRIMARY KEY, n numeric UNIQUE, v int);
CREATE TABLE public.plain (id int PRIMARY KEY, v int);
CREATE TABLE public.u_parted (id int, region text, email text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE public.u_parted_eu PARTITION OF public.u_parted FOR VALUES IN ('eu');
CREATE TABLE public.u_parted_us PARTITION OF public.u_parted FOR VALUES IN ('us');
CREATE UNIQUE INDEX u_parted_eu_email ON public.u_parted_eu (lower(email));
CREATE UNIQUE INDEX u_parted_us_email ON public.u_parted_us (email) WHERE v > 0;
""",
    "fk": """
CREATE TABLE public.parent (id int PRIMARY KEY, name text);
CREATE TABLE public.child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES public.parent (id) ON DELETE CASCADE, v int);
CREATE TABLE public.toy (id int PRIMARY KEY, child_id int REFERENCES public.child (id), v int);
CREATE TABLE public.node (id int PRIMARY KEY, up int REFERENCES public.node (id), v int);
CREATE TABLE public.loose (id int PRIMARY KEY, v int);
""",
}


def qi(s):
    return '"' + s.replace('"', '""') + '"'


def lit(v):
    return "NULL" if v is None else "'" + v.replace("'", "''") + "'"


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.rows = {}  # table -> {id: row}
        self.next_id = 1
        self.out = []  # (event, sql)

    def nid(self):
        self.next_id += 1
        return self.next_id

    def ins(self, t, row):
        row = {k: (None if v is None else str(v)) for k, v in row.items()}
        self.rows.setdefault(t, {})[int(row["id"])] = row
        ev = {"op": "c", "schema_name": "public", "table_name": t, "key": {"id": row["id"]}, "fields": row}
        sql = "INSERT INTO public.%s (%s) VALUES (%s);" % (qi(t), ", ".join(map(qi, row)), ", ".join(lit(v) for v in row.values()))
        self.out.append((ev, sql))

    def upd(self, t, i, ch, sql=True):
        ch = {k: (None if v is None else str(v)) for k, v in ch.items()}
        old = self.rows[t][i]
        new = dict(old)
        new.update(ch)
        self.rows[t][i] = new
        ev = {"op": "u", "schema_name": "public", "table_name": t, "key": {"id": old["id"]}, "fields": ch,
              "before_fields": old}
        s = "UPDATE public.%s SET %s WHERE id = %s;" % (qi(t), ", ".join("%s = %s" % (qi(k), lit(v)) for k, v in ch.items()), old["id"])
        self.out.append((ev, s if sql else "-- cascaded"))

    def dele(self, t, i, sql=True):
        old = self.rows[t].pop(i)
        ev = {"op": "d", "schema_name": "public", "table_name": t, "key": {"id": old["id"]}, "before_fields": old}
        s = "DELETE FROM public.%s WHERE id = %s;" % (qi(t), old["id"])
        self.out.append((ev, s if sql else "-- cascaded"))

    def pick(self, t, cond=None):
        ids = [i for i, row in self.rows.get(t, {}).items() if cond is None or cond(row)]
        return self.r.choice(sorted(ids)) if ids else None

    # ------------------------------------------------------------------ unique
    def casey(self, s):
        return "".join(c.upper() if self.r.random() < 0.5 else c.lower() for c in s)

    def step_unique(self):
        r = self.r
        t = r.choice(["u_expr", "u_expr", "u_part", "u_part", "u_multi", "u_nnd", "u_num", "plain",
                      "u_parted", "u_parted"])
        rows = self.rows.setdefault(t, {})
        if len(rows) < 12 or r.random() < 0.1:
            k = self.nid()
            if t == "u_expr":
                self.ins(t, {"id": k, "email": self.casey("user%d@ex.com" % k), "v": 0})
            elif t == "u_part":
                active = r.random() < 0.6
                code = "k%d" % (k if active or r.random() < 0.5 else r.randint(1, 5))
                if not active and r.random() < 0.3:
                    code = None
                self.ins(t, {"id": k, "code": code, "active": "t" if active else "f", "v": 0})
            elif t == "u_multi":
                self.ins(t, {"id": k, "a": k % 5, "b": None if r.random() < 0.3 else k, "v": 0})
            elif t == "u_nnd":
                used_null = any(row["c"] is None for row in rows.values())
                self.ins(t, {"id": k, "c": None if not used_null and r.random() < 0.5 else "c%d" % k, "v": 0})
            elif t == "u_num":
                self.ins(t, {"id": k, "n": r.choice(["%d", "%d.0", "%d.00"]) % k, "v": 0})
            elif t == "u_parted":  # the us partition: unique among rows with v > 0
                self.ins(t, {"id": k, "region": r.choice(["eu", "us"]), "email": self.casey("p%d@ex.com" % k), "v": 1})
            else:
                self.ins(t, {"id": k, "v": 0})
            return
        if t == "plain" or r.random() < 0.25:
            i = self.pick(t)
            self.upd(t, i, {"v": r.randint(0, 999)})
            return
        a, b = r.sample(sorted(rows), 2)
        A, B = rows[a], rows[b]
        mode = r.random()
        if t == "u_expr":
            e = A["email"]
            if mode < 0.4:  # A moves away, B takes A's value (in another case)
                self.upd(t, a, {"email": "moved%d@ex.com" % self.nid()})
                self.upd(t, b, {"email": self.casey(e), "v": r.randint(0, 9)})
            elif mode < 0.7:  # swap through a temporary value
                f = B["email"]
                self.upd(t, a, {"email": "tmp%d@ex.com" % self.nid()})
                self.upd(t, b, {"email": self.casey(e)})
                self.upd(t, a, {"email": self.casey(f)})
            else:  # delete, then a new row takes the value
                self.dele(t, a)
                self.ins(t, {"id": self.nid(), "email": self.casey(e), "v": 1})
        elif t == "u_part":
            act = [i for i in sorted(rows) if rows[i]["active"] == "t" and rows[i]["code"] is not None]
            if not act:
                return
            a = r.choice(act)
            b = r.choice([i for i in sorted(rows) if i != a])
            code = rows[a]["code"]
            if mode < 0.4:  # A leaves the index (inactive), B enters it with A's code
                self.upd(t, a, {"active": "f"})
                self.upd(t, b, {"code": code, "active": "t"})
            elif mode < 0.7:  # A changes its code, B takes the old one
                self.upd(t, a, {"code": "k%d" % self.nid()})
                self.upd(t, b, {"code": code, "active": "t", "v": r.randint(0, 9)})
            else:  # A deleted, a new active row takes its code
                self.dele(t, a)
                self.ins(t, {"id": self.nid(), "code": code, "active": "t", "v": 2})
        elif t == "u_multi":
            if A["b"] is None or mode < 0.2:  # NULLs never collide: anything goes
                self.upd(t, a, {"b": None})
                self.upd(t, b, {"a": A["a"], "b": None})
            elif mode < 0.7:
                va, vb = A["a"], A["b"]
                self.upd(t, a, {"b": str(self.nid())})
                self.upd(t, b, {"a": va, "b": vb})
            else:
                va, vb = A["a"], A["b"]
                self.dele(t, a)
                self.ins(t, {"id": self.nid(), "a": va, "b": vb, "v": 3})
        elif t == "u_nnd":
            holder = [i for i in sorted(rows) if rows[i]["c"] is None]
            if holder and mode < 0.6:  # the one NULL moves from row to row
                h = holder[0]
                o = r.choice([i for i in sorted(rows) if i != h])
                self.upd(t, h, {"c": "c%d" % self.nid()})
                self.upd(t, o, {"c": None})
            else:
                c = A["c"]
                self.upd(t, a, {"c": "x%d" % self.nid()})
                self.upd(t, b, {"c": c})
        elif t == "u_parted":
            same = [i for i in sorted(rows) if i != a and rows[i]["region"] == A["region"]]
            if not same:
                return
            b = r.choice(same)
            e = A["email"]
            if A["region"] == "eu":  # A moves away, B takes A's email in another case
                self.upd(t, a, {"email": "pm%d@ex.com" % self.nid()})
                self.upd(t, b, {"email": self.casey(e)})
            else:  # A leaves the partial index (v = 0), B takes its email
                self.upd(t, a, {"v": 0})
                self.upd(t, b, {"email": e, "v": r.randint(1, 9)})
                self.upd(t, a, {"email": "pm%d@ex.com" % self.nid(), "v": 1})
        elif t == "u_num":
            n = A["n"]  # B takes A's value written another way (1.5 = 1.50)
            same = [n, n + ("0" if "." in n else ".0"), n + ("00" if "." in n else ".00")]
            self.upd(t, a, {"n": "%d.5" % self.nid()})
            self.upd(t, b, {"n": r.choice(same)})

    # ------------------------------------------------------------------ fk
    def children_of(self, p):
        return sorted(i for i, row in self.rows.get("child", {}).items() if row["parent_id"] == str(p))

    def toys_of(self, c):
        return sorted(i for i, row in self.rows.get("toy", {}).items() if row["child_id"] == str(c))

    def step_fk(self):
        r = self.r
        x = r.random()
        parents = self.rows.setdefault("parent", {})
        self.rows.setdefault("child", {})
        self.rows.setdefault("toy", {})
        self.rows.setdefault("node", {})
        if x < 0.15 or len(parents) < 3:  # a family, parent first
            p = self.nid()
            self.ins("parent", {"id": p, "name": "p%d" % p})
            for _ in range(r.randint(0, 3)):
                c = self.nid()
                self.ins("child", {"id": c, "parent_id": p, "v": 0})
                if r.random() < 0.5:
                    self.ins("toy", {"id": self.nid(), "child_id": c, "v": 0})
        elif x < 0.30:  # delete a family by hand: toys, children, then the parent
            p = self.pick("parent")
            for c in self.children_of(p):
                for y in self.toys_of(c):
                    self.dele("toy", y)
                self.dele("child", c)
            self.dele("parent", p)
        elif x < 0.40:  # delete a parent, the children go by ON DELETE CASCADE (after it in the WAL)
            p = self.pick("parent")
            for c in self.children_of(p):
                for y in self.toys_of(c):
                    self.dele("toy", y)
            self.dele("parent", p)
            for c in self.children_of(p):
                self.dele("child", c, sql=False)
        elif x < 0.50:  # a child moves to a brand-new parent; the old parent goes
            c = self.pick("child")
            if c is None:
                return
            old = self.rows["child"][c]["parent_id"]
            p = self.nid()
            self.ins("parent", {"id": p, "name": "n%d" % p})
            self.upd("child", c, {"parent_id": p})
            if not self.children_of(int(old)):
                self.dele("parent", int(old))
        elif x < 0.60:  # a toy changes hands: new child first
            y = self.pick("toy")
            p = self.pick("parent")
            if y is None:
                return
            c = self.nid()
            self.ins("child", {"id": c, "parent_id": p, "v": 1})
            self.upd("toy", y, {"child_id": c})
        elif x < 0.68:
            c = self.pick("child")
            if c is not None:
                for y in self.toys_of(c):
                    self.dele("toy", y)
                self.dele("child", c)
        elif x < 0.82:  # the self-referencing table: inserts under existing nodes, leaves deleted
            nodes = self.rows["node"]
            if len(nodes) < 5 or r.random() < 0.5:
                n = self.nid()
                self.ins("node", {"id": n, "up": self.pick("node"), "v": 0})
            else:
                # re-point a node to a brand-new node, then drop a leaf
                n = self.nid()
                self.ins("node", {"id": n, "up": None, "v": 1})
                o = self.pick("node", lambda row: row["id"] != str(n))
                self.upd("node", o, {"up": n})
                leaves = [j for j in sorted(nodes) if not any(row["up"] == str(j) for row in nodes.values())]
                self.dele("node", r.choice(leaves))
        else:  # ordinary traffic
            t = r.choice(["loose", "loose", "child", "toy"])
            i = self.pick(t)
            if t == "loose" and (i is None or r.random() < 0.4):
                self.ins("loose", {"id": self.nid(), "v": 0})
            elif i is not None:
                self.upd(t, i, {"v": r.randint(0, 999)})


def gen(workload, seed, n, start_vsn, prefix):
    g = Gen(int(seed))
    n, vsn = int(n), int(start_vsn)
    step = g.step_unique if workload == "unique" else g.step_fk
    while len(g.out) < n:
        step()
    with open(prefix + ".ndjson", "w") as ev_out, open(prefix + ".sql", "w") as sql_out:
        sql_out.write("BEGIN;\n")
        for ev, sql in g.out:
            ev["vsn"] = vsn
            ev["exporter_role"] = "source_db_exporter"
            ev_out.write(json.dumps(ev) + "\n")
            sql_out.write(sql + "\n")
            vsn += 1
        sql_out.write("COMMIT;\n")
    print(vsn)


if __name__ == "__main__":
    if sys.argv[1] == "schema":
        print(SCHEMA[sys.argv[2]])
    else:
        gen(*sys.argv[2:])
