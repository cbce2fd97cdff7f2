"""Deduplication: identity within a source, edits, and one story from several sources."""

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from sqlalchemy import select

from aggregator import dedup, fingerprints, pipeline
from aggregator.analysis import analyze
from aggregator.config import load_settings
from aggregator.ingest.seeds import read_seed
from aggregator.store.schema import items
from aggregator.text import html_to_text
from aggregator.types import ItemData
from tests import corpus
from tests.support.feeds import WIRE_TEXT, wire_feed
from tests.support.project import REPO

NOW = datetime(2025, 6, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://News.Example.COM:443/a?utm_source=x&b=2&a=1#top",
            "https://news.example.com/a?a=1&b=2",
        ),
        ("http://example.org:80", "http://example.org/"),
        ("http://example.org:8080/x?fbclid=1&gclid=2", "http://example.org:8080/x"),
        ("https://example.org/x?UTM_Medium=rss&id=7", "https://example.org/x?id=7"),
    ],
)
def test_canonical_urls(url: str, canonical: str) -> None:
    assert dedup.canonical_url(url) == canonical


def test_configured_tracking_parameters_are_dropped() -> None:
    assert dedup.canonical_url("https://a.example/x?src=rss&id=1", frozenset({"src"})) == (
        "https://a.example/x?id=1"
    )


def _item(key: str, title: str, link: str | None = None) -> ItemData:
    return ItemData(key=key, title=title, content_html=f"<p>{title}</p>", link=link)


def test_a_guid_repeated_on_different_stories_falls_back_to_links() -> None:
    fetched = tuple(_item("same", f"Story {n}", f"https://a.example/{n}") for n in range(5))
    keys = [item.key for item in dedup.identify(fetched, {})]
    assert keys == [f"https://a.example/{n}" for n in range(5)]


def test_new_guids_on_every_fetch_fall_back_to_links() -> None:
    known = {f"https://a.example/{n}": f"guid-{n}" for n in range(4)}
    fetched = tuple(_item(f"new-{n}", f"Story {n}", f"https://a.example/{n}") for n in range(4))
    assert [i.key for i in dedup.identify(fetched, known)] == list(known)
    trusted = tuple(_item(f"guid-{n}", f"Story {n}", f"https://a.example/{n}") for n in range(4))
    assert [i.key for i in dedup.identify(trusted, known)] == [f"guid-{n}" for n in range(4)]


def test_title_only_and_short_items_have_no_fingerprint() -> None:
    assert fingerprints.signature("North Korea fires missile") is None
    assert fingerprints.signature(" ".join(["word"] * 500)) is None  # one repeated shingle


def _seed_text(name: str) -> str:
    (item,) = read_seed(REPO / "seeds" / name, ZoneInfo("Asia/Seoul")).items
    return f"{item.title}\n{html_to_text(item.content_html)}"


def test_the_two_shipped_seeds_are_two_stories() -> None:
    a = fingerprints.signature(_seed_text("000_bbf987679977ef00.txt"))
    b = fingerprints.signature(_seed_text("002_605a32e122b5d713.txt"))
    assert a and b and fingerprints.similarity(a, b) < 0.1
    assert not set(fingerprints.band_keys(a)) & set(fingerprints.band_keys(b))


def test_an_analysis_gives_the_body_text_content_hashes_read() -> None:
    """A worker process's analysis carries the item's body text, and the writer's content
    hash of it must be the hash of the item alone, or every stored item would look
    edited the next time its source is fetched."""
    seeds = sorted((REPO / "seeds").glob("*.txt"))
    shipped = [read_seed(path, ZoneInfo("Asia/Seoul")).items[0] for path in seeds]
    made = [
        ItemData("x", "제목  Title", "<p>A&amp;B\u00a0 <b>bold</b></p>\n<ul><li>한미 동맹</ul>"),
        ItemData("y", "no body", ""),
    ]
    for item in shipped + made:
        body = analyze(item, ()).body
        assert body == dedup.body_text(item.content_html)
        assert dedup.content_hash(item, body) == dedup.content_hash(item)
    assert dedup.content_hash(made[0], "other text") != dedup.content_hash(made[0])


def test_korean_spacing_variants_fingerprint_alike() -> None:
    text = " ".join(
        f"한미동맹 강화를 위한 확장억제 협의가 서울에서 {n}번째로 열렸고 "
        "국방부는 연합훈련 일정을 발표했다"
        for n in range(8)
    )
    spaced = text.replace("한미동맹", "한미 동맹").replace("연합훈련", "연합 훈련")
    assert (
        fingerprints.similarity(fingerprints.signature(text), fingerprints.signature(spaced)) > 0.8
    )


def open_app(project: Path, database_url: str) -> pipeline.Aggregator:
    settings = load_settings(
        project / "config" / "aggregator.toml", environ={"AGGREGATOR_DATABASE_URL": database_url}
    )
    return pipeline.Aggregator.open(settings)


