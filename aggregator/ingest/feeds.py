"""The feedparser adapter: feed bytes (+ response headers) -> SourceData. It never fetches.

Bozo policy: a document with usable entries is kept even when feedparser
flags it (with a warning naming the source); a document that is no feed at
all is an InputError. One unusable entry is skipped with a warning; the rest
are kept. We sanitize HTML ourselves (nh3), so feedparser's slower sanitizer
is off, and we resolve relative URLs while sanitizing, so its resolver is off.

Entity declarations are removed before parsing: expat expands internal
entities until its amplification limit trips, which for a 1 KB "billion
laughs" document cost feedparser 6.0.14 3.5 s and 58 MB; feeds never need them.
"""

import calendar
import functools
import hashlib
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import feedparser

from aggregator.errors import InputError
from aggregator.ingest import xmlfeeds
from aggregator.ingest.dates import find_datetime
from aggregator.ingest.fields import guess_language, title_from
from aggregator.ingest.jsonfeed import parse_json_feed
from aggregator.ingest.offsets import settle_dates
from aggregator.ingest.repair import repair_source
from aggregator.ingest.sanitize import content_to_html
from aggregator.ingest.xmlencoding import undeclared_korean, utf8_if_utf16
from aggregator.text import html_to_text
from aggregator.types import (
    DEFAULT_LIMITS,
    Enclosure,
    InputLimits,
    ItemData,
    SourceData,
    SourceInfo,
    SourceKind,
)

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
_FEED_START = re.compile(rb"^\s*(<\?xml|<rss|<feed|<rdf:RDF|<!--)", re.IGNORECASE)
_DOCTYPE_WITH_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[.*?\]\s*>", re.IGNORECASE | re.DOTALL)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
# The end of a date string that names its zone: "Z", "+09:00", "+0900", "GMT", "KST" (not "PM").
_WRITTEN_ZONE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2}|\b(?![AP]M$)[A-Z]{1,5})$")
_SEOUL = ZoneInfo("Asia/Seoul")
_EMAIL = re.compile(r"\S+@\S+")
_EMAIL_AND_NAME = re.compile(r"^\s*\S+@\S+\s*\((?P<name>[^)]*)\)\s*$")
# An absolute http(s) URL that urljoin would hand back unchanged: visible ASCII, a lower-case
# scheme, a plain host, no ";params", no empty "?" or "#" (urljoin rebuilds it from its parts,
# dropping those; for another scheme than the base's it returns it as it is).
_PLAIN_ABSOLUTE_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[!$-:=@-~]*)?(?:\?[!$-~]+)?(?:#[!-~]+)?"
)


def looks_like_feed(raw: bytes, suffix: str = "") -> bool:
    """True for a saved RSS/Atom document (by extension, or by how its bytes start)."""
    head = utf8_if_utf16(raw[:1024]).removeprefix(b"\xef\xbb\xbf")
    return suffix.lower() in FEED_SUFFIXES or bool(_FEED_START.match(head))


def parse_feed(
    data: bytes,
    *,
    source_key: str,
    kind: SourceKind = SourceKind.FEED,
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
    zone: ZoneInfo,
    now: datetime | None = None,
    max_entries: int | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    date_offset: timedelta | None = None,
) -> SourceData:
    """Parse an RSS, Atom or JSON Feed document into repaired items; InputError when it is no feed.

    ``zone`` is the zone of dates written without one; ``now`` (when given)
    caps dates in the future; ``max_entries`` caps how many entries are taken;
    ``date_offset`` is the offset the source was found to write its dates in
    (``ingest.offsets``). Plain RSS/Atom goes through the fast ``xmlfeeds``
    reader, anything else through feedparser; both give the same result, which
    ``repair`` then mends once for every kind of input (issue #19).
    """
    parsed = _parse(data, source_key=source_key, kind=kind, headers=headers, base_url=base_url,
                    zone=zone, max_entries=max_entries)  # fmt: skip
    settled = settle_dates(parsed, now=now, known_offset=date_offset, zone=zone)
    return repair_source(settled, limits)


