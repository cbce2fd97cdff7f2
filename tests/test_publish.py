"""Publishing: deterministic bytes, atomic writes, RFC 5005 archives that never change, pages.

The archive scenarios use a topic of their own (tests/test_publish.py writes it),
so tuning the shipped topic rules cannot change what these tests expect.
"""

import logging
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from feedgen.ext.base import BaseEntryExtension
from lxml import etree
from sqlalchemy import update

from aggregator import classify, pipeline, publish
from aggregator.config import load_settings
from aggregator.publish import archives, pages
from aggregator.store.schema import items
from aggregator.types import Enclosure, Report, StoredItem
from tests.feedserver import FeedServer
from tests.support.feeds import add_links_source_and_language
from tests.support.programs import need
from tests.support.project import DATA

NOW = datetime(2025, 7, 20, tzinfo=UTC)
BASE = "http://127.0.0.1:8080/"
TALKS_TOPIC = """id = "talks"
title = "Talks"
description = "Talks between the two Koreas."
threshold = 4.0

[[rules]]
name = "talks"
weight = 4
terms = ["talks"]
"""
# Added later to push one story out of the topic, as a rules change does.
EXCLUSION = """
[[exclude]]
name = "off topic"
weight = -100
terms = ["zanzibar"]
"""


def story(n: int, extra: str = "") -> str:
    return (
        f"Border talks round {n} held at Panmunjom\n\n"
        f"Published: {n} Jul. 2025, 10:00\n\n"
        f"Delegates met on day {n} for talks on the hotline and on reunions; {extra}officials "
        f"in Seoul said the next round would follow in {n + 7} days.\n"
    )


def open_talks(root: Path, publish_settings: str = "") -> pipeline.Aggregator:
    """A project with the one topic "talks" and archive pages of two stories."""
    (root / "config" / "topics").mkdir(parents=True, exist_ok=True)
    (root / "config" / "topics" / "talks.toml").write_text(TALKS_TOPIC, encoding="utf-8")
    (root / "seeds").mkdir(exist_ok=True)
    config = root / "config" / "aggregator.toml"
    config.write_text(f"[publish]\nmax_entries = 2\n{publish_settings}", encoding="utf-8")
    return pipeline.Aggregator.open(load_settings(config, environ={}))


@pytest.fixture
def talks(tmp_path: Path) -> Iterator[tuple[Path, pipeline.Aggregator]]:
    app = open_talks(tmp_path)
    yield tmp_path, app
    app.close()


def add_stories(root: Path, numbers: range, extra: str = "") -> None:
    for n in numbers:
        (root / "seeds" / f"s{n:02d}.txt").write_text(story(n, extra), encoding="utf-8")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def links(document: bytes) -> dict[str, str]:
    return {link.rel: link.href for link in feedparser.parse(document).feed.links}


