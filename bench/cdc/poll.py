#!/usr/bin/env python3
"""bench/cdc/poll.py: completion detection and CPU accounting without stealing CPU.

One long-lived psql session per cluster (a coprocess) and one SQLite connection per
meta.db, polled every 100 ms, instead of a process started per poll. Reads
/proc/PID/stat (utime+stime, +cutime+cstime) and VmHWM of the processes of each method.

  --pg NAME=SOCKDIR:PORT:DB       a cluster to poll (superuser over the unix socket)
  --cond LABEL=NAME:SQL           done when SQL (on cluster NAME) returns t
  --sqlite LABEL=PATH:MIN:SQL     done when SQL (on SQLite db PATH) returns >= MIN
  --exit LABEL=PID                done when PID has exited (gone or a zombie)
  --pid GROUP=PID                 account PID's CPU to GROUP (from the first poll: a process
                                  already running counts from there)
  --proc GROUP=PID                account PID's CPU to GROUP from its start (a process the bench
                                  started just before the poller: its work before the first poll
                                  counts too)
  --pidq GROUP=NAME:SQL           account the pids SQL returns (re-read every poll) to GROUP
  --procq GROUP=NAME:SQL          --pidq, each pid from its start (a walsender the method's client
                                  started: its work before the poller's first poll counts too)
  --cluster GROUP=DATADIR[@BASE]  account the whole cluster's CPU to GROUP: the postmaster's own
                                  and reaped children's (cutime/cstime) plus its live children;
                                  from BASE (the cluster's CPU before the method started, printed
                                  by --cluster-cpu) when given, else from the first poll
  --cluster-cpu DATADIR           print the cluster's CPU-seconds now and exit
  --watch PID                     give up ("died") if PID exits before all conditions hold
  --timeout S                     give up after S seconds
Prints "cond LABEL EPOCH", "cpu GROUP SECONDS", "rss GROUP KB" when every condition holds.
CPU is counted from the first sight of a pid (its value then if seen in the first poll,
else 0; --proc: 0) to its last sample: a process that exits between two polls loses <= 100 ms.
"""
import os, sqlite3, subprocess, sys, time

HZ = os.sysconf("SC_CLK_TCK")


class Psql:
    def __init__(self, sock, port, db):
        self.p = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-h", sock, "-p", port, "-U", "postgres", "-d", db],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def q(self, sql):
        self.p.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo __end__\n")
        self.p.stdin.flush()
        out = []
        while True:
            line = self.p.stdout.readline()
            if line == "":
                raise SystemExit("psql session ended")
            line = line.rstrip("\n")
            if line == "__end__":
                return out
            out.append(line)


def proc_cpu(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None, None
    fields = s[s.rindex(")") + 2:].split()
    state = fields[0]
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / HZ, state


def proc_hwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def children_cpu():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            fl = st[st.rindex(")") + 2:].split()
            kids.setdefault(int(fl[1]), []).append(sum(int(x) for x in fl[11:15]) / HZ)
    return kids


def postmaster(datadir):
    with open(os.path.join(datadir, "postmaster.pid")) as f:
        return int(f.readline())


def main(argv):
    if len(argv) == 2 and argv[0] == "--cluster-cpu":
        pm = postmaster(argv[1])
        c, _ = proc_cpu(pm)
        print("%.2f" % (c + sum(children_cpu().get(pm, []))))
        return 0
    clusters, exits, pgs, conds, sqls, pids, pidqs, watch, timeout = [], [], {}, [], [], [], [], [], 3600.0
    whole, bases = set(), {}
    it = iter(argv)
    for a in it:
        v = next(it)
        k, _, rest = v.partition("=")
        if a == "--pg":
            sock, port, db = rest.split(":", 2)
            pgs[k] = Psql(sock, port, db)
        elif a == "--cond":
            n, sql = rest.split(":", 1)
            conds.append((k, n, sql))
        elif a == "--sqlite":
            path, mn, sql = rest.split(":", 2)
            sqls.append((k, sqlite3.connect("file:%s?mode=ro" % path, uri=True), float(mn), sql))
        elif a == "--exit":
            exits.append((k, int(rest)))
        elif a == "--pid":
            pids.append((k, int(rest)))
        elif a == "--proc":
            pids.append((k, int(rest)))
            whole.add(int(rest))
        elif a in ("--pidq", "--procq"):
            n, sql = rest.split(":", 1)
            pidqs.append((k, n, sql, a == "--procq"))
        elif a == "--cluster":
            d, _, base = rest.partition("@")
            clusters.append((k, postmaster(d)))
            if base:
                bases[("cluster", k, clusters[-1][1])] = float(base)
        elif a == "--watch":
            watch.append(int(v))
        elif a == "--timeout":
            timeout = float(v)
    done = {}
    first = {}   # pid -> cpu at first sight
    last = {}    # pid -> last cpu
    group = {}   # pid -> group
    hwm = {}     # group -> max VmHWM
    t_start = time.time()
    poll = 0
    while True:
        now = time.time()
        for label, n, sql in conds:
            if label not in done:
                r = pgs[n].q(sql)
                if r and r[0] == "t":
                    done[label] = now
        for label, db, mn, sql in sqls:
            if label not in done:
                try:
                    r = db.execute(sql).fetchone()[0] or 0
                except sqlite3.Error:
                    r = 0
                if float(r) >= mn:
                    done[label] = now
        for label, p in exits:
            if label not in done:
                c, state = proc_cpu(p)
                if c is None or state in ("Z", "X"):
                    done[label] = now
        cur = [(g, p) for g, p in pids]
        for g, n, sql, from_start in pidqs:
            for x in pgs[n].q(sql):
                if x.strip():
                    cur.append((g, int(x)))
                    if from_start:
                        whole.add(int(x))
        for g, p in cur:
            c, state = proc_cpu(p)
            if c is None:
                continue
            if p not in first:
                first[p] = c if poll == 0 and p not in whole else 0.0
                group[p] = g
            last[p] = c
            h = proc_hwm(p)
            if h is not None:
                hwm[g] = max(hwm.get(g, 0), h)
        if clusters:
            kids = children_cpu()
            for g, pm in clusters:
                c, _ = proc_cpu(pm)
                if c is None:
                    continue
                tot = c + sum(kids.get(pm, []))
                key = ("cluster", g, pm)
                if key not in first:
                    first[key] = bases.get(key, tot)
                    group[key] = g
                last[key] = tot
        poll += 1
        if len(done) == len(conds) + len(sqls) + len(exits):
            break
        for p in watch:
            c, state = proc_cpu(p)
            if c is None or state in ("Z", "X"):
                print("died %d" % p)
                sys.stdout.flush()
                return 1
        if now - t_start > timeout:
            print("timeout")
            return 1
        time.sleep(0.1)
    for label, t in sorted(done.items()):
        print("cond %s %.3f" % (label, t))
    cpu = {}
    for p, g in group.items():
        cpu[g] = cpu.get(g, 0.0) + last[p] - first[p]
    for g in sorted(set([g for g, _ in pids] + [g for g, _, _, _ in pidqs] + [g for g, _ in clusters])):
        print("cpu %s %.2f" % (g, cpu.get(g, 0.0)))
        print("rss %s %d" % (g, hwm.get(g, 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
