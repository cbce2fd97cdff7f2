"""Reads for publishing, status and explain: stored items as ``StoredItem``, and counts.

Each read opens its own connection: these run beside an ingest, never inside its
transaction.
"""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, Select, exists, func, or_, select

from aggregator.store.schema import item_topics, items, meta, sources
from aggregator.types import Enclosure, Report, StoredItem


@dataclass(frozen=True)
class ItemText:
    """What classification reads of a stored item (and where it would sort in a feed)."""

    id: int
    title: str
    content_html: str
    published: datetime
    canonical: bool


# The items columns a StoredItem holds: not the dedup hashes and signature, which are
# large and only ingest reads.
_ITEM_FIELDS = (
    items.c.id,
    items.c.entry_id,
    items.c.key,
    items.c.title,
    items.c.content_html,
    items.c.published,
    items.c.updated,
    items.c.author,
    items.c.site_name,
    items.c.link,
    items.c.language,
    items.c.story_id,
    items.c.enclosures,
    items.c.hidden,
)


def newest_items(
    engine: Engine, topic_id: str | None, limit: int, *, with_hidden: bool = False
) -> list[StoredItem]:
    """The newest ``limit`` items of a topic (or of all items), newest first; those an editor
    hid only ``with_hidden`` (what `aggregator items` lists, never a feed)."""
    # One entry per story: its canonical item. Items published at the same moment are
    # ordered by entry id, not by row id: row ids follow arrival order, and a feed must
    # not depend on it (issue #18). The index walk stays a walk: only the items tied with
    # the last one taken are read again, to choose among them.
    columns = (items.c.id, items.c.published, items.c.entry_id)
    query = (
        _story_query(topic_id, *columns, with_hidden=with_hidden)
        .order_by(items.c.published.desc(), items.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        if rows and len(rows) == limit:
            tied = _story_query(topic_id, *columns, with_hidden=with_hidden).where(
                items.c.published == rows[-1].published
            )
            rows = list({row.id: row for row in [*rows, *connection.execute(tied)]}.values())
        rows.sort(key=lambda row: (row.published, row.entry_id), reverse=True)
        return _load(connection, [row.id for row in rows[:limit]])


def _story_query(topic_id: str | None, *columns: object, with_hidden: bool = False) -> Select:
    """Canonical items, of one topic if given, not hidden by an editor unless ``with_hidden``.

    The topic is a correlated EXISTS, not a join: walking the published-date
    index newest first and probing each item's topics stops after ``limit``
    hits, so the cost follows the feed's size, not the store's (a join would
    collect every item of the topic and sort them all).
    """
    query = select(*columns).where(items.c.story_id == items.c.id)
    if not with_hidden:
        query = query.where(items.c.hidden.is_(False))
    if topic_id is not None:
        query = query.where(
            exists().where(item_topics.c.item_id == items.c.id, item_topics.c.topic_id == topic_id)
        )
    return query


def find_items(engine: Engine, reference: str) -> list[StoredItem]:
    """Items matching an entry id, an item key, a link, or (failing those) a title fragment."""
    exact = or_(items.c.entry_id == reference, items.c.key == reference, items.c.link == reference)
    with engine.connect() as connection:
        ids = list(connection.execute(select(items.c.id).where(exact)).scalars())
        if not ids:
            pattern = f"%{reference.lower()}%"
            ids = list(
                connection.execute(
                    select(items.c.id).where(func.lower(items.c.title).like(pattern))
                ).scalars()
            )
        return _load(connection, ids)


def items_by_id(engine: Engine, ids: Sequence[int]) -> list[StoredItem]:
    with engine.connect() as connection:
        return _load(connection, ids)


def item_texts(engine: Engine, batch: int = 500) -> Iterator[list[ItemText]]:
    """Every stored item's classifiable text, in batches (for re-classification)."""
    last = 0
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    items.c.id,
                    items.c.title,
                    items.c.content_html,
                    items.c.published,
                    items.c.story_id,
                )
                .where(items.c.id > last)
                .order_by(items.c.id)
                .limit(batch)
            ).all()
        if not rows:
            return
        yield [
            ItemText(r.id, r.title, r.content_html, r.published, r.story_id == r.id) for r in rows
        ]
        last = rows[-1].id


