"""JSON Feed 1.0/1.1 (jsonfeed.org) -> SourceData: the one format feedparser does not read."""

import json
from datetime import UTC, datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from aggregator.errors import InputError
from aggregator.ingest.fields import guess_language, title_from
from aggregator.ingest.sanitize import content_to_html, text_to_html
from aggregator.text import html_to_text
from aggregator.types import Enclosure, ItemData, SourceData, SourceInfo, SourceKind


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
    kind: SourceKind = SourceKind.FEED,
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
                title=title or title_from(content, link or key),
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
