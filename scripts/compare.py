#!/usr/bin/env python3
"""Checks, on this machine, what loopwatch and the classic tools do in the situations a port tool
is for, and prints the README's comparison table from what was observed (nothing is assumed).

    scripts/compare.sh            # builds loopwatch, installs what is missing, runs this

Run as root (it runs the tools as `nobody` too, via setpriv). Every server is a Python process
on 127.0.0.1, on a port picked here, and is stopped on exit.
"""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
import time

LOOPWATCH = sys.argv[1] if len(sys.argv) > 1 else "target/release/loopwatch"
HOSTILE_NAME = b"ev\x1b]0;pwn\x07il"  # an ESC sequence that retitles the terminal


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER = r"""
import ctypes, socket, sys, time
name = bytes.fromhex(sys.argv[2])
if name:
    ctypes.CDLL(None).prctl(15, name, 0, 0, 0)  # PR_SET_NAME: what ss and fuser show
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
held = []
while True:
    held.append(s.accept()[0])
"""
CLIENT = r"""
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(3600)
"""

children: list[subprocess.Popen] = []


def spawn(code: str, *args: str, argv0: bytes = b"python3") -> subprocess.Popen:
    # exec -a: the program's argv[0] too, which netstat and lsof +c show instead of the name.
    p = subprocess.Popen([b"bash", b"-c", b'exec -a "$0" "$1" -c "${@:2}"', argv0,
                          sys.executable.encode(), code.encode(), *(a.encode() for a in args)])
    children.append(p)
    return p


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"compare.py: nothing listened on {port} within 10 s")


def run(argv: list[str], as_nobody: bool = False) -> bytes:
    if as_nobody:
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    return p.stdout


def tools(port: int) -> dict[str, list[str]]:
    """The command each tool's users type to ask who holds `port`."""
    return {
        "loopwatch": [LOOPWATCH, "who", str(port)],
        "ss": ["ss", "-Htanp", f"sport = :{port}"],
        "lsof": ["lsof", "-nP", f"-i:{port}"],
        "netstat": ["sh", "-c", f"netstat -tanp 2>/dev/null | grep ':{port} '"],
        "fuser": ["fuser", "-v", f"{port}/tcp"],
    }


def fuser_run(argv: list[str], as_nobody: bool = False) -> bytes:
    # fuser writes its table to stderr.
    if as_nobody:
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    lines = [l for l in p.stderr.splitlines() if b"Cannot stat" not in l]
    return p.stdout + b"\n".join(lines)


def ask(name: str, argv: list[str], as_nobody: bool = False) -> bytes:
    return fuser_run(argv, as_nobody) if name == "fuser" else run(argv, as_nobody)


def main() -> int:
    if os.geteuid() != 0:
        sys.exit("compare.py: run as root: it compares what root and nobody see")
    plain, hostile = free_port(), free_port()
    server = spawn(SERVER, str(plain), "")
    wait_listening(plain)
    client = spawn(CLIENT, str(plain))
    evil = spawn(SERVER, str(hostile), HOSTILE_NAME.hex(), argv0=HOSTILE_NAME)
    wait_listening(hostile)
    time.sleep(0.3)  # the client's connect has completed by now
    spid, cpid, epid = str(server.pid).encode(), str(client.pid).encode(), str(evil.pid).encode()

    rows = {name: {} for name in tools(plain)}
    for name, argv in tools(plain).items():
        out = ask(name, argv)
        rows[name]["owner"] = "yes" if spid in out else "no"
        # The classic mistake: `kill $(lsof -t -i :PORT)` also hits the clients.
        rows[name]["clients"] = "yes: the client's pid too" if cpid in out else "no"
        hidden = ask(name, argv, as_nobody=True)
        if b"permission" in hidden.lower() or b"hidden" in hidden.lower():
            rows[name]["hidden"] = "says the owner is hidden, and why"
        elif str(plain).encode() not in hidden:
            rows[name]["hidden"] = "drops the socket"
        elif spid in hidden:
            rows[name]["hidden"] = "names it"
        else:
            rows[name]["hidden"] = "shows the socket, owner blank"
    for name, argv in tools(hostile).items():
        out = ask(name, argv)
        if b"\x1b" in out:
            rows[name]["escape"] = "raw ESC reaches the terminal"
        elif any(shown in out for shown in (b"^[", b"\\033", b"\\e", b"\\x1b", b"\\u{1b}")):
            rows[name]["escape"] = "shown escaped"
        else:
            rows[name]["escape"] = "(does not show the name)"
    print("| as root, for a port held by a Python server with one client connected | " + " | ".join(f"`{n}`" for n in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for key, label in [
        ("owner", "names the listener's process"),
        ("clients", "also names the connected client (a kill of its pids stops the client too)"),
        ("hidden", "run as `nobody`, a root-owned listener"),
        ("escape", "a process whose name and argv[0] hold an escape sequence"),
    ]:
        print(f"| {label} | " + " | ".join(rows[n][key] for n in rows) + " |")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        for p in children:
            p.kill()
            p.wait()
