#!/usr/bin/env python3
"""Measures loopwatch against ss, netstat, lsof, fuser and two peer TUIs on a busy fixture.

Run through scripts/bench.sh, which installs what this needs. Writes a markdown report (and the
raw numbers as JSON) and prints the report.

    scripts/bench.py --loopwatch target/release/loopwatch --tools .bench/tools/bin --out .bench
"""

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
SESSION = "loopwatch-bench"
PANE_SIZE = ("200", "50")


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----- the fixture -----------------------------------------------------------------------


class Fixture:
    """scripts/fixture.py holding `sockets` sockets across `procs` processes plus `idle` ones."""

    def __init__(self, sockets, procs, idle, connections_only=False):
        self.sockets, self.procs, self.idle = sockets, procs, idle
        self.connections_only = connections_only

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="loopwatch-fixture-")
        ready = Path(self.dir) / "ready.json"
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "fixture.py"), "--sockets", str(self.sockets),
             "--procs", str(self.procs), "--idle", str(self.idle), "--ready", str(ready)]
            + (["--connections-only"] if self.connections_only else []),
        )
        deadline = time.monotonic() + 300
        while not ready.exists():
            if self.process.poll() is not None:
                raise SystemExit(f"the fixture exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise SystemExit("the fixture was not ready within 300 s")
            time.sleep(0.1)
        self.info = json.loads(ready.read_text())
        # Let the kernel settle (TIME_WAIT from setup, page cache) before measuring.
        time.sleep(2)
        return self

    def __exit__(self, *_):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def label(self):
        idle = f" + {self.idle} idle" if self.idle else ""
        return f"{self.info['sockets']:,} sockets / {self.procs} procs{idle}"


# ----- one-shot commands -----------------------------------------------------------------


def hyperfine(commands, rounds, runs, out_dir, tag):
    """Median wall time (ms) of each command, from `rounds` hyperfine runs whose command order
    rotates, so slow drifts of the machine hit every command alike."""
    samples = {name: [] for name, _ in commands}
    for r in range(rounds):
        order = commands[r % len(commands):] + commands[:r % len(commands)]
        export = out_dir / f"hyperfine-{tag}-{r}.json"
        args = ["hyperfine", "-N", "-i", "--style", "none", "-w", "1", "-r", str(runs),
                "--export-json", str(export)]
        for name, command in order:
            args += ["-n", name, command]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        for result in json.loads(export.read_text())["results"]:
            samples[result["command"]].extend(result["times"])
    return {name: statistics.median(times) * 1000 for name, times in samples.items()}


# ----- TUIs in tmux ----------------------------------------------------------------------


def tmux(*args, capture=False):
    result = subprocess.run(["tmux", *args], check=False, text=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return result.stdout if capture else result.returncode


def start_session():
    tmux("kill-session", "-t", SESSION)
    tmux("new-session", "-d", "-s", SESSION, "-x", PANE_SIZE[0], "-y", PANE_SIZE[1],
         "exec sleep 100000")


def launch(command):
    """Replaces the pane's program with `command`; returns (launch time, pid)."""
    started = time.monotonic()
    tmux("respawn-pane", "-k", "-t", SESSION, f"exec {command}")
    pid = int(tmux("display", "-p", "-t", SESSION, "#{pane_pid}", capture=True).strip())
    return started, pid


def wait_for_text(pattern, started, timeout=15.0):
    """Seconds from `started` until the pane shows `pattern`, polling every few ms."""
    regex = re.compile(pattern)
    while time.monotonic() - started < timeout:
        if regex.search(tmux("capture-pane", "-p", "-t", SESSION, capture=True)):
            return time.monotonic() - started
        time.sleep(0.003)
    return None


def cpu_seconds(pid):
    """User + system time of the process and of the children it has reaped (the tools it runs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def tui_costs(command, marker, window):
    """Launches the TUI, waits for its first frame with the fixture, then measures CPU (% of one
    core) and peak RSS over `window` seconds."""
    started, pid = launch(command)
    first = wait_for_text(rf"\b{marker}\b", started)
    if first is None and not Path(f"/proc/{pid}").exists():
        return {"error": "exited at start"}
    time.sleep(1)
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(window)
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    rss = peak_rss_mib(pid)
    tmux("respawn-pane", "-k", "-t", SESSION, "exec sleep 100000")
    return {"cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0), "rss_mib": rss,
            "first_frame_ms": None if first is None else first * 1000}


def first_frames(command, marker, runs, then=""):
    """Median time until the marker port shows (followed by `then`, a pattern, when given)."""
    times = []
    for _ in range(runs):
        started, _ = launch(command)
        seen = wait_for_text(rf"\b{marker}\b{then}", started)
        tmux("respawn-pane", "-k", "-t", SESSION, "exec sleep 100000")
        time.sleep(0.3)
        if seen is not None:
            times.append(seen * 1000)
    return statistics.median(times) if times else None


def pane_start_ms(runs=5):
    """What tmux itself adds to a first frame: the time until a pane shows a printed word."""
    times = []
    for _ in range(runs):
        started, _ = launch("sh -c 'echo pane-ready-mark; exec sleep 100000'")
        seen = wait_for_text(r"pane-ready-mark", started)
        if seen is not None:
            times.append(seen * 1000)
    return statistics.median(times) if times else None


# ----- the report ------------------------------------------------------------------------


def machine():
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return (f"{os.cpu_count()} cores, {model}, {mem_kib / 1048576:.0f} GiB, "
            f"Linux {platform.release()}")


def fmt(value, digits=1):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def ratio(a, b):
    return "n/a" if a is None or b in (None, 0) else f"{a / b:.2f}x"


def report(results, meta):
    lines = [f"Measured {meta['date']} on {meta['machine']} with `scripts/bench.sh` "
             f"(hyperfine {meta['hyperfine']}; medians of {meta['samples']} runs per command, "
             f"command order rotated between rounds).", ""]
    lines += ["**Full snapshot** (wall ms; `list --json` lists listeners and UDP, the others "
              "every socket)", "",
              "| fixture | `loopwatch list --json` | `ss -Htanup` | `netstat -tunap` "
              "| `lsof -nP -i` | loopwatch / ss |",
              "|---|--:|--:|--:|--:|--:|"]
    for r in results:
        t = r["list"]
        lines.append(f"| {r['label']} | {fmt(t['loopwatch'])} | {fmt(t['ss'])} | "
                     f"{fmt(t['netstat'])} | {fmt(t['lsof'])} | {ratio(t['loopwatch'], t['ss'])} |")
    lines += ["", "**One port** (wall ms)", "",
              "| fixture | `loopwatch who PORT` | `ss -Htanp 'sport = :PORT'` | "
              "`fuser -n tcp PORT` | `lsof -nP -i :PORT` | loopwatch / fuser |",
              "|---|--:|--:|--:|--:|--:|"]
    for r in results:
        t = r["who"]
        lines.append(f"| {r['label']} | {fmt(t['loopwatch'])} | {fmt(t['ss'])} | "
                     f"{fmt(t['fuser'])} | {fmt(t['lsof'])} | {ratio(t['loopwatch'], t['fuser'])} |")
    lines += ["", f"**Left open** ({meta['window']} s at a 1 s refresh in a tmux pane; CPU "
              "includes the child processes a TUI runs; first frame = launch until the pane shows "
              f"the fixture's marker port, of which tmux itself takes ~{fmt(meta['pane_ms'], 0)} ms)",
              "", "| fixture | TUI | CPU % of one core | peak RSS MiB | first frame ms |",
              "|---|---|--:|--:|--:|"]
    for r in results:
        for name, t in r["tui"].items():
            if "error" in t:
                lines.append(f"| {r['label']} | {name} | {t['error']} | | |")
                continue
            lines.append(f"| {r['label']} | {name} | {fmt(t['cpu_pct'], 2)} | "
                         f"{fmt(t['rss_mib'])} | {fmt(t.get('first_frame_median_ms'), 0)} |")
    if meta["peer_notes"]:
        lines += [""] + [f"- {note}" for note in meta["peer_notes"]]
    return "\n".join(lines) + "\n"


# ----- scale: 100,000 sockets, and cost against size ---------------------------------------


def wait_for_time_wait_to_drain(limit, timeout=75):
    """Waits (at most `timeout` s, TIME_WAIT lasts 60) until fewer than `limit` TCP sockets are
    in TIME_WAIT, so an earlier fixture's closed connections are not measured with this one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = subprocess.run(["ss", "-Htan", "state", "time-wait"], text=True,
                                 capture_output=True, check=False).stdout
        if listing.count("\n") < limit:
            return
        time.sleep(2)
    log(f"TIME_WAIT still above {limit} after {timeout} s; measuring anyway")


def one_shot(command, runs):
    """Median wall ms and the highest peak RSS (MiB) of `command` over `runs` runs, output
    discarded. The peak is read by GNU time: a child started from this Python process would
    report Python's own resident size as its peak (the kernel keeps the larger of before and
    after exec)."""
    walls, peaks = [], []
    with tempfile.NamedTemporaryFile(mode="r") as report:
        for _ in range(runs):
            started = time.monotonic()
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name,
                            *shlex.split(command)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            walls.append((time.monotonic() - started) * 1000)
            report.seek(0)
            peaks.append(int(report.read().split()[-1]) / 1024)
    return {"ms": statistics.median(walls), "rss_mib": max(peaks)}


def key_frame_ms(command, marker, keys=("s", "s", "s", "S")):
    """Launches the TUI, waits for its first frame, then times each key until the header's
    sort column changes on screen; returns the slowest."""
    started, _ = launch(command)
    if wait_for_text(rf"\b{marker}\b", started, timeout=30) is None:
        return None
    time.sleep(1.5)
    slowest = 0.0
    for key in keys:
        before = tmux("capture-pane", "-p", "-t", SESSION, capture=True).splitlines()[0]
        sent = time.monotonic()
        tmux("send-keys", "-t", SESSION, key)
        while time.monotonic() - sent < 5:
            head = tmux("capture-pane", "-p", "-t", SESSION, capture=True).splitlines()[0]
            if head != before:
                break
            time.sleep(0.002)
        slowest = max(slowest, (time.monotonic() - sent) * 1000)
        time.sleep(0.5)
    tmux("respawn-pane", "-k", "-t", SESSION, "exec sleep 100000")
    return slowest


def scale(lw, out, quick):
    """The 100k fixture against ss, and cost against sockets and processes."""
    window, runs = (5, 2) if quick else (20, 5)
    by_sockets = [1000, 10000] if quick else [1000, 10000, 100000]
    by_procs = [10, 100] if quick else [10, 100, 1000]
    start_session()
    pane_ms = pane_start_ms()
    rows = []
    # The largest last: its connections linger a minute in TIME_WAIT once closed, and the live
    # table with -c would count them in the next fixture's figures.
    plan = sorted([(n, 10) for n in by_sockets] + [(10000, p) for p in by_procs if p != 10],
                  key=lambda size: (size[0], size[1]))
    for sockets, procs in plan:
        wait_for_time_wait_to_drain(limit=max(100, sockets // 100))
        with Fixture(sockets, procs, 0, connections_only=True) as fixture:
            port = fixture.info["marker_port"]
            log(f"{fixture.label}: one-shots")
            row = {"label": fixture.label, "sockets": fixture.info["sockets"], "procs": procs,
                   "list": one_shot(f"{lw} list --json -c", runs),
                   "ss": one_shot("ss -Htanp", runs),
                   "who": one_shot(f"{lw} who {port}", runs)}
            log(f"{fixture.label}: the TUI with -c left open for {window} s")
            row["tui"] = tui_costs(f"{lw} -c --interval 1s", port, window)
            row["tui"]["first_frame_median_ms"] = first_frames(f"{lw} -c", port, 3)
            # From 20,000 sockets on, the first frame comes before the owners are read.
            row["tui"]["owners_median_ms"] = first_frames(f"{lw} -c", port, 3, r".*python3")
            row["key_ms"] = key_frame_ms(f"{lw} -c --interval 1s", port)
            rows.append(row)
    tmux("kill-session", "-t", SESSION)
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": machine(),
            "window": window, "runs": runs, "pane_ms": pane_ms}
    lines = [f"Measured {meta['date']} on {meta['machine']} with `scripts/bench.sh --scale` "
             f"(established loopback connections, both ends held; one-shots: median wall of "
             f"{runs} runs, highest peak RSS; the TUI with `-c` at a 1 s refresh for {window} s; "
             f"first frame includes ~{fmt(pane_ms, 0)} ms of tmux; key = slowest of four sort "
             "keys until the header changes).", "",
             "| fixture | `list --json -c` ms | its RSS MiB | `ss -Htanp` ms | its RSS MiB "
             "| wall / ss | RSS / ss | `who PORT` ms | TUI CPU % | TUI RSS MiB | first frame ms "
             "| owners shown ms | key ms |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        t = r["tui"]
        lines.append(
            f"| {r['label']} | {fmt(r['list']['ms'], 0)} | {fmt(r['list']['rss_mib'])} | "
            f"{fmt(r['ss']['ms'], 0)} | {fmt(r['ss']['rss_mib'])} | "
            f"{ratio(r['list']['ms'], r['ss']['ms'])} | "
            f"{ratio(r['list']['rss_mib'], r['ss']['rss_mib'])} | {fmt(r['who']['ms'], 0)} | "
            f"{fmt(t.get('cpu_pct'), 2)} | {fmt(t.get('rss_mib'))} | "
            f"{fmt(t.get('first_frame_median_ms'), 0)} | {fmt(t.get('owners_median_ms'), 0)} | "
            f"{fmt(r['key_ms'], 0)} |")
    text = "\n".join(lines) + "\n"
    (out / "scale.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    (out / "scale.md").write_text(text)
    print(text)


# ----- main ------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loopwatch", required=True)
    parser.add_argument("--tools", required=True, help="folder holding the peer TUIs' binaries")
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--peer-notes", default="", help="lines about peers that did not build")
    parser.add_argument("--scale", action="store_true",
                        help="the 100k-socket fixture and cost against size, instead")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lw = str(Path(args.loopwatch).resolve())
    if args.scale:
        scale(lw, out, args.quick)
        return
    scenarios = [(1000, 10, 0), (10000, 20, 0), (10000, 20, 500)]
    rounds, runs, window, frame_runs = (3, 10, 30, 5)
    if args.quick:
        scenarios, rounds, runs, window, frame_runs = [(1000, 10, 0)], 1, 3, 5, 2

    tuis = {"loopwatch": f"{lw} --interval 1s"}
    tools = Path(args.tools)
    for name, flags in (("portwatch", "-r 1000"), ("lsport", "-s 1")):
        binary = tools / name
        if binary.exists():
            tuis[name] = f"{binary} {flags}"

    start_session()
    pane_ms = pane_start_ms()
    results = []
    for sockets, procs, idle in scenarios:
        with Fixture(sockets, procs, idle) as fixture:
            port = fixture.info["marker_port"]
            tag = f"{sockets}-{idle}"
            log(f"{fixture.label}: one-shot commands")
            listing = hyperfine(
                [("loopwatch", f"{lw} list --json"), ("ss", "ss -Htanup"),
                 ("netstat", "netstat -tunap"), ("lsof", "lsof -nP -i")],
                rounds, runs, out, f"list-{tag}")
            who = hyperfine(
                [("loopwatch", f"{lw} who {port}"), ("ss", f"ss -Htanp 'sport = :{port}'"),
                 ("fuser", f"fuser -n tcp {port}"), ("lsof", f"lsof -nP -i :{port}")],
                rounds, runs, out, f"who-{tag}")
            tui = {}
            for name, command in tuis.items():
                log(f"{fixture.label}: {name} left open for {window} s")
                costs = tui_costs(command, port, window)
                if "error" not in costs:
                    costs["first_frame_median_ms"] = first_frames(command, port, frame_runs)
                tui[name] = costs
            results.append({"label": fixture.label, "sockets": fixture.info["sockets"],
                            "idle": idle, "list": listing, "who": who, "tui": tui})
    tmux("kill-session", "-t", SESSION)

    version = subprocess.run(["hyperfine", "--version"], text=True, capture_output=True)
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "machine": machine(),
        "hyperfine": version.stdout.split()[-1] if version.stdout else "?",
        "samples": rounds * runs,
        "window": window,
        "pane_ms": pane_ms,
        "peer_notes": [n for n in args.peer_notes.split("\n") if n.strip()],
    }
    (out / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    text = report(results, meta)
    (out / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