def _parse(
    data: bytes,
    *,
    source_key: str,
    kind: SourceKind,
    headers: Mapping[str, str] | None,
    base_url: str | None,
    zone: ZoneInfo,
    max_entries: int | None,
) -> SourceData:
    """The document's items as it states them: no date or text repaired yet."""
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if "json" in response_headers.get("content-type", "") or data.lstrip(
        b"\xef\xbb\xbf \t\r\n"
    ).startswith(b"{"):
        return parse_json_feed(data, source_key=source_key, kind=kind, base_url=base_url,
                               zone=zone, max_entries=max_entries)  # fmt: skip
    fast = xmlfeeds.read(data, response_headers)
    if fast is None:
        return _read_with_feedparser(
            data, source_key=source_key, kind=kind, headers=response_headers,
            base_url=base_url, zone=zone, max_entries=max_entries,
        )  # fmt: skip
    feed, entries, problem = fast
    warnings = [] if problem is None else [_malformed(source_key, problem)]
    # libxml2 refuses characters no XML document can hold, but escaped HTML can still carry
    # them ("&amp;#1" in a real khan.co.kr feed), and the sanitizer unescapes them: repair
    # drops them, for every reader.
    return _source_data(feed, entries, warnings, source_key=source_key, kind=kind,
                        base_url=base_url, zone=zone, max_entries=max_entries)  # fmt: skip


def _parse_with_feedparser(
    data: bytes,
    *,
    source_key: str,
    kind: SourceKind = SourceKind.FEED,
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
    zone: ZoneInfo,
    now: datetime | None = None,
    max_entries: int | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    date_offset: timedelta | None = None,
) -> SourceData:
    """``parse_feed`` by feedparser alone: the reference tests compare the fast reader with."""
    parsed = _read_with_feedparser(
        data, source_key=source_key, kind=kind, headers=headers, base_url=base_url, zone=zone,
        max_entries=max_entries,
    )  # fmt: skip
    settled = settle_dates(parsed, now=now, known_offset=date_offset, zone=zone)
    return repair_source(settled, limits)


def _read_with_feedparser(
    data: bytes,
    *,
    source_key: str,
    kind: SourceKind,
    headers: Mapping[str, str] | None,
    base_url: str | None,
    zone: ZoneInfo,
    max_entries: int | None,
) -> SourceData:
    """``_parse`` for an XML document by feedparser, for every document ``xmlfeeds`` refuses."""
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    warnings: list[str] = []
    data = utf8_if_utf16(data)
    if (stripped := _without_entity_declarations(data)) is not None:
        data = stripped
        warnings.append(f"{source_key}: DOCTYPE with entity declarations removed")
    parsed = _feedparser(data, response_headers)
    if undeclared_korean(data, parsed):
        # feedparser falls back to windows-1252 for undeclared non-UTF-8 bytes;
        # Korean sites that declare nothing mean EUC-KR/CP949.
        response_headers["content-type"] = "application/xml; charset=cp949"
        parsed = _feedparser(data, response_headers)
        warnings.append(f"{source_key}: no usable encoding declared, read as CP949 (Korean)")
    if not parsed.version and not parsed.entries:
        problem = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise InputError(source_key, f"not a feed: {problem}")
    if parsed.bozo:
        warnings.append(_malformed(source_key, parsed.bozo_exception))
    # A loosely parsed document can hold characters no XML document can (&#2;): repair drops them.
    return _source_data(parsed.feed, parsed.entries, warnings, source_key=source_key, kind=kind,
                        base_url=base_url, zone=zone, max_entries=max_entries)  # fmt: skip


def _malformed(source_key: str, problem: object) -> str:
    return f"{source_key}: malformed feed, usable entries kept ({problem})"


