"""Benchmark: what the writer does per source during a first ingest, on SQLite and PostgreSQL.

    python -m tests.benchmarks.bench_store [--feeds 200] [--runs 3] [--backends sqlite,postgresql]
                                           [--baseline /path/to/other/checkout]
                                           [--filled 1000000]

Parses and analyses the benchmark feeds (``feedcorpus.generate(N, 50)``) once, as
the worker processes would, then times only ``writer.store_source`` for every
source into an empty store: dedup decisions, near-duplicate lookups, and the
inserts of items, stories, band keys and topics. As in an ingest, candidates' rows
are remembered for the run, and sources are written READY at a time in one batch
(the most a first ingest's fetch threads hand on at once; one transaction on SQLite).
This is the single-threaded part of an ingest (the main process), so its cost
bounds the whole pipeline however many cores parse. Prints items per second
(wall and CPU of this process; PostgreSQL's own work runs in the server) and the
number of items merged into stories, which must not change between versions.

With ``--filled N``, the same sources are also stored into a copy of a store already
holding N items with their band keys (``storefill.cached_sqlite``, filled once and kept
in the benchmark cache: 1M items took 42 minutes and 12.6 GB on a shared 2-core machine),
run for run alternating with the empty store, and the ratio of the two rates is printed: issue #22's
target is at least 0.8 at 1M items (a daemon's steady state). SQLite only.

With ``--baseline``, another checkout's code (say, main's) stores the same parsed
sources in a process of its own, run for run alternating with this code's, so
both see the same machine load: the machine is often shared.
"""

import argparse
import importlib
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator import classify, pipeline
from aggregator.analysis import analyze, text_key
from aggregator.config import load_settings
from aggregator.ingest.feeds import parse_feed
from aggregator.writer import store_source
from tests.benchmarks import feedcorpus, storefill
from tests.support.postgres import POSTGRES_SERVER, postgres_schema

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 29, tzinfo=UTC)
READY = 16  # two per fetch thread, with the default fetch.workers = 8


def prepared(feeds: int, entries: int) -> list[tuple[object, dict]]:
    """Every source parsed, with its items' analyses, as a worker process hands them over."""
    topics = classify.load_topics(REPO / "config" / "topics")
    sources = []
    for feed in feedcorpus.generate(feeds, entries).feeds:
        url = f"http://127.0.0.1{feed.path}"
        data = parse_feed(feed.body, source_key=url, base_url=url, zone=ZoneInfo("UTC"), now=NOW)
        sources.append((data, {text_key(item): analyze(item, topics) for item in data.items}))
    return sources


