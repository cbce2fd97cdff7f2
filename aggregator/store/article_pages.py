"""Article pages in the store (issue #21): which are wanted, what was read, what it changed.

Storage decides nothing here: ``aggregator.fulltext`` says which pages to want
and what a page read comes to; these functions read and write that.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from aggregator.store import changes
from aggregator.store.dialect import OneOf
from aggregator.store.engine import Database, Transaction
from aggregator.store.schema import item_pages, items, sources

PENDING, USED, FAILED = "pending", "used", "failed"


@dataclass(frozen=True)
class WantedPage:
    """An item whose article page is wanted: for this version of its entry, and whether the
    entry gave a date (when not, the page's date is used)."""

    item_id: int
    entry_hash: str
    feed_dated: bool


@dataclass(frozen=True)
class PendingPage:
    """What reading one wanted page needs to know of its item and source."""

    item_id: int
    source_id: int
    entry_hash: str
    attempts: int
    feed_dated: bool
    link: str
    title: str
    content_html: str
    author: str | None
    language: str | None
    published: datetime
    story_id: int | None


@dataclass(frozen=True)
class PageRead:
    """What to record of one page: its new state and, when used, what it said."""

    item_id: int
    entry_hash: str
    state: str
    attempts: int
    next_attempt: datetime | None
    fetched: datetime | None
    url: str | None = None
    text: str | None = None
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    error: str | None = None


def want(tx: Transaction, wanted: Sequence[WantedPage]) -> None:
    """Ask for these items' pages, replacing what was read for an earlier version of each."""
    if not wanted:
        return
    forget(tx, [w.item_id for w in wanted])
    tx.connection.execute(
        item_pages.insert(),
        [
            {
                "item_id": w.item_id,
                "entry_hash": w.entry_hash,
                "state": PENDING,
                "attempts": 0,
                "feed_dated": w.feed_dated,
            }
            for w in wanted
        ],
    )


def forget(tx: Transaction, item_ids: Iterable[int]) -> None:
    """Drop what was read for items whose entry changed and no longer wants its page."""
    ids = list(item_ids)
    if ids:
        tx.connection.execute(
            delete(item_pages).where(OneOf(item_pages.c.item_id, "ids")), {"ids": ids}
        )


def claim(storage: Database, now: datetime, until: datetime, limit: int) -> list[PendingPage]:
    """Take wanted pages due now (not waiting out a backoff), oldest items first, until
    ``until``: another process (a worker) does not read them meanwhile, and a process that
    dies leaves them due again then. Recording a read releases its claim.
    """
    due = or_(item_pages.c.next_attempt.is_(None), item_pages.c.next_attempt <= now)
    with storage.engine.begin() as connection:
        wanted = (
            connection.execute(
                select(item_pages.c.item_id)
                .where(item_pages.c.state == PENDING, due)
                .order_by(item_pages.c.item_id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if not wanted:
            return []
        # Only the rows still due: a concurrent claim re-checks them after the other commits.
        claimed = (
            connection.execute(
                update(item_pages)
                .where(OneOf(item_pages.c.item_id, "ids"), item_pages.c.state == PENDING, due)
                .values(next_attempt=until)
                .returning(item_pages.c.item_id),
                {"ids": list(wanted)},
            )
            .scalars()
            .all()
        )
        if not claimed:
            return []
        rows = connection.execute(
            select(
                item_pages.c.item_id,
                items.c.source_id,
                item_pages.c.entry_hash,
                item_pages.c.attempts,
                item_pages.c.feed_dated,
                items.c.link,
                items.c.title,
                items.c.content_html,
                items.c.author,
                items.c.language,
                items.c.published,
                items.c.story_id,
            )
            .join(items, items.c.id == item_pages.c.item_id)
            .where(OneOf(item_pages.c.item_id, "ids"))
            .order_by(item_pages.c.item_id),
            {"ids": list(claimed)},
        )
        return [PendingPage(*row) for row in rows]


_RECORD = (
    update(item_pages)
    .where(item_pages.c.item_id == bindparam("read_item"))
    .where(item_pages.c.entry_hash == bindparam("read_hash"))
    .values(
        {
            column: bindparam(f"new_{column}")
            for column in (
                "state", "attempts", "next_attempt", "fetched", "url",
                "text", "title", "author", "published", "error",
            )
        }
    )
)  # fmt: skip
_COUNT_FAILURES = (
    update(sources)
    .where(sources.c.id == bindparam("source"))
    .values(
        page_failures=func.coalesce(sources.c.page_failures, 0) + bindparam("failed"),
        page_error=bindparam("reason"),
    )
)


def record(tx: Transaction, reads: Sequence[tuple[PageRead, int]]) -> list[bool]:
    """Write what page reads came to, each ``(read, its item's source id)``; for each, False
    when its entry changed meanwhile (nothing written for it).

    A failure is counted on the source, with its reason. One statement for all the reads
    that are still wanted (issue #22: a round with hundreds of pages due wrote one each).
    """
    if not reads:
        return []
    rows = [
        {
            "read_item": read.item_id,
            "read_hash": read.entry_hash,
            "new_state": read.state,
            "new_attempts": read.attempts,
            "new_next_attempt": read.next_attempt,
            "new_fetched": read.fetched,
            "new_url": read.url,
            "new_text": read.text,
            "new_title": read.title,
            "new_author": read.author,
            "new_published": read.published,
            "new_error": read.error,
        }
        for read, _source in reads
    ]
    written = tx.connection.execute(_RECORD, rows)
    if tx.connection.dialect.supports_sane_multi_rowcount and written.rowcount == len(rows):
        recorded = [True] * len(rows)
    else:  # which entries changed: the same writes again, one by one, each saying
        recorded = [tx.connection.execute(_RECORD, row).rowcount == 1 for row in rows]
    if any(kept and read.state == USED for (read, _), kept in zip(reads, recorded, strict=True)):
        changes.note(tx.connection)  # its text is what the feeds publish of its item
    failed: Counter[int] = Counter()
    last_error: dict[int, str | None] = {}
    for (read, source_id), kept in zip(reads, recorded, strict=True):
        if kept and read.state == FAILED:
            failed[source_id] += 1
            last_error[source_id] = read.error
    if failed:
        tx.connection.execute(
            _COUNT_FAILURES,
            [{"source": s, "failed": n, "reason": last_error[s]} for s, n in failed.items()],
        )
    return recorded


def set_item_text_fields(
    tx: Transaction,
    item_id: int,
    slots: tuple[int, ...] | None,
    *,
    title: str | None,
    author: str | None,
    published: datetime | None,
) -> None:
    """An item's signature from its page text, and the fields its entry lacked from the page.

    The content hash is left as the entry made it: the next read of an unchanged
    entry is still no change.
    """
    from aggregator.fingerprints import pack

    values: dict[str, object] = {"signature": pack(slots) if slots else None}
    if title:
        values["title"] = title
    if author:
        values["author"] = author
    if published:
        values["published"] = published
    tx.connection.execute(update(items).where(items.c.id == item_id).values(**values))
    if tx.remembered is not None:
        tx.remembered.pop(item_id, None)  # its signature changed


def alone_in_story(tx: Transaction, item_id: int) -> bool:
    """Whether the item is its own story with no other member (so it may still join one)."""
    members = tx.connection.execute(
        select(func.count()).select_from(items).where(items.c.story_id == item_id)
    ).scalar_one()
    own = tx.connection.execute(select(items.c.story_id).where(items.c.id == item_id)).scalar()
    return own in (None, item_id) and members <= 1


def used_texts(storage: Database, item_ids: Sequence[int]) -> dict[int, str]:
    """The page text of each of these items whose page was used."""
    if not item_ids:
        return {}
    query = select(item_pages.c.item_id, item_pages.c.text).where(
        and_(item_pages.c.state == USED, OneOf(item_pages.c.item_id, "ids"))
    )
    with storage.engine.connect() as connection:
        return dict(connection.execute(query, {"ids": list(item_ids)}).all())


def page_of(storage: Database, item_id: int) -> PageRead | None:
    """What is recorded of an item's page, if it was ever wanted (for explain)."""
    with storage.engine.connect() as connection:
        row = connection.execute(
            select(item_pages).where(item_pages.c.item_id == item_id)
        ).one_or_none()
    if row is None:
        return None
    return PageRead(
        row.item_id, row.entry_hash, row.state, row.attempts, row.next_attempt,
        row.fetched, row.url, row.text, row.title, row.author, row.published, row.error,
    )  # fmt: skip