def test_write_if_changed_replaces_atomically_and_leaves_equal_files_alone(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "feed.xml"
    assert publish.write_if_changed(path, b"one")
    past = NOW.timestamp()
    os.utime(path, (past, past))
    assert not publish.write_if_changed(path, b"one")
    assert path.stat().st_mtime == past  # untouched: conditional requests keep answering 304
    assert publish.write_if_changed(path, b"two")
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["feed.xml"]  # no temporary file left


def test_files_written_together_are_written_in_order_up_to_the_first_that_fails(
    tmp_path: Path,
) -> None:
    unchanged = tmp_path / "same.xml"
    unchanged.write_bytes(b"same")
    past = NOW.timestamp()
    os.utime(unchanged, (past, past))
    names = [f"{n}.xml" for n in range(1, publish.FILES_PER_SYNC + 5)]  # more than one sync
    files = [(unchanged, b"same")] + [(tmp_path / "pages" / n, n.encode()) for n in names]
    done = publish.write_changed(files)
    assert done == publish.Written([path for path, _ in files[1:]], [unchanged])
    assert unchanged.stat().st_mtime == past
    assert all(path.read_bytes() == content for path, content in files)

    (tmp_path / "pages" / "4.xml").unlink()
    (tmp_path / "pages" / "4.xml").mkdir()  # cannot be written: a folder stands there
    again = [(path, content + b"!") for path, content in files[1:7]]
    done = publish.write_changed(again)
    assert done.changed == [tmp_path / "pages" / n for n in ("1.xml", "2.xml", "3.xml")]
    assert (done.failed, done.error.strerror) == (tmp_path / "pages" / "4.xml", "Is a directory")
    assert [path.read_bytes() for path, _ in again if path.is_file()] == [
        b"1.xml!",
        b"2.xml!",
        b"3.xml!",
        b"5.xml",  # after the failure: left as it was
        b"6.xml",
    ]
    assert list(tmp_path.rglob(".*")) == []  # no temporary file left


# Writes three files in a process whose files may not grow past 1,000 bytes (RLIMIT_FSIZE;
# SIGXFSZ ignored, so the write fails with EFBIG): the second is too large.
_TOO_LARGE = """
import resource, signal, sys
from pathlib import Path
from aggregator import publish
folder = Path(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
done = publish.write_changed(
    [(folder / "1.xml", b"new"), (folder / "2.xml", b"x" * 5000), (folder / "3.xml", b"new")]
)
print(done.failed.name, done.error.strerror, [p.name for p in done.changed])
"""


def test_a_file_whose_write_fails_midway_is_left_as_it_was(tmp_path: Path) -> None:
    for name in ("1.xml", "2.xml", "3.xml"):
        (tmp_path / name).write_bytes(b"old")
    done = subprocess.run(
        [sys.executable, "-c", _TOO_LARGE, str(tmp_path)], capture_output=True, text=True
    )
    assert done.stdout.strip() == "2.xml File too large ['1.xml']", done.stderr
    assert [(tmp_path / n).read_bytes() for n in ("1.xml", "2.xml", "3.xml")] == [
        b"new",
        b"old",  # not the first 1,000 bytes of the new one
        b"old",
    ]
    assert list(tmp_path.glob(".*")) == []


def test_a_rebuild_from_the_same_store_gives_the_same_bytes(talks) -> None:  # noqa: ANN001
    root, app = talks
    add_stories(root, range(1, 6))
    pipeline.update(app, NOW)
    folder = app.settings.feeds_dir
    first = snapshot(folder)
    assert {"archive/talks/1.xml", "archive/talks/2.xml", "talks.xml", "all.xml",
            "index.html", "talks.html", "all.html", "feeds.opml"} <= set(first)  # fmt: skip

    again = pipeline.regenerate(app, NOW + timedelta(hours=1))
    assert again.written == () and snapshot(folder) == first

    shutil.rmtree(folder)
    pipeline.regenerate(app, NOW + timedelta(hours=2))
    assert snapshot(folder) == first


def test_an_item_stored_with_characters_xml_cannot_hold_is_published_without_them(
    talks,  # noqa: ANN001
    caplog: pytest.LogCaptureFixture,
) -> None:
    root, app = talks
    add_stories(root, range(1, 3))
    pipeline.update(app, NOW)
    # As a version that let them through would have stored them.
    with app.storage.transaction() as tx:
        tx.connection.execute(
            update(items).values(title=items.c.title + "\x02 \ufffe!", author="\x01")
        )
    with caplog.at_level(logging.WARNING, logger="aggregator.publish"):
        report = pipeline.regenerate(app, NOW + timedelta(hours=1))
    assert not report.failures and report.written
    document = (app.settings.feeds_dir / "talks.xml").read_bytes()
    titles = [e.title for e in feedparser.parse(document).entries]
    assert titles and all(t.endswith(" !") for t in titles)
    assert etree.fromstring(document) is not None  # well-formed: nothing unwritable left
    assert "holds characters no XML document can hold" in caplog.text


def test_archive_pages_chain_and_never_change(talks) -> None:  # noqa: ANN001
    root, app = talks
    folder = app.settings.feeds_dir
    add_stories(root, range(1, 4))
    pipeline.update(app, NOW)
    page1 = (folder / "archive/talks/1.xml").read_bytes()
    assert not (folder / "archive/talks/2.xml").exists()  # only complete pages are archived
    assert links((folder / "talks.xml").read_bytes())["prev-archive"] == (
        f"{BASE}archive/talks/1.xml"
    )
    assert links(page1) == {
        "self": f"{BASE}archive/talks/1.xml",
        "current": f"{BASE}talks.xml",
        "next-archive": f"{BASE}archive/talks/2.xml",
    }
    assert b"<fh:archive/>" in page1 and b'rel="hub"' not in page1

    # A later edit to an archived story, and new stories, leave the written page as it was.
    add_stories(root, range(1, 2), extra="an added clause, ")
    add_stories(root, range(4, 6))
    pipeline.update(app, NOW + timedelta(days=1))
    assert (folder / "archive/talks/1.xml").read_bytes() == page1
    page2 = (folder / "archive/talks/2.xml").read_bytes()
    assert links(page2)["prev-archive"] == f"{BASE}archive/talks/1.xml"
    assert links(page2)["next-archive"] == f"{BASE}archive/talks/3.xml"
    assert [e.title for e in feedparser.parse(page2).entries] == [
        "Border talks round 4 held at Panmunjom",
        "Border talks round 3 held at Panmunjom",
    ]


def test_a_story_leaving_the_topic_does_not_make_later_pages_skip_one(talks) -> None:  # noqa: ANN001
    root, app = talks
    folder = app.settings.feeds_dir
    add_stories(root, range(1, 5))
    (root / "seeds" / "s01.txt").write_text(story(1, "zanzibar, "), encoding="utf-8")
    pipeline.update(app, NOW)  # pages 1 (stories 1, 2) and 2 (3, 4)
    rules = root / "config" / "topics" / "talks.toml"
    rules.write_text(TALKS_TOPIC + EXCLUSION, encoding="utf-8")
    app.topics = classify.load_topics(rules.parent)
    for n in range(5, 9):
        add_stories(root, range(n, n + 1))
        pipeline.update(app, NOW + timedelta(days=n))

    in_topic = {i.title for i in app.storage.newest_items("talks", 100)}
    assert "Border talks round 1 held at Panmunjom" not in in_topic and len(in_topic) == 7
    archived = [
        e.title
        for page in (1, 2, 3, 4)
        for e in reversed(
            feedparser.parse((folder / f"archive/talks/{page}.xml").read_bytes()).entries
        )
    ]
    # Story 1 left the topic after its page was written: its page keeps it, and no later
    # story is skipped or repeated (an offset would have shifted by one).
    assert archived == [f"Border talks round {n} held at Panmunjom" for n in range(1, 9)]
    assert not (folder / "archive/talks/5.xml").exists()


def test_every_document_is_valid_atom_and_names_the_hub(tmp_path: Path) -> None:
    jing = need("jing")
    hub = FeedServer().start()
    app = open_talks(tmp_path, f'hub = "{hub.url("/hub")}"\n')
    try:
        pipeline.regenerate(app, NOW)  # nothing stored yet: empty feeds must be valid too
        add_stories(tmp_path, range(1, 6))
        shutil.copy(DATA / "seeds" / "generic_korean.txt", tmp_path / "seeds" / "korean.txt")
        pipeline.update(app, NOW)
    finally:
        app.close()
        hub.stop()
    feeds = tmp_path / "feeds"
    documents = sorted(feeds.rglob("*.xml"))
    assert {"talks.xml", "all.xml", "1.xml", "2.xml", "3.xml"} == {p.name for p in documents}
    result = subprocess.run(
        [jing, "-c", str(DATA / "schema" / "atom.rnc"), *map(str, documents)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    assert links((feeds / "talks.xml").read_bytes())["hub"] == hub.url("/hub")
    assert "hub" not in links((feeds / "archive/talks/1.xml").read_bytes())


SEOUL = ZoneInfo("Asia/Seoul")


def item(**changes: object) -> StoredItem:
    values: dict[str, object] = {
        "id": 1,
        "entry_id": "tag:aggregator.localhost,2026:entry:1",
        "source_key": "seed:x.txt",
        "source_title": "Example News",
        "source_link": None,
        "source_feed_id": None,
        "source_updated": None,
        "key": "x",
        "title": "A title",
        "content_html": "<p>First paragraph.</p><p>Second.</p>",
        "published": NOW,
        "updated": NOW,
        "author": None,
        "site_name": None,
        "link": "https://example.org/a",
        "language": "en",
        "topics": ("talks",),
    }
    values.update(changes)
    return StoredItem(**values)  # type: ignore[arg-type]


def test_topic_pages_escape_text_and_link_only_to_the_web() -> None:
    identity = publish.FeedIdentity(BASE, "aggregator.localhost,2026", "News")
    spec = publish.FeedSpec("talks", "Talks & <more>", "Talks between the two Koreas.")
    entries = [
        item(title="<script>alert(1)</script>", link="javascript:alert(1)"),
        item(id=2, title="남북 회담 재개", language="ko", link="https://example.org/ko"),
    ]
    page = pages.render_topic(pages.FeedPage(spec, entries), identity, "News", SEOUL).decode()
    assert "<script>" not in page and "javascript:" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<li lang="ko"><h2><a href="https://example.org/ko">남북 회담 재개</a></h2>' in page
    assert "<title>Talks &amp; &lt;more&gt;</title>" in page
    assert "First paragraph." in page and "Example News" in page and "2025-07-20" in page
    index = pages.render_index([pages.FeedPage(spec, entries)], identity, "News", SEOUL).decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Talks &amp; &lt;more&gt;" '
        f'href="{BASE}talks.xml">'
    ) in index
    assert "2 entries" in index


@pytest.mark.parametrize("written", [0, 1, 2, 3, 7, 8, 9, 100, 1025])
def test_archived_pages_counts_the_pages_written(tmp_path: Path, written: int) -> None:
    from aggregator.publish import archive_path, archived_pages

    for page in range(1, written + 1):
        path = tmp_path / archive_path("alliance", page)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"<feed/>")
    assert archived_pages(tmp_path, "alliance") == written
    assert archived_pages(tmp_path, "all") == 0


def test_temporaries_left_by_a_killed_run_are_removed(tmp_path: Path) -> None:
    import tempfile

    from aggregator.publish import remove_temporaries, write_if_changed

    archive = tmp_path / "archive" / "alliance"
    archive.mkdir(parents=True)
    (tmp_path / "stories").mkdir()
    left = [
        tempfile.mkstemp(prefix=".all.xml.", dir=tmp_path)[1],
        tempfile.mkstemp(prefix=".index.html.", dir=tmp_path)[1],
        tempfile.mkstemp(prefix=".3.xml.", dir=archive)[1],
        tempfile.mkstemp(prefix=".0123456789abcdef.html.", dir=tmp_path / "stories")[1],
    ]
    write_if_changed(tmp_path / "all.xml", b"<feed/>")
    (tmp_path / ".htaccess").write_text("kept: not ours")
    assert remove_temporaries(tmp_path) == 4
    assert not any(Path(p).exists() for p in left)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".htaccess",
        "all.xml",
        "archive",
        "stories",
    ]
    assert remove_temporaries(tmp_path) == 0


