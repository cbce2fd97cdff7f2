"""The feedparser adapter and the sanitizer, on real documents with expectations beside them.

Each tests/data/feeds/NAME.<ext> has NAME.json: the call's extras (base_url,
headers, now), the source fields, the warnings (a phrase each, in order),
the items (only the fields given are compared; content_has/content_lacks are
substrings), text that must appear nowhere (lacks_everywhere), or an error.
A regression test is a new pair of files.
"""

import calendar
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import pytest
from feedparser.datetimes import _parse_date

from aggregator.errors import InputError
from aggregator.ingest import feeds
from aggregator.ingest.dates import find_datetime
from aggregator.ingest.feeds import parse_feed
from aggregator.ingest.sanitize import sanitize_html
from aggregator.types import ItemData, SourceData
from tests.support.feeds import laughs
from tests.support.project import DATA, NOT_IN_XML

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SAMPLES = sorted(p for p in (DATA / "feeds").iterdir() if p.suffix != ".json")
ITEM_FIELDS = ("key", "title", "link", "author", "language")
DATE_FIELDS = ("published", "updated")


def parse(data: bytes, **call: object) -> SourceData:
    call.setdefault("source_key", "test:feed")
    call.setdefault("zone", SEOUL)
    return parse_feed(data, **call)  # type: ignore[arg-type]


def everything(data: SourceData) -> str:
    """Every text field the adapter produced, to search for what must not leak."""
    source = data.source
    texts = [source.title, source.link or "", source.feed_id or "", *data.warnings]
    for item in data.items:
        texts += [item.key, item.title, item.content_html, item.author or "", item.link or ""]
        texts += item.categories
    return "\n".join(texts)


def as_datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def check_item(item: ItemData, expected: dict) -> None:
    for name in ITEM_FIELDS:
        if name in expected and name == "key" and expected["key"] == "sha256:":
            assert item.key.startswith("sha256:") and len(item.key) == 7 + 64
        elif name in expected:
            assert getattr(item, name) == expected[name], name
    for name in DATE_FIELDS:
        if name in expected:
            assert getattr(item, name) == as_datetime(expected[name]), name
            assert getattr(item, name) is None or getattr(item, name).tzinfo == UTC
    if "categories" in expected:
        assert list(item.categories) == expected["categories"]
    for text in expected.get("content_has", []):
        assert text in item.content_html
    for text in expected.get("content_lacks", []):
        assert text not in item.content_html


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_feed_parses_as_expected(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    call = dict(expected.get("call", {}))
    call["now"] = datetime.fromisoformat(call.get("now", NOW.isoformat()))
    source_key = f"test:{path.name}"
    if "error" in expected:
        with pytest.raises(InputError) as caught:
            parse(path.read_bytes(), source_key=source_key, **call)
        assert caught.value.subject == source_key
        assert expected["error"] in caught.value.reason
        return
    data = parse(path.read_bytes(), source_key=source_key, **call)
    assert data.source.key == source_key and data.source.kind == "feed"
    for name, value in expected.get("source", {}).items():
        actual = getattr(data.source, name)
        assert actual == (as_datetime(value) if name == "updated" else value), name
    assert len(data.warnings) == len(expected["warnings"]), data.warnings
    for warning, phrase in zip(data.warnings, expected["warnings"], strict=True):
        assert warning.startswith(f"{source_key}: ") and phrase in warning
    assert len(data.items) == len(expected["items"])
    for item, expected_item in zip(data.items, expected["items"], strict=True):
        check_item(item, expected_item)
    for text in expected.get("lacks_everywhere", []):
        assert text not in everything(data)


def test_an_external_entity_reads_no_local_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER", encoding="utf-8")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY s SYSTEM "{secret.as_uri()}">]>'
        "<rss version='2.0'><channel><title>&s;</title><item><title>T &s;</title>"
        "<link>https://x.example/1</link><description>&s;</description></item></channel></rss>"
    ).encode()
    data = parse(document)
    assert "TOP-SECRET-MARKER" not in everything(data)
    assert [item.link for item in data.items] == ["https://x.example/1"]


@pytest.mark.parametrize(
    "document",
    [
        laughs().encode(),
        # The declaration hidden behind more than 64 KB of prolog comments.
        laughs("<!--" + "x" * 70_000 + "-->").encode(),
        # The same bomb in UTF-16, which a byte-level check would not see.
        laughs().replace('version="1.0"', 'version="1.0" encoding="utf-16"').encode("utf-16"),
    ],
    ids=["plain", "padded-prolog", "utf-16"],
)
def test_an_entity_bomb_is_defused_quickly(document: bytes) -> None:
    started = time.perf_counter()
    data = parse(document)
    assert time.perf_counter() - started < 1.0
    assert "lollol" not in everything(data)
    assert any("DOCTYPE with entity declarations removed" in w for w in data.warnings)
    assert [item.link for item in data.items] == ["https://x.example/2"]


