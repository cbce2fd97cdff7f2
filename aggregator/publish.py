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
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator import HOMEPAGE, __version__, atom_entry
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


class _FeedLinks(BaseExtension):
    """Feed-level links feedgen does not know (RFC 5005 archives, WebSub hub) and fh:archive.

    feedgen calls this after writing its own links and before adding entries, so
    appending puts them after feedgen's links.
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS} if self.archive else {}

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        for attributes in self.links:
            etree.SubElement(feed, "link", attributes)
        if self.archive:
            etree.SubElement(feed, f"{{{HISTORY_NS}}}archive")
        return feed


class Entry(NamedTuple):
    """A stored item as an Atom entry, serialized once for every document that shows it.

    A named tuple: the garbage collector stops tracking a tuple of strings, bytes
    and dates, and a regeneration keeps thousands of these.
    """

    entry_id: str
    updated: datetime
    xml: bytes  # the <entry> element, indented as a child of <feed>, ending in a newline


# What feedgen's pretty-printed document ends with: entries are spliced in before it.
_FEED_END = b"</feed>\n"


class Entries:
    """Renders stored items as Atom entries, each once per regeneration.

    An item shows in several documents: the "all" feed and each of its topics'
    feeds, and their archive pages. Its entry depends only on the item, the feed
    identity and the topic titles, so the serialized entry is kept (up to
    ``cache_bytes``, about 3 KB an entry) and spliced into every document that
    shows it. ``load`` reads stored items by id, for archive pages named by id.
    """

    def __init__(
        self,
        identity: FeedIdentity,
        topic_titles: dict[str, str],
        load: Callable[[Sequence[int]], Sequence[StoredItem]],
        cache_bytes: int = 64 * 2**20,
    ) -> None:
        self.identity = identity
        self._load = load
        self._cache: dict[int, Entry] = {}
        self._room = cache_bytes
        # The same for every entry of a topic, and of a source.
        self._category_lines = {
            topic: atom_entry.category_line(topic, identity.category_scheme, title)
            for topic, title in topic_titles.items()
        }
        self._source_ids: dict[str, str] = {}

    def entry(self, item: StoredItem) -> Entry:
        """The item's entry, rendered now unless it already was."""
        entry = self._cache.get(item.id)
        if entry is None:
            xml = atom_entry.format_entry(
                item, _content(item), self._category_lines, self.source_id(item)
            )
            entry = Entry(item.entry_id, item.updated, xml)
            # Once the room is used up, entries are rendered each time they are needed.
            if len(entry.xml) <= self._room:
                self._cache[item.id] = entry
                self._room -= len(entry.xml)
        return entry

    def source_id(self, item: StoredItem) -> str:
        """The atom:source id: the source feed's own id, or one made from the source's key."""
        if item.source_feed_id:
            return item.source_feed_id
        made = self._source_ids.get(item.source_key)
        if made is None:
            made = self._source_ids[item.source_key] = self.identity.source_id(item.source_key)
        return made

    def by_id(self, ids: Sequence[int]) -> list[Entry]:
        """The entries of stored items in the order of ``ids``, loading the unrendered ones at once.

        An id whose item is no longer stored is left out.
        """
        missing = [i for i in ids if i not in self._cache]
        loaded = {item.id: self.entry(item) for item in self._load(missing)} if missing else {}
        return [e for i in ids if (e := self._cache.get(i) or loaded.get(i)) is not None]


def render_feed(
    spec: FeedSpec,
    entries: Sequence[Entry],
    identity: FeedIdentity,
    *,
    prev_archive: int | None = None,
    archive_page: int | None = None,
) -> bytes:
    """The Atom document of one feed (or of one of its archive pages), determined by its inputs.

    feedgen generates the document (see ``feed_generator``); the entries, rendered
    by ``Entries``, go in before its end tag, where feedgen would have put them.
    """
    updated = max((e.updated for e in entries), default=EMPTY_FEED_UPDATED)
    generator = feed_generator(
        spec, identity, updated, prev_archive=prev_archive, archive_page=archive_page
    )
    document = generator.atom_str(pretty=True, encoding="UTF-8")
    if not entries:
        return document
    if not document.endswith(_FEED_END):
        raise RuntimeError("feedgen's document does not end with </feed>: cannot add entries")
    return document[: -len(_FEED_END)] + b"".join(e.xml for e in entries) + _FEED_END