def test_leftovers_are_looked_for_only_after_a_run_that_did_not_finish(tmp_path: Path) -> None:
    """Listing every archive folder costs what the store holds, so a regeneration looks for
    temporary files only when the one before it did not get to its end."""
    import tempfile

    from aggregator.publish import writing

    archive = tmp_path / "archive" / "all"
    archive.mkdir(parents=True)
    with pytest.raises(KeyboardInterrupt), writing(tmp_path):
        left = tempfile.mkstemp(prefix=".7.xml.", dir=archive)[1]
        raise KeyboardInterrupt  # killed while writing page 7
    with writing(tmp_path):
        assert not Path(left).exists()
    assert list(tmp_path.glob(".*")) == []  # finished: no mark left
    planted = tempfile.mkstemp(prefix=".8.xml.", dir=archive)[1]
    with writing(tmp_path):
        pass
    assert Path(planted).exists()  # after a finished run nothing is looked for


class _Extras(BaseEntryExtension):
    """What feedgen's entries lack, added through its extension API: the reference for
    publish's own entries (links with all attributes, a complete atom:source, xml:lang)."""

    item: StoredItem
    identity: publish.FeedIdentity

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        source_id = self.item.source_feed_id or self.identity.source_id(self.item.source_key)
        add_links_source_and_language(entry, self.item, source_id, self.identity)
        return entry


