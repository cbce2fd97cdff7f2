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
import json
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
from aggregator.ingest.offsets import settle_dates
from aggregator.ingest.repair import repair_source
from aggregator.ingest.sanitize import content_to_html, text_to_html
from aggregator.text import html_to_text
from aggregator.types import (
    DEFAULT_LIMITS,
    Enclosure,
    InputLimits,
    ItemData,
    SourceData,
    SourceInfo,
)

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
_FEED_START = re.compile(rb"^\s*(<\?xml|<rss|<feed|<rdf:RDF|<!--)", re.IGNORECASE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_XML_DECLARED_ENCODING = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")
_DOCTYPE_WITH_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[.*?\]\s*>", re.IGNORECASE | re.DOTALL)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
# The end of a date string that names its zone: "Z", "+09:00", "+0900", "GMT", "KST" (not "PM").
_WRITTEN_ZONE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2}|\b(?![AP]M$)[A-Z]{1,5})$")
_SEOUL = ZoneInfo("Asia/Seoul")
_EMAIL = re.compile(r"\S+@\S+")
_EMAIL_AND_NAME = re.compile(r"^\s*\S+@\S+\s*\((?P<name>[^)]*)\)\s*$")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")
# An absolute http(s) URL that urljoin would hand back unchanged: visible ASCII, a lower-case
# scheme, a plain host, no ";params", no empty "?" or "#" (urljoin rebuilds it from its parts,
# dropping those; for another scheme than the base's it returns it as it is).
_PLAIN_ABSOLUTE_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[!$-:=@-~]*)?(?:\?[!$-~]+)?(?:#[!-~]+)?"
)


def looks_like_feed(raw: bytes, suffix: str = "") -> bool:
    """True for a saved RSS/Atom document (by extension, or by how its bytes start)."""
    head = _utf8_if_utf16(raw[:1024]).removeprefix(b"\xef\xbb\xbf")
    return suffix.lower() in FEED_SUFFIXES or bool(_FEED_START.match(head))


def guess_language(text: str) -> str | None:
    """ "ko" when Hangul is a good share of the letters, "en" when Latin letters dominate."""
    letters = len(_LETTER.findall(text))
    if not letters:
        return None
    if len(_HANGUL.findall(text)) / letters > 0.3:
        return "ko"
    return "en" if len(_LATIN.findall(text)) / letters > 0.5 else None


def looks_korean(text: str) -> bool:
    """Most non-ASCII letters are common Hangul syllables: a right CP949 decoding.

    GBK or Shift_JIS bytes decoded as CP949 give Hanja and rare syllables
    outside the 2,350 of KS X 1001 (which EUC-KR encodes in two bytes);
    Korean prose uses those 2,350 almost exclusively.
    """
    letters = [ch for ch in text if ord(ch) > 127 and ch.isalpha()]
    common = sum(
        1 for ch in letters if _HANGUL.match(ch) and len(ch.encode("euc_kr", "ignore")) == 2
    )
    return bool(letters) and common / len(letters) > 0.8


