"""SQLite's page cache: SQLite's default for a small store, a share of a large store's size
(capped), or what ``storage.page_cache_mb`` says (issue #22: an ingest into a store of 1M
items)."""

from pathlib import Path

import pytest
from sqlalchemy import text

from aggregator.app import Aggregator
from aggregator.config import load_settings
from aggregator.store import Storage
from aggregator.store.engine import (
    PAGE_CACHE_CAP,
    SMALL_STORE,
    SQLITE_CHECKPOINT_PAGES,
    SQLITE_DEFAULT_CACHE,
    page_cache_bytes,
)
from tests.support.project import write_config

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("store_bytes", "expected"),
    [
        (0, SQLITE_DEFAULT_CACHE),  # a new store: its first update's peak memory counts
        (SMALL_STORE, SQLITE_DEFAULT_CACHE),
        (2_500 * MB, 2_500 * MB // 16),  # 200,000 items
        (12_600 * MB, PAGE_CACHE_CAP),  # 1M items: capped
    ],
)
def test_auto_sizes_the_cache_by_the_store(store_bytes: int, expected: int) -> None:
    assert page_cache_bytes(store_bytes, None) == expected


def test_just_above_a_small_store_the_cache_is_no_smaller_than_sqlites_default() -> None:
    assert page_cache_bytes(SMALL_STORE + 1, None) >= SQLITE_DEFAULT_CACHE


def test_a_set_size_wins_whatever_the_store() -> None:
    assert page_cache_bytes(0, 64 * MB) == 64 * MB
    assert page_cache_bytes(12_600 * MB, 8 * MB) == 8 * MB


def _cache_kib(storage: Storage) -> int:
    with storage.engine.connect() as connection:
        return -connection.execute(text("PRAGMA cache_size")).scalar_one()


def _checkpoint_pages(storage: Storage) -> int:
    with storage.engine.connect() as connection:
        return connection.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()


def test_connections_get_the_cache_the_settings_say(tmp_path: Path) -> None:
    auto = Storage(f"sqlite:///{tmp_path / 'auto.db'}")
    auto.initialize()
    set_ = Storage(f"sqlite:///{tmp_path / 'set.db'}", page_cache=64 * MB)
    set_.initialize()
    try:
        assert _cache_kib(auto) == SQLITE_DEFAULT_CACHE // 1024
        assert _cache_kib(set_) == 64 * 1024
        # The log is checkpointed when it holds as much as the cache, 40 MB at least.
        assert _checkpoint_pages(auto) == SQLITE_CHECKPOINT_PAGES
        assert _checkpoint_pages(set_) == 64 * MB // 4096
    finally:
        auto.close()
        set_.close()


def test_page_cache_mb_is_auto_by_default_or_megabytes(tmp_path: Path) -> None:
    assert load_settings(write_config(tmp_path), environ={}).page_cache is None
    path = write_config(tmp_path, '[storage]\npage_cache_mb = "auto"\n')
    assert load_settings(path, environ={}).page_cache is None
    path = write_config(tmp_path, "[storage]\npage_cache_mb = 300\n")
    assert load_settings(path, environ={}).page_cache == 300 * MB


def test_the_setting_reaches_the_stores_connections(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[storage]\npage_cache_mb = 32\n")
    app = Aggregator.open(load_settings(path, environ={}), rules=False)
    try:
        assert _cache_kib(app.storage) == 32 * 1024
    finally:
        app.close()
