"""A process that holds sockets on command, for tests/owner_cache.rs.

Reads one command per line on stdin and answers one line on stdout:
  listen [PORT]  bind a TCP listener on 127.0.0.1 (port 0: any) -> "port N"
  close          close this process's copy of the listener       -> "ok"
  fork           fork a child that keeps every descriptor        -> "child PID"
  recv PATH      serve a Unix socket at PATH and wait for one passed descriptor
                 -> "ready" at once, then "got" once it arrived
  send PATH      pass the listener over the Unix socket at PATH  -> "sent"
It exits when stdin closes; forked children exit with it.
"""

import ctypes
import os
import signal
import socket
import sys
import threading

PR_SET_PDEATHSIG = 1
listener = None
received = []


def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def receive(path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    reply("ready")
    conn, _ = server.accept()
    _, fds, _, _ = socket.recv_fds(conn, 16, 1)
    # Keep serving, as a long-lived receiver does: closing both the server and the connection
    # here would leave the descriptor count where it was before the socket arrived, which is
    # the one change the owner cache only sees at its resynchronisation (see
    # src/collect/owners/cache.rs).
    received.extend([server, conn, *fds])
    reply("got")


for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    command, args = words[0], words[1:]
    if command == "listen":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", int(args[0]) if args else 0))
        listener.listen(8)
        reply(f"port {listener.getsockname()[1]}")
    elif command == "close":
        listener.close()
        reply("ok")
    elif command == "fork":
        pid = os.fork()
        if pid == 0:
            # Die with the parent, whatever kills it; never touch the shared stdout.
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() == 1:
                os._exit(0)
            while True:
                signal.pause()
        reply(f"child {pid}")
    elif command == "recv":
        threading.Thread(target=receive, args=(args[0],), daemon=True).start()
    elif command == "send":
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(args[0])
        socket.send_fds(conn, [b"x"], [listener.fileno()])
        conn.close()
        reply("sent")
    else:
        reply(f"unknown command {command}")