def test_a_doctype_inside_content_is_left_alone() -> None:
    document = (
        b"<rss version='2.0'><channel><title>XML tips</title><item><title>Doctypes</title>"
        b"<link>https://x.example/3</link><description><![CDATA[<p>Write "
        b"&lt;!DOCTYPE x [ ]&gt; like this: <code><!DOCTYPE x [ ]></code></p>]]></description>"
        b"</item></channel></rss>"
    )
    data = parse(document)
    assert not data.warnings
    assert "DOCTYPE" in data.items[0].content_html


@pytest.mark.parametrize(
    ("document", "content_type"),
    [
        (
            b"<rss version='2.0'><channel><title>Wire&#1;</title><link>https://w.example/</link>"
            b"<item><title>Talks &#2;resume\x03</title><link>https://w.example/1</link>"
            b"<author>kim&#x4;</author><category>talks&#5;</category><description>"
            b"&lt;p&gt;A &amp;#6;line&lt;/p&gt; &#xFFFE;</description></item></channel></rss>",
            "application/rss+xml",
        ),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "title": "Wire\\u0001",'
            b' "items": [{"id": "1", "title": "Talks \\u0002resume", "tags": ["t\\u0005"],'
            b' "authors": [{"name": "kim\\u0004"}], "content_html": "<p>A \\u0006line</p>"}]}',
            "application/feed+json",
        ),
    ],
    ids=["rss-read-loosely", "json"],
)
def test_characters_no_xml_document_can_hold_are_left_out(
    document: bytes, content_type: str
) -> None:
    data = parse(document, headers={"content-type": content_type})
    (item,) = data.items
    assert NOT_IN_XML.search(everything(data)) is None
    assert (item.title, item.author, data.source.title) == ("Talks resume", "kim", "Wire")
    assert "A line" in item.content_html


def test_without_now_future_dates_are_left_to_the_pipeline() -> None:
    document = (DATA / "feeds" / "naive_dates.xml").read_bytes()
    data = parse(document, now=None)
    assert data.items[6].published == datetime(2030, 1, 1, tzinfo=UTC)
    assert not data.warnings


BASE = "https://peninsula.example/news/story.html"


@pytest.mark.parametrize(
    ("markup", "kept", "gone"),
    [
        ("<p>Hi<script>alert(1)</script></p>", ["<p>Hi</p>"], ["script", "alert"]),
        ("<style>p{x:y}</style><p>a</p>", ["<p>a</p>"], ["style", "x:y"]),
        ("<p onclick='x()' onmouseover=y() style='color:red'>a</p>", ["<p>a</p>"], ["on", "red"]),
        ('<a href="javascript:alert(1)">a</a>', ["<a", ">a</a>"], ["javascript", "alert"]),
        ('<a href=" JaVaScRiPt:alert(1)">a</a>', [">a</a>"], ["alert"]),
        ('<a href="java&#x09;script:alert(1)">a</a>', [">a</a>"], ["alert", "script:"]),
        ('<img src="data:image/svg+xml;base64,PHN2Zz4=">', [], ["data:", "base64"]),
        ('<a href="vbscript:msgbox(1)">a</a>', [">a</a>"], ["vbscript", "msgbox"]),
        ("<iframe src='https://evil.example/'></iframe><p>a</p>", ["<p>a</p>"], ["iframe", "evil"]),
        ("<object data='x.swf'><embed src='x.swf'></object>", [], ["object", "embed", "swf"]),
        ("<form action='/x'><input name=q><button>Go</button></form>", [], ["form", "input", "Go"]),
        ("<svg><script>alert(1)</script></svg>", [], ["svg", "alert"]),
        ("<!--[if IE]><script>alert(1)</script><![endif]--><p>a</p>", ["<p>a</p>"], ["alert"]),
        (
            "<base href='https://evil.example/'><meta http-equiv=refresh content='0;x'>",
            [],
            ["evil"],
        ),
        (
            "<p>a</p><img src=x onerror=alert(1)>",
            [f'src="{BASE.rsplit("/", 1)[0]}/x"'],
            ["onerror"],
        ),
        (
            '<a href="/dmz" target="_blank">DMZ</a>',
            ['href="https://peninsula.example/dmz"'],
            ["_blank"],
        ),
        ('<a href="//cdn.example/a.jpg">a</a>', ['href="https://cdn.example/a.jpg"'], []),
        ('<a href="mailto:desk@peninsula.example">mail</a>', ['href="mailto:desk@'], []),
        ('<a href="#notes">n</a>', [f'href="{BASE}#notes"'], []),
        ("<p>Kim &amp; Moon &lt;3</p>", ["<p>Kim &amp; Moon &lt;3</p>"], []),
        ("<p>unclosed <b>bold", ["<p>unclosed <b>bold</b></p>"], []),
        ("<h1>Big</h1><h2>Section</h2>", ["Big", "<h2>Section</h2>"], ["<h1"]),
        (
            "<table><tr><td colspan=2 bgcolor=red>c</td></tr></table>",
            ['<td colspan="2">c</td>'],
            ["bgcolor"],
        ),
        (
            "<figure><img src='a.png' alt='A'><figcaption>Cap</figcaption></figure>",
            ["<figcaption>Cap</figcaption>", 'alt="A"'],
            [],
        ),  # fmt: skip
    ],
)
def test_hostile_html_is_sanitized(markup: str, kept: list[str], gone: list[str]) -> None:
    clean = sanitize_html(markup, BASE)
    for text in kept:
        assert text in clean
    for text in gone:
        assert text.lower() not in clean.lower()


