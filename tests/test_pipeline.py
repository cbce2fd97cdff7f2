"""The whole pipeline on real storage: seeds -> store -> topics -> feeds, read with feedparser."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from aggregator import pipeline
from tests.support.app import open_app
from tests.support.project import DATA

NOW = datetime(2025, 6, 5, 0, 0, tzinfo=UTC)
TOPICS = ("inter-korean", "alliance", "domestic-politics")
FEEDS = ("all", *TOPICS)
TITLE_000 = (
    "South Korea’s new president Lee Jae-myung pledges to resume North Korea talks "
    "amid rising tensions"
)
TITLE_002 = "Lee Jae-myung pledges to restore inter-Korean hotline, strengthen U.S. alliance"
# 000 names the alliance in passing (two of fifteen paragraphs), so it is not in that feed.
SEEDS_IN = {key: [TITLE_000, TITLE_002] for key in FEEDS} | {"alliance": [TITLE_002]}
KPOP = """K-pop group announces 20-city world tour

Published: 2 Jun. 2025, 09:00

The seven-member group will open its tour in Seoul in September before playing
arenas in Tokyo, Los Angeles and London, its agency said on Monday.

Tickets go on sale next week, and fan-club members get a pre-sale window.
"""


@pytest.fixture
def app(project: Path, database_url: str) -> Iterator[pipeline.Aggregator]:
    aggregator = open_app(project, database_url)
    yield aggregator
    aggregator.close()


def read_feed(app: pipeline.Aggregator, key: str) -> feedparser.FeedParserDict:
    return feedparser.parse((app.settings.feeds_dir / f"{key}.xml").read_bytes())


def titles(app: pipeline.Aggregator, key: str) -> list[str]:
    return [entry.title for entry in read_feed(app, key).entries]


def test_update_publishes_the_shipped_seeds_in_every_topic(app: pipeline.Aggregator) -> None:
    ingested, published = pipeline.update(app, NOW)
    assert ingested.items_new == 2 and not ingested.failures
    assert sorted(p.name for p in published.written if p.suffix == ".xml") == sorted(
        f"{k}.xml" for k in FEEDS
    )
    for key in FEEDS:
        # Newest first: 000 was published on June 4, 002 on May 26.
        assert titles(app, key) == SEEDS_IN[key], key

    feed = read_feed(app, "inter-korean")
    assert not feed.bozo
    assert feed.feed.id == "tag:aggregator.localhost,2026:feed:inter-korean"
    assert feed.feed.links[0].href == "http://127.0.0.1:8080/inter-korean.xml"
    assert feed.feed.updated == feed.entries[0].updated  # newest entry's, not "now"
    first, second = feed.entries
    assert first.id.startswith("tag:aggregator.localhost,2026:entry:")
    assert first.author == "News Desk"
    assert first.published == "2025-06-03T15:00:00+00:00"  # June 4, midnight in Seoul
    assert first.source.title == "Monthly True Tone"
    assert "masudkhan89" not in first.content[0].value
    assert first.content[0].value.startswith("<p>South Korea’s newly inaugurated president")
    assert second.published == "2025-05-26T02:09:00+00:00"  # 11:09 in Seoul
    assert "author" not in second
    assert {tag.term for tag in first.tags} == {key for key in TOPICS if TITLE_000 in SEEDS_IN[key]}


def test_a_second_update_rewrites_nothing(app: pipeline.Aggregator) -> None:
    pipeline.update(app, NOW)
    past = 1_000_000_000
    before = {}
    for key in FEEDS:
        path = app.settings.feeds_dir / f"{key}.xml"
        os.utime(path, (past, past))
        before[key] = path.read_bytes()
    ingested, published = pipeline.update(app, NOW + timedelta(hours=1))
    assert ingested.items_new == ingested.items_updated == 0
    assert ingested.inputs_unchanged == 2
    assert published.written == ()
    for key in FEEDS:
        path = app.settings.feeds_dir / f"{key}.xml"
        assert path.read_bytes() == before[key]
        assert path.stat().st_mtime == past


def test_an_edited_seed_updates_its_item_in_place(app: pipeline.Aggregator) -> None:
    pipeline.update(app, NOW)
    (before,) = [e for e in read_feed(app, "all").entries if e.title == TITLE_002]
    seed = app.settings.seeds_dir / "002_605a32e122b5d713.txt"
    seed.write_text(seed.read_text(encoding="utf-8") + "Lee spoke again on Tuesday.\n")
    later = NOW + timedelta(days=1)
    ingested, _ = pipeline.update(app, later)
    assert (ingested.items_new, ingested.items_updated) == (0, 1)
    entries = [e for e in read_feed(app, "all").entries if e.title == TITLE_002]
    assert len(entries) == 1
    assert entries[0].id == before.id
    assert entries[0].updated == later.isoformat()
    assert entries[0].published == before.published
    assert "Lee spoke again on Tuesday." in entries[0].content[0].value


def test_unusable_seeds_are_reported_and_the_rest_published(app: pipeline.Aggregator) -> None:
    seeds = app.settings.seeds_dir
    (seeds / "empty.txt").write_text("")
    (seeds / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    ingested, _ = pipeline.update(app, NOW)
    failed = {Path(f.subject).name: f.reason for f in ingested.failures}
    assert set(failed) == {"empty.txt", "image.txt"}
    assert all(str(seeds) in f.subject for f in ingested.failures)
    assert "empty" in failed["empty.txt"]
    assert "binary" in failed["image.txt"]
    assert ingested.items_new == 2
    assert titles(app, "all") == [TITLE_000, TITLE_002]
    assert dict(app.storage.failing_sources()).keys() == {"seed:empty.txt", "seed:image.txt"}


def test_an_item_in_no_topic_is_only_in_all(app: pipeline.Aggregator) -> None:
    (app.settings.seeds_dir / "kpop.txt").write_text(KPOP, encoding="utf-8")
    pipeline.update(app, NOW)
    assert "K-pop group announces 20-city world tour" in titles(app, "all")
    for topic in TOPICS:
        assert "K-pop group announces 20-city world tour" not in titles(app, topic)


def test_feeds_hold_the_newest_entries_only(project: Path, database_url: str) -> None:
    app = open_app(project, database_url, "[publish]\nmax_entries = 1\n")
    try:
        pipeline.update(app, NOW)
        for key in FEEDS:
            assert titles(app, key) == SEEDS_IN[key][:1]
    finally:
        app.close()


def test_changed_rules_reclassify_stored_items(project: Path, app: pipeline.Aggregator) -> None:
    _, published = pipeline.update(app, NOW)
    assert published.reclassified == 0  # a new store's items were classified by these rules
    rules = project / "config" / "topics" / "alliance.toml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("threshold =", "threshold = 100000.0 #", 1), encoding="utf-8")
    stricter = open_app(project, app.settings.database_url)
    try:
        report = pipeline.regenerate(stricter, NOW)
        assert report.reclassified == 2
        assert titles(stricter, "alliance") == []
        assert titles(stricter, "inter-korean") == [TITLE_000, TITLE_002]
        assert pipeline.regenerate(stricter, NOW).reclassified == 0
    finally:
        stricter.close()


def test_published_feeds_match_rfc_4287_schema(app: pipeline.Aggregator) -> None:
    if shutil.which("jing") is None:
        pytest.skip("jing is not installed (Debian package jing; .ci/run installs it)")
    pipeline.update(app, NOW)
    paths = [str(app.settings.feeds_dir / f"{key}.xml") for key in FEEDS]
    result = subprocess.run(
        ["jing", "-c", str(DATA / "schema" / "atom.rnc"), *paths], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_same_seeds_give_the_same_bytes_in_any_store(project: Path, tmp_path: Path) -> None:
    outputs = []
    for name in ("one", "two"):
        app = open_app(project, f"sqlite:///{tmp_path / name}.db")
        try:
            shutil.rmtree(app.settings.feeds_dir)
            pipeline.update(app, NOW + timedelta(days=len(outputs)))
            outputs.append([(app.settings.feeds_dir / f"{k}.xml").read_bytes() for k in FEEDS])
        finally:
            app.close()
    assert outputs[0] == outputs[1]


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make a folder unwritable, even for root (who ignores permissions): chattr +i."""
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make {folder} immutable here: {made.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        return
    folder.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(0o755)


def test_an_unwritable_feeds_folder_keeps_the_old_files_and_recovers(
    app: pipeline.Aggregator,
) -> None:
    pipeline.update(app, NOW)
    folder = app.settings.feeds_dir
    before = {p: p.read_bytes() for p in folder.glob("*.xml")}
    (app.settings.seeds_dir / "kpop.txt").write_text(KPOP, encoding="utf-8")
    with read_only(folder):
        _, published = pipeline.update(app, NOW + timedelta(hours=1))
    assert published.failures and "cannot write" in published.failures[0].reason
    assert {p: p.read_bytes() for p in folder.glob("*.xml")} == before
    assert not list(folder.glob(".*"))  # no temporary files left behind
    # Once the folder is writable again, the next run publishes what was stored.
    assert not pipeline.regenerate(app, NOW + timedelta(hours=2)).failures
    assert "K-pop group announces 20-city world tour" in titles(app, "all")
