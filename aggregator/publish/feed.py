"""A feed's Atom document: feedgen writes all but the entries, which are spliced in."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator import HOMEPAGE, __version__
from aggregator.identity import FeedIdentity, FeedSpec

ATOM = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
# A feed with no entries yet still needs a fixed ``updated``, not "now".
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)


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