def feedgen_document(
    spec: publish.FeedSpec,
    entries: list[StoredItem],
    identity: publish.FeedIdentity,
    titles: dict[str, str],
    **links: int,
) -> bytes:
    """The document feedgen writes when it builds every entry itself, as publish once had it."""
    updated = max((e.updated for e in entries), default=publish.EMPTY_FEED_UPDATED)
    generator = publish.feed_generator(spec, identity, updated, **links)
    for item in entries:
        entry = generator.add_entry(order="append")
        entry.id(item.entry_id)
        entry.title(item.title)
        entry.published(item.published)
        entry.updated(item.updated)
        if item.author:
            entry.author({"name": item.author})
        entry.content(publish.entry_content(item), type="html")
        for topic in item.topics:
            if topic in titles:
                entry.category(term=topic, scheme=identity.category_scheme, label=titles[topic])
        entry.register_extension("extras", _Extras, atom=True, rss=False)
        entry.extras.item, entry.extras.identity = item, identity
    return generator.atom_str(pretty=True, encoding="UTF-8")


AWKWARD = [
    item(),
    item(
        id=2,
        entry_id="tag:aggregator.localhost,2026:entry:2",
        title="Quotes \" and ' & <tags> \t tab, 남북 회담\r\nsecond line",
        content_html="",
        author="Kim & <Lee>",
        site_name='Site "quoted"',
        link='https://example.org/a?x=1&y="2"',
        language=None,
        topics=("talks", "unknown-topic", "alliance"),
        source_link="https://example.org/",
        source_feed_id="urn:uuid:feed",
        source_updated=NOW - timedelta(days=1),
        published=NOW - timedelta(hours=3),
        also_reported_by=(
            Report("Other\nWire & Co", "https://other.example/b", "tag:x:3"),
            Report("Paper wire", None, "tag:x:4"),
        ),
        enclosures=(
            Enclosure("https://example.org/a.mp3", "audio/mpeg", 1234),
            Enclosure("https://example.org/b.pdf"),
            Enclosure("https://example.org/c", None, 0),
        ),
    ),
    item(id=3, entry_id="tag:aggregator.localhost,2026:entry:3", link=None, language="ko"),
]


