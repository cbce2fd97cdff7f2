"""Retention: prune items past the horizon that no feed shows any more, and remember them.

An item is pruned when it was published before ``now - keep`` and is not among
the newest entries of any feed (topic feeds and all.xml), nor a story that a
kept item belongs to. Its identity stays as a tombstone, so a source that
still lists it does not bring it back. Archive pages already written are files
and never change, so backfilling readers still find pruned stories there.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, insert, select

from aggregator.store.dialect import OneOf
from aggregator.store.engine import Database, Transaction
from aggregator.store.schema import items, runs, sources, tombstones


@dataclass(frozen=True)
class Pruned:
    """Items removed (or, in a dry run, that would be): (entry id, title) pairs."""

    items: tuple[tuple[str, str], ...]


_TOMBSTONED = select(tombstones.c.identity).where(OneOf(tombstones.c.identity, "identities"))
_STORIES_OF = select(items.c.story_id).where(OneOf(items.c.id, "ids"))
_DELETE_ITEMS = delete(items).where(OneOf(items.c.id, "ids"))


def identity(source_key: str, item_key: str) -> str:
    return hashlib.sha256(f"{source_key}\n{item_key}".encode()).hexdigest()


def tombstoned(tx: Transaction, source_key: str, keys: Iterable[str]) -> set[str]:
    """Which of these item keys of a source were pruned before."""
    by_identity = {identity(source_key, key): key for key in keys}
    if not by_identity:
        return set()
    rows = tx.connection.execute(_TOMBSTONED, {"identities": list(by_identity)}).scalars()
    return {by_identity[found] for found in rows}


def prune(
    storage: Database,
    now: datetime,
    keep: timedelta,
    protected_ids: Sequence[int],
    *,
    dry_run: bool = False,
) -> Pruned:
    """Remove (or list, with ``dry_run``) items past the horizon that no feed shows."""
    horizon = now - keep
    shown = sorted(set(protected_ids))
    member = items.alias("member")
    # A story goes as a whole: when every member is past the horizon and no feed shows
    # it. Selected by the database, so a daily prune reads what goes, not the store.
    fresh_member = exists().where(
        member.c.story_id == items.c.story_id, member.c.published >= horizon
    )
    query = (
        select(
            items.c.id,
            items.c.story_id,
            items.c.entry_id,
            items.c.title,
            items.c.key,
            sources.c.key.label("source_key"),
        )
        .join(sources, sources.c.id == items.c.source_id)
        .where(items.c.published < horizon, ~fresh_member)
        .order_by(items.c.id)
    )
    with storage.transaction() as tx:
        kept = set(shown)
        if shown:  # the stories the protected items belong to
            kept.update(tx.connection.execute(_STORIES_OF, {"ids": shown}).scalars())
        doomed = [r for r in tx.connection.execute(query) if r.story_id not in kept]
        if not dry_run:
            if doomed:
                tx.connection.execute(
                    insert(tombstones),
                    [{"identity": identity(r.source_key, r.key), "pruned": now} for r in doomed],
                )
            if doomed:
                tx.connection.execute(_DELETE_ITEMS, {"ids": [r.id for r in doomed]})
            # The run log goes with the same horizon, so it does not grow without bound either.
            tx.connection.execute(delete(runs).where(runs.c.started < horizon))
    return Pruned(tuple((r.entry_id, r.title) for r in doomed))
