"""The lxml fast reader gives exactly what the feedparser path gives, or steps aside.

Every document here is parsed twice: by ``parse_feed`` (fast path first) and by
``feeds._parse_with_feedparser`` (the reference), and the two SourceData must
be equal field by field. Each case also says whether the fast path must take
it, so the comparison cannot pass by always falling back.
"""

import json
import random
import time
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.errors import InputError
from aggregator.ingest import feedparser_compat, feeds, xmlfeeds
from aggregator.types import SourceData
from tests.benchmarks import feedcorpus
from tests.support.feeds import laughs, web_rss, wire_feed
from tests.support.project import DATA, REPO

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SAMPLES = sorted(p for p in (DATA / "feeds").iterdir() if p.suffix != ".json")
# Fixtures the fast path must take; the others must fall back.
FAST_SAMPLES = {
    "empty_channel.xml",
    "microblog_no_titles.xml",
    "naive_dates.xml",
    "rss10_korean.rdf",
    "rss20_relative_links.xml",
}


def outcome(parse, data: bytes, **call: object) -> SourceData | str:  # noqa: ANN001
    call.setdefault("source_key", "test:feed")
    call.setdefault("zone", SEOUL)
    call.setdefault("now", NOW)
    try:
        return parse(data, **call)
    except InputError as error:
        return f"InputError: {error.reason}"


def assert_same(data: bytes, fast: bool, **call: object) -> None:
    """Both paths agree on ``data``; the fast reader took it exactly when ``fast``."""
    headers = {k.lower(): v for k, v in dict(call.get("headers") or {}).items()}  # type: ignore[call-overload]
    assert (xmlfeeds.read(data, headers) is not None) == fast
    expected = outcome(feeds._parse_with_feedparser, data, **call)  # noqa: SLF001
    actual = outcome(feeds.parse_feed, data, **call)
    if isinstance(expected, str) or isinstance(actual, str):
        assert actual == expected
        return
    assert actual.source == expected.source
    assert actual.warnings == expected.warnings
    assert actual.refresh_hint == expected.refresh_hint
    assert len(actual.items) == len(expected.items)
    for mine, reference in zip(actual.items, expected.items, strict=True):
        for field in fields(reference):
            assert getattr(mine, field.name) == getattr(reference, field.name), field.name
    assert actual == expected


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_fixture_documents(path: Path) -> None:
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    call = dict(expected.get("call", {}))
    call["now"] = datetime.fromisoformat(call.get("now", NOW.isoformat()))
    assert_same(path.read_bytes(), path.name in FAST_SAMPLES, **call)


CORPUS = feedcorpus.generate(9, 12)


@pytest.mark.parametrize("feed", CORPUS.feeds, ids=[f.path for f in CORPUS.feeds])
def test_benchmark_corpus(feed: feedcorpus.Feed) -> None:
    headers = {"Content-Type": feed.content_type}
    assert_same(feed.body, True, headers=headers, base_url=f"https://x.example{feed.path}")
    assert_same(feed.body, True, base_url=f"https://x.example{feed.path}")
    assert_same(feed.body, True, max_entries=5, now=datetime(2025, 6, 1, 3, tzinfo=UTC))


UTF8_PROLOG = '<?xml version="1.0" encoding="utf-8"?>'
RSS_NAMESPACES = (
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
)


def rss(
    items: str,
    channel: str = "<title>Wire</title><link>https://w.example/</link>",
    namespaces: str = RSS_NAMESPACES,
    prolog: str = UTF8_PROLOG,
) -> bytes:
    return (
        f'{prolog}<rss version="2.0"{namespaces}><channel>{channel}{items}</channel></rss>'
    ).encode()


ATOM_HEAD = '<title>A</title><id>urn:a</id><link href="https://a.example/"/>'


def atom(entries: str, head: str = ATOM_HEAD) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"'
        f' xml:lang="ko">{head}{entries}</feed>'
    ).encode()


