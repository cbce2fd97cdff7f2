"""The changes marker: a counter that moves, inside the same transaction, with every write
that can change what a regeneration publishes, so a round that changed nothing need not
render every feed only to find it unchanged (issue #22).

Marked without the writer's help: any INSERT, UPDATE or DELETE of items or of topic
assignments, and deleting a source (its items go with it), however the transaction was
opened (the writer, editorial actions, retention, transfers and re-classification
alike). The two other writes that show in the feeds mark their transaction themselves
(``note``): a source's title, link, feed id or date (``writes.save_source``) and an
article page's text coming into use (``article_pages.record``).

A marked transaction bumps the counter when it commits, as its last statement: a write
rolled back leaves the counter as it was, and a committed one cannot go unnoticed, even
if the process dies the moment after. Bumped last, so on PostgreSQL the counter's row is
held only while the transaction commits, and two writers cannot wait on each other
through it. Who publishes records which value its render covered: the workers in
``changes:published`` (``pending_changes``), every complete regeneration in meta beside
what else the files are made from (``aggregator.freshness``).
"""

from weakref import WeakSet

from sqlalchemy import Connection, Engine, event, insert, select, update
from sqlalchemy.sql.dml import Delete, UpdateBase

from aggregator.store.dialect import upsert
from aggregator.store.engine import Database
from aggregator.store.schema import counters, item_topics, items, sources

CHANGES_STORED = "changes:stored"
CHANGES_PUBLISHED = "changes:published"

_WATCHED = {items.name, item_topics.name}
# The connections whose open transaction is marked. Kept here, not in the connection's
# ``info``: that belongs to its pooled connection, which an invalidated one no longer has.
_marked: WeakSet[Connection] = WeakSet()


def watch(engine: Engine) -> None:
    """Bump the marker at the commit of every transaction on ``engine`` that changed what
    the feeds show."""
    event.listen(engine, "begin", _clear)
    event.listen(engine, "before_execute", _mark_writes)
    event.listen(engine, "commit", _bump_if_marked)
    event.listen(engine, "rollback", _clear)


def note(connection: Connection) -> None:
    """Say that this transaction changed what the feeds show (a write the marker does not
    see by its table)."""
    _marked.add(connection)


def _mark_writes(connection: Connection, statement: object, *_: object) -> None:
    if isinstance(statement, UpdateBase):
        table = statement.table.name  # type: ignore[attr-defined]
        if table in _WATCHED or (table == sources.name and isinstance(statement, Delete)):
            note(connection)


def _bump_if_marked(connection: Connection) -> None:
    if connection in _marked:
        _marked.discard(connection)
        bump = upsert(connection.dialect.name, counters).values(name=CHANGES_STORED, value=1)
        connection.execute(
            bump.on_conflict_do_update(
                index_elements=[counters.c.name], set_={"value": counters.c.value + 1}
            )
        )


def _clear(connection: Connection) -> None:
    _marked.discard(connection)


def stored(connection: Connection) -> int:
    """The marker now: how many committed transactions changed what the feeds show."""
    query = select(counters.c.value).where(counters.c.name == CHANGES_STORED)
    return connection.execute(query).scalar() or 0


def pending_changes(storage: Database) -> int | None:
    """The marker when the workers have not regenerated since it moved, else None."""
    with storage.engine.connect() as connection:
        marker = stored(connection)
        published = connection.execute(
            select(counters.c.value).where(counters.c.name == CHANGES_PUBLISHED)
        ).scalar()
    return marker if marker != (published or 0) else None


def mark_published(storage: Database, marker: int) -> None:
    """Record that a workers' regeneration started after the changes up to ``marker``."""
    with storage.transaction() as tx:
        changed = tx.connection.execute(
            update(counters).where(counters.c.name == CHANGES_PUBLISHED).values(value=marker)
        ).rowcount
        if not changed:
            tx.connection.execute(insert(counters).values(name=CHANGES_PUBLISHED, value=marker))
