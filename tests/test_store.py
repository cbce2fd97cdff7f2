"""Storage on real SQLite and real PostgreSQL: aware datetimes, uniqueness (schema versions:
test_migrations.py)."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from aggregator import dedup
from aggregator.store import Storage
from aggregator.store.schema import items
from aggregator.types import ItemData, SourceInfo

NOW = datetime(2025, 6, 4, 3, 0, tzinfo=UTC)
SOURCE = SourceInfo(key="seed:a.txt", kind="seed", title="Seeds")


def _write(storage: Storage, item: ItemData, now: datetime = NOW) -> dedup.ItemWrite | None:
    with storage.transaction() as tx:
        source_id = tx.save_source(SOURCE, "hash", now)
        known = tx.known_items(source_id, [item.key]).get(item.key)
        write = dedup.decide(
            item, known, authority="example.org,2026", source_key=SOURCE.key, now=now
        )
        if write is not None and write.id is None:
            tx.insert_items(source_id, [(write, None)], now)
        elif write is not None:
            tx.update_item(write, None)
        return write


def test_aware_datetimes_round_trip_identically(storage: Storage) -> None:
    seoul = timezone(timedelta(hours=9))
    published = datetime(2025, 5, 26, 11, 9, tzinfo=seoul)
    _write(storage, ItemData(key="k", title="T", content_html="<p>x</p>", published=published))
    (stored,) = storage.newest_items(None, 10)
    assert stored.published == published
    assert stored.published.tzinfo == UTC
    assert stored.published.isoformat() == "2025-05-26T02:09:00+00:00"


def test_naive_datetimes_are_refused(storage: Storage) -> None:
    item = ItemData(key="k", title="T", content_html="", published=datetime(2025, 1, 1))
    with pytest.raises((TypeError, ValueError)):
        _write(storage, item)


def test_the_database_enforces_item_uniqueness(storage: Storage) -> None:
    item = ItemData(key="k", title="T", content_html="<p>x</p>")
    _write(storage, item)
    row = {
        "source_id": 1,
        "key": "k",
        "entry_id": "tag:example.org,2026:other",
        "title": "again",
        "content_html": "",
        "published": NOW,
        "updated": NOW,
        "first_seen": NOW,
        "content_hash": "x",
    }
    with pytest.raises(IntegrityError), storage.transaction() as tx:
        tx.connection.execute(insert(items).values(**row))
    assert storage.item_count() == 1


def test_rewriting_the_same_item_changes_nothing_and_an_edit_updates_in_place(
    storage: Storage,
) -> None:
    item = ItemData(key="k", title="First", content_html="<p>body</p>", published=NOW)
    first = _write(storage, item)
    assert first is not None and first.id is None
    assert _write(storage, item, NOW + timedelta(hours=1)) is None
    # Whitespace and markup-only differences are no change.
    same = ItemData(key="k", title="First ", content_html="<p>body</p>\n", published=NOW)
    assert _write(storage, same, NOW + timedelta(hours=1)) is None
    edited = ItemData(key="k", title="Second", content_html="<p>body</p>", published=NOW)
    later = NOW + timedelta(hours=2)
    write = _write(storage, edited, later)
    assert write is not None and write.id is not None
    (stored,) = storage.newest_items(None, 10)
    assert stored.entry_id == first.entry_id
    assert stored.title == "Second"
    assert stored.updated == later


def test_a_future_date_is_clamped_to_now(storage: Storage) -> None:
    item = ItemData(key="k", title="T", content_html="", published=NOW + timedelta(days=3))
    _write(storage, item)
    (stored,) = storage.newest_items(None, 10)
    assert stored.published == NOW


def test_lookups_take_more_values_than_sqlite_binds_in_one_statement(storage: Storage) -> None:
    """Lists are bound as one value (dialect.OneOf): SQLite binds at most 32,766 per statement."""
    _write(storage, ItemData(key="k", title="T", content_html="<p>x</p>", published=NOW))
    keys = [f"missing-{n}" for n in range(40_000)] + ["k"]
    with storage.transaction() as tx:
        source_id = tx.save_source(SOURCE, "hash", NOW)
        assert list(tx.known_items(source_id, keys)) == ["k"]
        assert tx.known_items(source_id, []) == {}


def _has_items(storage: Storage) -> bool:
    with storage.transaction() as tx:
        return tx.has_items()


def _stored_keys(storage: Storage) -> list[str]:
    """What another connection sees committed."""
    return sorted(item.key for item in storage.newest_items(None, 10))


def test_a_batch_on_sqlite_is_one_transaction(storage: Storage) -> None:
    """On SQLite the transactions of a batch commit together, or not at all; on PostgreSQL
    each stays its own."""
    one = storage.dialect == "sqlite"
    with storage.batch():
        _write(storage, ItemData(key="a", title="A", content_html="<p>a</p>"))
        assert _stored_keys(storage) == ([] if one else ["a"])
        with ThreadPoolExecutor(1) as other:  # another thread's transactions are its own
            assert other.submit(_has_items, storage).result() is not one
        _write(storage, ItemData(key="b", title="B", content_html="<p>b</p>"))
    assert _stored_keys(storage) == ["a", "b"]
    with pytest.raises(RuntimeError), storage.batch():
        _write(storage, ItemData(key="c", title="C", content_html="<p>c</p>"))
        with storage.transaction():
            raise RuntimeError("the writer failed")
    assert _stored_keys(storage) == (["a", "b"] if one else ["a", "b", "c"])
    _write(storage, ItemData(key="d", title="D", content_html="<p>d</p>"))
    assert "d" in _stored_keys(storage)  # after a batch, a transaction is its own again