HANGUL = "한반도 평화 통일"
CASES = {
    # name: (document, fast path expected)
    "cdata": (
        rss(
            "<item><title><![CDATA[A <b>bold</b> move]]></title><link>https://w.example/1</link>"
            "<description><![CDATA[<p>Hi & <a href='/x'>x</a></p>]]></description></item>"
        ),
        True,
    ),
    "entities": (
        rss(
            "<item><title>AT&amp;T &#x D55C; &#xD55C;&#54620; &lt;3</title>"
            "<link>https://w.example/a?b=1&amp;c=2</link><description>&lt;p&gt;x&lt;/p&gt;"
            "</description></item>"
        ).replace(b"&#x D55C; ", b""),
        True,
    ),
    "html-in-title": (
        rss("<item><title>&lt;b&gt;Kim&lt;/b&gt; &amp;amp; Moon</title><guid>g1</guid></item>"),
        True,
    ),
    "missing-guid-and-link": (
        rss("<item><title>Only a title</title><description>Body text</description></item>"),
        True,
    ),
    "guid-not-permalink": (
        rss(
            '<item><title>T</title><guid isPermaLink="false">urn:x:1</guid></item>'
            '<item><title>U</title><guid isPermaLink="false">/rel/2</guid>'
            "<link>https://w.example/2</link></item>"
        ),
        True,
    ),
    "guid-permalink-relative": (
        rss("<item><title>T</title><guid>/news/1</guid></item>", "<title>W</title><link>/</link>"),
        True,
    ),
    "description-and-content-encoded": (
        rss(
            "<item><title>T</title><link>https://w.example/3</link><description>Short</description>"
            "<content:encoded><![CDATA[<p>Full <b>text</b></p>]]></content:encoded></item>"
            "<item><title>U</title><content:encoded><![CDATA[<p>Full first</p>]]></content:encoded>"
            "<description>Then short</description></item>"
            "<item><title>V</title><content:encoded>  </content:encoded>"
            "<description>Only this</description></item>"
        ),
        True,
    ),
    "odd-dates": (
        rss(
            "<item><title>a</title><pubDate>2025.06.04 10:00</pubDate></item>"
            "<item><title>b</title><pubDate>Wed, 04 Jun 2025 10:00:00 KST</pubDate></item>"
            "<item><title>c</title><pubDate>2025-06-04T10:00:00</pubDate></item>"
            "<item><title>d</title><pubDate>yesterday</pubDate></item>"
            "<item><title>e</title><pubDate></pubDate><dc:date>2025-06-03</dc:date></item>"
            "<item><title>f</title><dc:date>2025-06-03T01:02:03+09:00</dc:date></item>"
            "<item><title>g</title><pubDate>2031-01-01T00:00:00Z</pubDate></item>",
            "<title>W</title><lastBuildDate>Wed, 04 Jun 2025 18:00:00 +0900</lastBuildDate>"
            "<pubDate>Tue, 03 Jun 2025 18:00:00 GMT</pubDate>",
        ),
        True,
    ),
    "missing-dates": (
        rss("<item><title>No date</title><link>https://w.example/n</link></item>"),
        True,
    ),
    "hangul-everywhere": (
        rss(
            f"<item><title>{HANGUL}</title><link>https://w.example/{HANGUL}</link>"
            f"<guid>https://w.example/{HANGUL}</guid><dc:creator>{HANGUL}</dc:creator>"
            f"<category>{HANGUL}</category><description>&lt;p&gt;{HANGUL}&lt;/p&gt;</description>"
            f"<enclosure url='https://w.example/{HANGUL}.mp3' type='Audio/MPEG' length='12'/>"
            "</item>",
            f"<title>{HANGUL}</title><link>https://w.example/</link><language>ko-KR</language>"
            "<ttl>30</ttl>",
        ),
        True,
    ),
    "bom": (b"\xef\xbb\xbf" + rss("<item><title>BOM</title><guid>b1</guid></item>"), True),
    "no-declaration": (
        rss("<item><title>T</title><guid>b2</guid></item>", prolog=""),
        True,
    ),
    "declared-euc-kr": (
        rss(
            f"<item><title>{HANGUL}</title></item>",
            prolog='<?xml version="1.0" encoding="euc-kr"?>',
        )
        .decode()
        .encode("euc-kr"),
        False,
    ),
    "mojibake-and-c1": (
        rss(
            "<item><title>caf\u00c3\u00a9 \u0093quoted\u0094</title><guid>m1</guid>"
            "<description>na\u00efve</description></item>"
            f"<item><title>{HANGUL} \u0093q\u0094 \u00c3\u00a9</title><guid>m2</guid>"
            f"<description>{HANGUL}\u0080</description></item>"
        ),
        True,
    ),
    "authors": (
        rss(
            "<item><title>a</title><author>desk@w.example (Lee Soo-min)</author></item>"
            "<item><title>b</title><author>desk@w.example</author></item>"
            "<item><title>c</title><author>Lee &lt;lee@w.example&gt;</author></item>"
            "<item><title>d</title><dc:creator>Kim</dc:creator></item>"
            "<item><title>e</title><author>kim@news.example.co.kr (김)</author></item>"
        ),
        True,
    ),
    "categories": (
        rss(
            "<item><title>a</title><category domain='d'>X</category><category>Y</category>"
            "<category domain='d'></category><category>X</category><dc:subject>Z</dc:subject>"
            "</item>"
        ),
        True,
    ),
    "channel-extras": (
        rss(
            "<item><title>T</title><comments>https://w.example/c</comments>"
            "<slash:comments>3</slash:comments><atom:link rel='self' href='https://w.example/s'/>"
            "</item>",
            "<title>W</title><link>https://w.example/</link><description>About</description>"
            "<atom:link rel='self' type='application/rss+xml' href='https://w.example/feed'/>"
            "<image><url>https://w.example/i.png</url><title>W</title><link>https://w.example/</link>"
            "</image><generator>gen</generator><sy:updatePeriod>hourly</sy:updatePeriod>"
            "<sy:updateFrequency>2</sy:updateFrequency><managingEditor>e@w.example (E)"
            "</managingEditor><webMaster>w@w.example</webMaster><copyright>c</copyright>",
            namespaces=' xmlns:atom="http://www.w3.org/2005/Atom"'
            ' xmlns:slash="http://purl.org/rss/1.0/modules/slash/"'
            ' xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"',
        ),
        True,
    ),
    "atom-link-alternate-in-rss": (
        rss(
            "<item><title>T</title><atom:link href='https://w.example/alt'/></item>",
            namespaces=' xmlns:atom="http://www.w3.org/2005/Atom"',
        ),
        True,
    ),
    "unknown-namespace": (
        rss(
            "<item><title>T</title><x:thing>1</x:thing><x:other a='1'>2</x:other></item>",
            namespaces=' xmlns:x="https://unknown.example/ns"',
        ),
        True,
    ),
    "relative-links-xml-base": (
        rss('<item xml:base="https://b.example/dir/"><title>T</title><link>rel</link></item>'),
        False,
    ),
    "namespace-declared-below-root": (
        rss('<item><title>T</title><x:y xmlns:x="https://unknown.example/">1</x:y></item>'),
        False,
    ),
    "media-rss-inert": (
        rss(
            "<item><title>T</title><media:content url='https://w.example/a.jpg' medium='image'>"
            "<media:thumbnail url='https://w.example/t.jpg'/><media:credit>AP</media:credit>"
            "</media:content><media:group><media:content url='https://w.example/b.jpg'/>"
            "</media:group><media:category>Politics</media:category><category>X</category>"
            "</item>",
            namespaces=' xmlns:media="http://search.yahoo.com/mrss/"',
        ),
        True,
    ),
    "media-rss": (
        rss(
            "<item><title>T</title><media:title>M</media:title></item>",
            namespaces=' xmlns:media="http://search.yahoo.com/mrss/"',
        ),
        False,
    ),
    "itunes": (
        rss(
            "<item><title>T</title><itunes:author>I</itunes:author></item>",
            namespaces=' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"',
        ),
        False,
    ),
    "two-titles": (rss("<item><title>A</title><title>B</title></item>"), False),
    "markup-in-description": (
        rss("<item><title>A</title><description><p>x</p></description></item>"),
        False,
    ),
    "source": (
        rss("<item><title>A</title><source url='https://s.example/'>S</source></item>"),
        False,
    ),
    "rss-0.91": (rss("<item><title>A</title></item>").replace(b'"2.0"', b'"0.91"'), False),
    "atom-basic": (
        atom(
            '<entry><title type="html">&lt;b&gt;T&lt;/b&gt;</title><id>tag:a,2025:1</id>'
            '<link rel="alternate" href="https://a.example/1"/><updated>2025-06-04T10:00:00+09:00'
            "</updated><author><name>김</name><email>k@a.example</email></author>"
            '<category term="nk" label="N"/><summary type="html">&lt;p&gt;S&lt;/p&gt;</summary>'
            '<content type="html">&lt;p&gt;C &lt;a href="x"&gt;x&lt;/a&gt;&lt;/p&gt;</content>'
            "</entry>"
        ),
        True,
    ),
    "atom-text-and-no-link": (
        atom(
            "<entry><title>T &amp; &lt;U&gt;</title><id>https://a.example/2</id>"
            '<link rel="self" href="https://a.example/api/2"/>'
            '<link rel="enclosure" type="audio/mpeg" length="99" href="/a.mp3"/>'
            "<published>2025-06-04T10:00:00Z</published>"
            '<content type="text" xml:lang="en">Line one\n\nLine &lt;two&gt;</content></entry>'
            "<entry><id>urn:uuid:3</id><content>Plain</content><summary>Sum</summary>"
            "<author><name>Only</name><uri>/me</uri></author><contributor><name>C</name>"
            "</contributor></entry>"
        ),
        True,
    ),
    "atom-xhtml": (
        atom(
            '<entry><title>T</title><id>urn:x</id><content type="xhtml">'
            '<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></content></entry>'
        ),
        False,
    ),
    "atom-content-src": (
        atom('<entry><title>T</title><id>urn:y</id><content src="https://a.example/c"/></entry>'),
        False,
    ),
    "two-contents": (
        rss(
            "<item><title>T</title><content:encoded>a</content:encoded>"
            "<content:encoded>b</content:encoded></item>"
        ),
        False,
    ),
    "triple-slash-links": (
        rss(
            "<item><title>T</title><link>https:///w.example/3</link>"
            "<guid>http:///w.example/g</guid></item>"
        ),
        True,
    ),
    "two-links": (
        rss(
            "<item><title>T</title><link>https://w.example/first</link>"
            "<link>https://w.example/second</link></item>"
        ),
        True,
    ),
    "xml-lang-scopes": (
        rss(
            '<item xml:lang="en_GB"><title>T</title><description>D</description></item>'
            '<item><title xml:lang="">U</title><description xml:lang="ko">D</description></item>'
            f"<item><title>{HANGUL}</title></item>"
        ).replace(b'version="2.0"', b'version="2.0" xml:lang="de"'),
        True,
    ),
    "rss-1.0": (
        b'<?xml version="1.0" encoding="utf-8"?><rdf:RDF'
        b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
        b' xmlns:dc="http://purl.org/dc/elements/1.1/" xml:lang="ko">'
        b'<channel rdf:about="https://r.example/rss"><title>R</title><link>https://r.example/</link>'
        b"<description>D</description><items><rdf:Seq><rdf:li rdf:resource='https://r.example/1'/>"
        b"</rdf:Seq></items><image rdf:resource='https://r.example/i.png'/></channel>"
        b"<item rdf:about='https://r.example/1'><title>One</title><link>https://r.example/1</link>"
        b"<dc:date>2025-06-04T10:00:00+09:00</dc:date><dc:creator>K</dc:creator>"
        b"<description>&lt;p&gt;x&lt;/p&gt;</description></item>"
        b"<image rdf:about='https://r.example/i.png'><title>R</title><url>https://r.example/i.png</url>"
        b"<link>https://r.example/</link></image></rdf:RDF>",
        True,
    ),
    "rss-1.0-image-before-channel": (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/"><image rdf:about="i"><title>I</title></image>'
        b"<channel rdf:about='c'><title>C</title></channel><item rdf:about='x'><title>X</title>"
        b"</item></rdf:RDF>",
        False,
    ),
    "feed-level-people": (
        atom(
            "<entry><title>T</title><id>urn:p</id></entry>",
            "<title>A</title><author><name>N</name></author><contributor><name>C</name>"
            "</contributor><rights>r</rights><subtitle>s</subtitle><icon>/i.png</icon>"
            "<generator uri='https://g.example/'>G</generator><category term='c'/>",
        ),
        True,
    ),
    "atom-two-authors": (
        atom(
            "<entry><title>T</title><id>urn:z</id><author><name>A</name></author>"
            "<author><name>B</name></author></entry>"
        ),
        False,
    ),
    "atom-0.3": (
        b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old</title>'
        b"<entry><title>T</title><issued>2004-01-01T00:00:00Z</issued></entry></feed>",
        False,
    ),
    # C1 controls (read as windows-1252) only where the document has them: each way they come.
    **{
        f"c1-control-{how}": (
            rss(
                f"<item><title>{HANGUL} {c1}q{c1}</title><description>&lt;p&gt;{HANGUL} "
                f"{c1}&lt;/p&gt;</description><author>{c1}Kim</author></item>",
                channel=f"<title>{HANGUL}</title><link>https://w.example/</link>",
            ),
            True,
        )
        for how, c1 in [
            ("bytes", "\u0093"),
            ("hex", "&#x93;"),
            ("padded-hex", "&#x0085;"),
            ("decimal", "&#150;"),
            ("padded-decimal", "&#00128;"),
            ("last", "&#159;"),
        ]
    },  # fmt: skip
    "c1-upper-x": (rss("<item><title>&#X93;</title></item>"), False),
    "undefined-entity": (rss("<item><title>&nbsp;T</title></item>"), False),
    "not-well-formed": (rss("<item><title>T</item>"), False),
    "html-page": (b"<html><head><title>x</title></head><body>hi</body></html>", False),
}