def _optional(name: str) -> object:
    """A module of this checkout, or None when it has none of that name (``--baseline``)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def store_all(folder: Path, database_url: str | None, sources: list) -> tuple[float, float, int]:
    """Wall and CPU seconds to store every source into an empty store; items merged."""
    (folder / "config").mkdir()
    (folder / "config" / "aggregator.toml").write_text('[storage]\npath = "bench.db"\n')
    (folder / "config" / "topics").symlink_to(REPO / "config" / "topics")
    environ = {"AGGREGATOR_DATABASE_URL": database_url} if database_url else {}
    app = pipeline.Aggregator.open(load_settings(folder / "config" / "aggregator.toml", environ))
    try:
        merged = 0
        wall, cpu = time.perf_counter(), time.process_time()
        # Checkouts from before either (--baseline) write source by source.
        remembering = getattr(app.storage, "remembering_candidates", nullcontext)
        batch = getattr(app.storage, "batch", nullcontext)
        # The collector's thresholds of an ingest (pipeline._ingest), where a checkout has them.
        collecting = getattr(_optional("aggregator.collector"), "collecting_less", nullcontext)
        with collecting(), remembering():
            for start in range(0, len(sources), READY):
                with batch():
                    for data, analyses in sources[start : start + READY]:
                        merged += store_source(app, data, "hash", NOW, analyses=analyses).merged
        return time.perf_counter() - wall, time.process_time() - cpu, merged
    finally:
        app.close()


def store_once(backend: str, sources: list) -> tuple[float, float, int]:
    """``store_all`` into a new SQLite file or a new PostgreSQL schema."""
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-store-"))
        url = None
        if backend == "postgresql":
            url = stack.enter_context(postgres_schema(POSTGRES_SERVER, prefix="bench"))
        return store_all(Path(folder), url, sources)


def store_filled(filled: str, sources: list) -> tuple[float, float, int]:
    """``store_all`` into a copy of the filled SQLite store at the URL ``filled``."""
    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
        copy = Path(folder) / "filled.db"
        shutil.copyfile(filled.removeprefix("sqlite:///"), copy)
        # On disk before the clock starts, as a daemon's store is: else the first checkpoint's
        # fsync inside the timing writes out what the OS still holds of the copy (16.6 GB
        # at 1M items).
        with copy.open("rb+") as file:
            os.fsync(file.fileno())
        (Path(folder) / "run").mkdir()
        return store_all(Path(folder) / "run", f"sqlite:///{copy}", sources)


def store_in(checkout: Path, backend: str, sources_file: Path) -> tuple[float, float, int]:
    """``store_once`` with another checkout's code (its aggregator and tests), this input."""
    done = subprocess.run(
        [sys.executable, __file__, "--store", str(sources_file), "--backends", backend],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu, merged = json.loads(done.stdout.splitlines()[-1])
    return wall, cpu, merged


def report(label: str, items: int, measured: list[tuple[float, float, int]]) -> float:
    """Print the median rates of ``measured`` runs; the median wall rate."""
    walls = [wall for wall, _, _ in measured]
    cpus = [cpu for _, cpu, _ in measured]
    print(
        f"{label:21} {items / statistics.median(walls):7,.0f} items/s wall "
        f"(min {items / max(walls):,.0f}, max {items / min(walls):,.0f}), "
        f"{items / statistics.median(cpus):7,.0f} items/s of this process's CPU; "
        f"merged {sorted({merged for _, _, merged in measured})}"
    )
    return items / statistics.median(walls)


def compare_filled(args: argparse.Namespace, sources: list, items: int) -> None:
    """Empty store and filled store, run after run; their rates and the ratio."""
    topics = classify.load_topics(REPO / "config" / "topics")
    filled = storefill.cached_sqlite(args.filled, topics, "aggregator.localhost,2026", bands=True)
    empty, full = [], []
    for _ in range(args.runs):
        empty.append(store_once("sqlite", sources))
        full.append(store_filled(filled, sources))
    rates = [report("sqlite empty", items, empty), report(f"sqlite {args.filled:,}", items, full)]
    each = ", ".join(
        f"{e[0] / f[0]:.2f}" for e, f in zip(empty, full, strict=True)
    )  # wall of empty / wall of filled = rate of filled / rate of empty
    print(
        f"filled / empty: {rates[1] / rates[0]:.2f} (medians; run by run {each});"
        " target (issue #22) at least 0.8"
    )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--feeds", type=int, default=200)
    options.add_argument("--entries", type=int, default=50)
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--backends", default="sqlite,postgresql")
    options.add_argument("--baseline", type=Path, help="another checkout to compare with")
    options.add_argument(
        "--filled", type=int, help="also into a store already holding this many items (SQLite)"
    )
    options.add_argument("--store", type=Path, help=argparse.SUPPRESS)  # store_in's child
    args = options.parse_args()
    if args.store:
        with args.store.open("rb") as file:
            print(json.dumps(store_once(args.backends, pickle.load(file))))
        return
    sources = prepared(args.feeds, args.entries)
    items = sum(len(data.items) for data, _ in sources)
    print(f"{items} items in {len(sources)} sources, {args.runs} runs each")
    if args.filled:
        compare_filled(args, sources, items)
        return
    with tempfile.NamedTemporaryFile(prefix="bench-store-", suffix=".pickle") as file:
        pickle.dump(sources, file)
        file.flush()
        for backend in args.backends.split(","):
            this, baseline = [], []
            for _ in range(args.runs):
                if args.baseline:
                    baseline.append(store_in(args.baseline, backend, Path(file.name)))
                this.append(store_once(backend, sources))
            if args.baseline:
                report(f"{backend} baseline", items, baseline)
            report(f"{backend}", items, this)


if __name__ == "__main__":
    main()
