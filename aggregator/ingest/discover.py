"""Checking a URL before following it, as Miniflux and FreshRSS do: fetch it once, and when
it is a web page rather than a feed, find the feed it announces (``<link rel="alternate">``,
the autodiscovery convention every browser and reader follows).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from lxml import etree, html

from aggregator.config import FetchSettings
from aggregator.errors import InputError
from aggregator.ingest.feeds import parse_feed
from aggregator.ingest.http import fetch, make_client
from aggregator.types import SourceData

if TYPE_CHECKING:  # ingest.http imports httpx (issue #22: without its command line)
    import httpx

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
    }
)


@dataclass(frozen=True)
class FoundFeed:
    """The feed a URL led to: where it is, what it calls itself, how many entries it holds."""

    url: str
    title: str
    site: str | None
    entries: int
    page: str | None = None  # the web page the feed was discovered in, when given one


def feed_links(page: bytes, base_url: str) -> list[str]:
    """The feeds a web page announces, in its order, as absolute URLs."""
    try:
        document = html.document_fromstring(page)
    except (etree.ParserError, ValueError):
        return []
    found = []
    for link in document.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            url = urljoin(base_url, href)
            if url.startswith(("http://", "https://")) and url not in found:
                found.append(url)
    return found


def find_feed(settings: FetchSettings, url: str, zone: ZoneInfo, now: datetime) -> FoundFeed:
    """Fetch ``url``; the feed it is, or the first working feed the page links. InputError
    naming the URL and what went wrong when there is none."""
    with make_client(settings) as client:
        data, final_url, body = _read(client, settings, url, zone, now)
        if data is not None:
            return _found(data, final_url)
        candidates = feed_links(body, final_url)
        if not candidates:
            raise InputError(url, 'not a feed, and no <link rel="alternate"> to a feed in it')
        problems = []
        for candidate in candidates:
            try:
                feed, feed_url, _ = _read(client, settings, candidate, zone, now)
            except InputError as error:
                problems.append(str(error))
                continue
            if feed is not None:
                return _found(feed, feed_url, page=url)
            problems.append(f"{candidate}: not a feed")
        raise InputError(url, "the feeds the page links cannot be read: " + "; ".join(problems))


def _read(
    client: "httpx.Client", settings: FetchSettings, url: str, zone: ZoneInfo, now: datetime
) -> tuple[SourceData | None, str, bytes]:
    """The parsed feed (None when the body is no feed), the URL the body came from, the body."""
    result = fetch(client, url, settings)
    if result.outcome != "ok" or result.body is None:
        raise InputError(url, result.error or f"HTTP {result.status_text}")
    try:
        data = parse_feed(
            result.body,
            source_key=url,
            headers=result.headers,
            base_url=result.url,
            zone=zone,
            now=now,
            max_entries=settings.max_entries,
        )
    except InputError:
        return None, result.url, result.body
    return data, result.url, result.body


def _found(data: SourceData, url: str, page: str | None = None) -> FoundFeed:
    return FoundFeed(url, data.source.title, data.source.link, len(data.items), page)
