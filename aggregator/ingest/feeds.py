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
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import feedparser

from aggregator.errors import InputError
from aggregator.ingest.sanitize import sanitize_html
from aggregator.text import normalize, paragraphs_to_html
from aggregator.types import ItemData, SourceData, SourceInfo

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


def parse_feed(
    data: bytes,
    *,
    source_key: str,
    kind: str = "feed",
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
    zone: ZoneInfo | None = None,
) -> SourceData:
    """Parse a feed document into items; raises InputError when it is no feed at all."""
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
    for position, entry in enumerate(parsed.entries):
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
    return SourceData(source, tuple(items), tuple(warnings))