def test_comparing_slot_value_sets_scores_as_comparing_slot_by_slot() -> None:
    """matching_stories counts equal slots by intersecting value sets when both signatures
    are full; it must match what slot-by-slot similarity() would, threshold included."""
    entries = corpus.generate(40)
    signatures = [s for e in entries if (s := fingerprints.signature(" ".join(e.paragraphs)))]
    rng = random.Random(7)
    # Edited copies: some slots of another signature, so scores spread over the threshold.
    signatures += [
        tuple(v if rng.random() < share else w for v, w in zip(a, b, strict=True))
        for share in (0.3, 0.5, 0.6, 0.9)
        for a, b in zip(signatures, signatures[1:], strict=False)
    ]
    empty = (1 << 64) - 1
    signatures.append(tuple(empty if n % 5 == 0 else v for n, v in enumerate(signatures[0])))
    when = datetime(2025, 6, 1, tzinfo=UTC)
    candidates = [
        dedup.StoryCandidate(
            n,
            rng.randrange(5),
            s,
            fingerprints.full_slot_values(s),
            when,
            "Talks",
            frozenset(),
        )
        for n, s in enumerate(signatures)
    ]
    assert candidates[-1].values is None and candidates[0].values is not None
    picked = set()
    for slots in signatures:
        group = rng.sample(candidates, 20)
        for threshold in (0.3, 0.5, 0.7):
            best = {
                c.story_id
                for c in group
                if c.signature is not None
                and fingerprints.similarity(slots, c.signature) >= threshold
            }
            assert dedup.matching_stories(slots, "Talks", when, group, threshold) == best
            picked.add(not best)
    assert picked == {True, False}


def test_precision_and_recall_on_a_corpus_with_known_answers(
    project: Path, database_url: str
) -> None:
    entries = corpus.generate(300)
    seeds = project / "seeds"
    shutil.rmtree(seeds)
    seeds.mkdir()
    for feed in range(6):
        (seeds / f"feed{feed}.xml").write_bytes(corpus.rss(feed, entries))
    app = open_app(project, database_url)
    try:
        report = pipeline.ingest(app, NOW)
        assert report.items_new == len(entries) and not report.failures
        with app.storage.engine.connect() as connection:
            rows = connection.execute(select(items.c.key, items.c.story_id)).all()
    finally:
        app.close()
    by_story: dict[int, list[str]] = {}
    for key, story in rows:
        by_story.setdefault(story, []).append(key)
    found = {
        frozenset((a, b))
        for keys in by_story.values()
        for i, a in enumerate(keys)
        for b in keys[i + 1 :]
    }
    truth = corpus.true_pairs(entries)
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    print(f"dedup on {len(entries)} entries: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.99, (precision, found - truth)
    assert recall >= 0.95, (recall, truth - found)


def test_a_story_from_several_sources_is_published_once_with_its_other_sources(
    project: Path, database_url: str
) -> None:
    seeds = project / "seeds"
    (seeds / "wire.xml").write_bytes(wire_feed("wire", "Seoul proposes talks on liaison office"))
    app = open_app(project, database_url)
    try:
        pipeline.update(app, NOW)
        feed = feedparser.parse((app.settings.feeds_dir / "inter-korean.xml").read_bytes())
        (first,) = [e for e in feed.entries if "liaison office" in e.title]

        (seeds / "daily.xml").write_bytes(
            wire_feed("daily", "Talks offered on liaison office", " Copyright Daily.")
        )
        later = NOW + timedelta(hours=2)
        ingested, _ = pipeline.update(app, later)
        assert ingested.items_new == 1
        feed = feedparser.parse((app.settings.feeds_dir / "inter-korean.xml").read_bytes())
        (entry,) = [e for e in feed.entries if "liaison office" in e.title.lower()]
        assert entry.id == first.id  # stable when another source joins
        assert entry.title == "Seoul proposes talks on liaison office"  # the earliest version
        # Moved to when the second source published (08:00), not to the clock of the run.
        assert entry.updated == "2025-06-09T08:00:00+00:00"
        assert "Also reported by:" in entry.content[0].value
        assert "https://daily.example/story" in entry.content[0].value
        related = [link.href for link in entry.links if link.rel == "related"]
        assert related == ["https://daily.example/story"]  # tracking parameters removed
    finally:
        app.close()


def test_a_seed_file_that_is_the_same_article_as_a_feed_entry_joins_its_story(
    project: Path, database_url: str
) -> None:
    seeds = project / "seeds"
    (seeds / "wire.xml").write_bytes(wire_feed("wire", "Seoul proposes talks on liaison office"))
    paragraphs = "\n\n".join(WIRE_TEXT.split(" Paragraph"))
    (seeds / "scraped.txt").write_text(
        "Seoul proposes talks on liaison office\n\nPublished: 9 Jun. 2025, 10:00\n\n"
        f"{paragraphs}\n",
        encoding="utf-8",
    )
    app = open_app(project, database_url)
    try:
        pipeline.update(app, NOW)
        titles = [i.title for i in app.storage.newest_items(None, 50)]
        assert titles.count("Seoul proposes talks on liaison office") == 1
        assert len(titles) == 3  # the two shipped seeds stay two stories
    finally:
        app.close()