def _source_data(
    feed: Mapping,
    entries: list,
    warnings: list[str],
    *,
    source_key: str,
    kind: SourceKind,
    base_url: str | None,
    zone: ZoneInfo,
    max_entries: int | None,
) -> SourceData:
    """SourceData from feedparser's ``feed`` and ``entries`` (or the fast reader's same values)."""
    site_link = urljoin(base_url or "", feed["link"]) if feed.get("link") else base_url
    if max_entries is not None and len(entries) > max_entries:
        warnings.append(f"{source_key}: {len(entries)} entries, only the first {max_entries} taken")
        entries = entries[:max_entries]
    items: list[ItemData] = []
    # Atom entries repeat one date as published and updated; reading it costs.
    when = functools.cache(functools.partial(_when, zone=zone))
    for position, entry in enumerate(entries, start=1):
        link = _resolved(site_link, entry["link"]) if entry.get("link") else None
        title = _text(entry.get("title_detail"), entry.get("title", ""))
        content = _content(entry, link or site_link, base_url)
        if not title and not content and not link:
            label = f" ({entry['id']})" if entry.get("id") else ""
            warnings.append(
                f"{source_key}: entry {position}{label} skipped: no title, content or link"
            )
            continue
        key = entry.get("id") or link
        if not key:
            key = "sha256:" + hashlib.sha256(f"{title}\n{content}".encode()).hexdigest()
        # dict.get: feedparser's own get() answers a missing "updated" with "published".
        published = when(dict.get(entry, "published"), dict.get(entry, "published_parsed"))
        updated = when(dict.get(entry, "updated"), dict.get(entry, "updated_parsed"))
        published = published or updated
        items.append(
            ItemData(
                key=key,
                title=title or title_from(content, link or key),
                content_html=content,
                published=published,
                updated=updated,
                author=_author(entry),
                link=link,
                language=_language(entry, feed, title, content),
                categories=tuple(
                    dict.fromkeys(t["term"].strip() for t in entry.get("tags", []) if t.get("term"))
                ),
                enclosures=_enclosures(entry, link or site_link),
            )
        )
    feed_updated = when(dict.get(feed, "updated"), dict.get(feed, "updated_parsed"))
    feed_updated = feed_updated or when(
        dict.get(feed, "published"), dict.get(feed, "published_parsed")
    )
    source = SourceInfo(
        key=source_key,
        kind=kind,
        title=_text(feed.get("title_detail"), feed.get("title", "")) or source_key,
        link=site_link,
        feed_id=feed.get("id"),
        updated=feed_updated,
    )
    return SourceData(source, tuple(items), tuple(warnings), _refresh_hint(feed))


def _feedparser(data: bytes, response_headers: Mapping[str, str]) -> feedparser.FeedParserDict:
    return feedparser.parse(
        data,
        response_headers=dict(response_headers),
        sanitize_html=False,
        resolve_relative_uris=False,
    )


def _without_entity_declarations(data: bytes) -> bytes | None:
    """``data`` without its DOCTYPE internal subset; None when the prolog has none."""
    doctype = _DOCTYPE_WITH_SUBSET.search(data)
    if doctype is None:
        return None
    root = _FIRST_ELEMENT.search(data)
    if root is not None and root.start() < doctype.start():
        return None  # a "<!DOCTYPE" inside content (CDATA), not a declaration
    return data[: doctype.start()] + data[doctype.end() :]


def _when(raw: str | None, parsed: time.struct_time | None, zone: ZoneInfo) -> datetime | None:
    """A feed date as aware UTC.

    feedparser reads a date without a zone, or with one it does not know such
    as KST, as UTC; Seoul sites mean their own clock, so those wall-clock
    times are read in ``zone`` (KST in Asia/Seoul). It also misreads formats
    it does not know ("2025.06.04 10:00" became 1 November): where the seed
    date finder reads the string more than a day apart, the finder is right.
    """
    text = (raw or "").strip()
    found = find_datetime(text, zone) if text else None
    if parsed is None:
        return found.astimezone(UTC) if found else None
    # A written zone is at most six characters long ("+09:00"); \b still sees the one before.
    written = _WRITTEN_ZONE.search(text, max(len(text) - 6, 0))
    if written is None or written.group() == "KST":
        local = zone if written is None else _SEOUL
        value = datetime(*parsed[:6], tzinfo=local).astimezone(UTC)
    else:
        value = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    if found is not None and abs(found - value) > timedelta(days=1):
        return found.astimezone(UTC)
    return value


