"""Real feeds' defects are repaired once, at ingest, for every kind of input (issue #19).

Small made-up cases for each defect, then the real files of ../shared/realworld that
carry them, read in place (named by file and guid, nothing copied from them).
"""

import re
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.ingest import feeds
from aggregator.ingest.feeds import parse_feed
from aggregator.ingest.offsets import detect_offset, settle_dates
from aggregator.ingest.repair import (
    CUT_MARKER,
    cut_text,
    is_absolute_http_uri,
    repair_html,
    repair_link,
    repair_source,
    repair_text,
)
from aggregator.ingest.seeds import read_seed
from aggregator.text import html_to_text
from aggregator.types import InputLimits, ItemData, SourceData, SourceInfo

SEOUL = ZoneInfo("Asia/Seoul")
REALWORLD = Path(__file__).resolve().parents[1] / ".." / "shared" / "realworld"
KNEWS = REALWORLD / "knews-rss"
# What no published title or text may show as text (the "Done when" of issue #19).
DAMAGED = re.compile(r"(?<!&)quot;|(?<!&)hellip;|&lt;|&gt;|&amp;lt;|&nbsp;|&apos;|&amp;")

needs_realworld = pytest.mark.skipif(
    not KNEWS.is_dir(), reason=f"the real feeds are not at {KNEWS}"
)


@pytest.mark.parametrize(
    ("damaged", "repaired"),
    [
        ("Talks quot;resumequot;", 'Talks "resume"'),  # the ampersand lost upstream
        ("북측 quot;회담quot;hellip;", '북측 "회담"…'),
        ("Minister&apos;s visit", "Minister's visit"),  # escaped twice: text shows "&apos;"
        ("Kim &amp;lt;Moon&amp;gt;", "Kim <Moon>"),  # escaped three times
        ("lt;평화gt; 4gt;", "<평화> 4>"),  # short names after Hangul or a digit
        ("AT&amp;T", "AT&T"),
        ("middot;nbsp;", "·\u00a0"),
    ],
)
def test_entities_escaped_twice_or_without_ampersand_are_decoded(
    damaged: str, repaired: str
) -> None:
    assert repair_text(damaged) == repaired


@pytest.mark.parametrize(
    "kept",
    [
        "the default; a fault; the salt;",  # "lt;" ending an English word is no entity
        "three times; a bull; the trade;",  # entity names that are words
        "issue #39; and &unknownname;",  # no ampersand before a number; unknown names
        "plain text without references",
    ],
)
def test_text_that_only_looks_like_an_entity_is_left(kept: str) -> None:
    assert repair_text(kept) == kept


def test_html_text_is_repaired_and_its_tags_are_not() -> None:
    markup = (
        '<p>A &amp;lt;column&amp;gt; &amp;nbsp;quot;x<a href="https://a.example/?q=1&amp;lt=2">'
        "link</a> [A&amp;amp;B]</p>"
    )
    repaired = repair_html(markup)
    assert 'href="https://a.example/?q=1&amp;lt=2"' in repaired
    assert "&amp;nbsp;" not in repaired and "\u00a0" in repaired
    assert html_to_text(repaired) == 'A <column> "x link [A&B]'