@pytest.mark.parametrize("name", CASES)
def test_edge_cases(name: str) -> None:
    document, fast = CASES[name]
    assert_same(document, fast, base_url="https://base.example/page")


@pytest.mark.parametrize(
    ("content_type", "fast"),
    [
        ("application/rss+xml; charset=utf-8", True),
        ("application/xml", True),
        ('application/rss+xml; charset="UTF-8"', True),
        # us-ascii by RFC 3023: feedparser reads the declared UTF-8 and complains
        ("text/xml", True),
        ("text/xml; charset=utf-8", True),
        ("text/html; charset=utf-8", True),  # read, with a complaint about the media type
        ("application/rss+xml; charset=euc-kr", True),  # UTF-8 bytes are no EUC-KR
        ("application/octet-stream", True),
        ("text/plain; charset=windows-1252", True),  # these UTF-8 bytes are no windows-1252
    ],
)
def test_http_content_types(content_type: str, fast: bool) -> None:
    document = rss(f"<item><title>{HANGUL}</title><guid>h1</guid></item>")
    assert_same(document, fast, headers={"Content-Type": content_type})


def test_a_charset_that_decodes_to_other_text_falls_back() -> None:
    document = rss("<item><title>caf\u00e9</title><guid>h3</guid></item>")  # \xc3\xa9: "Ã©"
    assert_same(document, False, headers={"Content-Type": "text/xml; charset=windows-1252"})