def _resolved(base: str | None, url: str) -> str:
    """``urljoin(base or "", url)``, without its cost for the absolute links most entries have."""
    if _PLAIN_ABSOLUTE_URL.fullmatch(url):
        return url
    return urljoin(base or "", url)


def _text(detail: Mapping | None, value: str) -> str:
    """Plain text of a title: markup only dropped where the feed says the title is HTML."""
    if detail is not None and "html" in detail.get("type", ""):
        value = html_to_text(value)
    return " ".join(value.split())


def _content(entry: Mapping, fallback_base: str | None, base_url: str | None) -> str:
    """Sanitized HTML of the fullest content: HTML content, then other content, then summary."""
    contents = sorted(entry.get("content") or [], key=lambda c: "html" not in c.get("type", ""))
    summary = entry.get("summary_detail") or {"value": entry.get("summary", ""), "type": "html"}
    for detail in [*contents, summary]:
        value = detail.get("value") or ""
        if not value.strip():
            continue
        # xml:base in scope wins (RFC 4287 section 2); else the entry's own page.
        declared = detail.get("base")
        base = urljoin(base_url or "", declared) if declared else fallback_base
        return content_to_html(value, detail.get("type", "text/html"), base)
    return ""


def _author(entry: Mapping) -> str | None:
    """The author's name; a bare e-mail address is no name.

    RSS 2.0 <author> is "e-mail (Name)"; feedparser 6.0.14 splits that wrongly
    when the domain's last label is longer than four letters, so we read it.
    """
    raw = entry.get("author") or ""
    rss_form = _EMAIL_AND_NAME.match(raw)
    name = rss_form["name"] if rss_form else (entry.get("author_detail") or {}).get("name") or raw
    name = " ".join(_EMAIL.sub(" ", name).split()).strip(" ()<>,")
    return name or None


def _language(entry: Mapping, feed: Mapping, title: str, content_html: str) -> str | None:
    """The declared language, else a guess from the text (only then extracted: it is costly)."""
    details = [
        *(entry.get("content") or []),
        entry.get("summary_detail"),
        entry.get("title_detail"),
    ]
    declared = [d.get("language") for d in details if d] + [feed.get("language")]
    first = next((lang for lang in declared if lang), None)
    if first:
        return first.split("-")[0].strip().lower()
    return guess_language(title + " " + html_to_text(content_html))


_SY_PERIODS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30),
    "yearly": timedelta(days=365),
}


def _refresh_hint(feed: Mapping) -> timedelta | None:
    """How often the document says it changes: RSS <ttl> (minutes) or sy:updatePeriod/Frequency."""
    hints = []
    ttl = str(feed.get("ttl", "")).strip()
    if ttl.isdigit():
        hints.append(timedelta(minutes=int(ttl)))
    period = _SY_PERIODS.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    if period is not None:
        frequency = str(feed.get("sy_updatefrequency", "1")).strip()
        hints.append(period / max(int(frequency) if frequency.isdigit() else 1, 1))
    return max(hints, default=None)


def _enclosures(entry: Mapping, base: str | None) -> tuple[Enclosure, ...]:
    found = []
    for enclosure in entry.get("enclosures", []):
        href = enclosure.get("href")
        if not href:
            continue
        length = str(enclosure.get("length", "")).strip()
        found.append(
            Enclosure(
                _resolved(base, href),
                enclosure.get("type") or None,
                int(length) if length.isdigit() else None,
            )
        )
    return tuple(found)
