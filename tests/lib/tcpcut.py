#!/usr/bin/env python3
"""A plain TCP forwarder whose connections a test can cut (tests only).

    tcpcut.py --upstream-port P [--upstream-host H] --port-file FILE

It listens on a free loopback port (written to --port-file) and forwards every
connection to the upstream server byte for byte, parsing nothing: it serves any
protocol (tests/lib/faultproxy.py speaks PostgreSQL's only). SIGUSR1 cuts every
open connection, both sides at once: the client sees a network drop in the
middle of whatever it waits for, the server notices when it next reads or
writes. New connections are forwarded as before. Each cut is logged on stdout
as "cut: N connection(s)". The forwarder exits when its parent process does.
"""
import argparse
import os
import signal
import socket
import sys
import threading
import time

_lock = threading.Lock()
_open = set()  # every socket of a live connection, client and upstream sides


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    with _lock:
        for s in (src, dst):
            if s in _open:
                _open.discard(s)
                _close(s)


def _serve(client, host, port):
    try:
        up = socket.create_connection((host, port))
    except OSError:
        _close(client)
        return
    with _lock:
        _open.update((client, up))
    threading.Thread(target=_pump, args=(client, up), daemon=True).start()
    threading.Thread(target=_pump, args=(up, client), daemon=True).start()


def _cut(signum, frame):
    with _lock:
        socks = list(_open)
        _open.clear()
    for s in socks:
        _close(s)
    print("cut: %d connection(s)" % (len(socks) // 2), flush=True)


def _watch_parent(ppid):
    while os.getppid() == ppid:
        time.sleep(0.5)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--upstream-host", default="127.0.0.1")
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGUSR1, _cut)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, a.port_file)
    while True:
        client, _ = ls.accept()
        _serve(client, a.upstream_host, a.upstream_port)


if __name__ == "__main__":
    sys.exit(main())
