"""Deterministic Atom feeds via feedgen, written atomically into the feeds folder.

The same stored items always give the same bytes: stable order and ids, and a
feed's ``updated`` is its newest entry's ``updated``, never "now". A file whose
bytes would not change is not touched (its mtime stays), so readers polling
with If-Modified-Since get 304s.
"""

import hashlib
import html
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator import HOMEPAGE, __version__
from aggregator.types import StoredItem

log = logging.getLogger("aggregator.publish")

ALL_FEED = "all"
ATOM = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
# A feed with no entries yet still needs a fixed ``updated``, not "now".
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedSpec:
    """One feed to publish: its file stem, title and subtitle, and the topic ids it may label."""

    key: str
    title: str
    subtitle: str


@dataclass(frozen=True)
class FeedIdentity:
    """Where feeds are served and how their permanent ids are formed."""

    base_url: str
    id_authority: str
    author: str
    hub: str | None = None

    def feed_url(self, key: str) -> str:
        return f"{self.base_url}{key}.xml"

    def archive_url(self, key: str, page: int) -> str:
        return f"{self.base_url}{archive_path(key, page)}"

    def feed_id(self, key: str) -> str:
        return f"tag:{self.id_authority}:feed:{key}"

    def source_id(self, source_key: str) -> str:
        digest = hashlib.sha256(source_key.encode()).hexdigest()[:32]
        return f"tag:{self.id_authority}:source:{digest}"

    @property
    def category_scheme(self) -> str:
        return f"{self.base_url}topics/"


class _Provenance(BaseEntryExtension):
    """Writes a complete atom:source (id, title, updated, link; RFC 4287 §4.2.11).

    feedgen's own ``source()`` writes only title and link, which the W3C
    validator rejects; this extension writes the element itself.
    """

    def __init__(self) -> None:
        self.values: tuple[str, str, datetime, str | None] | None = None

    def set(self, source_id: str, title: str, updated: datetime, link: str | None) -> None:
        self.values = (source_id, title, updated, link)

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        if self.values is None:
            return entry
        source_id, title, updated, link = self.values
        source = etree.SubElement(entry, "source")
        etree.SubElement(source, "id").text = source_id
        etree.SubElement(source, "title").text = title
        etree.SubElement(source, "updated").text = updated.isoformat()
        if link:
            etree.SubElement(source, "link", rel="alternate", href=link)
        return entry


class _Links(BaseEntryExtension):
    """Writes an entry's links with all their attributes.

    feedgen 1.0.0 drops rel, type, title and length from entry links (its
    serialising loop shadows its own variable), so "related" and "enclosure"
    links would come out as plain alternates.
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def add(self, **attributes: str | None) -> None:
        self.links.append({k: v for k, v in attributes.items() if v is not None})

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for attributes in self.links:
            etree.SubElement(entry, "link", attributes)
        return entry


class _FeedLinks(BaseExtension):
    """Feed-level links feedgen does not know (RFC 5005 archives, WebSub hub) and fh:archive."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS} if self.archive else {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        # After feedgen's own links, before the entries.
        position = next((i for i, e in enumerate(feed) if e.tag == "entry"), len(feed))
        for offset, attributes in enumerate(self.links):
            feed.insert(position + offset, etree.Element("link", attributes))
        if self.archive:
            feed.insert(position + len(self.links), etree.Element(f"{{{HISTORY_NS}}}archive"))
        return feed


class _Language(BaseEntryExtension):
    """Sets xml:lang on an entry whose language is known (feedgen has no entry-level setter)."""

    def __init__(self) -> None:
        self.language: str | None = None

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        if self.language:
            entry.set("{http://www.w3.org/XML/1998/namespace}lang", self.language)
        return entry


