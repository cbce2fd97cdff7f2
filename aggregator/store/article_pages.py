"""Article pages in the store (issue #21): which are wanted, what was read, what it changed.

Storage decides nothing here: ``aggregator.fulltext`` says which pages to want
and what a page read comes to; these functions read and write that.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update

from aggregator.fingerprints import pack
from aggregator.store.dialect import OneOf
from aggregator.store.engine import Database
from aggregator.store.schema import item_pages, items, sources
from aggregator.store.writes import StoreTransaction

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


def want(tx: StoreTransaction, wanted: Sequence[WantedPage]) -> None:
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


def forget(tx: StoreTransaction, item_ids: Iterable[int]) -> None:
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


def record(tx: StoreTransaction, read: PageRead, source_id: int) -> bool:
    """Write what a page read came to; False when the entry changed meanwhile (nothing written).

    A failure is counted on the source, with its reason.
    """
    values = {
        "state": read.state,
        "attempts": read.attempts,
        "next_attempt": read.next_attempt,
        "fetched": read.fetched,
        "url": read.url,
        "text": read.text,
        "title": read.title,
        "author": read.author,
        "published": read.published,
        "error": read.error,
    }
    written = tx.connection.execute(
        update(item_pages)
        .where(item_pages.c.item_id == read.item_id, item_pages.c.entry_hash == read.entry_hash)
        .values(**values)
    )
    if written.rowcount != 1:
        return False
    if read.state == FAILED:
        tx.connection.execute(
            update(sources)
            .where(sources.c.id == source_id)
            .values(
                page_failures=func.coalesce(sources.c.page_failures, 0) + 1, page_error=read.error
            )
        )
    return True


def set_item_text_fields(
    tx: StoreTransaction,
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


def alone_in_story(tx: StoreTransaction, item_id: int) -> bool:
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