MALFORMED_UTF8 = [
    b"\x80", b"\xc2", b"\xc0\x80", b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xf0\x80\x80\x80",
    b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff", b"\xe2\x82", b"\xc3\x28",
]  # fmt: skip
MALFORMED_PLACES = [
    "<item><title>{}</title></item>", "<item><title a='{}'>T</title></item>",
    "<item><description><![CDATA[{}]]></description></item>", "<!-- {} --><item/>",
    "<?pi {}?><item/>", "<item><x{}y>T</x{}y></item>",
]  # fmt: skip


@pytest.mark.parametrize("place", MALFORMED_PLACES)
@pytest.mark.parametrize(
    "headers",
    [None, {"Content-Type": "application/rss+xml; charset=utf-8"}, {"Content-Type": "text/xml"}],
)
def test_malformed_utf8_anywhere_falls_back(place: str, headers: dict | None) -> None:
    """The fast reader leaves checking UTF-8 to libxml2: it must refuse every malformed byte."""
    for sequence in MALFORMED_UTF8:
        part = place.replace("{}", "A\x00B").encode().replace(b"\x00", sequence)
        document = rss(f"<item><title>{HANGUL}</title></item>")
        document = document.replace(b"</channel>", part + b"</channel>")
        with pytest.raises(UnicodeDecodeError):
            document.decode("utf-8")
        assert_same(document, False, headers=headers)


