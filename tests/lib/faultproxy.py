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
    delay T [match=REGEX]                    each matching client statement waits T s
    hold [match=REGEX]                       each matching client statement waits until no
                                             hold rule is left (logged "fault: hold ...")

once (the default) fires on the first match only, always on every match,
nth=K on the K-th match only, every=K on every K-th match. Each firing is logged as a line "fault: ...".
The proxy exits when its parent process does.

Rules see parsed messages (Rule.on_message), so new faults (e.g. answering a
statement with an injected error) are a new Rule subclass.

YugabyteDB personality (--yb): NOT a YugabyteDB server. A PostgreSQL 15 cluster
behind this proxy is made to look like YugabyteDB to the tool, with the error
texts and SQLSTATEs checked against upstream yb-voyager (src/tgtdb/yugabytedb.go:
NonRetryCopyErrors, RPC_MSG_LIMIT_ERROR) and YugabyteDB's own sources/docs
(rpc serialization "Sending too long RPC message", "Restart read required",
"conflicts with higher priority transaction", "schema version mismatch for table").
Always on with --yb, whatever the rules file says:
    identity     the answer to SELECT version() reads "PostgreSQL 11.2-YB-2.20.1.0-b0 ..."
    settings     SET [SESSION|LOCAL] yb_* (simple protocol) is answered "SET" without reaching
                 PostgreSQL (which would reject it) and logged "yb: set NAME = VALUE"
    nodes        each connection is logged "yb: conn N app=APP to HOST:PORT", so that
                 per-node counts are observable (--listen-host A,B listens on both)
    system columns  a statement (simple Query or Parse) naming ctid fails with YugabyteDB's
                 0A000 'System column "ctid" is not supported yet' (PostgreSQL gets a statement
                 that fails at parse, logged "yb: ctid refused"); ybctid, which YugabyteDB has
                 and PostgreSQL does not, is read as PostgreSQL's ctid (logged "yb: ybctid as
                 ctid"); such a rewritten statement is not seen by the rules below