def render_feed(
    spec: FeedSpec,
    entries: Sequence[StoredItem],
    identity: FeedIdentity,
    topic_titles: dict[str, str],
    *,
    prev_archive: int | None = None,
    archive_page: int | None = None,
) -> bytes:
    """The Atom document of one feed (or of one of its archive pages), determined by its inputs.

    ``prev_archive`` links the subscription document (or a page) to the archive
    page before it (RFC 5005 §4); ``archive_page`` makes this an archive page,
    marked fh:archive, linked to the subscription document as "current" and to
    the page after it as "next-archive".
    """
    generator = FeedGenerator()
    extra = _FeedLinks()
    if archive_page is None:
        generator.id(identity.feed_id(spec.key))
        generator.title(spec.title)
        generator.link(href=identity.feed_url(spec.key), rel="self", type="application/atom+xml")
        generator.link(
            href=f"{identity.base_url}{spec.key}.html", rel="alternate", type="text/html"
        )
        if identity.hub:
            extra.links.append({"rel": "hub", "href": identity.hub})
    else:
        generator.id(f"{identity.feed_id(spec.key)}:archive:{archive_page}")
        generator.title(f"{spec.title} (archive {archive_page})")
        generator.link(
            href=identity.archive_url(spec.key, archive_page),
            rel="self",
            type="application/atom+xml",
        )
        extra.links.append({"rel": "current", "href": identity.feed_url(spec.key), "type": ATOM})
        extra.archive = True
    if prev_archive is not None:
        extra.links.append(
            {
                "rel": "prev-archive",
                "href": identity.archive_url(spec.key, prev_archive),
                "type": ATOM,
            }
        )
    if archive_page is not None:
        # The next page's URL is known before it exists, and a page must never change once
        # written, so every page names its successor (RFC 5005 §4); until that page is
        # complete the link answers 404 and readers go on with "current".
        extra.links.append(
            {
                "rel": "next-archive",
                "href": identity.archive_url(spec.key, archive_page + 1),
                "type": ATOM,
            }
        )
    generator.subtitle(spec.subtitle)
    generator.author({"name": identity.author})
    generator.generator("aggregator", version=__version__, uri=HOMEPAGE)
    generator.updated(max((e.updated for e in entries), default=EMPTY_FEED_UPDATED))

    for item in entries:
        entry = generator.add_entry(order="append")
        entry.id(item.entry_id)
        entry.title(item.title)
        entry.published(item.published)
        entry.updated(item.updated)
        if item.author:
            entry.author({"name": item.author})
        entry.content(_content(item), type="html")
        entry.register_extension("links", _Links, atom=True, rss=False)
        if item.link:
            entry.links.add(href=item.link, rel="alternate", type="text/html")
        for report in item.also_reported_by:
            if report.link:
                entry.links.add(href=report.link, rel="related", title=report.source_title)
        for enclosure in item.enclosures:
            entry.links.add(
                href=enclosure.url,
                rel="enclosure",
                type=enclosure.type,
                length=str(enclosure.length) if enclosure.length is not None else None,
            )
        for topic in item.topics:
            if topic in topic_titles:
                entry.category(
                    term=topic, scheme=identity.category_scheme, label=topic_titles[topic]
                )
        entry.register_extension("provenance", _Provenance, atom=True, rss=False)
        entry.provenance.set(
            item.source_feed_id or identity.source_id(item.source_key),
            item.site_name or item.source_title,
            item.source_updated or item.updated,
            item.source_link,
        )
        entry.register_extension("language", _Language, atom=True, rss=False)
        entry.language.language = item.language
    generator.register_extension("history", lambda: extra, None, atom=True, rss=False)
    return generator.atom_str(pretty=True, encoding="UTF-8")


def _content(item: StoredItem) -> str:
    """The item's HTML, followed by the other sources that reported the same story."""
    if not item.also_reported_by:
        return item.content_html
    listed = "".join(
        f'<li><a href="{html.escape(r.link)}">{html.escape(r.source_title)}</a></li>'
        if r.link
        else f"<li>{html.escape(r.source_title)}</li>"
        for r in item.also_reported_by
    )
    return f"{item.content_html}\n<p>Also reported by:</p>\n<ul>{listed}</ul>"


