"""The one pipeline the command line and the daemon share.

    ingest:     each seed file -> ingest.seeds.read_seed -> SourceData
                (an unusable input is recorded with its reason; the rest go on)
    dedup:      each ItemData + what the store knows -> dedup.decide -> ItemWrite
                (new, edited in place, or unchanged and skipped)
    store:      one transaction per source: source metadata, item writes, topics
    classify:   each written item -> classify.classify -> topic assignments
    publish:    newest N items per topic -> publish.render_feed -> feeds/<topic>.xml,
                written only when the bytes change

Every public function takes ``now`` and holds the database's cycle lock, so a
daemon cycle and a one-off command never interleave.
"""

import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from aggregator import classify, dedup, fulltext, pages, publish, websub
from aggregator.analysis import ItemAnalysis, analyze, text_key
from aggregator.config import Settings
from aggregator.errors import InputError
from aggregator.ingest.feeds import parse_feed
from aggregator.ingest.http import FetchResult, fetch, make_client, run_per_host
from aggregator.ingest.parallel import Analyses, WorkerPool, parse_and_analyze, worker_pool
from aggregator.ingest.schedule import Previous, after_fetch
from aggregator.ingest.seeds import read_capped, read_seed
from aggregator.progress import Progress
from aggregator.store import Storage, published, retention
from aggregator.store.archive_queries import next_archive_stories
from aggregator.store.lock import RunLock
from aggregator.store.retry import with_retries
from aggregator.store.runs import RunRecord
from aggregator.store.sources import save_fetch_state
from aggregator.store.writes import StoreTransaction, StoryIdentities
from aggregator.text import html_to_text
from aggregator.types import (
    InputFailure,
    ItemWrite,
    SourceData,
    StoredItem,
    TopicMatch,
    WebSource,
)

log = logging.getLogger("aggregator.pipeline")

