"""Benchmark (issue #7): aggregator end to end against the reader library and raw parsers.

    python -m tests.benchmarks.bench_pipeline [--quick] [--runs 3] [--sources 200,1000]
        [--sizes 10000,100000,1000000] [--backends sqlite,postgresql]
        [--sections ingest,regen,peers] [--profile DIR]

Measures, as medians (min, max) of --runs runs:

1. first ingest: ``aggregator update`` on a fresh project whose config lists
   N sources x 50 entries served by a local HTTP server (fetch, parse, dedup,
   classify, store, regenerate), in entries/s; the same feeds with reader's
   ``update_feeds``. Correctness is checked too: every entry stored once, the
   corpus' duplicate stories merged, different ones kept apart.
2. the next round, ``aggregator update --force``, where every source answers
   304, in ms per source; reader's second ``update_feeds`` likewise.
3. ``aggregator regenerate`` with 10k, 100k, 1M items stored (SQLite,
   PostgreSQL), filled in bulk (storefill.py), in ms.
4. the peak RSS of each of these processes.
5. feedparser (default, sanitize_html=False), an lxml tree (a floor for any
   parser) and feedgen (one Atom feed of 50 entries), in the peers' venv.

"in-process" times are what the subject reports of its own work (aggregator's
runs table, reader's update_feeds call); "process" adds interpreter start-up
and imports. Targets (issue #7) are judged on the in-process figures.
--profile DIR adds one unmeasured run of each aggregator command under py-spy
(the first --sources count, every regeneration); ingests of 1,000 sources
or more are measured --large-runs times (default 1), as each takes minutes.
"""

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from aggregator import classify, pipeline
from aggregator.config import load_settings
from aggregator.ingest.feeds import parse_feed
from aggregator.store import Storage
from aggregator.store.band_index import MAX_STORY_CANDIDATES
from aggregator.store.schema import items
from tests.benchmarks import feedcorpus, harness, storefill
from tests.benchmarks.report import REGENERATE, Results, targets

AUTHORITY = "aggregator.localhost,2026"
RATE, PER_SOURCE = "entries/s", "ms/source"
LARGE = 1000  # sources: an ingest this large is measured --large-runs times


def check_store(database_url: str, data: feedcorpus.Corpus) -> dict[str, object]:
    """How the stored items compare with the corpus' truth.

    For copies left unmerged it also counts the earlier items of other sources
    that shared a band key with them: the near-duplicate lookup reads at most
    ``MAX_STORY_CANDIDATES`` of those, the ones sharing the most bands.
    """
    storage = Storage(database_url)
    with storage.engine.connect() as connection:
        rows = connection.execute(
            select(items.c.id, items.c.link, items.c.story_id, items.c.source_id)
        ).all()
        copies = data.copies()
        ids = {row.link: row for row in rows}
        crowded = [
            connection.execute(_band_sharers, {"id": row.id, "source": row.source_id}).scalar_one()
            for link, (_kind, original) in copies.items()
            if (row := ids.get(link)) is not None
            and original in ids
            and row.story_id != ids[original].story_id
        ]
    storage.close()
    link_of = {row.id: row.link for row in rows}
    story_of = {row.link: row.story_id for row in rows}
    truth = data.story_of
    wrong = sum(
        1
        for row in rows
        if row.story_id != row.id and truth[link_of[row.story_id]] != truth[row.link]
    )
    missed = {"exact": 0, "near": 0}
    for link, (kind, original) in copies.items():
        if link in story_of and original in story_of and story_of[link] != story_of[original]:
            missed[kind] += 1
    exact = sum(1 for kind, _ in copies.values() if kind == "exact")
    return {
        "entries": data.entries,
        "stored": len(rows),
        "stories expected": data.stories,
        "stories stored": sum(1 for row in rows if row.story_id == row.id),
        "exact copies": exact,
        "exact copies not merged": missed["exact"],
        "edited copies": len(copies) - exact,
        "edited copies not merged": missed["near"],
        "wrongly merged": wrong,
        "earlier items sharing a band with each unmerged copy (candidate cap "
        f"{MAX_STORY_CANDIDATES})": sorted(crowded),
    }