@pytest.mark.parametrize(
    "document",
    [
        "<rss version='2.0'><channel><title>T</title></channel></rss>".encode("utf-16-le"),
        "<rss version='2.0'><channel><title>T</title></channel></rss>".encode("utf-32"),
        b'<?xml version="1.0" encoding="\xff\xfe"?><rss version="2.0"><channel/></rss>',
    ],
    ids=["utf-16-unmarked", "utf-32", "encoding-name-not-utf-8"],
)
def test_other_encoding_marks_fall_back(document: bytes) -> None:
    assert xmlfeeds.read(document, {}) is None
    assert xmlfeeds.read(document, {"content-type": "text/xml"}) is None


def test_a_complaint_about_the_encoding_is_the_same_warning() -> None:
    document = rss(f"<item><title>{HANGUL}</title><guid>h1</guid></item>")
    data = feeds.parse_feed(
        document, source_key="k", headers={"Content-Type": "text/xml"}, zone=SEOUL
    )
    assert data.warnings == (
        "k: malformed feed, usable entries kept "
        "(document declared as us-ascii, but parsed as utf-8)",
    )


def test_ascii_text_xml_takes_the_fast_path() -> None:
    document = rss("<item><title>ASCII only</title><guid>h2</guid></item>")
    assert_same(document, True, headers={"Content-Type": "text/xml"})


def test_a_billion_laughs_falls_back_and_is_defused() -> None:
    levels = "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 11)
    ).replace("&l0;", "lol")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE x [{levels}]><rss version="2.0"><channel>'
        "<title>&l10;</title><item><title>&l10;</title><link>https://x.example/2</link></item>"
        "</channel></rss>"
    ).encode()
    started = time.perf_counter()
    assert xmlfeeds.read(document, {}) is None
    data = feeds.parse_feed(document, source_key="t", zone=SEOUL)
    assert time.perf_counter() - started < 1.0
    assert any("DOCTYPE with entity declarations removed" in w for w in data.warnings)
    assert_same(document, False)


@pytest.mark.parametrize(
    "prolog",
    [
        '<!-- <a --><!DOCTYPE rss [<!ENTITY x "y">]>',
        "<?pi <a ?><!DOCTYPE rss>",
        "<!-- -- --><!DOCTYPE rss SYSTEM 'file:///etc/passwd'>",
    ],
)
def test_a_doctype_behind_markup_lookalikes_falls_back(prolog: str) -> None:
    document = rss("<item><title>T</title><guid>g</guid></item>", prolog=prolog)
    assert xmlfeeds.read(document, {}) is None
    assert_same(document, False)