def feed_generator(
    spec: FeedSpec,
    identity: FeedIdentity,
    updated: datetime,
    *,
    prev_archive: int | None = None,
    archive_page: int | None = None,
) -> FeedGenerator:
    """feedgen's generator of a feed's (or an archive page's) document, all but its entries.

    ``prev_archive`` links the subscription document (or a page) to the archive
    page before it (RFC 5005 §4); ``archive_page`` makes this an archive page,
    marked fh:archive, linked to the subscription document as "current" and to
    the page after it as "next-archive". ``updated`` is the newest entry's.
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
    generator.updated(updated)
    generator.register_extension("history", lambda: extra, None, atom=True, rss=False)
    return generator


def _content(item: StoredItem) -> str:
    """The item's HTML, followed by the other sources that reported the same story.

    A title-only item (some outlets' section feeds) shows its title as its text: an
    empty atom:content is one the W3C Feed Validator warns of ("should not be blank"),
    and with its link withheld (issue #19) the entry would have neither.
    """
    body = item.content_html or f"<p>{html.escape(item.title, quote=False)}</p>"
    if not item.also_reported_by:
        return body
    listed = "".join(
        f'<li><a href="{html.escape(r.link)}">{html.escape(r.source_title)}</a></li>'
        if r.link
        else f"<li>{html.escape(r.source_title)}</li>"
        for r in item.also_reported_by
    )
    return f"{body}\n<p>Also reported by:</p>\n<ul>{listed}</ul>"


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


# Archive pages rendered and written together: one query for their stories, one
# load of the items not rendered yet, one batch of writes.
PAGES_PER_BATCH = 20


def write_archives(
    folder: Path,
    spec: FeedSpec,
    entries: Entries,
    size: int,
    following: Callable[[Sequence[str], int, int], Sequence[int]],
    write: Callable[[Sequence[tuple[Path, bytes]]], object],
) -> int | None:
    """Write a feed's archive pages that became complete; the newest page's number (or None).

    RFC 5005 §4 archives, cut from the oldest story forward in pages of ``size``:
    ``following(entry_ids_of_the_last_page, pages_written, limit)`` gives the ids
    of up to ``limit`` stories that follow the last page, oldest first. Only a
    full page is written, and a written page is never written again, so it may
    be cached forever; adding stories never changes it. ``write`` writes files in
    order and stops at the first it cannot write (and reports it).

    Each batch of pages is written while the next one is rendered, so the file
    system's work (creating and syncing files) overlaps the rendering on another
    core. Batches are written one at a time, in page order, and none after one
    that failed, so the pages on disk are always 1..n with no gap.
    """
    pages = archived_pages(folder, spec.key)
    batches = _page_batches(folder, spec, entries, size, following, pages)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-writer") as writer:
        writing: Future[int] | None = None
        expected = 0
        for files in batches:  # the next batch renders while ``writing`` runs
            if writing is not None:
                done = writing.result()
                pages, writing = pages + done, None
                if done < expected:
                    break  # the failure was reported; the next regeneration retries
            writing, expected = writer.submit(_write_pages, write, files), len(files)
        if writing is not None:
            pages += writing.result()
    return pages or None


def _page_batches(
    folder: Path,
    spec: FeedSpec,
    entries: Entries,
    size: int,
    following: Callable[[Sequence[str], int, int], Sequence[int]],
    pages: int,
) -> Iterator[list[tuple[Path, bytes]]]:
    """The feed's next complete archive pages after page ``pages``, rendered a batch at a time."""
    archived: Sequence[str] = []
    if pages:
        last = folder / archive_path(spec.key, pages)
        try:
            archived = archive_entry_ids(last.read_bytes())
        except etree.XMLSyntaxError as error:
            log.warning(
                "archive page %s is not readable XML (%s); continuing by position", last, error
            )
    limit = size * PAGES_PER_BATCH
    while True:
        ids = following(archived, pages, limit)
        # Only the stories of complete pages are loaded: usually there are none.
        stories = entries.by_id(ids[: len(ids) - len(ids) % size])
        cut = [stories[start : start + size] for start in range(0, len(stories) - size + 1, size)]
        if cut:
            yield [
                (
                    folder / archive_path(spec.key, pages + n),
                    render_feed(
                        spec,
                        page[::-1],
                        entries.identity,
                        prev_archive=pages + n - 1 if pages + n > 1 else None,
                        archive_page=pages + n,
                    ),
                )
                for n, page in enumerate(cut, 1)
            ]
            pages, archived = pages + len(cut), [e.entry_id for e in cut[-1]]
        if len(ids) < limit:
            return


def _write_pages(
    write: Callable[[Sequence[tuple[Path, bytes]]], object], files: Sequence[tuple[Path, bytes]]
) -> int:
    """Write a batch of pages; how many of them, from the first, are on disk now."""
    write(files)
    return next((n for n, (path, _) in enumerate(files) if not path.is_file()), len(files))


_TEMPORARY = re.compile(r"^\.[a-z0-9-]+\.(?:xml|html|opml)\.[A-Za-z0-9_]+$")


# Present while a regeneration writes the feeds folder: found at the start of the next
# one, it tells that one that the last did not finish.
_WRITING = ".writing"


@contextmanager
def writing(folder: Path) -> Iterator[None]:
    """Mark the feeds folder as being written for the block; after a run that did not
    finish (killed, or failed), first remove the temporary files it left.

    Finding them means listing every archive folder, which grows with the store (61,555
    pages at 1M items: 46 ms, more than half of a regeneration), so it is done only after
    such a run. The mark stays when the block fails. In a folder that takes no new file
    there is no mark, and no temporary file either: the writes report what they cannot do.
    """
    marker = folder / _WRITING
    if marker.exists():
        remove_temporaries(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError as error:
        log.debug("cannot mark %s as being written: %s", folder, error.strerror)
    yield
    with suppress(OSError):  # the next run looks for leftovers once more, no harm done
        marker.unlink(missing_ok=True)


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