@pytest.mark.parametrize(
    "links", [{}, {"prev_archive": 4}, {"archive_page": 1}, {"archive_page": 5, "prev_archive": 4}]
)
def test_documents_are_byte_for_byte_what_feedgen_writes_with_every_entry(links: dict) -> None:
    identity = publish.FeedIdentity(BASE, "aggregator.localhost,2026", "News", hub=f"{BASE}hub")
    spec = publish.FeedSpec("talks", "Talks & <more>", "Talks between the two Koreas.")
    titles = {"talks": "Talks", "alliance": ""}
    entries = publish.Entries(identity, titles, lambda ids: [])
    for shown in ([], AWKWARD[:1], AWKWARD, AWKWARD[::-1]):
        rendered = publish.render_feed(spec, [entries.entry(i) for i in shown], identity, **links)
        assert rendered == feedgen_document(spec, shown, identity, titles, **links)


def test_entries_kept_plain_packed_or_not_at_all_are_the_same_bytes() -> None:
    """Past its plain room the entry cache keeps entries compressed, past that none: each
    way an entry comes back byte for byte, and only those not kept are loaded again."""
    identity = publish.FeedIdentity(BASE, "aggregator.localhost,2026", "News")
    titles = {"talks": "Talks", "alliance": ""}
    stored = {i.id: i for i in AWKWARD}
    loads: list[list[int]] = []

    def load(ids):  # noqa: ANN001, ANN202
        loads.append(list(ids))
        return [stored[i] for i in ids]

    fresh = publish.Entries(identity, titles, load)
    expected = [fresh.entry(i) for i in AWKWARD]
    # Room for the first entry plain, the second compressed: the third is rendered each time.
    plain, packed = len(expected[0].xml), len(zlib.compress(expected[1].xml, 1))
    entries = publish.Entries(identity, titles, load, cache_bytes=plain, packed_bytes=packed)
    ids = [i.id for i in AWKWARD]
    assert entries.by_id(ids) == expected
    assert entries.by_id(ids) == expected
    assert entries.by_id(ids[::-1]) == expected[::-1]
    assert loads == [ids, ids[2:], ids[2:]]


def test_archives_written_in_batches_match_a_fresh_rebuild_after_a_failed_write(
    talks,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, app = talks
    folder = app.settings.feeds_dir
    monkeypatch.setattr(archives, "PAGES_PER_BATCH", 2)
    add_stories(root, range(1, 4))
    pipeline.update(app, NOW)  # talks: page 1
    add_stories(root, range(4, 12))
    # Page 3 cannot be written: a folder stands where it goes.
    (folder / "archive/talks/3.xml").mkdir()
    report = pipeline.update(app, NOW + timedelta(days=1))[1]
    assert [f.reason for f in report.failures] == ["cannot write: Is a directory"]
    # Page 2 went out with page 3's batch failing: nothing after the gap was written.
    written = (folder / "archive/talks").glob("*.xml")
    assert sorted(p.name for p in written if p.is_file()) == ["1.xml", "2.xml"]
    assert links((folder / "talks.xml").read_bytes())["prev-archive"] == (
        f"{BASE}archive/talks/2.xml"
    )
    assert len(list((folder / "archive/all").glob("*.xml"))) == 5  # the other feeds went on

    (folder / "archive/talks/3.xml").rmdir()
    assert not list((folder / "archive/talks").glob(".*"))  # no temporary file left
    assert not pipeline.regenerate(app, NOW + timedelta(days=2)).failures
    assert sorted(p.name for p in (folder / "archive/talks").glob("*.xml")) == [
        f"{n}.xml" for n in range(1, 6)
    ]
    incremental = snapshot(folder)
    shutil.rmtree(folder)
    monkeypatch.setattr(archives, "PAGES_PER_BATCH", 20)
    pipeline.regenerate(app, NOW + timedelta(days=3))
    assert snapshot(folder) == incremental
