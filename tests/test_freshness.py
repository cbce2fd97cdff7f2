"""An update that changed nothing the feeds show leaves them without rendering them (issue
#22); anything they show, an edited config or rule, a file deleted by hand, or a run cut
short makes the next update regenerate. On both stores."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from aggregator import pipeline
from aggregator.app import Aggregator
from aggregator.progress import Progress
from aggregator.store import Storage, article_pages, changes, editorial
from aggregator.store.article_pages import FAILED, USED, PageRead, WantedPage
from aggregator.store.schema import items, sources
from aggregator.types import RunKind, SourceInfo, SourceKind, SourceSetting
from tests.support.app import open_app
from tests.support.cli import run
from tests.support.project import write_config
from tests.support.workers import feed_files

NOW = datetime(2025, 6, 10, tzinfo=UTC)
SEED, EDITED = "000_bbf987679977ef00.txt", "002_605a32e122b5d713.txt"  # the shipped seeds


@contextmanager
def opened(project: Path, database_url: str) -> Iterator[Aggregator]:
    """The project as a new run opens it (config and topic files read again)."""
    app = open_app(project, database_url)
    try:
        yield app
    finally:
        app.close()


def regenerates(project: Path, database_url: str) -> bool:
    """Whether ``update`` renders the feeds now (False: it found them current)."""
    with opened(project, database_url) as app:
        return not pipeline.update(app, NOW)[1].current


def marker(storage: Storage) -> int:
    with storage.engine.connect() as connection:
        return changes.stored(connection)


def test_an_update_that_changed_nothing_renders_nothing(project: Path, database_url: str) -> None:
    assert regenerates(project, database_url)
    folder = project / "feeds"
    before = feed_files(folder)
    modified = {name: (folder / name).stat().st_mtime_ns for name in before}
    with opened(project, database_url) as app:
        logged = app.storage.last_run(RunKind.REGENERATE)
        ingested, published = pipeline.update(app, NOW)
        assert published.current and (published.written, published.unchanged) == ((), ())
        assert ingested.inputs_unchanged == 2
        assert app.storage.last_run(RunKind.REGENERATE) == logged
    assert feed_files(folder) == before
    assert {name: (folder / name).stat().st_mtime_ns for name in before} == modified
    assert not regenerates(project, database_url)


def _edit_seed(app: Aggregator) -> None:
    seed = app.settings.seeds_dir / EDITED
    seed.write_text(seed.read_text(encoding="utf-8") + "Lee spoke again on Tuesday.\n")
    assert pipeline.ingest(app, NOW + timedelta(days=1)).items_updated == 1


def _hide(app: Aggregator) -> None:
    assert editorial.set_hidden(app.storage, SEED, True)


def _remove(app: Aggregator) -> None:
    assert editorial.remove(app.storage, SEED, NOW)


def _edit_config(app: Aggregator) -> None:
    write_config(app.settings.root, '[publish]\ntitle = "Peninsula watch"\n')


def _edit_rules(app: Aggregator) -> None:
    rules = app.settings.topics_dir / "alliance.toml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("threshold =", "threshold = 100000.0 #", 1), encoding="utf-8")


def _delete_a_page(app: Aggregator) -> None:
    (app.settings.feeds_dir / "alliance.html").unlink()


@pytest.mark.parametrize(
    "change", [_edit_seed, _hide, _remove, _edit_config, _edit_rules, _delete_a_page]
)
def test_what_shows_in_the_feeds_makes_the_next_update_regenerate(
    project: Path, database_url: str, change: Callable[[Aggregator], None]
) -> None:
    assert regenerates(project, database_url)
    assert not regenerates(project, database_url)
    with opened(project, database_url) as app:
        change(app)
    assert regenerates(project, database_url)
    assert (project / "feeds" / "alliance.html").is_file()
    assert not regenerates(project, database_url)


class _Killed(Exception):
    """The process dying in the middle of a regeneration."""


class _DiesAfterTheFirstFeed(Progress):
    def step(self, stage: str, done: int, total: int, detail: str = "") -> None:
        if stage == "feeds":
            raise _Killed


def test_a_run_cut_short_is_published_by_the_next(project: Path, database_url: str) -> None:
    assert regenerates(project, database_url)
    with opened(project, database_url) as app:
        _edit_seed(app)  # stored and committed; the run ends before its regeneration
    with opened(project, database_url) as app:
        app.progress = _DiesAfterTheFirstFeed()
        with pytest.raises(_Killed):
            pipeline.update(app, NOW)
    assert b"Lee spoke again" not in (project / "feeds" / "inter-korean.xml").read_bytes()
    assert regenerates(project, database_url)
    assert b"Lee spoke again" in (project / "feeds" / "inter-korean.xml").read_bytes()
    assert not regenerates(project, database_url)


def test_a_regeneration_that_could_not_write_every_file_is_done_again(
    project: Path, database_url: str
) -> None:
    assert regenerates(project, database_url)
    feeds = project / "feeds"
    (feeds / "index.html").unlink()
    (feeds / "index.html").mkdir()  # a file cannot be written there
    with opened(project, database_url) as app:
        assert pipeline.update(app, NOW)[1].failures
    (feeds / "index.html").rmdir()
    with opened(project, database_url) as app:
        _, published = pipeline.update(app, NOW)
        assert not published.current and not published.failures
        assert feeds / "index.html" in published.written


def test_the_marker_moves_with_committed_writes_that_show_in_the_feeds(storage: Storage) -> None:
    registry = storage.sources
    registry.sync_config([SourceSetting("https://a.example/rss", "A", None, True)])
    source = registry.find("https://a.example/rss")
    assert source is not None
    start = marker(storage)

    with storage.engine.begin() as connection:  # how the state of a fetch is written
        connection.execute(update(sources).values(last_status="not modified"))
    assert marker(storage) == start

    def add_item(connection: object, item_id: int) -> None:
        connection.execute(  # type: ignore[attr-defined]
            insert(items).values(
                id=item_id, source_id=source.id, key=f"k{item_id}", entry_id=f"e{item_id}",
                title="t", content_html="", published=NOW, updated=NOW, first_seen=NOW,
                content_hash=f"h{item_id}", link=f"https://a.example/{item_id}",
            )
        )  # fmt: skip

    with pytest.raises(RuntimeError), storage.transaction() as tx:
        add_item(tx.connection, 1)
        raise RuntimeError("rolled back")
    assert marker(storage) == start
    with storage.transaction() as tx:
        add_item(tx.connection, 1)
        add_item(tx.connection, 2)
    assert marker(storage) == start + 1  # once a transaction
    with storage.engine.begin() as connection:  # however the transaction was opened
        connection.execute(update(items).where(items.c.id == 2).values(hidden=True))
    assert marker(storage) == start + 2

    info = SourceInfo(source.key, SourceKind.FEED, "A feed")
    with storage.transaction() as tx:
        tx.save_source(info, "body", NOW)
    assert marker(storage) == start + 3  # the title its entries' atom:source shows
    with storage.transaction() as tx:
        tx.save_source(info, "another body", NOW)
    assert marker(storage) == start + 3

    with storage.transaction() as tx:
        article_pages.want(tx, [WantedPage(i, f"v{i}", True) for i in (1, 2)])
    assert marker(storage) == start + 3
    failed = PageRead(1, "v1", FAILED, 1, None, NOW, error="HTTP 404")
    used = PageRead(2, "v2", USED, 1, None, NOW, url="https://a.example/2", text="<p>Page</p>")
    with storage.transaction() as tx:
        article_pages.record(tx, [(failed, source.id)])
    assert marker(storage) == start + 3
    with storage.transaction() as tx:
        article_pages.record(tx, [(used, source.id)])
    assert marker(storage) == start + 4


def test_a_broken_rule_file_still_stops_an_update_that_read_no_rules_before(
    project: Path,
) -> None:
    assert run(project, "update").returncode == 0
    rules = project / "config" / "topics" / "alliance.toml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\nthreshold =\n", encoding="utf-8")
    broken = run(project, "update")
    assert broken.returncode == 2
    assert f"error: {rules}: invalid TOML" in broken.stderr