_band_sharers = text(
    "SELECT COUNT(DISTINCT other.item_id) FROM item_bands AS mine"
    " JOIN item_bands AS other ON other.band_key = mine.band_key"
    " JOIN items ON items.id = other.item_id"
    " WHERE mine.item_id = :id AND other.item_id < :id AND items.source_id != :source"
)


def _aggregator_rounds(
    project: Path, data: feedcorpus.Corpus, add: Callable[..., None], notes: list[str]
) -> None:
    """The first update of a fresh project, then an update where every source answers 304."""
    url, sources = f"sqlite:///{project / 'aggregator.db'}", len(data.feeds)
    first = harness.aggregator(project, "update")
    ingest_ms, regen_ms, _ = last_runs(url)
    add("aggregator first update, in-process", data.entries * 1000 / (ingest_ms + regen_ms), RATE)
    add("aggregator first update, process", data.entries / first.seconds, RATE)
    add("aggregator first update, of which regenerate", regen_ms, "ms")
    add("aggregator first update, peak RSS", first.peak_mb, "MB")
    again = harness.aggregator(project, "update", "--force")
    ingest_ms, regen_ms, unmodified = last_runs(url)
    if unmodified != sources:
        notes.append(f"only {unmodified} of {sources} sources answered 304 to aggregator")
    add("aggregator 304 round, ingest in-process", ingest_ms / sources, PER_SOURCE)
    add("aggregator 304 round, update in-process", (ingest_ms + regen_ms) / sources, PER_SOURCE)
    add("aggregator 304 round, process", again.seconds * 1000 / sources, PER_SOURCE)
    add("aggregator 304 round, peak RSS", again.peak_mb, "MB")


def last_runs(url: str, *, ingest: bool = True) -> tuple[int, int, int]:
    """Durations of the last ingest and of its regeneration (ms; 0 when the update found the
    files current and skipped it), and sources last answering 304."""
    storage = Storage(url)
    try:
        ingested, regenerated = storage.last_run("ingest"), storage.last_run("regenerate")
        unmodified = sum(1 for s in storage.sources.all() if s.last_status == "not modified")
    finally:
        storage.close()
    assert regenerated is not None and regenerated.duration_ms is not None
    if not ingest:
        return 0, regenerated.duration_ms, unmodified
    assert ingested is not None and ingested.duration_ms is not None
    skipped = regenerated.started < ingested.started
    return ingested.duration_ms, 0 if skipped else regenerated.duration_ms, unmodified


def _reader_rounds(
    folder: Path,
    urls: list[str],
    data: feedcorpus.Corpus,
    workers: int,
    add: Callable[..., None],
    notes: list[str],
) -> None:
    """reader's first update_feeds of the same feeds, then its second (every feed 304)."""
    listed, database, sources = folder / "urls.txt", str(folder / "reader.sqlite"), len(urls)
    listed.write_text("\n".join(urls))
    first = harness.peers("reader-first", database, str(listed), str(workers), cwd=folder)
    reported = json.loads(first.stdout)
    if reported["entries"] != data.entries or reported["broken_feeds"]:
        notes.append(
            f"reader stored {reported['entries']} of {data.entries} entries, "
            f"{reported['broken_feeds']} feeds broken"
        )
    add("reader first update, in-process", data.entries / reported["seconds"], RATE)
    add("reader first update, process", data.entries / first.seconds, RATE)
    add("reader first update, peak RSS", first.peak_mb, "MB")
    again = harness.peers("reader-again", database, str(workers), cwd=folder)
    reported = json.loads(again.stdout)
    add("reader 304 round, in-process", reported["seconds"] * 1000 / sources, PER_SOURCE)
    add("reader 304 round, process", again.seconds * 1000 / sources, PER_SOURCE)
    add("reader 304 round, peak RSS", again.peak_mb, "MB")


