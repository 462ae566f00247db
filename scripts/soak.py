#!/usr/bin/env python3
"""Churn soak: thousands of loopback sockets opened and closed per second while the live table
(`-c --interval 100ms`, in tmux) and `watch --json` run. Reports the table's resident memory at
the start, middle and end, checks every NDJSON line, and times keys until their frame shows.
Exits 1 when a line is not valid JSON, no key ever showed, or (on runs of two minutes or more)
memory grows more than 5% over the second half.

    scripts/soak.py BINARY SECONDS
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time

BINARY, SECONDS = sys.argv[1], float(sys.argv[2])
stop = threading.Event()
opened = [0]


def churn():
    """Listen, connect, accept, close: each round makes and destroys three sockets."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(512)
    port = server.getsockname()[1]
    while not stop.is_set():
        batch = []
        for _ in range(50):
            c = socket.create_connection(("127.0.0.1", port))
            a, _ = server.accept()
            batch.append((c, a))
        # Listeners come and go too.
        extra = socket.socket()
        extra.bind(("127.0.0.1", 0))
        extra.listen()
        for c, a in batch:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
            a.close()
        extra.close()
        opened[0] += 101


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tmux(*args):
    return subprocess.run(["tmux", "-L", "soak", *args], capture_output=True, text=True).stdout


def main():
    tmux("kill-server")
    tmux("new-session", "-d", "-x", "160", "-y", "40", f"{BINARY} -c --interval 100ms")
    time.sleep(1.5)
    pid = int(tmux("display", "-p", "#{pane_pid}").strip())
    watch = subprocess.Popen([BINARY, "watch", "--json", "-c", "--interval", "100ms"],
                             stdout=subprocess.PIPE, text=True)
    lines, bad = [0], []

    def read_watch():
        for line in watch.stdout:
            lines[0] += 1
            try:
                json.loads(line)
            except ValueError:
                bad.append(line[:200])

    reader = threading.Thread(target=read_watch, daemon=True)
    reader.start()
    workers = [threading.Thread(target=churn, daemon=True) for _ in range(4)]
    start = time.time()
    for w in workers:
        w.start()
    samples = []
    latencies = []
    while time.time() - start < SECONDS:
        time.sleep(1)
        samples.append((time.time() - start, rss_kib(pid)))
        # A key, then the frame that shows it: `s` changes the sort shown in the header.
        before = tmux("capture-pane", "-p").splitlines()[0:1]
        sent = time.time()
        tmux("send-keys", "s")
        while time.time() - sent < 2:
            if tmux("capture-pane", "-p").splitlines()[0:1] != before:
                latencies.append(time.time() - sent)
                break
            time.sleep(0.005)
    stop.set()
    time.sleep(0.5)
    watch.terminate()
    watch.wait()
    tmux("kill-server")
    rounds = [s for _, s in samples]
    # Growth over the second half, from the median just after the middle to the median of the
    # last tenth: a transient peak within one tick is not growth.
    def median(values):
        values = sorted(values)
        return values[len(values) // 2] if values else 0
    n = len(rounds)
    after_middle = median(rounds[n // 2 : max(n // 2 + 1, n * 6 // 10)])
    at_end = median(rounds[max(n * 9 // 10, n - 1) :] if n < 10 else rounds[n * 9 // 10 :])
    growth = (at_end - after_middle) / after_middle * 100 if after_middle else 0.0
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else float("nan")
    worst = latencies[-1] * 1000 if latencies else float("nan")
    print(f"seconds: {SECONDS:.0f}, sockets opened and closed: {opened[0]}"
          f" ({opened[0] / SECONDS:.0f} per second, 4 churn threads)")
    print(f"table RSS KiB: start {rounds[0]}, middle {rounds[len(rounds)//2]}, end {rounds[-1]}"
          f", peak {max(rounds)} (growth over the second half: {growth:.1f}%)")
    print(f"watch NDJSON lines: {lines[0]}, invalid: {len(bad)}")
    print(f"key to frame: median {p50:.0f} ms, worst {worst:.0f} ms over {len(latencies)} keys")
    # Memory must plateau: judged on runs long enough for the 10,000-event history to fill.
    plateau = growth <= 5.0 or SECONDS < 120
    ok = plateau and not bad and lines[0] > 0 and latencies
    if not ok:
        print("SOAK FAILED", bad[:3])
    sys.exit(0 if ok else 1)


main()