def test_links_get_rel_and_relative_urls_stay_relative_without_a_base() -> None:
    clean = sanitize_html('<a href="/dmz">DMZ</a><img src="a.png">', None)
    assert clean == '<a href="/dmz" rel="noopener noreferrer nofollow">DMZ</a><img src="a.png">'


URL_STARTS = [
    "http://", "https://", "HTTP://", "ftp://", "//", "/", "", " http://", "https:", "http:///",
]  # fmt: skip
URL_HOSTS = ["x.example", "X.Example:8080", "u@x.example", "[::1]", "x.example:", "한.example", ""]
URL_PARTS = [
    "/a", "/a/../b", "/./c", "//d", "/e;p", "/f;", "?q=1", "?", "#frag", "#", "?a=1;b=2", "#x#y",
    "/%ED%95%9C", "/한국", "/s p", "/t\tab", "?q=\"", "/x<y>", "/~u/(1)!*'", "/a:b@c", "\\back",
]  # fmt: skip
URL_BASES = [None, "", "https://site.example/news/1", "http://site.example/", "ftp://f.example/"]


def test_entry_links_are_joined_as_urljoin_joins_them() -> None:
    rng = random.Random(5)
    plain = 0
    for _ in range(3000):
        usual = rng.random() < 0.5  # an http(s) URL with a plain host, as most links are
        url = rng.choice(URL_STARTS[:2] if usual else URL_STARTS)
        url += rng.choice(URL_HOSTS[:2] if usual else URL_HOSTS)
        url += "".join(rng.choices(URL_PARTS, k=rng.randint(0, 3)))
        base = rng.choice(URL_BASES)
        assert feeds._resolved(base, url) == urljoin(base or "", url), (base, url)  # noqa: SLF001
        plain += bool(feeds._PLAIN_ABSOLUTE_URL.fullmatch(url))  # noqa: SLF001
    assert plain > 500  # the shortcut was taken often enough to be tested


def first_when(raw: str | None, parsed: time.struct_time | None, zone: ZoneInfo) -> datetime | None:
    """feeds._when as it was before issue #7 (its zone looked for in the whole string)."""
    text = (raw or "").strip()
    found = find_datetime(text, zone) if text else None
    if parsed is None:
        return found.astimezone(UTC) if found else None
    written = feeds._WRITTEN_ZONE.search(text)  # noqa: SLF001
    if written is None or written.group() == "KST":
        local = zone if written is None else ZoneInfo("Asia/Seoul")
        value = datetime(*parsed[:6], tzinfo=local).astimezone(UTC)
    else:
        value = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    if found is not None and abs(found - value) > timedelta(days=1):
        return found.astimezone(UTC)
    return value


DATE_PARTS = [
    "Wed,", "04 Jun 2025", "2025-06-04T10:00:00", "10:00:00", "10:00", "GMT", "KST", "EST", "PM",
    "AM", "Z", "+0900", "-05:30", "+09", "UTC", "2025.06.04", "x", "ABCDEF", "pm", "", "\u00e9",
]  # fmt: skip


def test_feed_dates_are_read_as_before() -> None:
    rng = random.Random(9)
    for _ in range(2000):
        raw = " ".join(rng.choices(DATE_PARTS, k=rng.randint(1, 5)))
        raw = raw if rng.random() < 0.8 else raw.replace(" ", "")
        parsed = _parse_date(raw)
        assert feeds._when(raw, parsed, SEOUL) == first_when(raw, parsed, SEOUL), raw  # noqa: SLF001