def bench_ingest(
    args: argparse.Namespace, sources: int, results: Results, *, runs: int, profile: bool
) -> None:
    """First ingest and 304 round of ``sources`` feeds, aggregator and reader, run after run."""
    data = feedcorpus.generate(sources, args.entries)
    section = f"ingest {sources}x{args.entries}"
    add = partial(results.add, section)
    notes: list[str] = []
    server = feedcorpus.serve(data)
    urls = [server.url(feed.path) for feed in data.feeds]
    per_host = args.per_host or args.workers
    try:
        if profile:  # one more run under py-spy, not measured
            with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
                project = harness.make_project(
                    Path(tmp), urls, workers=args.workers, per_host=per_host
                )
                named = args.profile / f"ingest-{sources}"
                harness.aggregator(project, "update", profile=Path(f"{named}-first.json"))
                harness.aggregator(project, "update", "--force", profile=Path(f"{named}-304.json"))
        for run in range(runs):
            with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
                folder = Path(tmp)
                project = harness.make_project(
                    folder / "project", urls, workers=args.workers, per_host=per_host
                )
                _aggregator_rounds(project, data, add, notes)
                if run == 0:
                    checked = check_store(f"sqlite:///{project / 'aggregator.db'}", data)
                    notes.append(
                        "correctness: " + ", ".join(f"{k} {v}" for k, v in checked.items())
                    )
                _reader_rounds(folder, urls, data, args.reader_workers, add, notes)
            _say(f"{section}: run {run + 1} of {runs} done")
    finally:
        server.stop()
    results.notes.extend(f"{section}: {note}" for note in dict.fromkeys(notes))


def _fill(url: str, size: int, topics: tuple[classify.Topic, ...], bands: bool) -> None:
    storage = Storage(url)
    try:
        storage.initialize()
        storefill.fill(storage, size, topics, AUTHORITY, bands=bands)
    finally:
        storage.close()


def _say(text: str) -> None:
    print(f"  {text}", flush=True)


def bench_regen(args: argparse.Namespace, size: int, backend: str, results: Results) -> None:
    """``aggregator regenerate`` over a store of ``size`` items whose archives are current."""
    topics = classify.load_topics(harness.REPO / "config" / "topics")
    section = f"regenerate {size:,} {backend}"
    add = partial(results.add, section)
    with tempfile.TemporaryDirectory(prefix="bench-regen-") as tmp, _database(backend) as url:
        if url is None:
            url = storefill.cached_sqlite(size, topics, AUTHORITY, bands=args.regen_bands)
        else:
            started = time.perf_counter()
            _fill(url, size, topics, args.regen_bands)
            _say(f"filled PostgreSQL with {size:,} items in {time.perf_counter() - started:.0f}s")
        project = harness.make_project(Path(tmp), [], workers=args.workers, per_host=2)
        config = project / "config" / "aggregator.toml"
        app = pipeline.Aggregator.open(
            load_settings(config, environ={"AGGREGATOR_DATABASE_URL": url})
        )
        try:
            started = time.perf_counter()
            pages = storefill.prepare_archives(app)
            _say(f"archives current ({pages} pages) in {time.perf_counter() - started:.0f}s")
        finally:
            app.close()
        # The first regeneration writes the feeds; the measured ones find them current.
        warm = harness.aggregator(project, "regenerate", database_url=url)
        add("first regenerate (writes every file), process", warm.seconds * 1000, "ms")
        if args.profile:
            named = args.profile / f"regen-{size}-{backend}.json"
            harness.aggregator(project, "regenerate", database_url=url, profile=named)
        for _ in range(args.runs):
            done = harness.aggregator(project, "regenerate", database_url=url)
            _, regen_ms, _ = last_runs(url, ingest=False)
            add(REGENERATE, regen_ms, "ms")
            add("aggregator regenerate, process", done.seconds * 1000, "ms")
            add("aggregator regenerate, peak RSS", done.peak_mb, "MB")
        _say(f"{section}: done")


def _database(backend: str):  # noqa: ANN202 (a context manager of a URL or None)
    return harness.postgres_schema() if backend == "postgresql" else nullcontext(None)