@pytest.mark.parametrize(
    ("link", "published"),
    [
        (
            "http://a.example.krhttp://a.example.kr/news/1.html?no=2",
            "http://a.example.kr/news/1.html?no=2",
        ),  # fmt: skip
        ("https://a.example/x https://a.example/y", None),  # a space: no URI
        ("javascript:alert(1)", None),
        ("//a.example/x", None),  # relative
        ("http:///x", None),  # no host
        ("http://a.example:99999/", None),  # no port
        ("http://a_b.example/", None),
        ("https://a.example/%ED%95%9C?q=1#top", "https://a.example/%ED%95%9C?q=1#top"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_links_are_mended_or_withheld(link: str, published: str | None) -> None:
    assert repair_link(link) == published
    if published is not None:
        assert is_absolute_http_uri(published)


def item(**fields: object) -> ItemData:
    values: dict[str, object] = {"key": "k1", "title": "A title", "content_html": "<p>Text</p>"}
    values.update(fields)
    return ItemData(**values)  # type: ignore[arg-type]


def source_data(*items: ItemData, key: str = "https://feed.example/rss") -> SourceData:
    return SourceData(SourceInfo(key=key, kind="feed", title="Feed"), items)


def test_a_character_xml_cannot_hold_is_dropped_and_counted_and_the_entry_kept() -> None:
    data = repair_source(
        source_data(item(title="Broken\x03 quote", content_html="<p>a\x02b</p>")),
        InputLimits(),
    )
    (kept,) = data.items
    assert (kept.title, kept.content_html) == ("Broken quote", "<p>ab</p>")
    assert data.warnings == (
        "https://feed.example/rss: 2 characters XML cannot hold dropped, entries kept",
    )


def test_an_invalid_link_leaves_the_entry_without_a_link() -> None:
    data = repair_source(source_data(item(link="http://bad host/x")), InputLimits())
    (kept,) = data.items
    assert kept.link is None and kept.title == "A title"
    assert "1 links that are no absolute http(s) URI left out" in data.warnings[-1]


def test_an_over_long_entry_is_cut_at_a_paragraph_with_a_marker_and_named() -> None:
    paragraphs = "\n".join(f"<p>{'word ' * 30}{n}</p>" for n in range(100))
    data = repair_source(
        source_data(item(title="t" * 50 + " end", content_html=paragraphs)),
        InputLimits(entry_text=1000, entry_title=20),
    )
    (cut,) = data.items
    assert len(cut.content_html) <= 1000 + len(CUT_MARKER) + 1
    assert cut.content_html.endswith("</p>\n" + CUT_MARKER)
    assert cut.content_html.count("<p>") == cut.content_html.count("</p>")
    assert len(cut.title) <= 20 and cut.title.endswith("…")
    assert [w.split(": ", 2)[1] for w in data.warnings] == ["entry k1", "entry k1"]
    assert "limits.entry_title" in data.warnings[0] and "limits.entry_text" in data.warnings[1]


def test_one_paragraph_longer_than_the_limit_is_cut_at_a_word() -> None:
    cut = cut_text("<p>" + "<b>bold</b> word " * 500 + "</p>", 200)
    assert cut.startswith("<p>bold word") and cut.endswith("…</p>\n" + CUT_MARKER)


def test_a_huge_seed_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    """Memory stays flat: 50 MB on disk, the limit's worth read, one bounded entry, a warning."""
    seed = tmp_path / "huge.txt"
    line = ("North Korea and South Korea talk about talks. " * 20 + "\n").encode()
    limits = InputLimits(seed_bytes=256 * 1024, entry_text=50_000)
    with seed.open("wb") as file:
        file.write(b"A huge page\n\n" + line * (2 * limits.seed_bytes // len(line)))
        file.truncate(50 * 1024 * 1024)  # the rest, never read, costs no disk either
    tracemalloc.start()
    try:
        data = read_seed(seed, SEOUL, limits=limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * limits.seed_bytes  # a 50 MB read alone would be 50 MB
    (entry,) = data.items
    assert len(entry.content_html) <= limits.entry_text + len(CUT_MARKER) + 1
    assert entry.content_html.endswith(CUT_MARKER)
    assert data.warnings[0].startswith(
        f"{seed}: {seed.stat().st_size} bytes, over limits.seed_bytes"
    )
    assert any("entry huge.txt: text of" in w for w in data.warnings)


# --- Dates: local time written as UTC ----------------------------------------------------------

FETCHED = datetime(2025, 6, 10, 3, 30, tzinfo=UTC)


def dated(*hours_ahead: float) -> tuple[ItemData, ...]:
    return tuple(
        item(key=f"k{n}", published=FETCHED + timedelta(hours=h)) for n, h in enumerate(hours_ahead)
    )


def test_a_feed_writing_seoul_time_as_utc_is_read_in_its_offset() -> None:
    items = dated(5.5, 2, -1, -20)  # two entries ahead, by less than Seoul's nine hours
    assert detect_offset(items, FETCHED, SEOUL) == timedelta(hours=9)
    assert detect_offset(items, FETCHED, ZoneInfo("UTC")) == timedelta(hours=6)
    settled = settle_dates(source_data(*items), now=FETCHED, known_offset=None, zone=SEOUL)
    assert settled.date_offset == timedelta(hours=9)
    assert all(i.published is not None and i.published <= FETCHED for i in settled.items)
    assert "read as UTC+09:00 from now on" in settled.warnings[0]
    # Later fetches keep reading it in that offset, also when no entry is ahead then.
    later = settle_dates(
        source_data(*dated(-3)), now=FETCHED, known_offset=timedelta(hours=9), zone=SEOUL
    )
    assert later.items[0].published == FETCHED - timedelta(hours=12)
    assert later.date_offset == timedelta(hours=9) and later.warnings == ()


@pytest.mark.parametrize(
    "hours_ahead",
    [(5, -1, -2, -3), (30, 20, -1), (0.1, -1)],
    ids=["one-entry-alone", "days-ahead", "within-the-skew"],
)
def test_dates_ahead_for_other_reasons_are_no_offset(hours_ahead: tuple[float, ...]) -> None:
    assert detect_offset(dated(*hours_ahead), FETCHED, SEOUL) is None
    settled = settle_dates(
        source_data(*dated(*hours_ahead)), now=FETCHED, known_offset=None, zone=SEOUL
    )
    assert settled.date_offset is None
    skew = timedelta(minutes=10)
    assert all(i.published and i.published <= FETCHED + skew for i in settled.items)


# --- The real feeds --------------------------------------------------------------------------


def real(day: str, name: str) -> bytes:
    return (KNEWS / day / name).read_bytes()


def both(day: str, name: str) -> tuple[SourceData, SourceData]:
    """The file as its document states it, and as ingest repairs it."""
    data = real(day, name)
    key = f"{day}/{name}"
    raw = feeds._parse(  # noqa: SLF001 (the reading before repair, to show the defect is there)
        data, source_key=key, kind="feed", headers=None, base_url=None, zone=SEOUL, max_entries=None
    )
    return raw, parse_feed(data, source_key=key, zone=SEOUL)


def published_text(entry: ItemData) -> str:
    return entry.title + "\n" + html_to_text(entry.content_html)


@needs_realworld
@pytest.mark.parametrize(
    ("day", "name", "defect"),
    [
        ("2022-07-24", "pressian-_all_.xml", "(?<!&)quot;|(?<!&)hellip;"),
        ("2022-07-23", "hani-_all_.xml", "&lt;|&nbsp;"),
        ("2022-07-23", "ddanzi-_all_.xml", "&apos;"),
    ],
)
def test_real_damaged_entities_are_repaired(day: str, name: str, defect: str) -> None:
    raw, repaired = both(day, name)
    assert any(re.search(defect, published_text(e)) for e in raw.items)  # the defect is there
    assert len(repaired.items) == len(raw.items)
    assert not [e.key for e in repaired.items if DAMAGED.search(published_text(e))]


@needs_realworld
def test_real_doubled_links_are_mended() -> None:
    raw, repaired = both("2022-07-23", "hankookilbo-_all_.xml")
    doubled = [e.key for e in raw.items if e.link and re.match(r"https?://[^/]+https?:", e.link)]
    assert doubled
    assert all(e.link and is_absolute_http_uri(e.link) for e in repaired.items)
    mended = {e.key: e.link for e in repaired.items}
    assert all(mended[key] and mended[key].count("http") == 1 for key in doubled)


@needs_realworld
def test_a_real_control_character_costs_the_character_not_the_entry() -> None:
    raw, repaired = both("2022-07-27", "chosun-economy.xml")
    assert len(repaired.items) == len(raw.items) == 100
    assert any("characters XML cannot hold dropped, entries kept" in w for w in repaired.warnings)


@needs_realworld
def test_a_real_feed_writing_seoul_time_as_utc_is_read_in_seoul_time() -> None:
    """hani writes Korean wall-clock time with a Z: read at its build time, entries lay
    hours after it; read in +09:00, none does."""
    raw, repaired = both("2022-07-23", "hani-politics.xml")
    built = repaired.source.updated
    assert built is not None
    assert any(e.published and e.published > built + timedelta(hours=1) for e in raw.items)
    assert repaired.date_offset == timedelta(hours=9)
    assert all(e.published and e.published <= built for e in repaired.items)
    shifted = {e.key: e.published for e in repaired.items}
    assert all(shifted[e.key] == e.published - timedelta(hours=9) for e in raw.items)  # type: ignore[operator]


@needs_realworld
def test_feeds_with_right_zones_are_not_shifted() -> None:
    for name in ("chosun-politics.xml", "kmib-_all_.xml"):
        _, repaired = both("2022-07-23", name)
        assert repaired.date_offset is None, name


def test_repair_is_the_same_for_every_reader() -> None:
    """RSS by the fast reader, by feedparser, and JSON Feed: one repair, one result."""
    rss = (
        b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>W</title>"
        b"<link>https://w.example/</link><item><title>quot;Tquot; &amp;apos;</title>"
        b"<link>http://w.examplehttp://w.example/1</link><guid>g1</guid>"
        b"<description>&lt;p&gt;a &amp;amp;lt;b&amp;amp;gt;&lt;/p&gt;</description></item>"
        b"</channel></rss>"
    )
    json_feed = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "W", "items": [{"id": "g1",'
        b' "title": "quot;Tquot; &apos;", "url": "http://w.examplehttp://w.example/1",'
        b' "content_html": "<p>a &amp;lt;b&amp;gt;</p>"}]}'
    )
    fast = parse_feed(rss, source_key="s", zone=SEOUL)
    slow = feeds._parse_with_feedparser(rss, source_key="s", zone=SEOUL)  # noqa: SLF001
    from_json = parse_feed(json_feed, source_key="s", zone=SEOUL)
    for data in (fast, slow, from_json):
        (entry,) = data.items
        assert (entry.title, entry.link) == ('"T" \'', "http://w.example/1")
        assert html_to_text(entry.content_html) == "a <b>"
    assert replace(fast.items[0], language=None) == replace(slow.items[0], language=None)


def test_characters_lost_upstream_are_dropped_and_counted() -> None:
    """U+FFFD (a character the upstream's decoding lost) and C1 controls (a wrong charset):
    no reader shows them and the W3C Feed Validator warns of them."""
    data = repair_source(
        source_data(item(title="Game \ufffdended", content_html="<p>a\x85b \ufffd</p>")),
        InputLimits(),
    )
    (kept,) = data.items
    assert (kept.title, kept.content_html) == ("Game ended", "<p>ab </p>")
    assert data.warnings == (
        "https://feed.example/rss: 3 characters lost upstream (U+FFFD) or C1 control codes dropped",
    )


@needs_realworld
def test_a_real_lost_character_is_dropped() -> None:
    raw, repaired = both("2022-07-24", "chosun-sports.xml")
    assert any("\ufffd" in published_text(e) for e in raw.items)
    assert not any("\ufffd" in published_text(e) for e in repaired.items)
    assert len(repaired.items) == len(raw.items)
