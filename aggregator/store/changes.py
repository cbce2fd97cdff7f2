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

from sqlalchemy import Connection, Engine, event, select
from sqlalchemy.sql.dml import Delete, UpdateBase

from aggregator.store.engine import Database
from aggregator.store.runs import counter_upsert
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
        bump = counter_upsert(connection.dialect.name, add=True)
        connection.execute(bump, {"name": CHANGES_STORED, "value": 1})


def _clear(connection: Connection) -> None:
    _marked.discard(connection)


def stored(connection: Connection) -> int:
    """The marker now: how many committed transactions changed what the feeds show."""
    return _counter(connection, CHANGES_STORED)


def _counter(connection: Connection, name: str) -> int:
    """A counter's value, 0 before it was first set."""
    query = select(counters.c.value).where(counters.c.name == name)
    return connection.execute(query).scalar() or 0


def pending_changes(storage: Database) -> int | None:
    """The marker when the workers have not regenerated since it moved, else None."""
    with storage.engine.connect() as connection:
        marker = stored(connection)
        published = _counter(connection, CHANGES_PUBLISHED)
    return marker if marker != published else None


def mark_published(storage: Database, marker: int) -> None:
    """Record that a workers' regeneration started after the changes up to ``marker``."""
    with storage.transaction() as tx:
        published = counter_upsert(storage.dialect, add=False)
        tx.connection.execute(published, {"name": CHANGES_PUBLISHED, "value": marker})
