"""The writes of one ingest transaction: a source's row, its new and edited items, their
stories and topics, and the lookups dedup decides with (the band index's, in
``band_index.py``).

Statements run for every source an ingest writes are built once, at import: building
a statement object costs more than running it on SQLite.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert, select, update

from aggregator.fingerprints import global_key_hash, link_hash, pack
from aggregator.store import changes, search
from aggregator.store.band_index import BandIndex
from aggregator.store.dialect import OneOf, executemany, insert_rows
from aggregator.store.schema import item_topics, items, meta, sources
from aggregator.types import ItemWrite, KnownItem, SourceInfo, SourceKind

_KNOWN_ITEMS = select(
    items.c.key,
    items.c.id,
    items.c.entry_id,
    items.c.content_hash,
    items.c.published,
    items.c.updated,
    items.c.first_seen,
).where(items.c.source_id == bindparam("source"), OneOf(items.c.key, "keys"))
_KEYS_BY_LINK = select(items.c.link_hash, items.c.key).where(
    items.c.source_id == bindparam("source"), OneOf(items.c.link_hash, "hashes")
)
# The lowest story of other sources' items by link hash, and by global id hash.
_STORIES_BY_LINK, _STORIES_BY_KEY = (
    select(column, func.min(items.c.story_id))
    .where(OneOf(column, "hashes"), items.c.source_id != bindparam("source"))
    .group_by(column)
    for column in (items.c.link_hash, items.c.key_hash)
)
_CANONICAL_ORDER = select(items.c.id, items.c.published, items.c.entry_id).where(
    OneOf(items.c.id, "ids")
)
_MOVE_STORY = "UPDATE items SET story_id = ? WHERE story_id = ?"
# Unordered RETURNING lets both dialects insert many rows per statement; the key
# (unique within a source) says which id went to which item.
_INSERT_ITEMS = insert(items).returning(items.c.key, items.c.id)
_UPDATE_ITEM = update(items).where(items.c.id == bindparam("item"))
_DELETE_TOPICS = delete(item_topics).where(item_topics.c.item_id == bindparam("item"))
# Rows a first ingest writes by the thousand go to the driver as tuples (insert_rows,
# executemany): SQLAlchemy's per-row work on parameter dicts cost as much as the
# database's on SQLite.
_SET_STORY = "UPDATE items SET story_id = ? WHERE id = ?"


def _item_values(write: ItemWrite, slots: tuple[int, ...] | None) -> dict[str, object]:
    """The columns an item's publishable fields and signature fill, on insert or update."""
    item = write.item
    return {
        "title": item.title,
        "content_html": item.content_html,
        "published": write.published,
        "updated": write.updated,
        "author": item.author,
        "site_name": item.site_name,
        "link": item.link,
        "language": item.language,
        "content_hash": write.content_hash,
        "categories": json.dumps(list(item.categories), ensure_ascii=False),
        "enclosures": json.dumps(
            [[e.url, e.type, e.length] for e in item.enclosures], ensure_ascii=False
        ),
        "link_hash": link_hash(item.link),
        "key_hash": global_key_hash(item.key),
        "signature": pack(slots) if slots else None,
    }


@dataclass(frozen=True)
class StoryIdentities:
    """Stories found by link hash and by global id hash (see ``stories_by_identity``)."""

    by_link_hash: dict[str, int]
    by_key_hash: dict[str, int]

    def story(self, link: str | None, key: str) -> int | None:
        stories = (
            self.by_link_hash.get(link_hash(link) or ""),
            self.by_key_hash.get(global_key_hash(key) or ""),
        )
        return min((s for s in stories if s is not None), default=None)


