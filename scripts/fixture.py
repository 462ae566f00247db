#!/usr/bin/env python3
"""A busy host on loopback, for scripts/bench.sh.

Holds about SOCKETS sockets across PROCS worker processes, plus IDLE processes that hold none:
TCP listeners on 127.0.0.1, ::1 and 0.0.0.0, bound UDP sockets on the same addresses, and
established loopback connections (both ends held by the same worker). One extra TCP listener,
the marker, is bound on a low port so a port-sorted table shows it on its first page.

When every socket is open it writes one JSON line to --ready (pids, marker port, counts), then
waits until it is sent SIGTERM or SIGINT, and takes its workers down with it.

    scripts/fixture.py --sockets 10000 --procs 20 --idle 500 --ready /tmp/ready.json
    scripts/fixture.py --sockets 100000 --procs 10 --connections-only --ready /tmp/ready.json
"""

import argparse
import json
import os
import resource
import signal
import socket
import sys
import time

# Shares of the socket count: listeners, UDP sockets, connection ends (two per connection).
LISTEN_SHARE, UDP_SHARE = 0.3, 0.2
ADDRESSES = [
    (socket.AF_INET, "127.0.0.1"),
    (socket.AF_INET6, "::1"),
    (socket.AF_INET, "0.0.0.0"),
]


def raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def bind(family, kind, addr, port=0):
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    return s


def open_share(count, index, connections_only=False):
    """Opens about `count` sockets; returns them so they stay open. With `connections_only`,
    every socket but the worker's own listener is an end of an established connection."""
    held = []
    listeners = 0 if connections_only else int(count * LISTEN_SHARE)
    udps = 0 if connections_only else int(count * UDP_SHARE)
    connections = (count - listeners - udps) // 2
    for i in range(listeners):
        family, addr = ADDRESSES[(i + index) % len(ADDRESSES)]
        s = bind(family, socket.SOCK_STREAM, addr)
        s.listen(128)
        held.append(s)
    for i in range(udps):
        family, addr = ADDRESSES[(i + index) % len(ADDRESSES)]
        held.append(bind(family, socket.SOCK_DGRAM, addr))
    # Connections go to one listener of this worker's own, accepted in batches under its backlog.
    server = bind(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1")
    server.listen(1024)
    held.append(server)
    port = server.getsockname()[1]
    made = 0
    while made < connections:
        batch = min(512, connections - made)
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(batch)]
        accepted = [server.accept()[0] for _ in range(batch)]
        held.extend(clients)
        held.extend(accepted)
        made += batch
    return held


def marker_listener():
    """A listener on the lowest free port from 4000 up: first among the fixture's in port order."""
    for port in range(4000, 5000):
        try:
            s = bind(socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1", port)
        except OSError:
            continue
        s.listen(16)
        return s
    raise SystemExit("no free port for the marker listener in 4000-4999")


def wait_forever():
    while True:
        signal.pause()


def spawn(body):
    """Forks a child that runs `body` and never returns; the parent gets its pid."""
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            body()
        finally:
            os._exit(0)
    return pid


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--procs", type=int, default=10)
    parser.add_argument("--idle", type=int, default=0)
    parser.add_argument("--connections-only", action="store_true",
                        help="established loopback connections only (the 100k scale fixture)")
    parser.add_argument("--ready", required=True, help="file the ready line is written to")
    args = parser.parse_args()

    per_worker = max(1, args.sockets // args.procs)
    raise_fd_limit(per_worker + 256)
    children = []

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    # Idle processes first, while this process holds no socket they could inherit.
    for _ in range(args.idle):
        children.append(spawn(wait_forever))

    ready_r, ready_w = os.pipe()
    workers = []
    for index in range(args.procs):

        def work(index=index):
            os.close(ready_r)
            held = open_share(per_worker, index, args.connections_only)
            os.write(ready_w, f"{len(held)}\n".encode())
            wait_forever()

        pid = spawn(work)
        children.append(pid)
        workers.append(pid)
    os.close(ready_w)

    opened = 0
    with os.fdopen(ready_r) as lines:
        for _ in range(args.procs):
            line = lines.readline()
            if not line:
                stop()
            opened += int(line)
    marker = marker_listener()
    opened += 1

    ready = {
        "pid": os.getpid(),
        "workers": workers,
        "idle": args.idle,
        "sockets": opened,
        "marker_port": marker.getsockname()[1],
        "ready_at": time.time(),
    }
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(ready) + "\n")
    os.replace(tmp, args.ready)
    wait_forever()


if __name__ == "__main__":
    main()
