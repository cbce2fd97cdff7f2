"""Claims on web sources with a lease, so several workers share one database's fetching.

A worker claims a batch of due sources in one statement (PostgreSQL skips rows
another worker's claim transaction has locked: ``FOR UPDATE SKIP LOCKED``) and
stamps them with its id and ``lease_until = now + lease``. The transaction that
stores a source's fetch releases the claim (``sources.save_fetch_state``). A
worker that dies leaves its claims until they lapse; the sources are then due
for the others.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from aggregator.store.engine import Database
from aggregator.store.schema import sources
from aggregator.store.sources import web_source
from aggregator.types import SourceKind, WebSource


def due(now: datetime) -> ColumnElement[bool]:
    """Enabled web sources whose next fetch time has come and that nobody holds a claim on."""
    return and_(
        sources.c.kind == SourceKind.FEED,
        sources.c.enabled.is_(True),
        or_(sources.c.next_fetch.is_(None), sources.c.next_fetch <= now),
        or_(sources.c.lease_until.is_(None), sources.c.lease_until <= now),
    )


def claim(
    storage: Database, holder: str, now: datetime, lease: timedelta, limit: int
) -> list[WebSource]:
    """Claim up to ``limit`` due sources for ``holder`` (never-fetched and most overdue first)."""
    chosen = (
        select(sources.c.id)
        .where(due(now))
        .order_by(sources.c.next_fetch.is_not(None), sources.c.next_fetch, sources.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
        # Chosen once: as a plain subquery PostgreSQL may run it again while updating,
        # and the rows this statement claimed no longer look due, so it claims more.
        .cte("chosen")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    with storage.transaction() as tx:
        rows = tx.connection.execute(
            update(sources)
            .where(sources.c.id.in_(select(chosen.c.id)))
            .values(claimed_by=holder, lease_until=now + lease)
            .returning(sources)
        ).all()
    claimed = [web_source(row) for row in rows]
    return sorted(claimed, key=lambda s: (s.next_fetch is not None, s.next_fetch or now, s.id))


def release(storage: Database, holder: str, ids: Sequence[int] | None = None) -> int:
    """Give up ``holder``'s claims (all of them, or on ``ids``): those sources are due again."""
    query = update(sources).where(sources.c.claimed_by == holder)
    if ids is not None:
        if not ids:
            return 0
        query = query.where(sources.c.id.in_(list(ids)))
    with storage.transaction() as tx:
        return tx.connection.execute(query.values(claimed_by=None, lease_until=None)).rowcount


def claims(storage: Database) -> dict[str, int]:
    """How many sources each holder has claimed (lapsed claims included)."""
    with storage.engine.connect() as connection:
        rows = connection.execute(
            select(sources.c.claimed_by, sources.c.id).where(sources.c.claimed_by.is_not(None))
        ).all()
    held: dict[str, int] = {}
    for holder, _id in rows:
        held[holder] = held.get(holder, 0) + 1
    return held