RULES_FINGERPRINT = "rules_fingerprint"
T = TypeVar("T")


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did."""

    inputs_read: int = 0
    inputs_unchanged: int = 0
    items_new: int = 0
    items_updated: int = 0
    failures: tuple[InputFailure, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.items_new or self.items_updated)


@dataclass(frozen=True)
class PublishReport:
    """What one regeneration did: feeds rewritten, feeds left untouched, items re-classified."""

    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    reclassified: int = 0
    failures: tuple[InputFailure, ...] = ()


@dataclass
class Aggregator:
    """An open store plus the settings and topic rules a run works with."""

    settings: Settings
    storage: Storage
    topics: tuple[classify.Topic, ...]
    identity: publish.FeedIdentity = field(init=False)
    # Jitter for backoff; tests seed it for repeatable schedules.
    rng: random.Random = field(default_factory=random.Random)
    # Where long work reports how far it got (the command line draws it on a terminal).
    progress: Progress = field(default_factory=Progress)
    # The pause between retries of an unavailable database; tests make it instant.
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.identity = publish.FeedIdentity(
            base_url=self.settings.base_url,
            id_authority=self.settings.id_authority,
            author=self.settings.feed_title,
            hub=self.settings.hub,
        )

    @classmethod
    def open(cls, settings: Settings) -> "Aggregator":
        """Load the topic rules and open (creating if new) the store."""
        topics = classify.load_topics(settings.topics_dir)
        storage = Storage(settings.database_url, busy_timeout=settings.busy_timeout.total_seconds())
        try:
            with_retries(
                storage.initialize,
                what="open",
                where=storage.display_url,
                window=settings.retry_for.total_seconds(),
            )
        except BaseException:
            storage.close()
            raise
        return cls(settings, storage, topics)

    def reconfigure(self, settings: Settings, topics: tuple[classify.Topic, ...]) -> None:
        """Use new settings and topic rules from now on (the daemon's SIGHUP)."""
        self.settings = settings
        self.topics = topics
        self.__post_init__()

    def close(self) -> None:
        self.storage.close()

    def retrying(self, what: str, operation: Callable[[], T]) -> T:
        """Run a whole operation again while the database is briefly locked or unreachable."""
        return with_retries(
            operation,
            what=what,
            where=self.storage.display_url,
            window=self.settings.retry_for.total_seconds(),
            sleep=self.sleep,
        )

    @contextmanager
    def cycle_lock(self) -> Iterator[None]:
        """Hold the database's cycle lock, waiting up to ``storage.lock_wait``."""
        with RunLock(self.storage, "cycle", wait=self.settings.lock_wait.total_seconds()):
            yield

    def classify_text(self, title: str, content_html: str) -> tuple[TopicMatch, ...]:
        return classify.classify(title, html_to_text(content_html), self.topics)

    def feed_specs(self) -> list[publish.FeedSpec]:
        """all.xml first, then one feed per topic."""
        everything = publish.FeedSpec(
            publish.ALL_FEED, self.settings.feed_title, "Every stored item, newest first."
        )
        return [everything] + [publish.FeedSpec(t.id, t.title, t.description) for t in self.topics]


def _seed_paths(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _store_source(
    app: Aggregator,
    data: SourceData,
    body_hash: str | None,
    now: datetime,
    fetch_state: dict[str, object] | None = None,
    analyses: Analyses | None = None,
    holder: str | None = None,
    pages: fulltext.PagePolicy | None = None,
) -> tuple[int, int, int]:
    """Write one source, its fetch state and its items in one transaction.

    ``analyses`` are the items' signatures and topics when a worker process
    already worked them out; any item without one is analysed here. With
    ``holder`` (a worker's id) only while that worker's lease holds, releasing it.
    With ``pages``, written items whose article page it wants are marked so.
    Returns the counts of new items, updated items, and new items that joined a story.
    """
    updated = 0
    tracking = app.settings.dedup.tracking_parameters
    with app.storage.transaction() as tx:
        source_id = tx.save_source(data.source, body_hash, now, data.date_offset)
        if fetch_state is not None:
            save_fetch_state(tx, source_id, fetch_state, holder)
        canonical = tuple(dedup.with_canonical_link(item, tracking) for item in data.items)
        known_links = tx.known_keys_by_link(source_id, (i.link for i in canonical if i.link))
        entries = dedup.identify(canonical, known_links)
        known = tx.known_items(source_id, (item.key for item in entries))
        unknown = [item for item in entries if item.key not in known]
        pruned = retention.tombstoned(tx, data.source.key, [item.key for item in unknown])
        identities = tx.stories_by_identity(source_id, ((i.link, i.key) for i in unknown))
        inserts: list[tuple[ItemWrite, ItemAnalysis]] = []
        written: list[tuple[int, ItemWrite, ItemAnalysis, bool]] = []
        for item in entries:
            if item.key in pruned:
                continue  # retention removed it; a source still listing it must not revive it
            analysis = analyses.get(text_key(item)) if analyses else None
            write = dedup.decide(
                item,
                known.get(item.key),
                authority=app.settings.id_authority,
                source_key=data.source.key,
                now=now,
                body=analysis.body if analysis else None,
            )
            if write is None:
                continue
            analysis = analysis or analyze(item, app.topics)
            if write.id is None:
                inserts.append((write, analysis))
                continue
            updated += 1
            tx.update_item(write, analysis.slots)
            tx.set_bands(write.id, analysis.bands)
            tx.set_topics(write.id, dict(analysis.topics))
            written.append((write.id, write, analysis, False))
        ids, merged = _insert_new(app, tx, source_id, inserts, identities, now)
        if pages is not None:
            new = [(i, write, a, True) for i, (write, a) in zip(ids, inserts, strict=True)]
            fulltext.note_writes(tx, pages, written + new)
    return len(inserts), updated, merged


def _insert_new(
    app: Aggregator,
    tx: StoreTransaction,
    source_id: int,
    inserts: list[tuple[ItemWrite, ItemAnalysis]],
    identities: StoryIdentities,
    now: datetime,
) -> tuple[list[int], int]:
    """Write a source's new items together, a few statements for all of them; their ids, and
    how many joined a story told by another source (same link or global id, or near-duplicate
    text).
    """
    if not inserts:
        return [], 0
    threshold = app.settings.dedup.similarity
    indexed = [n for n, (_, analysis) in enumerate(inserts) if analysis.bands]
    candidates = tx.story_candidates(
        source_id,
        [inserts[n][1].bands for n in indexed],
        [inserts[n][1].text for n in indexed],
    )
    matched: list[set[int]] = [set() for _ in inserts]
    for n, found in zip(indexed, candidates, strict=True):
        write, analysis = inserts[n]
        matched[n] = dedup.matching_stories(analysis.slots, write.published, found, threshold)
    for n, (write, _) in enumerate(inserts):
        story = identities.story(write.item.link, write.item.key)
        if story is not None:
            matched[n].add(story)
    ids = tx.insert_items(source_id, [(write, a.slots) for write, a in inserts], now)
    tx.join_stories(list(zip(ids, matched, strict=True)))
    tx.add_bands({item_id: a.bands for item_id, (_, a) in zip(ids, inserts, strict=True)})
    tx.add_topics({item_id: dict(a.topics) for item_id, (_, a) in zip(ids, inserts, strict=True)})
    return ids, sum(bool(stories) for stories in matched)


def ingest(app: Aggregator, now: datetime, *, force: bool = False) -> IngestReport:
    """Read every seed file and every due web source (all enabled ones with ``force``)."""

    def attempt() -> IngestReport:
        with app.cycle_lock():
            return _ingest(app, now, force)

    return app.retrying("ingest", attempt)


@dataclass
class _Tally:
    """Counts gathered while ingesting, turned into an IngestReport at the end."""

    read: int = 0
    unchanged: int = 0
    new: int = 0
    updated: int = 0
    merged: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)  # article pages used, failed, retried
    failures: list[InputFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def stored(self, counts: tuple[int, int, int]) -> None:
        self.new += counts[0]
        self.updated += counts[1]
        self.merged += counts[2]

    def counters(self) -> dict[str, int]:
        """Increments for the shared counters /metrics reports."""
        counts = {f"fetch:{outcome}": n for outcome, n in self.outcomes.items()}
        counts.update({"items:new": self.new, "items:updated": self.updated})
        counts["items:merged"] = self.merged
        counts.update(self.pages)
        return counts

    def summary(self) -> str:
        return f"{self.new} new, {self.updated} updated, {len(self.failures)} failed"

    def report(self) -> IngestReport:
        return IngestReport(
            self.read,
            self.unchanged,
            self.new,
            self.updated,
            tuple(self.failures),
            tuple(self.warnings),
        )


def _ingest(app: Aggregator, now: datetime, force: bool) -> IngestReport:
    started = time.perf_counter()
    tally = _Tally()
    _adopt_rules_if_empty(app)
    _ingest_seeds(app, now, tally)
    _ingest_web_sources(app, now, force, tally)
    report = tally.report()
    app.storage.add_counts(tally.counters())
    duration_ms = round((time.perf_counter() - started) * 1000)
    app.storage.record_run(
        RunRecord(
            "ingest",
            now,
            now,
            items_new=report.items_new,
            items_updated=report.items_updated,
            failures=tuple(map(str, report.failures)),
            duration_ms=duration_ms,
        )
    )
    log.info(
        "ingest: %d inputs read, %d unchanged, %d new items, %d updated, %d merged, "
        "%d failed, in %d ms",
        report.inputs_read,
        report.inputs_unchanged,
        report.items_new,
        report.items_updated,
        tally.merged,
        len(report.failures),
        duration_ms,
        extra={"count": report.items_new, "duration": duration_ms / 1000},
    )
    return report


def _ingest_seeds(app: Aggregator, now: datetime, tally: _Tally) -> None:
    paths = _seed_paths(app.settings.seeds_dir)
    for done, path in enumerate(paths, 1):
        _ingest_seed(app, path, now, tally)
        app.progress.step("seeds", done, len(paths), tally.summary())


def _ingest_seed(app: Aggregator, path: Path, now: datetime, tally: _Tally) -> None:
    key = f"seed:{path.name}"
    try:
        seed = read_capped(path, app.settings.limits.seed_bytes)
    except InputError as error:
        tally.failures.append(InputFailure(error.subject, error.reason))
        return
    # The size too: a file over the limit that changes past it is read again.
    body_hash = hashlib.sha256(seed.data + str(seed.size).encode()).hexdigest()
    with app.storage.transaction() as tx:
        state = tx.source_state(key)
    if state is not None and state[1] == body_hash:
        tally.unchanged += 1
        log.debug("seed %s unchanged", path, extra={"path": str(path)})
        return
    try:
        data = read_seed(
            path, app.settings.timezone, now=now, limits=app.settings.limits, seed=seed
        )
    except InputError as error:
        log.warning("seed %s not ingested: %s", path, error.reason)
        tally.failures.append(InputFailure(str(path), error.reason))
        with app.storage.transaction() as tx:
            tx.record_source_error(key, "seed", error.reason, now)
        return
    tally.read += 1
    tally.warnings.extend(data.warnings)
    for warning in data.warnings:
        log.warning("%s", warning)
    counts = _store_source(app, data, body_hash, now)
    tally.stored(counts)
    log.debug("seed %s: %d new, %d updated", path, counts[0], counts[1], extra={"path": str(path)})


@dataclass(frozen=True)
class _Fetched:
    """A web source fetched (and parsed, when its body was new) in a worker thread."""

    result: FetchResult
    body_hash: str | None = None
    data: SourceData | None = None
    parse_error: str | None = None
    analyses: Analyses | None = None  # worked out by a worker process


def _fetch_and_parse(
    app: Aggregator,
    client: httpx.Client,
    pool: WorkerPool | None,
    source: WebSource,
    now: datetime,
) -> _Fetched:
    """Fetch a source (in a thread) and parse a new body (in a worker process when there is one)."""
    settings = app.settings.fetch
    result = fetch(
        client, source.url, settings, etag=source.etag, last_modified=source.last_modified
    )
    if result.outcome != "ok" or result.body is None:
        return _Fetched(result)
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == source.body_hash:
        return _Fetched(result, body_hash)
    options = {
        "source_key": source.key,
        "headers": dict(result.headers),
        "base_url": result.url,
        "zone": app.settings.timezone,
        "now": now,
        "max_entries": settings.max_entries,
        "limits": app.settings.limits,
        "date_offset": source.date_offset,
    }
    if pool is not None:
        first_fetch = source.body_hash is None
        data, analyses, reason = pool.submit(
            parse_and_analyze, result.body, **options, analyze_items=first_fetch
        ).result()
        return _Fetched(result, body_hash, data, reason, analyses)
    try:
        return _Fetched(result, body_hash, parse_feed(result.body, **options))
    except InputError as error:
        return _Fetched(result, body_hash, parse_error=error.reason)


def _ingest_web_sources(app: Aggregator, now: datetime, force: bool, tally: _Tally) -> None:
    """Fetch due web sources in parallel; write their results serially, one transaction each."""
    registry = app.storage.sources
    registry.sync_config(app.settings.sources)
    due = _forced(registry.all(), now) if force else registry.due(now)
    if not due:
        return
    settings = app.settings.fetch
    with (
        make_client(settings) as client,
        worker_pool(app.topics, len(due)) as pool,
        app.storage.remembering_candidates(),
    ):
        results = run_per_host(
            due,
            lambda source: urlsplit(source.url).netloc.lower(),
            lambda source: _fetch_and_parse(app, client, pool, source, now),
            workers=settings.workers,
            per_host=settings.per_host,
        )
        done = 0
        for ready in results:
            # What is ready is written at once, and committed before waiting for more.
            with app.storage.batch():
                for source, fetched in ready:
                    _store_fetched(app, source, fetched, now, tally)
                    done += 1
                    app.progress.step("sources", done, len(due), tally.summary())
        _read_pages(app, client, now, tally)


def _read_pages(app: Aggregator, client: httpx.Client, now: datetime, tally: _Tally) -> None:
    """Read the article pages wanted by what was just stored (and earlier ones due again)."""
    pacer = fulltext.make_pacer(app.settings, app.sleep)
    run = fulltext.PageRun(app.storage, app.settings, app.topics, app.rng, pacer)
    tally.pages = fulltext.fetch_pages(run, client, now).counters()


def _forced(listed: list[WebSource], now: datetime) -> list[WebSource]:
    """Every enabled source, but those whose server asked for a pause (Retry-After) that
    has not run out: ``--force`` overrides our schedule, not the server's."""
    chosen = []
    for source in listed:
        if not source.enabled:
            continue
        if source.embargoed(now):
            log.warning(
                "source %s not fetched: its server asked not to before %s (Retry-After)",
                source.url,
                source.retry_after.isoformat() if source.retry_after else "",
            )
            continue
        chosen.append(source)
    return chosen


def _store_fetched(
    app: Aggregator,
    source: WebSource,
    fetched: _Fetched,
    now: datetime,
    tally: _Tally,
    holder: str | None = None,
) -> None:
    result = fetched.result
    outcome, error = result.outcome, result.error
    if fetched.parse_error is not None:
        outcome, error = "error", fetched.parse_error
    elif outcome == "ok" and fetched.data is None:
        outcome = "not-modified"  # a 200 whose body is byte-identical to the last one
    state = after_fetch(
        Previous(
            source.url,
            source.etag,
            source.last_modified,
            source.body_hash,
            source.interval,
            source.error_count,
            source.last_success,
        ),
        outcome=outcome,
        status=result.status_text if outcome != "not-modified" else "not modified",
        url=result.moved_to or source.url,
        headers=result.headers,
        body_hash=fetched.body_hash if fetched.data is not None else None,
        error=error,
        refresh_hint=fetched.data.refresh_hint if fetched.data else None,
        now=now,
        settings=app.settings.fetch,
        rng=app.rng,
    )
    tally.outcomes[outcome] = tally.outcomes.get(outcome, 0) + 1
    if outcome in ("error", "gone"):
        log.warning("source %s failed: %s", source.url, state.last_error)
        tally.failures.append(InputFailure(source.url, state.last_error or outcome))
    elif outcome == "not-modified":
        tally.unchanged += 1
    if fetched.data is None or outcome != "ok":
        log.debug("source %s: %s", source.url, outcome, extra={"source": source.url})
        with app.storage.transaction() as tx:
            save_fetch_state(tx, source.id, asdict(state), holder)
        return
    tally.read += 1
    tally.warnings.extend(fetched.data.warnings)
    for warning in fetched.data.warnings:
        log.warning("%s", warning)
    counts = _store_source(
        app,
        fetched.data,
        state.body_hash,
        now,
        asdict(state),
        analyses=fetched.analyses,
        holder=holder,
        pages=fulltext.PagePolicy(source.full_text, app.settings.full_text.below),
    )
    tally.stored(counts)
    log.debug(
        "source %s: %d new, %d updated",
        source.url,
        counts[0],
        counts[1],
        extra={"source": source.url},
    )


def _adopt_rules_if_empty(app: Aggregator) -> None:
    """In a new store, record the current rules as the ones items are classified with.

    Ingest classifies every item with the current rules, so in a store that was
    empty nothing needs re-classifying at the first regeneration (which would
    otherwise classify every item of a large first ingest a second time).
    """
    with app.storage.transaction() as tx:
        if tx.get_meta(RULES_FINGERPRINT) is None and not tx.has_items():
            tx.set_meta(RULES_FINGERPRINT, rules_fingerprint(app.topics))


def rules_fingerprint(topics: tuple[classify.Topic, ...]) -> str:
    """Changes whenever the topic rules change, so stored assignments can be refreshed."""
    return hashlib.sha256(repr(topics).encode()).hexdigest()


def reclassify(app: Aggregator, force: bool = False) -> int:
    """Re-classify every stored item when the rules changed since the last time (or forced)."""
    fingerprint = rules_fingerprint(app.topics)
    with app.storage.transaction() as tx:
        if not force and tx.get_meta(RULES_FINGERPRINT) == fingerprint:
            return 0
    count = 0
    for batch in map(partial(fulltext.with_page_texts, app.storage), app.storage.item_texts()):
        with app.storage.transaction() as tx:
            for text in batch:
                matches = app.classify_text(text.title, text.content_html)
                tx.set_topics(text.id, {m.topic_id: m.score for m in matches if m.matched})
        count += len(batch)
    with app.storage.transaction() as tx:
        tx.set_meta(RULES_FINGERPRINT, fingerprint)
    log.info("re-classified %d stored items with the current rules", count)
    return count


@dataclass(frozen=True)
class RuleChange:
    """What the current rules would change in one topic feed: titles entering and leaving."""

    topic: str
    entering: tuple[str, ...]
    leaving: tuple[str, ...]


def preview_rules(app: Aggregator) -> list[RuleChange]:
    """Each topic feed as the current rules would make it, against what is published; no writes."""
    newest: dict[str, list[tuple[datetime, int, str]]] = {t.id: [] for t in app.topics}
    for batch in map(partial(fulltext.with_page_texts, app.storage), app.storage.item_texts()):
        for text in batch:
            if not text.canonical:
                continue
            for match in app.classify_text(text.title, text.content_html):
                if match.matched:
                    newest[match.topic_id].append((text.published, text.id, text.title))
    changes = []
    for topic in app.topics:
        wanted = sorted(newest[topic.id], reverse=True)[: app.settings.max_entries]
        wanted_titles = {item_id: title for _published, item_id, title in wanted}
        current = {
            i.id: i.title for i in app.storage.newest_items(topic.id, app.settings.max_entries)
        }
        changes.append(
            RuleChange(
                topic.id,
                tuple(t for i, t in wanted_titles.items() if i not in current),
                tuple(t for i, t in current.items() if i not in wanted_titles),
            )
        )
    return changes


def regenerate(app: Aggregator, now: datetime, only: str | None = None) -> PublishReport:
    """Publish every feed (or one topic's) from the store; unchanged files are not touched."""

    def attempt() -> PublishReport:
        with app.cycle_lock():
            return _regenerate(app, now, only)

    return app.retrying("regenerate", attempt)


def _regenerate(app: Aggregator, now: datetime, only: str | None) -> PublishReport:
    started = time.perf_counter()
    reclassified = reclassify(app)
    titles = {t.id: t.title for t in app.topics}
    folder = app.settings.feeds_dir
    written: list[Path] = []
    unchanged: list[Path] = []

    failures: list[InputFailure] = []

    def write_all(files: Sequence[tuple[Path, bytes]]) -> list[Path]:
        """Write files in order; those that changed. At the first that cannot be written (disk
        full, no permission) it stops: that one is reported, it and the rest are left as they
        were. The database copies go first, in one transaction, so a crash between the two
        never leaves a file the database lacks (the next run writes a missing file again).
        """
        if app.settings.publish_to_database:
            named = [(path.relative_to(folder).as_posix(), content) for path, content in files]
            published.save(app.storage, named, now)
        changed = []
        for path, content in files:
            try:
                (changed if publish.write_if_changed(path, content) else unchanged).append(path)
            except OSError as error:
                log.error("cannot write %s: %s (the previous file is intact)", path, error.strerror)
                failures.append(InputFailure(str(path), f"cannot write: {error.strerror}"))
                break
        written.extend(changed)
        return changed

    def write(path: Path, content: bytes) -> bool:
        """Write one file; whether it changed. A failure is reported, the other files go on."""
        return bool(write_all([(path, content)]))

    feed_pages = []
    changed_feeds = []
    specs = app.feed_specs()

    # Every entry is rendered once, for all the documents that show it.
    def newest_items(topic: str | None) -> list[StoredItem]:
        return published_texts(app.storage.newest_items(topic, app.settings.max_entries))

    def published_texts(items: Sequence[StoredItem]) -> list[StoredItem]:
        """What feeds show of items: their page text instead, with ``publish.full_text``."""
        if app.settings.full_text.publish:
            return fulltext.with_page_texts(app.storage, items)
        return list(items)

    entries = publish.Entries(
        app.identity, titles, lambda ids: published_texts(app.storage.items_by_id(ids))
    )
    with publish.writing(folder):
        for done, spec in enumerate(specs, 1):
            topic = None if spec.key == publish.ALL_FEED else spec.key
            newest = newest_items(topic)
            feed_pages.append(pages.FeedPage(spec, newest))
            if only is not None and spec.key != only:
                continue
            newest_archive = _write_archives(app, spec, topic, entries, write_all)
            content = publish.render_feed(
                spec, [entries.entry(i) for i in newest], app.identity, prev_archive=newest_archive
            )
            if write(folder / f"{spec.key}.xml", content):
                changed_feeds.append(app.identity.feed_url(spec.key))
            app.progress.step("feeds", done, len(specs), f"{len(written)} written")
        title = app.settings.feed_title
        write(folder / "index.html", pages.render_index(feed_pages, app.identity, title))
        write(folder / "feeds.opml", pages.render_feed_list(feed_pages, app.identity, title))
        for page in feed_pages:
            write(folder / f"{page.spec.key}.html", pages.render_topic(page, app.identity, title))
    if app.identity.hub and changed_feeds:
        websub.ping(app.identity.hub, changed_feeds)
    duration_ms = round((time.perf_counter() - started) * 1000)
    app.storage.record_run(
        RunRecord(
            "regenerate",
            now,
            now,
            feeds_written=len(written),
            failures=tuple(map(str, failures)),
            duration_ms=duration_ms,
        )
    )
    log.info(
        "regenerate: %d files written, %d unchanged, %d failed, in %d ms",
        len(written),
        len(unchanged),
        len(failures),
        duration_ms,
        extra={"count": len(written), "duration": duration_ms / 1000},
    )
    return PublishReport(tuple(written), tuple(unchanged), reclassified, tuple(failures))


def _write_archives(
    app: Aggregator,
    spec: publish.FeedSpec,
    topic: str | None,
    entries: publish.Entries,
    write: Callable[[Sequence[tuple[Path, bytes]]], object],
) -> int | None:
    """Write the feed's archive pages that became complete; the newest page's number.

    Pages of N stories (N = publish.max_entries) in arrival order, each starting
    after the last story of the page before it. A page is written once, when it
    is complete, and never again: RFC 5005 archives may be cached forever.
    """
    size = app.settings.max_entries
    return publish.write_archives(
        app.settings.feeds_dir,
        spec,
        entries,
        size,
        lambda archived, pages_written, limit: next_archive_stories(
            app.storage, topic, archived, pages_written, size, limit
        ),
        write,
    )


def prune(app: Aggregator, now: datetime, *, dry_run: bool = False) -> retention.Pruned:
    """Remove stories older than ``retention.keep`` that no feed shows; keep their identities."""

    def attempt() -> retention.Pruned:
        with app.cycle_lock():
            shown = [
                item.id
                for spec in app.feed_specs()
                for item in app.storage.newest_items(
                    None if spec.key == publish.ALL_FEED else spec.key, app.settings.max_entries
                )
            ]
            return retention.prune(
                app.storage, now, app.settings.retention_keep, shown, dry_run=dry_run
            )

    pruned = app.retrying("prune", attempt)
    if not dry_run:
        log.info("pruned %d items older than %s", len(pruned.items), app.settings.retention_keep)
    return pruned


def update(
    app: Aggregator, now: datetime, *, force: bool = False
) -> tuple[IngestReport, PublishReport]:
    """One cycle: ingest everything due, then regenerate (rewriting only feeds that changed)."""

    def attempt() -> tuple[IngestReport, PublishReport]:
        with app.cycle_lock():
            ingested = _ingest(app, now, force)
            return ingested, _regenerate(app, now, None)

    return app.retrying("update", attempt)
