"""Refresh one web source: fetch it (politely), parse a new body, decide its next fetch, store.

    fetch_source    in a fetch thread: conditional GET, and the parse of a body that
                    changed (in a worker process when there is a pool)
    store_fetched   in the one writing thread: after_fetch (pure) decides the source's
                    politeness state; the state and the items go in one transaction
    store_ready     the same for sources fetched together; the states of those without
                    items (304s, errors) are gathered for the round
    store_quiet     writes those states in one statement, at the end of refresh_due

``update``, the daemon and ``aggregator worker`` all refresh sources through these.
The parser and the writer are imported by the first source with a new body: a round
where every source answers 304 needs neither (issue #22, ``tests/test_cli_startup.py``).
"""

import hashlib
import logging
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aggregator import fulltext
from aggregator.app import Aggregator
from aggregator.errors import InputError
from aggregator.ingest.http import FetchResult, fetch, make_client, run_per_host
from aggregator.ingest.parallel import Analyses, WorkerPool, parse_and_analyze, worker_pool
from aggregator.ingest.schedule import Previous, SourceState, after_fetch
from aggregator.store.sources import save_fetch_state, save_fetch_states
from aggregator.tally import Ingested, Tally
from aggregator.types import FetchOutcome, InputFailure, SourceData, WebSource

if TYPE_CHECKING:  # ingest.http imports httpx (issue #22: without its command line)
    import httpx

log = logging.getLogger("aggregator.pipeline")


@dataclass(frozen=True)
class Fetched:
    """A web source fetched (and parsed, when its body was new) in a fetch thread."""

    result: FetchResult
    body_hash: str | None = None
    data: SourceData | None = None
    parse_error: str | None = None
    analyses: Analyses | None = None  # worked out by a worker process


def source_host(source: WebSource) -> str:
    """What the per-host limit on parallel fetches counts by."""
    return urlsplit(source.url).netloc.lower()


def fetch_source(
    app: Aggregator,
    client: "httpx.Client",
    pool: WorkerPool | None,
    source: WebSource,
    now: datetime,
) -> Fetched:
    """Fetch a source (in a thread) and parse a new body (in a worker process when there is one)."""
    settings = app.settings.fetch
    result = fetch(
        client, source.url, settings, etag=source.etag, last_modified=source.last_modified
    )
    if result.outcome != FetchOutcome.OK or result.body is None:
        return Fetched(result)
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == source.body_hash:
        return Fetched(result, body_hash)
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
    if pool is None:
        from aggregator.ingest.feeds import parse_feed

        try:
            return Fetched(result, body_hash, parse_feed(result.body, **options))
        except InputError as error:
            return Fetched(result, body_hash, parse_error=error.reason)
    first_fetch = source.body_hash is None
    data, analyses, reason = pool.submit(
        parse_and_analyze, result.body, **options, analyze_items=first_fetch
    ).result()
    return Fetched(result, body_hash, data, reason, analyses)


@dataclass(frozen=True)
class _Decided:
    """What a fetch comes to for the store: the outcome, the source's new state, a failure."""

    outcome: FetchOutcome
    state: SourceState
    failure: InputFailure | None

    def quiet(self, fetched: Fetched) -> bool:
        """No items to store: only the source's state is written."""
        return fetched.data is None or self.outcome != FetchOutcome.OK


def _decide(app: Aggregator, source: WebSource, fetched: Fetched, now: datetime) -> _Decided:
    result = fetched.result
    outcome, error = result.outcome, result.error
    if fetched.parse_error is not None:
        outcome, error = FetchOutcome.ERROR, fetched.parse_error
    elif outcome == FetchOutcome.OK and fetched.data is None:
        outcome = FetchOutcome.NOT_MODIFIED  # a 200 whose body is byte-identical to the last one
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
        status=result.status_text if outcome != FetchOutcome.NOT_MODIFIED else "not modified",
        url=result.moved_to or source.url,
        headers=result.headers,
        body_hash=fetched.body_hash if fetched.data is not None else None,
        error=error,
        refresh_hint=fetched.data.refresh_hint if fetched.data else None,
        now=now,
        settings=app.settings.fetch,
        rng=app.rng,
    )
    failure = None
    if outcome in (FetchOutcome.ERROR, FetchOutcome.GONE):
        log.warning("source %s failed: %s", source.url, state.last_error)
        failure = InputFailure(source.url, state.last_error or outcome)
    return _Decided(outcome, state, failure)


def _quiet(source: WebSource, decided: _Decided) -> Ingested:
    log.debug("source %s: %s", source.url, decided.outcome, extra={"source": source.url})
    unchanged = decided.outcome == FetchOutcome.NOT_MODIFIED
    return Ingested(unchanged=unchanged, failure=decided.failure, fetched=decided.outcome)


