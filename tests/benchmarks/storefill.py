"""A store of 10k to 1M items, written in bulk, as the pipeline would have left it.

Running that many entries through the pipeline would take hours, so rows are
inserted with SQLAlchemy Core straight into ``aggregator.store.schema``:
sources, items (entry ids, link and id hashes, MinHash signatures),
item_bands, item_topics, and the rules fingerprint in ``meta`` (so
regeneration does not re-classify). Every derived value comes from
aggregator's own functions (``dedup``, ``classify``), computed once per story
of a pool of generated stories that the items reuse with their own links,
ids and dates; content hashes are the pool story's (only ingest reads them).
About 10% of items join an earlier item's story from another source, as
near-duplicates do.

``prepare_archives`` brings the RFC 5005 archive pages up to date the cheap
way: pages 1..n-1 are empty Atom documents (regeneration only checks that
they exist), page n is written by aggregator's own ``publish.write_archives``.
Writing all n pages would take hours at 1M items (see the report).
"""

import functools
import hashlib
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Select, Table, func, insert, select, text

from aggregator import classify, dedup, fingerprints, pipeline, publish
from aggregator.store import Storage, migrate
from aggregator.store.archive_queries import next_archive_stories
from aggregator.store.schema import epoch_seconds, item_bands, item_topics, items, sources
from aggregator.text import html_to_text
from aggregator.types import ItemData
from tests.benchmarks import feedcorpus, harness

START = datetime(2024, 1, 1, tzinfo=UTC)
POOL = 3000  # stories at most; a small store uses one for every 20 items
SOURCES = 1000
JOIN_SHARE = 0.10
BATCH = 10_000
EMPTY_ARCHIVE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"/>\n'
)


def fingerprint(topics_dir: Path) -> str:
    """Changes whenever what a fill would produce changes (its code, the corpus, the rules)."""
    digest = hashlib.sha256()
    for path in [Path(__file__), Path(feedcorpus.__file__), *sorted(topics_dir.glob("*.toml"))]:
        digest.update(path.read_bytes())
    digest.update(migrate.head().encode())
    return digest.hexdigest()[:12]


@functools.cache  # the same for every fill of a run; computing it takes a minute
def _pool(topics: tuple[classify.Topic, ...], seed: int, count: int) -> list[dict[str, object]]:
    """Generated stories with what the pipeline derives from each: topics, signature, hash."""
    rng = random.Random(seed)
    stories = []
    for _ in range(count):
        title, paragraphs = feedcorpus._story(rng, feedcorpus.ENTRY_BYTES - 520)  # noqa: SLF001
        html = feedcorpus._html(paragraphs)  # noqa: SLF001
        body = html_to_text(html)
        slots = fingerprints.signature(f"{title}\n{body}")
        matches = classify.classify(title, body, topics)
        stories.append(
            {
                "title": title,
                "content_html": html,
                "content_hash": dedup.content_hash(ItemData("", title, html)),
                "signature": fingerprints.pack(slots) if slots else None,
                "bands": sorted(set(fingerprints.band_keys(slots))) if slots else [],
                "topics": {m.topic_id: m.score for m in matches if m.matched},
            }
        )
    return stories


