"""Benchmark: a first regeneration, where every archive page is new.

    python -m tests.benchmarks.bench_regenerate [--sizes 10000] [--runs 5] [--to-database]
        [--profile DIR] [--entries-only]

A first ``aggregator update`` of N sources x 50 entries regenerates every
feed's archive from page 1 (about 170 pages for the "all" feed at 10,000 items,
plus the topics'). This measures that regeneration alone: a SQLite store of
--sizes items (storefill.py, filled once and kept in the benchmark cache) is
regenerated --runs times by ``aggregator regenerate`` in a child process, each
time into an empty feeds folder (and, with --to-database, an empty
published_files table). It prints medians (min, max) of the in-process time
(the runs table), the process time and the peak RSS, and the number of files
each run wrote. ``bench_pipeline --sections ingest`` reports the same work
within a real first update ("of which regenerate"). --profile DIR adds one
unmeasured run under py-spy per size (summarize with profile_summary).

It also renders every stored item's Atom entry in this process, --runs times,
each time both ways back to back: as publish.Entries renders it (formatted by
atom_entry) and as publish serialized it before (lxml, still its fallback),
checking that the bytes are the same; it prints µs per entry of each
(--entries-only measures just that).
"""

import argparse
import shutil
import tempfile
import time
from functools import partial
from pathlib import Path

from sqlalchemy import delete, select

from aggregator import classify, publish
from aggregator.store import Storage
from aggregator.store.schema import items, published_files
from tests.benchmarks import harness, storefill
from tests.benchmarks.bench_pipeline import AUTHORITY
from tests.benchmarks.report import Results
from tests.test_render_equivalence import lxml_entry


def _empty(project: Path, url: str) -> None:
    """No published file yet: an empty feeds folder and an empty published_files table."""
    shutil.rmtree(project / "feeds")
    (project / "feeds").mkdir()
    storage = Storage(url)
    try:
        with storage.transaction() as tx:
            tx.connection.execute(delete(published_files))
    finally:
        storage.close()


def _last_regeneration(url: str) -> tuple[int, int]:
    """The last regeneration's duration (ms) and how many files it wrote."""
    storage = Storage(url)
    try:
        run = storage.last_run("regenerate")
    finally:
        storage.close()
    assert run is not None and run.duration_ms is not None
    return run.duration_ms, run.feeds_written


def bench_first_regeneration(args: argparse.Namespace, size: int, results: Results) -> None:
    topics = classify.load_topics(harness.REPO / "config" / "topics")
    url = storefill.cached_sqlite(size, topics, AUTHORITY, bands=False)
    section = f"first regenerate {size:,} sqlite" + (", to_database" if args.to_database else "")
    add = partial(results.add, section)
    with tempfile.TemporaryDirectory(prefix="bench-first-regen-") as tmp:
        project = harness.make_project(Path(tmp), [], workers=2, per_host=2)
        if args.to_database:
            config = project / "config" / "aggregator.toml"
            config.write_text(config.read_text() + "\n[publish]\nto_database = true\n")
        if args.profile:
            _empty(project, url)
            named = args.profile / f"first-regen-{size}.json"
            harness.aggregator(project, "regenerate", database_url=url, profile=named)
        for _ in range(args.runs):
            _empty(project, url)
            done = harness.aggregator(project, "regenerate", database_url=url)
            in_process, written = _last_regeneration(url)
            add("aggregator regenerate, in-process", in_process, "ms")
            add("aggregator regenerate, process", done.seconds * 1000, "ms")
            add("aggregator regenerate, peak RSS", done.peak_mb, "MB")
            add("files written", written, "files")
    print(f"  {section}: done", flush=True)


def bench_entry_rendering(args: argparse.Namespace, size: int, results: Results) -> None:
    """Every stored item's entry rendered by publish.Entries and by the lxml path, alternately."""
    topics = classify.load_topics(harness.REPO / "config" / "topics")
    storage = Storage(storefill.cached_sqlite(size, topics, AUTHORITY, bands=False))
    try:
        with storage.engine.connect() as connection:
            ids = list(connection.execute(select(items.c.id).order_by(items.c.id)).scalars())
        stored = storage.items_by_id(ids)
    finally:
        storage.close()
    identity = publish.FeedIdentity("http://127.0.0.1:8080/", AUTHORITY, "Benchmark")
    titles = {t.id: t.title for t in topics}
    section = f"render {len(stored):,} stored entries"

    def formatted() -> list[bytes]:
        entries = publish.Entries(identity, titles, storage.items_by_id)
        return [entries.entry(item).xml for item in stored]

    def serialized_by_lxml() -> list[bytes]:
        entries = publish.Entries(identity, titles, storage.items_by_id)
        return [lxml_entry(i, entries, identity, titles) for i in stored]

    for run in range(args.runs):
        # Alternate which goes first, so neither always runs on a warmer (or busier) machine.
        order = [formatted, serialized_by_lxml][:: 1 if run % 2 == 0 else -1]
        rendered = {}
        for render in order:
            started = time.perf_counter()
            rendered[render.__name__] = render()
            seconds = time.perf_counter() - started
            results.add(section, f"{render.__name__}, per entry", seconds / len(stored) * 1e6, "µs")
        assert rendered["formatted"] == rendered["serialized_by_lxml"], "the bytes differ"
    print(f"  {section}: done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000", help="stored items (default 10000)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs (default 5)")
    parser.add_argument(
        "--to-database", action="store_true", help="also keep every file in published_files"
    )
    parser.add_argument("--profile", type=Path, help="write py-spy speedscope profiles here")
    parser.add_argument(
        "--entries-only", action="store_true", help="measure only the rendering of entries"
    )
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = Results()
    for size in (int(n) for n in args.sizes.split(",") if n):
        bench_entry_rendering(args, size, results)
        if not args.entries_only:
            bench_first_regeneration(args, size, results)
    results.print({})
    print(f"\nwall time {time.perf_counter() - started:.0f}s; runs {args.runs}")


if __name__ == "__main__":
    main()
