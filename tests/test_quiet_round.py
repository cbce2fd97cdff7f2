"""A round where nothing is new (issue #22): it writes only what changed, on both stores."""

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from aggregator import pipeline
from aggregator.ingest.http import FetchResult
from aggregator.refresh import Fetched, store_quiet, store_ready
from aggregator.store import Storage, article_pages
from aggregator.store.article_pages import FAILED, PENDING, PageRead, WantedPage
from aggregator.store.schema import items
from aggregator.types import FetchOutcome, SourceSetting
from tests.feedserver import FeedServer, Reply, Request
from tests.support.app import open_app
from tests.support.feeds import web_rss

NOW = datetime(2025, 6, 10, 0, 0, tzinfo=UTC)


@contextmanager
def writes(
    storage: Storage, kinds: tuple[str, ...] = ("INSERT", "UPDATE", "DELETE")
) -> Iterator[list[str]]:
    """The statements of ``kinds`` (INSERT, UPDATE and DELETE) sent to the database in the block."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in kinds:
            sent.append(statement)

    event.listen(storage.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(storage.engine, "before_cursor_execute", record)


def test_sync_config_writes_only_the_sources_whose_settings_changed(storage: Storage) -> None:
    declared = [
        SourceSetting("https://a.example/rss", "A", None, True),
        SourceSetting("https://b.example/rss", None, timedelta(hours=1), True, "never"),
        SourceSetting("https://c.example/rss", None, None, False),
    ]
    registry = storage.sources
    registry.sync_config(declared)
    with writes(storage) as unchanged:
        registry.sync_config(declared)
    assert unchanged == []

    edited = [
        replace(declared[0], interval=timedelta(minutes=30)),
        declared[1],
        replace(declared[2], enabled=True),
    ]
    with writes(storage) as sent:
        registry.sync_config(edited)
    assert len(sent) == 2
    a, b, c = (registry.find(s.url) for s in declared)
    assert a is not None and a.interval == timedelta(minutes=30) and a.name == "A"
    assert b is not None and b.interval == timedelta(hours=1) and b.full_text == "never"
    assert c is not None and c.enabled and c.disabled_reason is None

    with writes(storage) as dropped:
        registry.sync_config(edited[:2])
    assert len(dropped) == 1
    c = registry.find(declared[2].url)
    assert c is not None and not c.enabled and c.disabled_reason == "no longer in the config file"


def test_sync_config_gives_the_sources_as_stored_reading_them_again_only_after_a_write(
    storage: Storage,
) -> None:
    declared = [SourceSetting(f"https://{n}.example/rss", None, None, True) for n in "ab"]
    registry = storage.sources
    assert [s.url for s in registry.sync_config(declared)] == [s.url for s in declared]
    with writes(storage, ("SELECT",)) as read:
        listed = registry.sync_config(declared)
    assert len(read) == 1
    assert listed == registry.all()
    edited = [replace(declared[0], name="A"), declared[1]]
    assert [s.name for s in registry.sync_config(edited)] == ["A", None]


def test_sources_without_news_are_stored_in_one_statement(project: Path, database_url: str) -> None:
    urls = [f"https://{name}.example/rss" for name in ("quiet", "same", "broken", "gone")]
    sources = "".join(f'[[sources]]\nurl = "{url}"\n' for url in urls)
    app = open_app(project, database_url, sources)
    try:
        app.rng = random.Random(7)
        app.storage.sources.sync_config(app.settings.sources)
        quiet, same, broken, gone = (app.storage.sources.find(url) for url in urls)
        assert quiet and same and broken and gone
        validators = {"etag": '"v2"', "last-modified": "Mon, 09 Jun 2025 00:00:00 GMT"}
        not_modified = FetchResult(FetchOutcome.NOT_MODIFIED, quiet.url, 304, None, validators)
        ready = [
            (quiet, Fetched(not_modified)),
            (same, Fetched(FetchResult(FetchOutcome.OK, same.url, 200, b"<rss/>"), same.body_hash)),
            (broken, Fetched(FetchResult(FetchOutcome.ERROR, broken.url, 500, error="HTTP 500"))),
            (gone, Fetched(FetchResult(FetchOutcome.GONE, gone.url, 410))),
        ]  # fmt: skip
        with writes(app.storage) as sent:
            states: list[tuple[int, dict[str, Any]]] = []
            stored = store_ready(app, ready, NOW, states)
            store_quiet(app, states)
        assert len(sent) == 1
        assert [i.unchanged for i in stored] == [True, True, False, False]
        assert [i.failure.subject if i.failure else None for i in stored] == [
            None, None, broken.url, gone.url,
        ]  # fmt: skip
        quiet, same, broken, gone = (app.storage.sources.find(url) for url in urls)
        assert quiet and same and broken and gone
        assert (quiet.etag, quiet.last_modified) == ('"v2"', "Mon, 09 Jun 2025 00:00:00 GMT")
        assert quiet.last_status == same.last_status == "not modified"
        assert quiet.next_fetch == same.next_fetch == NOW + timedelta(hours=1)
        assert quiet.error_count == same.error_count == 0
        assert broken.error_count == 1 and broken.last_error == "HTTP 500"
        assert broken.next_fetch is not None and broken.next_fetch > NOW
        assert not gone.enabled and (gone.disabled_reason or "").startswith("gone:")
    finally:
        app.close()


def test_page_reads_are_recorded_together_but_not_for_an_entry_that_changed(
    storage: Storage,
) -> None:
    registry, urls = storage.sources, [f"https://{n}.example/rss" for n in "ab"]
    registry.sync_config([SourceSetting(url, None, None, True) for url in urls])
    a, b = map(registry.find, urls)
    assert a is not None and b is not None
    with storage.transaction() as tx:
        for item_id, source in ((1, a), (2, a), (3, a), (4, b)):
            tx.connection.execute(
                insert(items).values(
                    id=item_id, source_id=source.id, key=f"k{item_id}", entry_id=f"e{item_id}",
                    title="t", content_html="", published=NOW, updated=NOW, first_seen=NOW,
                    content_hash=f"h{item_id}", link=f"https://x.example/{item_id}",
                )
            )  # fmt: skip
        article_pages.want(tx, [WantedPage(i, f"v{i}", True) for i in (1, 2, 3, 4)])

    def read(item_id: int, state: str, error: str, version: str = "") -> PageRead:
        return PageRead(item_id, version or f"v{item_id}", state, 1, None, NOW, error=error)

    reads = [
        (read(1, FAILED, "HTTP 404"), a.id),
        (read(2, FAILED, "HTTP 410", version="v0"), a.id),  # its entry changed meanwhile
        (read(3, FAILED, "not an HTML page"), a.id),
        (read(4, PENDING, "timed out"), b.id),
    ]
    with storage.transaction() as tx, writes(storage) as sent:
        assert article_pages.record(tx, reads) == [True, False, True, True]
    assert len(sent) <= 2 + len(reads)  # together, then one by one once one did not match
    a, b = map(registry.find, urls)
    assert a is not None and (a.page_failures, a.page_error) == (2, "not an HTML page")
    assert b is not None and (b.page_failures, b.page_error) == (0, None)
    assert article_pages.page_of(storage, 2) == PageRead(2, "v2", PENDING, 0, None, None)
    recorded = article_pages.page_of(storage, 1)
    assert recorded is not None and (recorded.state, recorded.error) == (FAILED, "HTTP 404")

    with storage.transaction() as tx, writes(storage) as together:
        assert article_pages.record(tx, [(read(3, FAILED, "HTTP 500"), a.id)]) == [True]
    assert len(together) == 2  # the read, and its source's count


def test_an_update_where_every_source_answers_304_writes_their_states_and_its_log_only(
    project: Path, database_url: str
) -> None:
    def conditional(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304)
        headers = {"ETag": '"v1"', "Content-Type": "application/rss+xml"}
        return Reply(body=web_rss("Hotline restored"), headers=headers)

    server = FeedServer().start()
    try:
        urls = [server.serve(f"/{name}.xml", conditional) for name in "abcdefgh"]
        app = open_app(project, database_url, "".join(f'[[sources]]\nurl = "{u}"\n' for u in urls))
        try:
            pipeline.update(app, NOW)
            with writes(app.storage) as sent:
                ingested, published = pipeline.update(app, NOW, force=True)
        finally:
            app.close()
    finally:
        server.stop()
    assert ingested.inputs_unchanged == 10 and published.current  # the 8 sources, the 2 seeds
    tables = Counter(
        statement.split()[2 if statement.lstrip().startswith(("INSERT", "DELETE")) else 1]
        for statement in sent
    )
    # The sources' states (one statement for the round, however they came ready: refresh_due),
    # the ingest's counters and its line in the run log; no regeneration, not even in the log.
    assert set(tables) == {"sources", "counters", "runs"}, sent
    assert tables["sources"] == tables["counters"] == tables["runs"] == 1