class StoreTransaction(BandIndex):
    """Reads and writes inside one transaction (one per source during ingest, or per batch
    of sources on SQLite)."""

    def source_state(self, key: str) -> tuple[int, str | None] | None:
        """The id and last body hash of a known source, or None."""
        row = self.connection.execute(
            select(sources.c.id, sources.c.body_hash).where(sources.c.key == key)
        ).first()
        return None if row is None else (row.id, row.body_hash)

    def save_source(
        self,
        info: SourceInfo,
        body_hash: str | None,
        now: datetime,
        date_offset: timedelta | None = None,
    ) -> int:
        """Insert or update a source's metadata (and the offset its dates are read in); its id."""
        values = {
            "date_offset_seconds": int(date_offset.total_seconds()) if date_offset else None,
            "kind": info.kind,
            "title": info.title,
            "link": info.link,
            "feed_id": info.feed_id,
            "feed_updated": info.updated,
            "body_hash": body_hash,
            "last_checked": now,
            "last_error": None,
        }
        shown = (sources.c.title, sources.c.link, sources.c.feed_id, sources.c.feed_updated)
        known = self.connection.execute(
            select(sources.c.id, *shown).where(sources.c.key == info.key)
        ).first()
        if known is None:
            return self.connection.execute(
                insert(sources).values(key=info.key, enabled=True, **values)
            ).inserted_primary_key[0]
        if tuple(known[1:]) != tuple(values[column.name] for column in shown):
            changes.note(self.connection)  # the source as its items' entries show it
        self.connection.execute(update(sources).where(sources.c.id == known.id).values(**values))
        return known.id

    def record_source_error(self, key: str, kind: SourceKind, error: str, now: datetime) -> None:
        """Remember why a source failed, without touching what it stored before."""
        state = self.source_state(key)
        if state is None:
            self.connection.execute(
                insert(sources).values(
                    key=key, kind=kind, title=key, enabled=True, last_checked=now, last_error=error
                )
            )
        else:
            self.connection.execute(
                update(sources)
                .where(sources.c.id == state[0])
                .values(last_checked=now, last_error=error)
            )

    def known_items(self, source_id: int, keys: Iterable[str]) -> dict[str, KnownItem]:
        """What the store knows of these item keys of one source."""
        rows = self.connection.execute(_KNOWN_ITEMS, {"source": source_id, "keys": list(keys)})
        return {
            row.key: KnownItem(
                row.id, row.entry_id, row.content_hash, row.published, row.updated, row.first_seen
            )
            for row in rows
        }

    def known_keys_by_link(self, source_id: int, links: Iterable[str]) -> dict[str, str]:
        """For links this source already has items for: link -> the item's key."""
        wanted = {h: link for link in links if (h := link_hash(link))}
        rows = self.connection.execute(_KEYS_BY_LINK, {"source": source_id, "hashes": list(wanted)})
        return {wanted[link]: key for link, key in rows}

    def stories_by_identity(
        self, source_id: int, identities: Iterable[tuple[str | None, str]]
    ) -> "StoryIdentities":
        """Stories of other sources' items with the same canonical link or global id.

        One query per kind of identity for a whole source's new items, not two per item.
        """
        wanted = list(identities)
        found = StoryIdentities({}, {})
        for statement, hashes, into in (
            (_STORIES_BY_LINK, {link_hash(link) for link, _ in wanted}, found.by_link_hash),
            (_STORIES_BY_KEY, {global_key_hash(key) for _, key in wanted}, found.by_key_hash),
        ):
            values = sorted(h for h in hashes if h is not None)
            if values:
                rows = self.connection.execute(statement, {"source": source_id, "hashes": values})
                into.update({value: story for value, story in rows})
        return found

    def join_stories(self, joins: Sequence[tuple[int, Iterable[int]]]) -> int:
        """Put new items in the stories they belong with: (item id, stories it matched).

        Stories an item matched join it and each other, whichever came first: a
        story is a connected component of "same story" decisions, so it does not
        depend on the order items arrived in. Its canonical item, the one its entry
        shows, is its earliest published one (then the lowest entry id): a function
        of the story's items, and when two published stories join, the older entry
        stays and the other leaves the feed. Returns how many items moved story.
        """
        groups: dict[int, int] = {}  # story -> a story it joins (union-find parent)

        def root(story: int) -> int:
            while groups.get(story, story) != story:
                story = groups[story]
            return story

        for item, matched in joins:
            for story in matched:
                first, second = root(item), root(story)
                if first != second:
                    groups[max(first, second)] = min(first, second)
        if not groups:
            return 0
        involved = sorted({*groups, *groups.values()})
        joined: dict[int, list[int]] = {}
        for story in involved:
            joined.setdefault(root(story), []).append(story)
        rows = self.connection.execute(_CANONICAL_ORDER, {"ids": involved})
        order = {row.id: (row.published, row.entry_id) for row in rows}
        moves = []
        for stories in joined.values():
            canonical = min(stories, key=order.__getitem__)
            moves += [(canonical, story) for story in stories if story != canonical]
        # In story order: two writers moving the same stories lock them in the same order,
        # so neither can wait on the other in a cycle (a deadlock on PostgreSQL).
        moves.sort(key=lambda move: move[1])
        executemany(self.connection, _MOVE_STORY, moves)
        return len(moves)

    def insert_items(
        self,
        source_id: int,
        writes: Sequence[tuple[ItemWrite, tuple[int, ...] | None]],
        now: datetime,
    ) -> list[int]:
        """Insert a source's new items (with their signatures) in one statement; their ids.

        Each is its own story until ``join_stories`` says otherwise.
        """
        if not writes:
            return []
        rows = [
            {
                "source_id": source_id,
                "key": write.item.key,
                "entry_id": write.entry_id,
                "first_seen": now,
                **_item_values(write, slots),
            }
            for write, slots in writes
        ]
        ids = {key: item for key, item in self.connection.execute(_INSERT_ITEMS, rows)}
        inserted = [ids[write.item.key] for write, _ in writes]
        executemany(self.connection, _SET_STORY, [(item, item) for item in inserted])
        return inserted

    def update_item(self, write: ItemWrite, slots: tuple[int, ...] | None) -> None:
        """Rewrite a stored item in place (an edit its source published)."""
        self.connection.execute(_UPDATE_ITEM, {"item": write.id, **_item_values(write, slots)})
        if self.remembered is not None:
            self.remembered.pop(write.id, None)  # its signature changed

    def index_search(self, texts: Mapping[int, tuple[str, str]]) -> None:
        """Make the items this transaction wrote searchable (``search.index_pending``);
        ``texts``: item id -> title and plain text, for those whose text is at hand."""
        search.index_pending(self.connection, texts)

    def add_topics(self, topics: dict[int, dict[str, float]]) -> None:
        """Record new items' topic assignments (item id -> topic -> score), in one statement."""
        rows = [
            (item, topic, score)
            for item, scores in topics.items()
            for topic, score in scores.items()
        ]
        insert_rows(self.connection, item_topics, rows)

    def set_topics(self, item_id: int, scores: dict[str, float], *, new: bool = False) -> None:
        """Replace an item's topic assignments (``new``: it has none yet, nothing to delete)."""
        if not new:
            self.connection.execute(_DELETE_TOPICS, {"item": item_id})
        self.add_topics({item_id: scores})

    def has_items(self) -> bool:
        return self.connection.execute(select(items.c.id).limit(1)).first() is not None

    def get_meta(self, key: str) -> str | None:
        return self.connection.execute(select(meta.c.value).where(meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        if self.get_meta(key) is None:
            self.connection.execute(insert(meta).values(key=key, value=value))
        else:
            self.connection.execute(update(meta).where(meta.c.key == key).values(value=value))