def store_fetched(
    app: Aggregator,
    source: WebSource,
    fetched: Fetched,
    now: datetime,
    holder: str | None = None,
) -> Ingested:
    """Store what fetching a source came to; with ``holder``, only under that worker's claim."""
    decided = _decide(app, source, fetched, now)
    if decided.quiet(fetched):
        with app.storage.plain_transaction() as tx:
            save_fetch_state(tx, source.id, decided.state.columns(), holder)
        return _quiet(source, decided)
    return _store_items(app, source, fetched, decided, now, holder)


def store_ready(
    app: Aggregator,
    ready: Sequence[tuple[WebSource, Fetched]],
    now: datetime,
    quiet: list[tuple[int, dict[str, Any]]],
) -> list[Ingested]:
    """Store sources fetched together, each with items in its own transaction; the states of
    the others (304, unchanged body, error) are added to ``quiet``, for ``store_quiet`` to
    write with other groups' in one statement: a round where no source has news writes
    once, not once per source (issue #22, ``bench_knews``)."""
    stored: list[Ingested] = []
    for source, fetched in ready:
        decided = _decide(app, source, fetched, now)
        if decided.quiet(fetched):
            quiet.append((source.id, decided.state.columns()))
            stored.append(_quiet(source, decided))
        else:
            stored.append(_store_items(app, source, fetched, decided, now))
    return stored


def store_quiet(app: Aggregator, quiet: list[tuple[int, dict[str, Any]]]) -> None:
    """Write the states ``store_ready`` gathered of sources without items, in one statement."""
    if quiet:
        with app.storage.plain_transaction() as tx:
            save_fetch_states(tx, quiet)


def _store_items(
    app: Aggregator,
    source: WebSource,
    fetched: Fetched,
    decided: _Decided,
    now: datetime,
    holder: str | None = None,
) -> Ingested:
    from aggregator.writer import store_source

    assert fetched.data is not None
    for warning in fetched.data.warnings:
        log.warning("%s", warning)
    stored = store_source(
        app,
        fetched.data,
        decided.state.body_hash,
        now,
        decided.state.columns(),
        analyses=fetched.analyses,
        holder=holder,
        pages=fulltext.PagePolicy(source.full_text, app.settings.full_text.below),
    )
    log.debug(
        "source %s: %d new, %d updated",
        source.url,
        stored.new,
        stored.updated,
        extra={"source": source.url},
    )
    return Ingested(stored, warnings=fetched.data.warnings, fetched=decided.outcome)


def _forced(listed: list[WebSource], now: datetime) -> list[WebSource]:
    """Every enabled source, but those whose server asked for a pause (Retry-After) that
    has not run out: ``--force`` overrides our schedule, not the server's (issue #19)."""
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


def refresh_due(
    app: Aggregator, now: datetime, force: bool, tally: Tally, only: WebSource | None = None
) -> None:
    """Fetch due web sources (or only ``only``, due or not) in parallel; write their results
    serially: each source with items in a transaction of its own as it is ready, the states
    of the others all at once at the end (a source whose state is lost with a run killed
    before then is due again, as it was)."""
    registry = app.storage.sources
    listed = registry.sync_config(app.settings.sources)
    if only is not None:
        due = [only]
    elif force:
        due = _forced(listed, now)
    else:
        due = registry.due(now)
    if not due:
        return
    settings = app.settings.fetch
    with (
        make_client(settings) as client,
        worker_pool(lambda: app.topics, len(due)) as pool,
        app.storage.remembering_candidates(),
    ):
        results = run_per_host(
            due,
            source_host,
            lambda source: fetch_source(app, client, pool, source, now),
            workers=settings.workers,
            per_host=settings.per_host,
        )
        done = 0
        quiet: list[tuple[int, dict[str, Any]]] = []  # the states of sources without items
        for ready in results:
            # What is ready is written at once, and committed before waiting for more; a
            # group without a new body writes nothing until the end (no empty batch).
            bodies = any(fetched.data is not None for _, fetched in ready)
            with app.storage.batch() if bodies else nullcontext():
                for ingested in store_ready(app, ready, now, quiet):
                    tally.add(ingested)
            done += len(ready)
            app.progress.step("sources", done, len(due), tally.summary())
        store_quiet(app, quiet)
        read_pages(app, client, now, tally)


def read_pages(app: Aggregator, client: "httpx.Client", now: datetime, tally: Tally) -> None:
    """Read the article pages wanted by what was just stored (and earlier ones due again)."""
    pacer = fulltext.make_pacer(app.settings, app.sleep)
    run = fulltext.PageRun(app.storage, app.settings, lambda: app.topics, app.rng, pacer)
    tally.pages = fulltext.fetch_pages(run, client, now).counters()