Extra rule lines (any mode as above, default once):
    yb_error KIND [match=REGEX] [MODE]   the matching statement (simple query text, an
                 unnamed Parse's text, at CopyDone the COPY's text, or at each Bind of a
                 named prepared statement that statement's text) fails with KIND:
                 restart_read, conflict, txn_aborted, deadlock, schema_mismatch, rpc_too_long.
                 PostgreSQL really fails it too (the statement becomes SELECT 1/0, a COPY is
                 ended by CopyFail, COMMIT becomes ROLLBACK, a Bind names a statement that
                 does not exist), so its transaction state is what
                 YugabyteDB's would be; only the error's text is replaced.
    yb_rpc_limit BYTES                   a COPY sending more than BYTES of data fails with
                                         "Sending too long RPC message" (every time)
    yb_too_many_clients [app=REGEX] [MODE]  a new connection (of an application_name
                                         matching REGEX) is refused at startup: FATAL 53300
"""
import argparse
import asyncio
import os
import random
import re
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
        self.txn_status = b"I"   # of the server's last ReadyForQuery
        self.pending_error = None  # (server message type to replace, ErrorResponse raw)
        self.prepared = {}       # named prepared statements: name -> text (Parse seen)
        self.copy_query = None
        self.copy_bytes = 0
        self.sockname = None

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


# ---- YugabyteDB personality (see the module docstring: not a real server) ----

YB_VERSION = ("PostgreSQL 11.2-YB-2.20.1.0-b0 on x86_64-pc-linux-gnu, compiled by clang version "
              "16.0.6, 64-bit")

# SQLSTATE and message per kind, as YugabyteDB reports them to a YSQL client.
YB_ERRORS = {
    "restart_read": ("40001", "Restart read required at: { read: { physical: 1733112000000000 } "
                     "local_limit: { physical: 1733112000500000 } global_limit: <min> "
                     "in_txn_limit: <max> serial_no: 0 }"),
    "conflict": ("40001", "Operation failed. Try again: Transaction 5d3c2c6e-0000-4000-8000-"
                 "000000000001 conflicts with higher priority transaction: 5d3c2c6e-0000-4000-"
                 "8000-000000000002"),
    "txn_aborted": ("40001", "Transaction aborted: kAborted"),
    "deadlock": ("40P01", "deadlock detected"),
    "schema_mismatch": ("XX000", "schema version mismatch for table 000033e1000030008000000000004001: "
                        "expected 1, got 0"),
    "rpc_too_long": ("XX000", "Sending too long RPC message (%d bytes of data), limit: %d bytes"),
    "too_many_clients": ("53300", "sorry, too many clients already"),
}


def msg(mtype, payload):
    return mtype + struct.pack("!i", len(payload) + 4) + payload


def error_response(code, text, severity="ERROR"):
    f = b""
    for k, v in ((b"S", severity), (b"V", severity), (b"C", code), (b"M", text)):
        f += k + v.encode() + b"\0"
    return msg(b"E", f + b"\0")


def client_statement(conn, mtype, payload):
    """The statement a client message runs, or None: simple Query, unnamed Parse, CopyDone,
    or the Bind of a named prepared statement (each execution is judged on its own)."""
    if mtype == b"Q":
        q = payload.rstrip(b"\0").decode("utf-8", "replace")
        if re.match(r"\s*COPY\b.*\bFROM\s+STDIN", q, re.I | re.S):
            conn.copy_query, conn.copy_bytes = q, 0
            return None  # judged at CopyDone, once its data went through
        conn.copy_query = None
        return q
    if mtype == b"P" and payload[:1] == b"\0":
        return payload[1:payload.index(b"\0", 1)].decode("utf-8", "replace")
    if mtype == b"c" and conn.copy_query is not None:
        return conn.copy_query
    if mtype == b"B":
        portal_end = payload.index(b"\0")
        name = payload[portal_end + 1:payload.index(b"\0", portal_end + 1)]
        return conn.prepared.get(name) if name else None
    return None


def substitute(conn, mtype, payload, kind_text):
    """What the server gets instead, so that PostgreSQL fails the statement for real;
    the server's reply is then rewritten to (code, text)."""
    code, text = kind_text
    err = error_response(code, text)
    stmt = client_statement(conn, mtype, payload) if mtype != b"c" else None
    if mtype == b"c":
        conn.copy_query = None
        conn.pending_error = (b"E", err)
        return msg(b"f", b"yb personality: injected error\0")
    if mtype == b"B":
        # the Bind names a statement that does not exist: PostgreSQL fails this execution
        # (aborting the transaction, as YugabyteDB's error would) and skips to the Sync
        portal_end = payload.index(b"\0")
        name_end = payload.index(b"\0", portal_end + 1)
        conn.pending_error = (b"E", err)
        return msg(b"B", payload[:portal_end + 1] + b"yb_injected_error\0" + payload[name_end + 1:])
    commit = stmt is not None and re.match(r"\s*(COMMIT|END)\b", stmt, re.I)
    new = "ROLLBACK" if commit else "SELECT 1/0"
    conn.pending_error = (b"C" if commit else b"E", err)
    if mtype == b"Q":
        return msg(b"Q", new.encode() + b"\0")
    rest = payload[payload.index(b"\0", 1) + 1:]
    return msg(b"P", b"\0" + new.encode() + b"\0" + rest)


class YBPersonality(Rule):
    """Identity, swallowed yb_* settings, and the server-side half of injected errors."""

    SET_RE = re.compile(r"\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(yb_\w+)\s*(?:=|\bTO\b)\s*(.*?)\s*;?\s*$", re.I | re.S)
    CTID_RE = re.compile(rb"(?<![A-Za-z0-9_$])ctid\b", re.I)
    YBCTID_RE = re.compile(rb"\bybctid\b", re.I)

    def system_columns(self, conn, mtype, payload):
        """The message PostgreSQL gets for a statement naming ctid or ybctid, or None."""
        if mtype == b"Q":
            head, text, rest = b"", payload[:-1], b"\0"
        else:
            name_end = payload.index(b"\0")
            text_end = payload.index(b"\0", name_end + 1)
            head, text, rest = payload[:name_end + 1], payload[name_end + 1:text_end], payload[text_end:]
        if self.CTID_RE.search(text):
            log("yb: ctid refused (conn %d): %r" % (conn.id, text[:80]))
            conn.pending_error = (b"E", error_response("0A000", 'System column "ctid" is not supported yet'))
            return msg(mtype, head + b"SELECT ctid_is_not_supported_on_yugabytedb" + rest)
        if self.YBCTID_RE.search(text):
            log("yb: ybctid as ctid (conn %d)" % conn.id)
            return msg(mtype, head + self.YBCTID_RE.sub(b"ctid", text) + rest)
        return None

    def __init__(self):
        super().__init__("always")

    def on_message(self, conn, from_server, mtype, payload):
        if not from_server:
            if mtype == b"" and len(payload) >= 4 and struct.unpack("!i", payload[:4])[0] == 196608:
                kv = payload[4:].split(b"\0")
                d = dict(zip(kv[0::2], kv[1::2]))
                log("yb: conn %d app=%s to %s:%d" % (conn.id, d.get(b"application_name", b"").decode(
                    "utf-8", "replace"), conn.sockname[0], conn.sockname[1]))
            if mtype == b"P" and payload[:1] != b"\0":
                name_end = payload.index(b"\0")
                conn.prepared[payload[:name_end]] = payload[name_end + 1:payload.index(b"\0", name_end + 1)].decode(
                    "utf-8", "replace")
            if mtype in (b"Q", b"P"):
                rewritten = self.system_columns(conn, mtype, payload)
                if rewritten is not None:
                    return ("forward", rewritten)
            if mtype == b"Q":
                client_statement(conn, mtype, payload)  # notes a COPY's start for the byte count
            if mtype == b"d" and conn.copy_query is not None:
                conn.copy_bytes += len(payload)
            if mtype == b"Q":
                m = self.SET_RE.match(payload.rstrip(b"\0").decode("utf-8", "replace"))
                if m:
                    log("yb: set %s = %s (conn %d)" % (m.group(1).lower(), m.group(2), conn.id))
                    return ("answer", msg(b"C", b"SET\0") + msg(b"Z", conn.txn_status))
            return "pass"
        if mtype == b"Z":
            conn.txn_status = payload[:1]
        if conn.pending_error and mtype == conn.pending_error[0]:
            if mtype == b"E" or payload.rstrip(b"\0") == b"ROLLBACK":
                err = conn.pending_error[1]
                conn.pending_error = None
                return ("forward", err)
        if mtype == b"D" and len(payload) > 6 and struct.unpack("!h", payload[:2])[0] == 1:
            (n,) = struct.unpack("!i", payload[2:6])
            if n > 0 and payload[6:6 + 11] == b"PostgreSQL " and b" on " in payload[6:6 + n]:
                v = YB_VERSION.encode()
                return ("forward", msg(b"D", struct.pack("!hi", 1, len(v)) + v))
        return "pass"


class YBError(Rule):
    def __init__(self, kind, *opts):
        mode, match = "once", None
        for o in opts:
            if o.startswith("match="):
                match = re.compile(o[6:], re.I)
            else:
                mode = o
        super().__init__(mode)
        if kind not in YB_ERRORS:
            raise ValueError("unknown yb_error kind %r" % kind)
        self.kind, self.match = kind, match

    def on_message(self, conn, from_server, mtype, payload):
        if from_server or mtype not in (b"Q", b"P", b"B", b"c"):
            return "pass"
        if mtype == b"Q" and YBPersonality.SET_RE.match(payload.rstrip(b"\0").decode("utf-8", "replace")):
            return "pass"
        stmt = client_statement(conn, mtype, payload)
        if stmt is None or (self.match and not self.match.search(stmt)):
            return "pass"
        if not self.should_fire():
            return "pass"
        code, text = YB_ERRORS[self.kind]
        if self.kind == "rpc_too_long":
            text = text % (conn.copy_bytes, 0)
        via = " at the Bind of a prepared statement" if mtype == b"B" else ""
        log("fault: yb %s (%s) on %r%s (conn %d, match %d)" % (self.kind, code, stmt[:60], via, conn.id,
                                                               self.matches))
        return ("forward", substitute(conn, mtype, payload, (code, text)))


class YBRpcLimit(Rule):
    def __init__(self, limit):
        super().__init__("always")
        self.limit = int(limit)

    def on_message(self, conn, from_server, mtype, payload):
        if from_server or mtype != b"c" or conn.copy_query is None or conn.copy_bytes <= self.limit:
            return "pass"
        code, text = YB_ERRORS["rpc_too_long"]
        log("fault: yb rpc_too_long: COPY of %d bytes > %d (conn %d)" % (conn.copy_bytes, self.limit, conn.id))
        return ("forward", substitute(conn, mtype, payload, (code, text % (conn.copy_bytes, self.limit))))


class YBTooManyClients(Rule):
    def __init__(self, *opts):
        mode, self.app = "once", None
        for o in opts:
            if o.startswith("app="):
                self.app = re.compile(o[4:])
            else:
                mode = o
        super().__init__(mode)

    def on_message(self, conn, from_server, mtype, payload):
        if from_server or mtype != b"" or len(payload) < 4 or struct.unpack("!i", payload[:4])[0] != 196608:
            return "pass"
        kv = payload[4:].split(b"\0")
        app = dict(zip(kv[0::2], kv[1::2])).get(b"application_name", b"").decode("utf-8", "replace")
        if self.app and not self.app.search(app):
            return "pass"
        if not self.should_fire():
            return "pass"
        log("fault: yb too_many_clients: conn %d refused at startup" % conn.id)
        code, text = YB_ERRORS["too_many_clients"]
        return ("answer_close", error_response(code, text, "FATAL"))


class Delay(Rule):
    """delay T [match=REGEX]: each matching client statement waits T seconds (a slow server)."""

    def __init__(self, t, *opts):
        super().__init__("always")
        self.t = float(t)
        self.match = None
        for o in opts:
            if o.startswith("match="):
                self.match = re.compile(o[6:], re.I)

    def on_message(self, conn, from_server, mtype, payload):
        if from_server or mtype not in (b"Q", b"P", b"c"):
            return "pass"
        stmt = client_statement(conn, mtype, payload)
        if stmt is None or (self.match and not self.match.search(stmt)):
            return "pass"
        return ("sleep", self.t)


class Hold(Delay):
    """hold [match=REGEX]: each matching client statement waits for as long as a hold rule is in
    the rules file (a server that does not answer until released): a test holds a process at a
    known point and acts there, instead of racing it. Each hold is logged "fault: hold"."""

    def __init__(self, *opts):
        super().__init__(0, *opts)

    def on_message(self, conn, from_server, mtype, payload):
        if super().on_message(conn, from_server, mtype, payload) == "pass":
            return "pass"
        log("fault: hold")
        return ("hold",)


class State:
    def __init__(self, args):
        self.args = args
        self.rules = []
        self.personality = [YBPersonality()] if args.yb else []
        self.extra_servers = []
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
        elif kind == "delay":
            rules.append(Delay(*rest))
        elif kind == "hold":
            rules.append(Hold(*rest))
        elif kind == "yb_error":
            rules.append(YBError(*rest))
        elif kind == "yb_rpc_limit":
            rules.append(YBRpcLimit(*rest))
        elif kind == "yb_too_many_clients":
            rules.append(YBTooManyClients(*rest))
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


async def pump(state, conn, reader, writer, back, from_server):
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
                for r in state.personality + state.rules:
                    action = r.on_message(conn, from_server, mtype, payload)
                    if action != "pass":
                        break
                if isinstance(action, tuple) and action[0] == "sleep":
                    if out:
                        writer.write(bytes(out))
                        out = bytearray()
                    await asyncio.sleep(action[1])
                    action = "pass"
                if isinstance(action, tuple) and action[0] == "hold":
                    if out:
                        writer.write(bytes(out))
                        out = bytearray()
                    while not conn.closed and any(isinstance(r, Hold) for r in state.rules):
                        await asyncio.sleep(0.05)
                    action = "pass"
                if isinstance(action, tuple):
                    what, data = action
                    if what == "forward":
                        out += data
                        continue
                    # answer: the sender gets data; the message goes no further
                    if out:
                        writer.write(bytes(out))
                        out = bytearray()
                    back.write(data)
                    if what == "answer_close":
                        await back.drain()
                        conn.close("answered and closed")
                        return
                    continue
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
    conn.sockname = cwriter.get_extra_info("sockname")
    state.conns.add(conn)
    try:
        await asyncio.gather(pump(state, conn, creader, swriter, cwriter, False),
                             pump(state, conn, sreader, cwriter, swriter, True))
    finally:
        state.conns.discard(conn)


async def listen(state):
    for _ in range(50):
        try:
            state.server = await asyncio.start_server(lambda r, w: handle(state, r, w),
                                                      state.args.listen_host.split(",")[0],
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
        for h in state.args.listen_host.split(",")[1:]:
            state.extra_servers.append(await asyncio.start_server(lambda r, w: handle(state, r, w), h,
                                                                  state.port, reuse_address=True))
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
    ap.add_argument("--yb", action="store_true", help="YugabyteDB personality (see above)")
    ap.add_argument("--listen-host", default="127.0.0.1",
                    help="comma-separated: the first gets the port, the others listen on it too")
    args = ap.parse_args()
    if args.log:
        LOG = open(args.log, "a")
    state = State(args)
    state.port = args.port
    await listen(state)
    await watch(state)


if __name__ == "__main__":
    asyncio.run(main())