def _load(connection: Connection, ids: Sequence[int]) -> list[StoredItem]:
    if not ids:
        return []
    rows = connection.execute(
        select(
            *_ITEM_FIELDS,
            sources.c.key.label("source_key"),
            sources.c.title.label("source_title"),
            sources.c.link.label("source_link"),
            sources.c.feed_id.label("source_feed_id"),
            sources.c.feed_updated.label("source_updated"),
        )
        .join(sources, sources.c.id == items.c.source_id)
        .where(items.c.id.in_(ids))
    ).all()
    # The next two queries are sorted here, not in SQL: an ORDER BY lets SQLite walk
    # the whole table in index order rather than look the ids up (for a thousand ids,
    # which archive pages load at once, it prefers the walk).
    topics: dict[int, list[str]] = {}
    for item_id, topic_id in sorted(
        connection.execute(
            select(item_topics.c.item_id, item_topics.c.topic_id).where(
                item_topics.c.item_id.in_(ids)
            )
        ).all(),
        key=lambda row: row.topic_id,
    ):
        topics.setdefault(item_id, []).append(topic_id)
    reports: dict[int, list[tuple[datetime, Report]]] = {}
    for member in sorted(
        connection.execute(
            select(
                items.c.story_id,
                items.c.link,
                items.c.entry_id,
                items.c.site_name,
                sources.c.title,
                items.c.published,
            )
            .join(sources, sources.c.id == items.c.source_id)
            .where(items.c.story_id.in_(ids), items.c.story_id != items.c.id)
        ).all(),
        key=lambda row: (row.published, row.entry_id),
    ):
        report = Report(member.site_name or member.title, member.link, member.entry_id)
        reports.setdefault(member.story_id, []).append((member.published, report))
    from aggregator import dedup  # here: status and explain read no story (issue #22)

    shown = {
        row.id: dedup.other_outlets(
            row.link,
            dedup.outlet(row.link, row.site_name or row.source_title),
            [report for _, report in reports.get(row.id, ())],
        )
        for row in rows
    }
    published = {report.entry_id: when for members in reports.values() for when, report in members}
    by_id = {
        row.id: StoredItem(
            id=row.id,
            entry_id=row.entry_id,
            source_key=row.source_key,
            source_title=row.source_title,
            source_link=row.source_link,
            source_feed_id=row.source_feed_id,
            source_updated=row.source_updated,
            key=row.key,
            title=row.title,
            content_html=row.content_html,
            published=row.published,
            # The entry changes when another outlet joins its story: a function of the
            # story's items, whatever order they came in.
            updated=max([row.updated, *(published[r.entry_id] for r in shown[row.id])]),
            author=row.author,
            site_name=row.site_name,
            link=row.link,
            language=row.language,
            topics=tuple(topics.get(row.id, ())),
            also_reported_by=tuple(shown[row.id]),
            story_id=row.story_id,
            enclosures=tuple(Enclosure(*e) for e in json.loads(row.enclosures or "[]")),
            hidden=row.hidden,
        )
        for row in rows
    }
    return [by_id[i] for i in ids if i in by_id]


def topic_counts(engine: Engine) -> dict[str, int]:
    """Stories per topic: canonical items only, as in the feeds (issue #20)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(item_topics.c.topic_id, func.count())
            .join(items, items.c.id == item_topics.c.item_id)
            .where(items.c.story_id == items.c.id)
            .group_by(item_topics.c.topic_id)
        )
        return {topic: count for topic, count in rows}


def story_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(items).where(items.c.story_id == items.c.id)
        ).scalar_one()


def item_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(items)).scalar_one()


def failing_sources(engine: Engine) -> list[tuple[str, str]]:
    """(source key, last error) of every source whose last attempt failed."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(sources.c.key, sources.c.last_error)
            .where(sources.c.last_error.is_not(None))
            .order_by(sources.c.key)
        )
        return [(row.key, row.last_error) for row in rows]


def meta_value(engine: Engine, key: str) -> str | None:
    """A value kept in the meta table, without a transaction (``StoreTransaction.get_meta``)."""
    with engine.connect() as connection:
        return connection.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