def fill(
    storage: Storage,
    size: int,
    topics: tuple[classify.Topic, ...],
    authority: str,
    *,
    bands: bool = False,
) -> None:
    """``size`` items from ``SOURCES`` sources into an empty, initialized store.

    ``bands`` also fills the near-duplicate index (16 rows per item), which only
    ingest reads; it triples the time a fill takes.
    """
    rng = random.Random(size)
    pool = _pool(topics, seed=2026, count=min(POOL, max(100, size // 20)))
    with storage.transaction() as tx:
        tx.connection.execute(
            insert(sources),
            [
                {
                    "id": n, "key": f"https://wire{n}.example/feed.xml", "kind": "feed",
                    "title": f"{feedcorpus.corpus.WIRES[n % 6]} {n}",
                    "link": f"https://wire{n}.example/", "enabled": True,
                    "url": f"https://wire{n}.example/feed.xml", "origin": "cli",
                    "error_count": 0, "last_status": "200", "last_checked": START,
                    "next_fetch": START + timedelta(days=3650),
                }
                for n in range(1, SOURCES + 1)
            ],
        )  # fmt: skip
        tx.set_meta(pipeline.RULES_FINGERPRINT, pipeline.rules_fingerprint(topics))
    rows: list[dict[str, object]] = []
    band_rows: list[dict[str, object]] = []
    labels: list[dict[str, object]] = []
    recent: list[tuple[int, int]] = []  # (id, source) of recent canonical items
    for n in range(1, size + 1):
        story = pool[rng.randrange(len(pool))]
        source = rng.randrange(1, SOURCES + 1)
        source_key = f"https://wire{source}.example/feed.xml"
        link = f"https://wire{source}.example/news/{n}"
        when = START + timedelta(seconds=30 * n)
        story_id = n
        if recent and rng.random() < JOIN_SHARE:
            other, other_source = recent[rng.randrange(len(recent))]
            if other_source != source:
                story_id = other
        if story_id == n:
            recent = [*recent[-499:], (n, source)]
        rows.append(
            {
                "id": n, "source_id": source, "key": link,
                "entry_id": dedup.entry_id(authority, source_key, link),
                "title": story["title"], "content_html": story["content_html"],
                "published": when, "updated": when, "first_seen": when + timedelta(minutes=5),
                "author": "Kim Min-ji", "link": link, "language": "en",
                "content_hash": story["content_hash"], "categories": "[]", "enclosures": "[]",
                "story_id": story_id, "link_hash": fingerprints.link_hash(link),
                "key_hash": fingerprints.global_key_hash(link), "signature": story["signature"],
            }
        )  # fmt: skip
        if bands:
            band_rows.extend(
                {"band_key": k, "item_id": n, "published_epoch": epoch_seconds(when)}
                for k in story["bands"]
            )
        labels.extend({"item_id": n, "topic_id": t, "score": s} for t, s in story["topics"].items())
        if len(rows) == BATCH or n == size:
            with storage.transaction() as tx:
                _insert(tx.connection, items, rows)
                _insert(tx.connection, item_bands, band_rows)
                _insert(tx.connection, item_topics, labels)
            rows, band_rows, labels = [], [], []
    if storage.dialect == "postgresql":
        # Explicit ids leave the sequences behind; the next pipeline insert must not collide.
        with storage.transaction() as tx:
            for table in ("sources", "items"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                tx.connection.execute(text(f"SELECT setval({sequence}, MAX(id)) FROM {table}"))
            tx.connection.execute(text("ANALYZE"))
    else:
        with storage.transaction() as tx:
            tx.connection.execute(text("ANALYZE"))


def cached_sqlite(
    size: int, topics: tuple[classify.Topic, ...], authority: str, *, bands: bool
) -> str:
    """The URL of a SQLite store of ``size`` items, filled once and kept in ``harness.CACHE``
    (``AGGREGATOR_BENCH_CACHE``): 1M items take 5 minutes, 15 with ``bands``."""
    tag = fingerprint(harness.REPO / "config" / "topics")
    path = harness.CACHE / f"store-{size}-{tag}{'-bands' if bands else ''}.db"
    if not path.exists():
        harness.CACHE.mkdir(parents=True, exist_ok=True)
        # Stores of this size that older code filled are stale: 5 GB at 1M items.
        for stale in harness.CACHE.glob(f"store-{size}-*"):
            if stale.name.endswith("-bands.db") == bands:
                stale.unlink()
        building = path.with_suffix(".building")
        started = time.perf_counter()
        storage = Storage(f"sqlite:///{building}")
        try:
            storage.initialize()
            fill(storage, size, topics, authority, bands=bands)
        finally:
            storage.close()
        building.rename(path)
        print(f"  filled SQLite with {size:,} items in {time.perf_counter() - started:.0f}s")
    return f"sqlite:///{path}"


def _insert(connection: Connection, table: Table, rows: list[dict[str, object]]) -> None:
    """Insert rows; on PostgreSQL with COPY, 5x faster than INSERT for a million rows."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    named = ", ".join(f'"{c}"' for c in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{table.name}" ({named}) FROM STDIN') as copy:
        for row in rows:
            # Naive UTC, as schema.UTCDateTime stores it.
            copy.write_row(
                [
                    v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v
                    for v in (row[c] for c in columns)
                ]
            )


def prepare_archives(app: pipeline.Aggregator) -> int:
    """Make every feed's archive pages current, as years of regeneration would have; pages."""
    folder, size = app.settings.feeds_dir, app.settings.max_entries
    entries = publish.Entries(
        app.identity, {t.id: t.title for t in app.topics}, app.storage.items_by_id
    )
    total = 0
    for spec in app.feed_specs():
        topic = None if spec.key == publish.ALL_FEED else spec.key
        with app.storage.engine.connect() as connection:
            stories = connection.execute(_story_count(topic)).scalar_one()
        pages = stories // size
        for page in range(1, pages):
            path = folder / publish.archive_path(spec.key, page)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(EMPTY_ARCHIVE)
        written = publish.write_archives(
            folder,
            spec,
            entries,
            size,
            lambda archived, done, limit, topic=topic: next_archive_stories(
                app.storage, topic, archived, done, size, limit
            ),
            lambda files: [publish.write_if_changed(path, content) for path, content in files],
        )
        total += written or 0
    return total


def _story_count(topic: str | None) -> Select:
    query = select(func.count()).select_from(items).where(items.c.story_id == items.c.id)
    if topic is not None:
        query = query.join(item_topics, item_topics.c.item_id == items.c.id).where(
            item_topics.c.topic_id == topic
        )
    return query
