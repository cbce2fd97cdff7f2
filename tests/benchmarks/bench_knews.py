"""Benchmark (issue #22): the first update of one real day of feeds, aggregator against reader.

    python -m tests.benchmarks.bench_knews [--day 2022-07-26] [--runs 3] [--profile FILE]

Every file of one day of ../shared/realworld/knews-rss (an outlet's section feed as
it was fetched that day) is read where it lies and served on 127.0.0.1 by the
benchmark's feed server, with an ETag and a Last-Modified date, as one source each.
Then, run after run on the same server: ``aggregator update`` in a fresh project
listing those sources (whole process, as a user runs it; fetch, parse, dedup,
classify, store, regenerate), an ``aggregator update --force`` where every source
answers 304, and reader 3.26's first and second ``update_feeds`` in its own venv.
Rates count the entries in the files (``<item>`` and Atom ``<entry>`` elements).
Nothing of the day is copied into the repository.
"""

import argparse
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from lxml import etree

from tests.benchmarks import feedcorpus, harness
from tests.benchmarks.bench_pipeline import PER_SOURCE, RATE, last_runs
from tests.benchmarks.report import Results, targets

DAYS = harness.REPO.parent / "shared" / "realworld" / "knews-rss"
MODIFIED = "Tue, 26 Jul 2022 15:00:00 GMT"


def day_feeds(day: Path) -> tuple[list[feedcorpus.Feed], int]:
    """The day's files as feeds to serve (bytes read in place), and how many entries they list."""
    feeds, entries = [], 0
    for path in sorted(day.glob("*.xml")):
        body = path.read_bytes()
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, recover=True))
        entries += sum(1 for _ in root.iter("item", "{http://www.w3.org/2005/Atom}entry"))
        digest = hashlib.sha256(body).hexdigest()[:16]
        kind = "atom" if root.tag.endswith("feed") else "rss"
        feeds.append(
            feedcorpus.Feed(
                f"/knews/{path.name}", kind, path.stem, (), body, f'"{digest}"', MODIFIED
            )
        )
    return feeds, entries


def _stored_items(project: Path) -> int:
    with sqlite3.connect(project / "aggregator.db") as connection:
        return connection.execute("SELECT COUNT(*) FROM items").fetchone()[0]


def bench_day(args: argparse.Namespace, results: Results) -> None:
    feeds, entries = day_feeds(DAYS / args.day)
    section = f"knews {args.day} ({len(feeds)} feeds)"
    add = partial(results.add, section)
    server = feedcorpus.serve_feeds(feeds)
    urls = [server.url(feed.path) for feed in feeds]
    per_host = args.per_host or args.workers
    try:
        for run in range(args.runs + (1 if args.profile else 0)):
            profiling = args.profile and run == 0
            with tempfile.TemporaryDirectory(prefix="bench-knews-") as tmp:
                folder = Path(tmp)
                project = harness.make_project(
                    folder / "project", urls, workers=args.workers, per_host=per_host
                )
                if profiling:  # one more run under py-spy, not measured
                    harness.aggregator(project, "update", profile=args.profile)
                    continue
                first = harness.aggregator(project, "update")
                ingest_ms, regen_ms, _ = last_runs(f"sqlite:///{project / 'aggregator.db'}")
                add(
                    "aggregator first update, in-process",
                    entries * 1000 / (ingest_ms + regen_ms),
                    RATE,
                )
                add("aggregator first update, process", entries / first.seconds, RATE)
                add("aggregator first update, of which regenerate", regen_ms, "ms")
                add("aggregator first update, peak RSS", first.peak_mb, "MB")
                stored = f"{section}: {entries} entries in the files, aggregator stored "
                stored += f"{_stored_items(project)} items"
                if stored not in results.notes:
                    results.notes.append(stored)
                again = harness.aggregator(project, "update", "--force")
                add("aggregator 304 round, process", again.seconds * 1000 / len(feeds), PER_SOURCE)
                _reader(folder, urls, entries, args.reader_workers, add, results)
            print(f"  {section}: run {run + 1} done", flush=True)
    finally:
        server.stop()


def _reader(
    folder: Path,
    urls: list[str],
    entries: int,
    workers: int,
    add: Callable[..., None],
    results: Results,
) -> None:
    listed, database = folder / "urls.txt", str(folder / "reader.sqlite")
    listed.write_text("\n".join(urls))
    first = harness.peers("reader-first", database, str(listed), str(workers), cwd=folder)
    reported = json.loads(first.stdout)
    add("reader first update, in-process", entries / reported["seconds"], RATE)
    add("reader first update, process", entries / first.seconds, RATE)
    add("reader first update, peak RSS", first.peak_mb, "MB")
    note = f"reader stored {reported['entries']} entries, {reported['broken_feeds']} feeds broken"
    if note not in results.notes:
        results.notes.append(note)
    again = harness.peers("reader-again", database, str(workers), cwd=folder)
    add("reader 304 round, process", again.seconds * 1000 / len(urls), PER_SOURCE)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--day", default="2022-07-26", help="a folder of knews-rss")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=8, help="aggregator fetch.workers")
    parser.add_argument(
        "--per-host", type=int, help="aggregator fetch.per_host (default --workers)"
    )
    parser.add_argument("--reader-workers", type=int, default=1, help="reader update_feeds workers")
    parser.add_argument("--profile", type=Path, help="one unmeasured run under py-spy, to FILE")
    args = parser.parse_args()
    started, load = time.perf_counter(), os.getloadavg()[0]
    harness.peer_python()
    results = Results()
    bench_day(args, results)
    results.print(targets(results))
    print(
        f"\nwall time {time.perf_counter() - started:.0f}s; runs {args.runs}; 1-min load average "
        f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
