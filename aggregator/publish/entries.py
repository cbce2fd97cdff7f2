"""Stored items rendered as Atom entries once per regeneration, for every document showing them."""

import html
import zlib
from collections.abc import Callable, Sequence

from aggregator.identity import FeedIdentity
from aggregator.publish import atom_entry
from aggregator.publish.feed import Entry
from aggregator.types import StoredItem


class Entries:
    """Renders stored items as Atom entries, each once per regeneration.

    An item shows in several documents: the "all" feed and each of its topics'
    feeds, and their archive pages. Its entry depends only on the item, the feed
    identity and the topic titles, so the serialized entry is kept and spliced into
    every document that shows it. ``load`` reads stored items by id, for archive
    pages named by id.

    The first ``cache_bytes`` of entries (about 3 KB each) are kept as they are, the
    next ones compressed (zlib's fastest level, about 2.2 times smaller) up to
    ``packed_bytes``: a first update of 1,000 sources (42,000 stories) keeps as many
    of its entries in 32 MB as it did in 64 MB of plain ones (issue #22,
    tests/benchmarks/RESULTS.md).
    """

    def __init__(
        self,
        identity: FeedIdentity,
        topic_titles: dict[str, str],
        load: Callable[[Sequence[int]], Sequence[StoredItem]],
        cache_bytes: int = 8 * 2**20,
        packed_bytes: int = 24 * 2**20,
    ) -> None:
        self.identity = identity
        self._load = load
        self._cache: dict[int, Entry] = {}
        self._room = cache_bytes
        self._packed: dict[int, Entry] = {}  # their xml compressed
        self._packed_room = packed_bytes
        # The same for every entry of a topic, and of a source.
        self._category_lines = {
            topic: atom_entry.category_line(topic, identity.category_scheme, title)
            for topic, title in topic_titles.items()
        }
        self._source_ids: dict[str, str] = {}

    def entry(self, item: StoredItem) -> Entry:
        """The item's entry, rendered now unless it already was."""
        entry = self._kept(item.id)
        if entry is None:
            page = None if item.link else self.identity.story_url(item.entry_id)
            xml = atom_entry.format_entry(
                item, entry_content(item), self._category_lines, self.source_id(item), page
            )
            entry = Entry(item.entry_id, item.updated, xml)
            self._keep(item.id, entry)
        return entry

    def _kept(self, item_id: int) -> Entry | None:
        entry = self._cache.get(item_id)
        if entry is None and (packed := self._packed.get(item_id)) is not None:
            entry = packed._replace(xml=zlib.decompress(packed.xml))
        return entry

    def _keep(self, item_id: int, entry: Entry) -> None:
        # Once both rooms are used up, entries are rendered each time they are needed.
        if len(entry.xml) <= self._room:
            self._cache[item_id] = entry
            self._room -= len(entry.xml)
        elif self._packed_room > 0:
            packed = entry._replace(xml=zlib.compress(entry.xml, 1))
            fits = len(packed.xml) <= self._packed_room
            self._packed_room = self._packed_room - len(packed.xml) if fits else 0
            if fits:
                self._packed[item_id] = packed

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
        missing = [i for i in ids if i not in self._cache and i not in self._packed]
        loaded = {item.id: self.entry(item) for item in self._load(missing)} if missing else {}
        return [e for i in ids if (e := loaded.get(i) or self._kept(i)) is not None]


def entry_content(item: StoredItem) -> str:
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