def test_an_entity_reference_in_the_body_without_a_doctype_falls_back() -> None:
    document = rss("<item><title>&xxe;</title></item>")
    assert xmlfeeds.read(document, {}) is None


# Random documents from the pieces below: what one feed combines, in what order and how often,
# is where the two readers could part (which of two summaries wins, an id standing in for a
# link, a date given twice). Fixed seeds keep failures reproducible.
TEXTS = [
    "plain", "", "  spaced  out ", "A &amp; B", "&lt;b&gt;bold&lt;/b&gt; x", "Tom &amp;amp; Jerry",
    "<![CDATA[<p>c & d</p>]]>", HANGUL, "caf\u00c3\u00a9", "\u0093q\u0094", "x &#169; y",
    f"{HANGUL} &#x80;&#x9f;&#130;", "&#xa0;&#127;&#160;",
    "&lt;p&gt;One&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;", "a@b.example (Name)", "mail@host.example",
    "Kim &lt;k@x.org&gt;",
]  # fmt: skip
URLS = [
    "https://x.example/a", "/rel/b", "rel", "https:///triple", "http://x.example/?a=1&amp;b=2",
    "http://x.example/&amp;amp;q;", "tag:x,2025:1", "", "  https://x.example/sp  ",
]  # fmt: skip
DATES = [
    "Wed, 04 Jun 2025 15:00:00 +0900", "2025-06-04T10:00:00Z", "2025-06-04", "2025.06.04 10:00",
    "garbage", "", "Wed, 04 Jun 2025 15:00:00 KST", "2031-01-01T00:00:00+00:00",
]  # fmt: skip
RSS_ITEM_PARTS = [
    "<title>{t}</title>", "<title type='{kind}'>{t}</title>", "<link>{u}</link>",
    "<guid>{u}</guid>", "<guid isPermaLink='{permalink}'>{u}</guid>",
    "<description>{t}</description>",
    "<content:encoded>{t}</content:encoded>", "<pubDate>{d}</pubDate>", "<dc:date>{d}</dc:date>",
    "<dc:creator>{t}</dc:creator>", "<author>{t}</author>", "<category>{t}</category>",
    "<category domain='{u}'>{t}</category>", "<dc:subject>{t}</dc:subject>",
    "<enclosure url='{u}' type='Audio/MP3' length='12'/>", "<comments>{u}</comments>",
    "<atom:link rel='{rel}' href='{u}'/>", "<atom:link href='{u}' type='{media}'/>",
    "<x:thing>{t}</x:thing>", "<x:thing a='1'>{t}</x:thing>", "<source url='{u}'>{t}</source>",
    "<media:title>{t}</media:title>", "<summary>{t}</summary>", "<language>ko</language>",
    "<title xml:lang='{lang}'>{t}</title>", "<slash:comments>3</slash:comments>",
    "<date>{d}</date>", "<wfw:commentRss>{u}</wfw:commentRss>",
    "<media:content url='{u}' medium='image'/>", "<media:thumbnail url='{u}'/>",
    "<media:content url='{u}'><media:thumbnail url='{u}'/><media:credit>{t}</media:credit>"
    "</media:content>", "<media:group><media:content url='{u}'/><media:title>{t}</media:title>"
    "</media:group>", "<media:group><media:content url='{u}'/></media:group>",
    "<media:category scheme='s'>{t}</media:category>", "<media:keywords>a, b</media:keywords>",
    "<media:description>{t}</media:description>", "<media:thumbnail>{u}</media:thumbnail>",
]  # fmt: skip
RSS_CHANNEL_PARTS = [
    "<lastBuildDate>{d}</lastBuildDate>", "<pubDate>{d}</pubDate>", "<ttl>60</ttl>",
    "<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>",
    "<language>en-us</language>", "<image><url>{u}</url><title>{t}</title><link>{u}</link></image>",
    "<atom:link rel='self' href='{u}'/>", "<atom:link href='{u}'/>",
    "<description>{t}</description>",
    "<managingEditor>{t}</managingEditor>", "<guid>{u}</guid>",
]  # fmt: skip
ATOM_ENTRY_PARTS = [
    "<title>{t}</title>", "<title type='{kind}'>{t}</title>", "<id>{u}</id>", "<link href='{u}'/>",
    "<link rel='{rel}' href='{u}' type='{media}'/>", "<link>{u}</link>",
    "<published>{d}</published>",
    "<updated>{d}</updated>", "<author><name>{t}</name></author>",
    "<author><name>{t}</name><email>{t}</email><uri>{u}</uri></author>",
    "<author><email>{t}</email></author>", "<author></author>", "<category term='{t}'/>",
    "<category term='' scheme='s'>{t}</category>", "<summary>{t}</summary>",
    "<summary type='{kind}'>{t}</summary>", "<content type='{content}'>{t}</content>",
    "<content>{t}</content>", "<rights>{t}</rights>", "<contributor><name>{t}</name></contributor>",
    "<content xml:lang='en' type='html'>{t}</content>",
]  # fmt: skip
ATOM_HEAD_PARTS = [
    "<link href='{u}'/>", "<link rel='self' href='{u}'/>", "<updated>{d}</updated>",
    "<author><name>{t}</name></author>", "<subtitle>{t}</subtitle>",
]  # fmt: skip
FUZZ_NAMESPACES = (
    RSS_NAMESPACES + ' xmlns:atom="http://www.w3.org/2005/Atom" xmlns:x="https://x.example/ns"'
    ' xmlns:media="http://search.yahoo.com/mrss/"'
    ' xmlns:slash="http://purl.org/rss/1.0/modules/slash/"'
    ' xmlns:wfw="http://wellformedweb.org/CommentAPI/"'
    ' xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'
)


