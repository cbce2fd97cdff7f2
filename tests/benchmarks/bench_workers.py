"""Benchmark: web sources fetched and stored per second by 1, 2 and 4 workers on PostgreSQL.

    python -m tests.benchmarks.bench_workers [--sources 1000] [--workers 1,2,4]
        [--delay 0.02] [--runs 3] [--database postgresql+psycopg://postgres@127.0.0.1/test]

Each run: a fresh PostgreSQL schema, ``--sources`` feeds on a local HTTP server
that answers each request after ``--delay`` seconds (the network), and N real
`aggregator worker` processes. Throughput is sources / (time from the first request
to every source being stored, claims released). Database round trips are counted in
each worker by a SQLAlchemy ``before_cursor_execute`` listener: every statement its
engines send (claims, stores, regenerations, idle polls), summed over the workers and
divided by the sources. Prints the median (and min/max) of the runs.

On a 2-CPU machine shared with other work (PostgreSQL, the server and the workers
all on it), 2026-11-28: 1 worker 57/s, 2 workers 69/s, 4 workers 59/s (51-104),
14.7 round trips per source; under heavier load from other jobs 46, 47 and 39/s.
Storing (not the network) is the limit there: more workers help only with more
CPUs, for PostgreSQL and for the workers.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from aggregator.store import Storage
from aggregator.store.schema import sources
from tests.feedserver import FeedServer
from tests.support.postgres import POSTGRES_SERVER, postgres_schema
from tests.support.project import write_config
from tests.workload import Workload

CONFIG = """
[fetch]
workers = 8
per_host = 8
[worker]
batch = 16
poll_interval = "50ms"
[daemon]
regenerate_interval = "1d"
"""
COUNT_FILE_ENV = "BENCH_COUNT_FILE"


def child() -> int:
    """A worker process that counts the statements it sends, written to a file at exit."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from aggregator.cli import main

    statements = 0

    @event.listens_for(Engine, "before_cursor_execute")
    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    try:
        return main(["worker"])
    finally:
        Path(os.environ[COUNT_FILE_ENV]).write_text(str(statements))


def done(storage: Storage, count: int) -> bool:
    with storage.engine.connect() as connection:
        fetched, claimed = connection.execute(
            select(func.count(sources.c.next_fetch), func.count(sources.c.claimed_by)).where(
                sources.c.kind == "feed"
            )
        ).one()
    return fetched == count and claimed == 0


def one_run(server_url: str, count: int, workers: int, delay: float) -> tuple[float, float]:
    """(sources per second, round trips per source) of one run."""
    feeds = FeedServer().start()
    workload = Workload(feeds, count, delay=delay)
    first_request: list[float] = []
    answer = workload._answer  # noqa: SLF001 (timing the workload's own route)

    def timed(request):  # noqa: ANN001, ANN202
        if not first_request:
            first_request.append(time.monotonic())
        return answer(request)

    for n in range(count):
        feeds.serve(f"/s{n}.xml", timed)
    with (
        tempfile.TemporaryDirectory() as folder,
        postgres_schema(server_url, prefix="bench") as url,
    ):
        root = Path(folder)
        write_config(root, CONFIG)  # with the shipped topic rules: classifying is part of storing
        storage = Storage(url)
        storage.initialize()
        workload.add_to(storage)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
        processes = []
        for n in range(workers):
            env = {**environment, "AGGREGATOR_DATABASE_URL": url}
            env[COUNT_FILE_ENV] = str(root / f"count{n}")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.benchmarks.bench_workers", "--child"],
                    cwd=root,
                    env=env,
                    stderr=subprocess.DEVNULL,
                )
            )
        try:
            while not done(storage, count):
                if any(p.poll() is not None for p in processes):
                    raise SystemExit("a worker exited early")
                time.sleep(0.01)
            finished = time.monotonic()
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=120)
            storage.close()
            feeds.stop()
        statements = sum(int((root / f"count{n}").read_text()) for n in range(workers))
    return count / (finished - first_request[0]), statements / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database",
        default=POSTGRES_SERVER,
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.exit(child())
    rows = []
    for workers in (int(w) for w in args.workers.split(",")):
        runs = [one_run(args.database, args.sources, workers, args.delay) for _ in range(args.runs)]
        rates = [rate for rate, _ in runs]
        trips = [trip for _, trip in runs]
        rows.append((workers, statistics.median(rates), min(rates), max(rates), trips))
        print(f"  {workers} workers: {', '.join(f'{r:.0f}/s' for r in rates)}", flush=True)
    base = rows[0][1]
    print(
        f"\n{args.sources} sources, {args.delay * 1000:g} ms server delay, "
        f"median of {args.runs} runs, {os.cpu_count()} CPUs"
    )
    print("workers | sources/s (median) | min | max | vs 1 | round trips per source (median)")
    print("--- | --- | --- | --- | --- | ---")
    for workers, median, low, high, trips in rows:
        print(
            f"{workers} | {median:.0f} | {low:.0f} | {high:.0f} | {median / base:.2f}x "
            f"| {statistics.median(trips):.1f}"
        )


if __name__ == "__main__":
    main()
