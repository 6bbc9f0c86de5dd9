#!/usr/bin/env python3
"""A fault-injecting TCP proxy for the PostgreSQL wire protocol (tests only).

    faultproxy.py --upstream-port P [--upstream-host H] --rules FILE --port-file FILE [--log FILE]

It listens on a free loopback port (written to --port-file), forwards every
connection to the upstream server, and parses both directions into protocol
messages (the untyped startup packets first, then type byte + int32 length).
Faults come from rules read from --rules, one per line, reloaded whenever the
file changes (write it whole and rename it in place); every rule's counters
start again at each reload. Lines:

    drop_after_bytes N [once|always|nth=K]   close a connection once N bytes passed
                                             through it (both directions counted)
    drop_after_commit [once|always|nth=K]    on the server's CommandComplete "COMMIT":
                                             close both sides without forwarding it
                                             (the server committed, the client never
                                             learns: an ambiguous COMMIT)
    drop_random P                            each message closes its connection with
                                             probability P (0..1)
    stall T                                  forward nothing for T seconds (from the reload)
    refuse T                                 refuse new connections for T seconds
    drop_all                                 close every open connection (at the reload)

once (the default) fires on the first match only, always on every match,
nth=K on the K-th match only, every=K on every K-th match. Each firing is logged as a line "fault: ...".
The proxy exits when its parent process does.

Rules see parsed messages (Rule.on_message), so new faults (e.g. answering a
statement with an injected error) are a new Rule subclass.
"""
import argparse
import asyncio
import os
import random
import struct
import sys
import time

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102

LOG = sys.stdout


def log(msg):
    LOG.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
    LOG.flush()


class Conn:
    """One proxied connection: the client and server streams and their parsers."""

    ids = 0

    def __init__(self, cw, sw):
        Conn.ids += 1
        self.id = Conn.ids
        self.cw, self.sw = cw, sw
        self.bytes = 0
        self.closed = False
        self.startup = True      # client side: untyped packets until the StartupMessage
        self.single_byte = 0     # server side: answers to SSL/GSS requests pending
        self.passthrough = False  # TLS negotiated: no more parsing

    def close(self, why):
        if self.closed:
            return
        self.closed = True
        log("fault: conn %d closed: %s" % (self.id, why))
        for w in (self.cw, self.sw):
            try:
                w.transport.abort()
            except Exception:
                pass


class Rule:
    """A fault. Decides per message: 'pass', 'drop' (close the connection without
    forwarding the message)."""

    def __init__(self, mode="once"):
        self.matches = 0
        self.fired = 0
        self.mode = mode

    def should_fire(self):
        self.matches += 1
        if self.mode == "always":
            return True
        if self.mode == "once":
            return self.matches == 1
        if self.mode.startswith("nth="):
            return self.matches == int(self.mode[4:])
        if self.mode.startswith("every="):
            return self.matches % int(self.mode[6:]) == 0
        raise ValueError("bad mode %r" % self.mode)

    def on_message(self, conn, from_server, mtype, payload):
        return "pass"


class DropAfterBytes(Rule):
    def __init__(self, n, mode="once"):
        super().__init__(mode)
        self.n = int(n)

    def on_message(self, conn, from_server, mtype, payload):
        if conn.bytes >= self.n and not getattr(conn, "_dab_seen", False):
            conn._dab_seen = True
            if self.should_fire():
                return "drop:after %d bytes" % conn.bytes
        return "pass"


class DropAfterCommit(Rule):
    def on_message(self, conn, from_server, mtype, payload):
        if from_server and mtype == b"C" and payload.rstrip(b"\0") == b"COMMIT":
            if self.should_fire():
                return "drop:server's COMMIT reply withheld (match %d)" % self.matches
        return "pass"


class DropRandom(Rule):
    def __init__(self, p):
        super().__init__("always")
        self.p = float(p)

    def on_message(self, conn, from_server, mtype, payload):
        if random.random() < self.p:
            return "drop:at random"
        return "pass"


class State:
    def __init__(self, args):
        self.args = args
        self.rules = []
        self.stall_until = 0.0
        self.refuse_until = 0.0
        self.conns = set()
        self.mtime = None
        self.server = None
        self.port = 0


def parse_rules(state, text):
    rules = []
    now = time.monotonic()
    state.stall_until = 0.0
    state.refuse_until = 0.0
    for line in text.splitlines():
        w = line.split("#", 1)[0].split()
        if not w:
            continue
        kind, rest = w[0], w[1:]
        if kind == "drop_after_bytes":
            rules.append(DropAfterBytes(*rest))
        elif kind == "drop_after_commit":
            rules.append(DropAfterCommit(*rest))
        elif kind == "drop_random":
            rules.append(DropRandom(*rest))
        elif kind == "stall":
            state.stall_until = now + float(rest[0])
            log("fault: stalling for %ss" % rest[0])
        elif kind == "refuse":
            state.refuse_until = now + float(rest[0])
            log("fault: refusing connections for %ss" % rest[0])
        elif kind == "drop_all":
            for c in list(state.conns):
                c.close("drop_all")
        else:
            log("bad rule line: %r" % line)
    state.rules = rules


