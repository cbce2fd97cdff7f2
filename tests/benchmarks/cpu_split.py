"""Where one first update's CPU goes, process by process: the main process (fetching,
writing, regenerating) and each worker process (parsing and analysing).

    python -m tests.benchmarks.cpu_split [--sources 200] [--runs 1]

Serves ``feedcorpus.generate(SOURCES, 50)`` like bench_pipeline, runs ``aggregator
update`` in a new project, and reads each process's user + system time from /proc
every 50 ms while it runs (the last reading of a process is its total, to within
50 ms). bench_pipeline gives the rates; this tells which process a change relieves,
and whether both cores were busy (then only less CPU in all makes a run faster).
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks import feedcorpus, harness

TICKS = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    except OSError:
        pass  # it ended meanwhile
    return found


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def run_once(urls: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="cpu-split-") as tmp:
        project = harness.make_project(Path(tmp), urls, workers=8, per_host=8)
        started = time.perf_counter()
        update = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "-q", "update"],
            cwd=project,
            env=harness.aggregator_env(),
            stdout=subprocess.DEVNULL,
        )
        seen: dict[int, float] = {}
        while update.poll() is None:
            for pid in [update.pid, *_descendants(update.pid)]:
                if (seconds := _cpu_seconds(pid)) is not None:
                    seen[pid] = seconds
            time.sleep(0.05)
        wall = time.perf_counter() - started
        with sqlite3.connect(project / "aggregator.db") as db:
            runs = dict(db.execute("SELECT kind, duration_ms FROM runs ORDER BY id"))
        main = seen.pop(update.pid, 0.0)
        workers = sorted((s for s in seen.values() if s >= 0.5), reverse=True)
        print(
            f"wall {wall:.2f} s (ingest {runs['ingest']} ms, regenerate {runs['regenerate']} ms);"
            f" CPU: main process {main:.2f} s, worker processes "
            + ", ".join(f"{s:.2f}" for s in workers)
            + f" s; {main + sum(seen.values()):.2f} s in all"
        )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--sources", type=int, default=200)
    options.add_argument("--runs", type=int, default=1)
    args = options.parse_args()
    data = feedcorpus.generate(args.sources, 50)
    server = feedcorpus.serve(data)
    try:
        for _ in range(args.runs):
            run_once([server.url(feed.path) for feed in data.feeds])
    finally:
        server.stop()


if __name__ == "__main__":
    main()
