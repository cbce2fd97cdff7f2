"""The feedparser adapter: feed bytes (+ response headers) -> SourceData. It never fetches.

Bozo policy: a document with usable entries is kept even when feedparser
flags it (with a warning naming the source); a document that is no feed at
all is an InputError. One unusable entry is skipped with a warning; the rest
are kept. We sanitize HTML ourselves (nh3), so feedparser's slower sanitizer
is off.
"""

import calendar
import hashlib
import html
import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import feedparser

from aggregator.errors import InputError
from aggregator.ingest.sanitize import sanitize_html
from aggregator.text import normalize, paragraphs_to_html
from aggregator.types import Enclosure, ItemData, SourceData, SourceInfo

_FEED_START = re.compile(rb"^\s*(<\?xml|<rss|<feed|<rdf:RDF|<!--)", re.IGNORECASE)
# Entity declarations are how XML bombs and external-entity reads work; feeds never need them.
_DOCTYPE_WITH_ENTITIES = re.compile(rb"<!DOCTYPE[^>\[]*\[.*?\]\s*>", re.IGNORECASE | re.DOTALL)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}


def looks_like_feed(raw: bytes, suffix: str = "") -> bool:
    """True for a saved RSS/Atom document (by extension, or by how its bytes start)."""
    return suffix.lower() in FEED_SUFFIXES or bool(_FEED_START.match(raw.lstrip(b"\xef\xbb\xbf")))


def _datetime(parsed: time.struct_time | None) -> datetime | None:
    # feedparser normalises every date it understood to a UTC struct_time.
    return None if parsed is None else datetime.fromtimestamp(calendar.timegm(parsed), UTC)


def _plain(text: str) -> str:
    return normalize(html.unescape(re.sub(r"<[^>]+>", " ", text)))


def _content(entry: Mapping, base: str | None) -> str:
    for candidate in entry.get("content") or []:
        if candidate.get("value"):
            return _markup(candidate["value"], candidate.get("type", ""), base)
    if entry.get("summary"):
        detail = entry.get("summary_detail") or {}
        return _markup(entry["summary"], detail.get("type", "text/html"), base)
    return ""


def _markup(value: str, kind: str, base: str | None) -> str:
    if "html" in kind:
        return sanitize_html(value, base)
    blocks = [block.strip() for block in re.split(r"\n\s*\n", value) if block.strip()]
    return paragraphs_to_html(blocks)


def _language(declared: str | None, text: str) -> str | None:
    if declared:
        return declared.split("-")[0].lower()
    return "ko" if len(_HANGUL.findall(text)) > len(text) * 0.2 else None


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
                urljoin(base or "", href),
                enclosure.get("type") or None,
                int(length) if length.isdigit() else None,
            )
        )
    return tuple(found)


def parse_feed(
    data: bytes,
    *,
    source_key: str,
    kind: str = "feed",
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
    zone: ZoneInfo | None = None,
    max_entries: int | None = None,
) -> SourceData:
    """Parse an RSS, Atom or JSON Feed document into items; InputError when it is no feed."""
    content_type = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type", "")
    if "json" in content_type or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return parse_json_feed(data, source_key=source_key, kind=kind, base_url=base_url,
                               max_entries=max_entries)  # fmt: skip
    warnings: list[str] = []
    if _DOCTYPE_WITH_ENTITIES.search(data[:65536]):
        data = _DOCTYPE_WITH_ENTITIES.sub(b"", data, count=1)
        warnings.append(f"{source_key}: DOCTYPE with entity declarations removed")
    parsed = feedparser.parse(
        data,
        response_headers=dict(headers or {}),
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.version and not parsed.entries:
        problem = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise InputError(source_key, f"not a feed: {problem}")
    if parsed.bozo:
        warnings.append(
            f"{source_key}: malformed feed, usable entries kept ({parsed.bozo_exception})"
        )

    feed = parsed.feed
    site_link = feed.get("link") or base_url
    declared_language = feed.get("language")
    items: list[ItemData] = []
    entries = parsed.entries
    if max_entries is not None and len(entries) > max_entries:
        warnings.append(f"{source_key}: {len(entries)} entries, only the first {max_entries} taken")
        entries = entries[:max_entries]
    for position, entry in enumerate(entries):
        link = urljoin(site_link or "", entry["link"]) if entry.get("link") else None
        title = _plain(entry.get("title", ""))
        content = _content(entry, link or site_link)
        if not title and not content and not link:
            warnings.append(f"{source_key}: entry {position + 1} has no title, content or link")
            continue
        key = entry.get("id") or link
        if not key:
            key = "sha256:" + hashlib.sha256(f"{title}\n{content}".encode()).hexdigest()
        published = _datetime(entry.get("published_parsed"))
        # dict.get: feedparser's own get() answers a missing "updated" with "published".
        updated = _datetime(dict.get(entry, "updated_parsed"))
        items.append(
            ItemData(
                key=key,
                title=title or (link or key),
                content_html=content,
                published=published or updated,
                updated=updated,
                author=_plain(entry.get("author", "")) or None,
                link=link,
                language=_language(entry.get("language") or declared_language, title + content),
                categories=tuple(t["term"] for t in entry.get("tags", []) if t.get("term")),
                enclosures=_enclosures(entry, link or site_link),
            )
        )
    source = SourceInfo(
        key=source_key,
        kind=kind,
        title=_plain(feed.get("title", "")) or source_key,
        link=site_link,
        feed_id=feed.get("id"),
        updated=_datetime(feed.get("updated_parsed")),
    )
    return SourceData(source, tuple(items), tuple(warnings), _refresh_hint(feed))


def _json_datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def parse_json_feed(
    data: bytes,
    *,
    source_key: str,
    kind: str = "feed",
    base_url: str | None = None,
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
    for position, entry in enumerate(raw_items):
        if not isinstance(entry, dict):
            warnings.append(f"{source_key}: item {position + 1} is not an object")
            continue
        link = entry.get("url")
        link = urljoin(site_link or "", link) if isinstance(link, str) else None
        title = _plain(str(entry.get("title") or ""))
        if entry.get("content_html"):
            content = sanitize_html(str(entry["content_html"]), link or site_link)
        else:
            text = str(entry.get("content_text") or entry.get("summary") or "")
            content = _markup(text, "text", None)
        key = str(entry.get("id") or link or "")
        if not key or not (title or content):
            warnings.append(f"{source_key}: item {position + 1} has no id or no content")
            continue
        authors = entry.get("authors") or ([entry["author"]] if entry.get("author") else [])
        author = next(
            (a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None
        )
        published = _json_datetime(entry.get("date_published"))
        updated = _json_datetime(entry.get("date_modified"))
        items.append(
            ItemData(
                key=key,
                title=title or (link or key),
                content_html=content,
                published=published or updated,
                updated=updated,
                author=author,
                link=link,
                language=_language(
                    entry.get("language") or document.get("language"), title + content
                ),
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
        title=_plain(str(document.get("title") or "")) or source_key,
        link=site_link,
        feed_id=document.get("feed_url"),
    )
    return SourceData(source, tuple(items), tuple(warnings))