def archive_path(key: str, page: int) -> str:
    """Where archive page ``page`` (1 holds the oldest entries) lives in the feeds folder."""
    return f"archive/{key}/{page}.xml"


def archived_pages(folder: Path, key: str) -> int:
    """How many archive pages of a feed are written: pages 1..n all exist (0 for none).

    Pages are written in order, so the existing ones are 1..n with no gap: doubling,
    then halving, finds n in about 2·log2(n) checks, not n (20,000 pages at 1M items).
    """

    def exists(page: int) -> bool:
        return (folder / archive_path(key, page)).is_file()

    if not exists(1):
        return 0
    low, high = 1, 2  # page ``low`` exists; find a ``high`` that does not
    while exists(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if exists(middle) else (low, middle)
    return low


def archive_entry_ids(document: bytes) -> list[str]:
    """The entry ids an archive page holds."""
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    return [str(e.text) for e in root.iterfind(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}id")]


def write_archives(
    folder: Path,
    spec: FeedSpec,
    identity: FeedIdentity,
    topic_titles: dict[str, str],
    size: int,
    next_page: Callable[[Sequence[str], int], Sequence[StoredItem]],
    write: Callable[[Path, bytes], object] | None = None,
) -> int | None:
    """Write a feed's archive pages that became complete; the newest page's number (or None).

    RFC 5005 §4 archives, cut from the oldest story forward in pages of ``size``:
    ``next_page(entry_ids_of_the_last_page, pages_written)`` gives the stories
    that follow the last page, oldest first. Only a full page is written, and a
    written page is never written again, so it may be cached forever; adding
    stories never changes it. ``write`` (default ``write_if_changed``) writes one file.
    """
    write = write or write_if_changed
    pages = archived_pages(folder, spec.key)
    archived: Sequence[str] = []
    if pages:
        last = folder / archive_path(spec.key, pages)
        try:
            archived = archive_entry_ids(last.read_bytes())
        except etree.XMLSyntaxError as error:
            log.warning(
                "archive page %s is not readable XML (%s); continuing by position", last, error
            )
    while len(stories := next_page(archived, pages)) >= size:
        page = pages + 1
        path = folder / archive_path(spec.key, page)
        content = render_feed(
            spec,
            list(stories[:size])[::-1],
            identity,
            topic_titles,
            prev_archive=page - 1 if page > 1 else None,
            archive_page=page,
        )
        write(path, content)
        if not path.is_file():
            break  # the write failed (and was reported); the next regeneration retries
        pages, archived = page, [story.entry_id for story in stories[:size]]
    return pages or None


_TEMPORARY = re.compile(r"^\.[a-z0-9-]+\.(?:xml|html|opml)\.[A-Za-z0-9_]+$")


def remove_temporaries(folder: Path) -> int:
    """Delete temporary files a killed run left beside the published ones; how many.

    ``write_if_changed`` removes its temporary file on any error, but not when the
    process is killed outright. Only the one regenerating process (it holds the cycle
    lock) writes here, so whatever temporary file exists now is such a leftover.
    """
    removed = 0
    for directory in [folder, *folder.glob("archive/*")]:
        for path in directory.glob(".*"):
            if _TEMPORARY.match(path.name) and path.is_file():
                path.unlink(missing_ok=True)
                removed += 1
    if removed:
        log.info("removed %d temporary files left by an interrupted run", removed)
    return removed


def write_if_changed(path: Path, content: bytes) -> bool:
    """Atomically replace ``path`` with ``content`` unless it already holds exactly that.

    The bytes go to a temporary file beside the target, are fsynced, and are
    renamed over it: a reader or a crash sees the old file or the new one,
    never a torn one. Returns True when the file was written.
    """
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    log.info("wrote %s (%d bytes)", path, len(content))
    return True
