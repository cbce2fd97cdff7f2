"""Seed files, each beside its expected result (tests/data/seeds/NAME.txt + NAME.json).

A regression test is a new pair of files. Expectations give the title, the
publication time in the page's zone (null when the page gives none), byline,
site name, language, the number of paragraphs and how the first and last begin
and end; or, for an unusable file, a word of the error.
"""

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.errors import InputError
from aggregator.ingest.seeds import read_seed
from aggregator.text import html_to_text
from tests.support.project import DATA, NOT_IN_XML, REPO

SEOUL = ZoneInfo("Asia/Seoul")
SAMPLES = sorted(p for p in (DATA / "seeds").iterdir() if p.suffix != ".json")
CHROME = (
    "@", "Time View", "Update Time", "Share", "Leave a Reply", "More News", "©", "ⓒ",
    "Customized", "Views", "조회수", "무단전재", "Published:", "Updated:",
)  # fmt: skip


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_seed_parses_as_expected(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    if "error" in expected:
        with pytest.raises(InputError) as caught:
            read_seed(path, SEOUL)
        assert caught.value.subject == str(path)
        assert expected["error"] in caught.value.reason
        return
    data = read_seed(path, SEOUL)
    (item,) = data.items
    assert item.key == path.name
    assert item.title == expected["title"]
    published = expected["published"]
    assert item.published == (datetime.fromisoformat(published) if published else None)
    assert item.published is None or item.published.utcoffset() == timedelta(0)
    assert item.updated is None  # the pipeline decides
    assert item.author == expected["author"]
    assert item.site_name == expected["site_name"]
    assert item.language == expected["language"]
    paragraphs = html_to_text(item.content_html).split("\n")
    assert len(paragraphs) == expected["paragraphs"]
    assert paragraphs[0].startswith(expected["first"])
    assert paragraphs[-1].endswith(expected["last"])
    fields = [item.title, item.author or "", item.site_name or "", item.content_html]
    for marker in CHROME:
        assert not any(marker in field for field in fields), marker
    # Nothing a feed could not hold (generic_stray_controls has a few: dropped, or a line end).
    assert not any(NOT_IN_XML.search(field) for field in fields)
    assert data.source.key == f"seed:{path.name}"
    assert data.source.title == (expected["site_name"] or "Seed files")


def test_times_without_a_zone_take_the_configured_one() -> None:
    path = DATA / "seeds" / "newspaper_002_real.txt"
    (item,) = read_seed(path, ZoneInfo("UTC")).items
    assert item.published == datetime.fromisoformat("2025-05-26T11:09:00+00:00")


def test_a_saved_feed_is_a_seed_too(tmp_path: Path) -> None:
    path = tmp_path / "saved.xml"
    path.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Peninsula Wire</title><link>https://wire.example/</link>
<item><title>DMZ tours resume</title><link>/news/1?utm_source=x</link>
<guid>https://wire.example/news/1</guid><pubDate>Wed, 04 Jun 2025 06:00:00 +0000</pubDate>
<description>&lt;p&gt;Tours of the &lt;a href="/dmz"&gt;DMZ&lt;/a&gt; resumed.&lt;/p&gt;
&lt;script&gt;alert(1)&lt;/script&gt;</description></item>
<item><title>Second</title><link>https://wire.example/news/2</link></item>
</channel></rss>""",
        encoding="utf-8",
    )
    data = read_seed(path, SEOUL)
    assert data.source.key == "seed:saved.xml"
    assert data.source.title == "Peninsula Wire"
    first, second = data.items
    assert first.key == "https://wire.example/news/1"
    assert first.link == "https://wire.example/news/1?utm_source=x"
    assert first.published == datetime.fromisoformat("2025-06-04T06:00:00+00:00")
    assert 'href="https://wire.example/dmz"' in first.content_html
    assert "script" not in first.content_html and "alert" not in first.content_html
    assert second.title == "Second"


def test_the_shipped_seeds_are_among_the_samples() -> None:
    shipped = {p.read_bytes() for p in (REPO / "seeds").glob("*.txt")}
    assert shipped <= {p.read_bytes() for p in SAMPLES}


def test_a_saved_feed_is_recognised_by_content_and_its_future_dates_capped(tmp_path: Path) -> None:
    path = tmp_path / "saved-without-extension"
    path.write_bytes(
        b"\xef\xbb\xbf  \n<feed xmlns='http://www.w3.org/2005/Atom'><title>Wire</title>"
        b"<entry><id>urn:1</id><title>Drill ends</title>"
        b"<updated>2031-01-01T00:00:00Z</updated></entry></feed>"
    )
    now = datetime.fromisoformat("2025-06-04T00:00:00+00:00")
    data = read_seed(path, SEOUL, now=now)
    assert data.source.key == "seed:saved-without-extension" and data.source.kind == "seed"
    (item,) = data.items
    assert item.title == "Drill ends" and item.published == now


def test_an_empty_saved_feed_is_an_empty_seed(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.write_bytes(b" \n")
    with pytest.raises(InputError, match="empty"):
        read_seed(path, SEOUL)
