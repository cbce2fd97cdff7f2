"""An editor's control over single items: hide one from every feed, show it again, remove it.

An item is named as ``explain`` names it, but exactly: its entry id, its link, or
its key (a seed file's name, an entry's guid); never words of a title, which could
name more than was meant. Every item the reference names is acted on.

Hiding keeps the item stored (``items.hidden``): it leaves every feed and page at
the next regeneration, and archive pages written from then on; pages already
written stay as they are. Removing deletes it and leaves a tombstone, as
retention does, so a source (or seed file) still listing it never brings it back.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update

from aggregator.store.dialect import OneOf
from aggregator.store.engine import Database
from aggregator.store.retention import identity
from aggregator.store.schema import items, sources, tombstones


@dataclass(frozen=True)
class NamedItem:
    """An item an editor named: its entry id and title, to say what was done to it."""

    entry_id: str
    title: str


def _named(reference: str) -> ColumnElement[bool]:
    return or_(items.c.entry_id == reference, items.c.link == reference, items.c.key == reference)


def set_hidden(database: Database, reference: str, hidden: bool) -> list[NamedItem]:
    """Hide (or show again) every item ``reference`` names; the items named."""
    with database.engine.begin() as connection:
        rows = connection.execute(
            select(items.c.id, items.c.entry_id, items.c.title).where(_named(reference))
        ).all()
        if rows:
            connection.execute(
                update(items).where(OneOf(items.c.id, "ids")).values(hidden=hidden),
                {"ids": [row.id for row in rows]},
            )
    return [NamedItem(row.entry_id, row.title) for row in rows]


def remove(database: Database, reference: str, now: datetime) -> list[NamedItem]:
    """Delete every item ``reference`` names and remember it; the items removed.

    Another source's version of the same story then stands for the story (the
    earliest one seen), as if the removed item had never been stored.
    """
    with database.engine.begin() as connection:
        rows = connection.execute(
            select(
                items.c.id,
                items.c.entry_id,
                items.c.title,
                items.c.key,
                items.c.story_id,
                sources.c.key.label("source_key"),
            )
            .join(sources, sources.c.id == items.c.source_id)
            .where(_named(reference))
        ).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        connection.execute(
            insert(tombstones),
            [{"identity": identity(row.source_key, row.key), "pruned": now} for row in rows],
        )
        connection.execute(delete(items).where(OneOf(items.c.id, "ids")), {"ids": ids})
        for row in rows:
            if row.story_id != row.id:
                continue
            successor = connection.execute(
                select(items.c.id)
                .where(items.c.story_id == row.id)
                .order_by(items.c.first_seen, items.c.id)
                .limit(1)
            ).scalar()
            if successor is not None:
                connection.execute(
                    update(items).where(items.c.story_id == row.id).values(story_id=successor)
                )
    return [NamedItem(row.entry_id, row.title) for row in rows]


def hidden_count(database: Database) -> int:
    """How many stored items an editor hid (``status`` says so)."""
    with database.engine.connect() as connection:
        query = select(func.count()).select_from(items).where(items.c.hidden.is_(True))
        return connection.execute(query).scalar_one()