def bench_peers(args: argparse.Namespace, sources: int, results: Results) -> None:
    """feedparser, lxml and aggregator's adapter on the same bytes; feedgen on 50 entries."""
    data = feedcorpus.generate(sources, args.entries)
    section = f"parse {sources}x{args.entries}"
    add = partial(results.add, section)
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        folder = Path(tmp)
        for feed in data.feeds:
            (folder / feed.path.rsplit("/", 1)[1]).write_bytes(feed.body)
        parsed = json.loads(harness.peers("parse", str(folder), str(args.runs), cwd=folder).stdout)
        for mode in ("feedparser default", "feedparser sanitize_html=False", "lxml tree only"):
            for rate in parsed[mode]["rates"]:
                add(mode, rate, RATE)
        zone = ZoneInfo("Asia/Seoul")
        for _ in range(args.runs):
            started = time.perf_counter()
            count = sum(
                len(parse_feed(f.body, source_key=f.path, base_url=f.path, zone=zone).items)
                for f in data.feeds
            )
            add("aggregator parse_feed (adapter)", count / (time.perf_counter() - started), RATE)
        entries = [
            {
                "link": e.link,
                "title": e.title,
                "html": feedcorpus._html(e.paragraphs),  # noqa: SLF001
                "published": e.published.isoformat(),
            }
            for e in data.feeds[0].entries[:50]
        ]
        listed = folder / "entries.json"
        listed.write_text(json.dumps(entries))
        made = harness.peers("feedgen", str(listed), str(max(args.runs, 5)), cwd=folder)
        for ms in json.loads(made.stdout)["ms"]:
            results.add("feedgen", f"one Atom feed of {len(entries)} entries", ms, "ms")


def _numbers(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="20 sources, 10k items, 2 runs: a few minutes"
    )
    parser.add_argument("--runs", type=int, help="measured runs of each (default 3; quick 2)")
    parser.add_argument("--sources", help="source counts for ingest (default 200,1000; quick 20)")
    parser.add_argument(
        "--large-runs",
        type=int,
        default=1,
        help=f"measured runs of ingests of {LARGE:,} sources or more (default 1: ~10 min each)",
    )
    parser.add_argument("--entries", type=int, default=50, help="entries per source (default 50)")
    parser.add_argument("--sizes", help="stored items (default 10000,100000,1000000; quick 10000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="for regeneration")
    parser.add_argument("--sections", default="ingest,regen,peers")
    parser.add_argument("--workers", type=int, default=8, help="aggregator fetch.workers")
    parser.add_argument(
        "--per-host",
        type=int,
        help="aggregator fetch.per_host (default: --workers; every feed is on 127.0.0.1)",
    )
    parser.add_argument("--reader-workers", type=int, default=1, help="reader update_feeds workers")
    parser.add_argument(
        "--regen-bands", action="store_true", help="also fill item_bands for regeneration"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="also run aggregator once under py-spy (first --sources, every regeneration), "
        "writing speedscope profiles here (summarize with profile_summary)",
    )
    args = parser.parse_args()
    args.runs = args.runs or (2 if args.quick else 3)
    sources = _numbers(args.sources or ("20" if args.quick else "200,1000"))
    sizes = _numbers(args.sizes or ("10000" if args.quick else "10000,100000,1000000"))
    sections = set(args.sections.split(","))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    started, load = time.perf_counter(), os.getloadavg()[0]
    harness.peer_python()
    results = Results()
    if "ingest" in sections:
        for count in sources:
            runs = args.runs if count < LARGE else args.large_runs
            profile = bool(args.profile) and count == sources[0]
            bench_ingest(args, count, results, runs=runs, profile=profile)
    if "peers" in sections:
        bench_peers(args, sources[0], results)
    if "regen" in sections:
        for size in sizes:
            for backend in args.backends.split(","):
                bench_regen(args, size, backend, results)
    results.print(targets(results))
    print(
        f"\nwall time {time.perf_counter() - started:.0f}s; runs {args.runs} "
        f"({args.large_runs} for {LARGE:,}+ sources); aggregator "
        f"fetch.workers {args.workers}, per_host {args.per_host or args.workers}; "
        f"reader workers {args.reader_workers}; 1-min load average {load:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (other processes share the {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