def pieces(rng: random.Random, parts: list[str], most: int) -> str:
    return "".join(
        rng.choice(parts).format(
            t=rng.choice(TEXTS),
            u=rng.choice(URLS),
            d=rng.choice(DATES),
            kind=rng.choice(["html", "text", "xhtml"]),
            permalink=rng.choice(["true", "false", "True"]),
            rel=rng.choice(["self", "alternate", "enclosure", "edit"]),
            media=rng.choice(["text/html", "application/xhtml+xml", "audio/mpeg"]),
            lang=rng.choice(["en", "", "ko_KR"]),
            content=rng.choice(["html", "text", "text/html", "image/png"]),
        )  # fmt: skip
        for _ in range(rng.randint(0, most))
    )


def random_document(rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        channel = f"<title>{rng.choice(TEXTS)}</title><link>{rng.choice(URLS)}</link>"
        channel = pieces(rng, RSS_CHANNEL_PARTS, 3) + channel + pieces(rng, RSS_CHANNEL_PARTS, 2)
        items = "".join(
            f"<item>{pieces(rng, RSS_ITEM_PARTS, 7)}</item>" for _ in range(rng.randint(0, 4))
        )
        return rss(items, channel, FUZZ_NAMESPACES)
    head = f"<title>{rng.choice(TEXTS)}</title><id>{rng.choice(URLS)}</id>"
    head = pieces(rng, ATOM_HEAD_PARTS, 2) + head + pieces(rng, ATOM_HEAD_PARTS, 2)
    entries = "".join(
        f"<entry>{pieces(rng, ATOM_ENTRY_PARTS, 7)}</entry>" for _ in range(rng.randint(0, 4))
    )
    return atom(entries, head)


@pytest.mark.parametrize("seed", range(4))
def test_random_documents(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(100):
        document = random_document(rng)
        fast = xmlfeeds.read(document, {}) is not None
        taken += fast
        assert_same(document, fast, base_url="https://base.example/page")
    assert taken >= 25  # about 40% of these documents are plain enough for the fast path


PROLOGS = [
    "", "<?xml version='1.0'?>", '<?xml version="1.0" encoding="UTF-8"?>',
    "<?xml version='1.0' encoding='utf8'?>", "<?xml version='1.0' encoding='ascii'?>",
    "<?xml version='1.0' encoding='iso-8859-1'?>", "<?xml version='1.1'?>",
    "<?xml version='1.0' standalone='yes'?>", " <?xml version='1.0'?>",
    "<?xml version='1.0'?>\n<!-- c -->\n", "<?xml version='1.0'?><?xml-stylesheet href='s.xsl'?>",
    "<?xml-stylesheet href='s.xsl'?>", "<!DOCTYPE rss>", "\n\n",
    "<?xml version='1.0' encoding='bogus'?>",
    "<?xml version='1.0'?><!DOCTYPE rss PUBLIC '-//Netscape Communications//DTD RSS 0.91//EN'"
    " 'http://my.netscape.com/publish/formats/rss-0.91.dtd'>",
]  # fmt: skip
HEADER_SETS = [
    None, {"Content-Type": "application/rss+xml"}, {"Content-Type": "text/xml"},
    {"Content-Type": "text/xml; charset=UTF-8"},
    {"Content-Type": "application/xml; charset=latin-1"},
    {"Content-Type": "text/html"}, {"Content-Type": "Application/XML"}, {"Server": "no type"},
    {"Content-Type": "application/rss+xml", "Content-Location": "https://c.example/"},
    {"content-type": 'application/rss+xml; charset="utf8"; x=y'},
]  # fmt: skip


@pytest.mark.parametrize("prolog", PROLOGS)
def test_prologs_byte_order_marks_and_headers(prolog: str) -> None:
    """The encoding feedparser would settle on decides, with what HTTP said, whether to go fast."""
    for text in (HANGUL, "ASCII"):
        body = f"<rss version='2.0'><channel><title>{text}</title><item><title>T</title>"
        body += "<guid>g</guid></item></channel></rss>"
        for bom in (b"", b"\xef\xbb\xbf"):
            for headers in HEADER_SETS:
                document = bom + (prolog + body).encode()
                lowered = {k.lower(): v for k, v in (headers or {}).items()}
                assert_same(document, xmlfeeds.read(document, lowered) is not None, headers=headers)
    plain = (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>{HANGUL}</title></channel></rss>"
    )
    assert xmlfeeds.read(plain.encode(), {"content-type": "application/rss+xml"}) is not None


def other_tests_documents() -> dict[str, tuple[bytes, bool]]:
    """The feeds other tests hand the parser (name: document, fast path expected)."""
    from tests import corpus, workload  # noqa: PLC0415 (only this test needs them)

    entries = corpus.generate(20, 3)
    documents = {f"corpus-{n}": (corpus.rss(n, entries), True) for n in range(3)}
    documents |= {f"workload-{n}": (workload.feed_body(n, n + 1), True) for n in range(3)}
    documents["web-ttl"] = (web_rss("A", "B", extra="<ttl>180</ttl>"), True)
    documents["web-euc-kr"] = (web_rss("남북 대화", encoding="euc-kr"), False)
    documents["web-sy"] = (
        web_rss("B")
        .replace(
            b"<rss version", b'<rss xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" version'
        )
        .replace(b"<title>Peninsula", b"<sy:updatePeriod>daily</sy:updatePeriod><title>Peninsula"),
        True,
    )
    documents["dedup-wire"] = (wire_feed("wire", "Seoul proposes talks", " extra"), True)
    documents["laughs"] = (laughs().encode(), False)
    documents["seed-bom-atom"] = (
        b"\xef\xbb\xbf  \n<feed xmlns='http://www.w3.org/2005/Atom'><title>Wire</title>"
        b"<entry><id>urn:1</id><title>Drill ends</title>"
        b"<updated>2031-01-01T00:00:00Z</updated></entry></feed>",
        True,
    )
    documents["doctype-in-cdata"] = (
        b"<rss version='2.0'><channel><title>XML tips</title><item><title>Doctypes</title>"
        b"<link>https://x.example/3</link><description><![CDATA[<p>Write "
        b"&lt;!DOCTYPE x [ ]&gt; like this: <code><!DOCTYPE x [ ]></code></p>]]></description>"
        b"</item></channel></rss>",
        True,
    )
    return documents


@pytest.mark.parametrize("name", list(other_tests_documents()))
def test_documents_of_other_tests(name: str) -> None:
    document, fast = other_tests_documents()[name]
    assert_same(document, fast, base_url="https://base.example/page")


def test_the_installed_feedparser_is_the_release_the_fast_reader_reproduces() -> None:
    assert feedparser_compat.INSTALLED_VERSION == feedparser_compat.TESTED_VERSION, (
        "run these tests against the new feedparser, then update TESTED_VERSION and the pin"
    )


# Real outlets' feeds, read in place (shared/realworld): what no synthetic case shows. The
# default run takes one file in fifty and the day's files that once differed (escaped control
# characters); `-m slow` takes all 1,083. The fast path must take every one but the file whose
# title holds a raw control character, which is no XML.
REALWORLD = REPO.parent / "shared" / "realworld"
REAL_FEEDS = sorted(REALWORLD.glob("*/*.xml")) + sorted(REALWORLD.glob("*/*/*.xml"))
ONCE_DIFFERED = {"2022-07-23/hankookilbo-column.xml", "2022-07-23/khan-_all_.xml"}
NOT_XML = {"knews-rss/2022-07-27/chosun-economy.xml"}
SAMPLED = [
    p
    for n, p in enumerate(REAL_FEEDS)
    if n % 50 == 0 or f"{p.parent.name}/{p.name}" in ONCE_DIFFERED
]


def _name(path: Path) -> str:
    return path.relative_to(REALWORLD).as_posix()


@pytest.mark.parametrize("path", SAMPLED, ids=map(_name, SAMPLED))
def test_real_feeds(path: Path) -> None:
    assert_same(path.read_bytes(), _name(path) not in NOT_XML)


@pytest.mark.slow
@pytest.mark.parametrize("path", REAL_FEEDS, ids=map(_name, REAL_FEEDS))
def test_every_real_feed(path: Path) -> None:
    assert_same(path.read_bytes(), _name(path) not in NOT_XML)