def parse_feed(
    data: bytes,
    *,
    source_key: str,
    kind: str = "feed",
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
    ``repair`` then mends once for every kind of input.
    """
    parsed = _parse(data, source_key=source_key, kind=kind, headers=headers, base_url=base_url,
                    zone=zone, max_entries=max_entries)  # fmt: skip
    return _settled_and_repaired(parsed, now, date_offset, zone, limits)


def _settled_and_repaired(
    parsed: SourceData,
    now: datetime | None,
    date_offset: timedelta | None,
    zone: ZoneInfo,
    limits: InputLimits,
) -> SourceData:
    settled = settle_dates(parsed, now=now, known_offset=date_offset, zone=zone)
    return repair_source(settled, limits)


def _parse(
    data: bytes,
    *,
    source_key: str,
    kind: str,
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
    return _source_data(feed, entries, warnings, source_key=source_key, kind=kind,
                        base_url=base_url, zone=zone, max_entries=max_entries)  # fmt: skip


def _parse_with_feedparser(
    data: bytes,
    *,
    source_key: str,
    kind: str = "feed",
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
    return _settled_and_repaired(parsed, now, date_offset, zone, limits)


def _read_with_feedparser(
    data: bytes,
    *,
    source_key: str,
    kind: str,
    headers: Mapping[str, str] | None,
    base_url: str | None,
    zone: ZoneInfo,
    max_entries: int | None,
) -> SourceData:
    """``_parse`` for an XML document by feedparser, for every document ``xmlfeeds`` refuses."""
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    warnings: list[str] = []
    data = _utf8_if_utf16(data)
    if (stripped := _without_entity_declarations(data)) is not None:
        data = stripped
        warnings.append(f"{source_key}: DOCTYPE with entity declarations removed")
    parsed = _feedparser(data, response_headers)
    if _undeclared_korean(data, parsed):
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
    kind: str,
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
                title=title or _title_from(content, link or key),
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


def _utf8_if_utf16(data: bytes) -> bytes:
    """UTF-16 (with a BOM) re-encoded as UTF-8, so the byte-level DOCTYPE check sees it."""
    if not data.startswith(_UTF16_BOMS):
        return data
    text = data.decode("utf-16", "replace")
    return _XML_DECLARED_ENCODING.sub(r"\1", text, count=1).encode("utf-8")


def _without_entity_declarations(data: bytes) -> bytes | None:
    """``data`` without its DOCTYPE internal subset; None when the prolog has none."""
    doctype = _DOCTYPE_WITH_SUBSET.search(data)
    if doctype is None:
        return None
    root = _FIRST_ELEMENT.search(data)
    if root is not None and root.start() < doctype.start():
        return None  # a "<!DOCTYPE" inside content (CDATA), not a declaration
    return data[: doctype.start()] + data[doctype.end() :]


def _undeclared_korean(data: bytes, parsed: feedparser.FeedParserDict) -> bool:
    if not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        return False
    if parsed.get("encoding", "").lower() not in {"windows-1252", "iso-8859-1", "iso-8859-2"}:
        return False
    try:
        return looks_korean(data.decode("cp949"))
    except UnicodeDecodeError:
        return False


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
    """``urljoin(base or "", url)``, without its 5 us for the absolute links most entries have."""
    if _PLAIN_ABSOLUTE_URL.fullmatch(url):
        return url
    return urljoin(base or "", url)


def _text(detail: Mapping | None, value: str) -> str:
    """Plain text of a title: markup only dropped where the feed says the title is HTML."""
    if detail is not None and "html" in detail.get("type", ""):
        value = html_to_text(value)
    return " ".join(value.split())


def _title_from(content_html: str, fallback: str) -> str:
    """A title for an entry without one (microblog posts): its first words, else its link."""
    first_line = html_to_text(content_html).split("\n", 1)[0]
    if len(first_line) > 100:
        cut = first_line[:100]
        first_line = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return first_line or fallback


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


def _json_datetime(value: object, zone: ZoneInfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)


def parse_json_feed(
    data: bytes,
    *,
    source_key: str,
    kind: str = "feed",
    base_url: str | None = None,
    zone: ZoneInfo,
    max_entries: int | None = None,
) -> SourceData:
    """JSON Feed 1.0/1.1 (jsonfeed.org), which feedparser does not read."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(source_key, f"not a feed: invalid JSON ({error})") from None
    if not isinstance(document, dict) or "jsonfeed.org" not in str(document.get("version", "")):
        raise InputError(source_key, "not a feed: JSON without a jsonfeed.org version")
    raw_items = document.get("items")
    if not isinstance(raw_items, list):
        raise InputError(source_key, "not a feed: JSON Feed without an items list")
    warnings: list[str] = []
    if max_entries is not None and len(raw_items) > max_entries:
        warnings.append(f"{source_key}: {len(raw_items)} items, only the first {max_entries} taken")
        raw_items = raw_items[:max_entries]
    site_link = document.get("home_page_url") or base_url
    items = []
    for position, entry in enumerate(raw_items, start=1):
        if not isinstance(entry, dict):
            warnings.append(f"{source_key}: item {position} skipped: not an object")
            continue
        link = entry.get("url")
        link = urljoin(site_link or "", link) if isinstance(link, str) else None
        title = " ".join(str(entry.get("title") or "").split())
        if entry.get("content_html"):
            content = content_to_html(str(entry["content_html"]), "html", link or site_link)
        else:
            content = text_to_html(str(entry.get("content_text") or entry.get("summary") or ""))
        key = str(entry.get("id") or link or "")
        if not key or not (title or content):
            warnings.append(f"{source_key}: item {position} skipped: no id or no content")
            continue
        authors = entry.get("authors") or ([entry["author"]] if entry.get("author") else [])
        author = next(
            (a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None
        )
        published = _json_datetime(entry.get("date_published"), zone)
        updated = _json_datetime(entry.get("date_modified"), zone)
        language = entry.get("language") or document.get("language")
        items.append(
            ItemData(
                key=key,
                title=title or _title_from(content, link or key),
                content_html=content,
                published=published or updated,
                updated=updated,
                author=author,
                link=link,
                language=str(language).split("-")[0].lower()
                if language
                else guess_language(title + " " + html_to_text(content)),
                categories=tuple(str(t) for t in entry.get("tags", []) if isinstance(t, str)),
                enclosures=tuple(
                    Enclosure(
                        urljoin(link or site_link or "", a["url"]),
                        a.get("mime_type"),
                        a.get("size_in_bytes") if isinstance(a.get("size_in_bytes"), int) else None,
                    )
                    for a in entry.get("attachments", [])
                    if isinstance(a, dict) and a.get("url")
                ),  # fmt: skip
            )
        )
    source = SourceInfo(
        key=source_key,
        kind=kind,
        title=" ".join(str(document.get("title") or "").split()) or source_key,
        link=site_link,
        feed_id=document.get("feed_url"),
    )
    # JSON strings can hold characters no XML document can ("\u0002"): repair drops them.
    return SourceData(source, tuple(items), tuple(warnings))