async def watch(state):
    ppid = os.getppid()
    while True:
        if os.getppid() != ppid:
            os._exit(0)
        try:
            st = os.stat(state.args.rules)
            key = (st.st_mtime_ns, st.st_ino, st.st_size)
        except FileNotFoundError:
            key = None
        if key != state.mtime:
            state.mtime = key
            text = ""
            if key:
                with open(state.args.rules) as f:
                    text = f.read()
            parse_rules(state, text)
            log("rules: %s" % " | ".join(l.strip() for l in text.splitlines() if l.strip()))
        refusing = time.monotonic() < state.refuse_until
        if refusing and state.server is not None:
            state.server.close()
            state.server = None
        elif not refusing and state.server is None:
            await listen(state)
        await asyncio.sleep(0.05)


def split_messages(buf, conn, from_server):
    """Complete messages at the start of buf: list of (type, payload, raw), rest."""
    out = []
    pos = 0
    while True:
        if conn.passthrough:
            if pos < len(buf):
                out.append((None, b"", bytes(buf[pos:])))
                pos = len(buf)
            break
        if from_server and conn.single_byte:
            if len(buf) - pos < 1:
                break
            b = buf[pos:pos + 1]
            conn.single_byte -= 1
            if b == b"S" or b == b"G":
                conn.passthrough = True
            out.append((b"", b"", bytes(b)))
            pos += 1
            continue
        if not from_server and conn.startup:
            if len(buf) - pos < 8:
                break
            (n,) = struct.unpack("!i", buf[pos:pos + 4])
            if len(buf) - pos < n:
                break
            (code,) = struct.unpack("!i", buf[pos + 4:pos + 8])
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                conn.single_byte += 1
            elif code != CANCEL_REQUEST:
                conn.startup = False
            out.append((b"", bytes(buf[pos + 4:pos + n]), bytes(buf[pos:pos + n])))
            pos += n
            continue
        if len(buf) - pos < 5:
            break
        (n,) = struct.unpack("!i", buf[pos + 1:pos + 5])
        if len(buf) - pos < 1 + n:
            break
        out.append((bytes(buf[pos:pos + 1]), bytes(buf[pos + 5:pos + 1 + n]), bytes(buf[pos:pos + 1 + n])))
        pos += 1 + n
    del buf[:pos]
    return out


async def pump(state, conn, reader, writer, from_server):
    buf = bytearray()
    try:
        while not conn.closed:
            data = await reader.read(65536)
            if not data:
                break
            while time.monotonic() < state.stall_until and not conn.closed:
                await asyncio.sleep(0.05)
            buf += data
            out = bytearray()
            for mtype, payload, raw in split_messages(buf, conn, from_server):
                conn.bytes += len(raw)
                action = "pass"
                for r in state.rules:
                    action = r.on_message(conn, from_server, mtype, payload)
                    if action != "pass":
                        break
                if action.startswith("drop"):
                    if out:
                        writer.write(bytes(out))
                    conn.close(action[5:])
                    return
                out += raw
            if out:
                writer.write(bytes(out))
                await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        if not conn.closed:
            conn.closed = True
            for w in (conn.cw, conn.sw):
                try:
                    w.close()
                except Exception:
                    pass


async def handle(state, creader, cwriter):
    try:
        sreader, swriter = await asyncio.open_connection(state.args.upstream_host, state.args.upstream_port)
    except OSError as e:
        log("upstream connect failed: %s" % e)
        cwriter.transport.abort()
        return
    conn = Conn(cwriter, swriter)
    state.conns.add(conn)
    try:
        await asyncio.gather(pump(state, conn, creader, swriter, False),
                             pump(state, conn, sreader, cwriter, True))
    finally:
        state.conns.discard(conn)


async def listen(state):
    for _ in range(50):
        try:
            state.server = await asyncio.start_server(lambda r, w: handle(state, r, w), "127.0.0.1",
                                                      state.port, reuse_address=True)
            break
        except OSError:
            await asyncio.sleep(0.1)
    if state.server is None:
        log("cannot listen on port %d" % state.port)
        os._exit(1)
    if not state.port:
        state.port = state.server.sockets[0].getsockname()[1]
        tmp = state.args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % state.port)
        os.rename(tmp, state.args.port_file)


async def main():
    global LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream-host", default="127.0.0.1")
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log")
    args = ap.parse_args()
    if args.log:
        LOG = open(args.log, "a")
    state = State(args)
    state.port = args.port
    await listen(state)
    await watch(state)


if __name__ == "__main__":
    asyncio.run(main())
