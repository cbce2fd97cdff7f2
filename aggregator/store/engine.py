"""The database connection: one engine, SQLite's pragmas, transactions and batches.

The leaf of ``store/``: every other store module works through a ``Database`` and
none is imported here, so the package has no cycle.
"""

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial

from sqlalchemy import Connection, Engine, create_engine, event

# The size of SQLite's log that starts a checkpoint (see _sqlite_pragmas).
SQLITE_CHECKPOINT_PAGES = 10_000
# SQLite's page cache when the setting is "auto" (``page_cache_bytes``): SQLite's own
# default (2,000 KiB) up to a store of SMALL_STORE bytes (a 1,000-source first update
# leaves about 0.8 GB, and its peak memory counts: a connection opened late in it must
# not get more), then 1 / PAGE_CACHE_SHARE of the file up to PAGE_CACHE_CAP.
SQLITE_DEFAULT_CACHE = 2_000 * 1024
SMALL_STORE = 1024 * 1024 * 1024
PAGE_CACHE_SHARE = 16
PAGE_CACHE_CAP = 256 * 1024 * 1024


def page_cache_bytes(store_bytes: int, setting: int | None) -> int:
    """The page cache for a connection to a SQLite file of ``store_bytes``: ``setting``
    (bytes) if set, else ("auto") SQLite's default for a small store and a share of a
    large one's size, capped.

    An ingest into a large store writes band keys and items' hashes at random places in
    indexes far larger than the default cache, so every insert read its pages again from
    the file, and each batch's pages overflowed the cache into the log before its commit;
    a cache holding a good part of those indexes keeps them (issue #22: 200 × 50 into 1M
    items read 10.7 GB and wrote 5.4 GB with the default, 2.6 and 3.6 GB with 256 MB;
    RESULTS.md). A small store gains nothing from more (a new store's first update, whose
    peak memory counts, starts empty).
    """
    if setting is not None:
        return setting
    if store_bytes <= SMALL_STORE:
        return SQLITE_DEFAULT_CACHE
    return max(SQLITE_DEFAULT_CACHE, min(PAGE_CACHE_CAP, store_bytes // PAGE_CACHE_SHARE))


def _use_wal(cursor: sqlite3.Cursor, busy_timeout: float) -> None:
    """Put the database in WAL mode, which lets readers (serve, status) work while a cycle
    writes. The mode is kept in the file, but a new file is switched by the first process
    to open it, and SQLite answers a second one switching at the same moment "database is
    locked" at once, without waiting busy_timeout: so this waits here, as long at most.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _sqlite_pragmas(
    busy_timeout: float, page_cache: int | None, dbapi_connection: object, _record: object
) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # busy_timeout makes a briefly locked database wait instead of failing at once.
    cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
    _use_wal(cursor, busy_timeout)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # An ingest writes band keys and item hashes at random places in their indexes, so
    # each source's transaction dirties pages all over them. Checkpointing once the log
    # holds 10,000 pages (40 MB; the default is 1,000) copies a page dirtied by many
    # sources into the database once instead of after nearly every source; in a large
    # store, whose batches each dirty more pages than that, once the log holds as much as
    # the page cache (issue #22: 200 × 50 into 200,000 items with a 256 MB cache wrote
    # 2.6 GB and read 1.5 GB checkpointing every 10,000 pages, 2.1 and 1.0 every 100,000).
    # The file's size as SQLite counts it (the log's pages not yet copied back aside).
    pages = cursor.execute("PRAGMA page_count").fetchone()[0]
    page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
    cache = page_cache_bytes(pages * page_size, page_cache)
    cursor.execute(f"PRAGMA cache_size=-{cache // 1024}")  # negative: in KiB, not pages
    checkpoint = max(SQLITE_CHECKPOINT_PAGES, cache // page_size)
    cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")
    cursor.close()


class Transaction:
    """One open transaction's connection, and the near-duplicate candidates' rows this
    thread's ingest remembers (item -> (story, signature)), if it remembers any."""

    def __init__(
        self, connection: Connection, remembered: dict[int, tuple[int, bytes]] | None = None
    ) -> None:
        self.connection = connection
        self.remembered = remembered


class Database:
    """Opens the database and hands out transactions; knows nothing of the tables."""

    def __init__(
        self, url: str, *, busy_timeout: float = 5.0, page_cache: int | None = None
    ) -> None:
        """``page_cache``: SQLite's page cache per connection, in bytes; None sizes it by
        the store (``page_cache_bytes``)."""
        self.url = url
        # pool_pre_ping: after a PostgreSQL restart, pooled connections are dead;
        # each checkout tests its connection and replaces a dead one.
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        # This thread's batch (.connection) and remembered candidates (.remembered).
        self._local = threading.local()
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", partial(_sqlite_pragmas, busy_timeout, page_cache))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL without a password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back on error.

        Inside a ``batch`` (of this thread) it is part of the batch's transaction.
        """
        with self._connection() as (connection, remembered):
            yield Transaction(connection, remembered)

    def plain_transaction(self) -> AbstractContextManager[Transaction]:
        """``transaction`` as this class makes it, whatever a subclass makes instead: for
        writes that need only the connection (the sources' politeness state), which a
        round that stores no item then makes without loading the item writes (issue #22)."""
        return Database.transaction(self)

    @contextmanager
    def _connection(self) -> Iterator[tuple[Connection, dict[int, tuple[int, bytes]] | None]]:
        """The connection of this thread's batch, else a new transaction's."""
        remembered = getattr(self._local, "remembered", None)
        joined = getattr(self._local, "connection", None)
        if joined is not None:
            yield joined, remembered
            return
        with self.engine.begin() as connection:
            yield connection, remembered

    @contextmanager
    def remembering_candidates(self) -> Iterator[None]:
        """Near-duplicate candidates' rows read in the block (by this thread) are kept for the
        rest of it, as first read; an item rewritten meanwhile is read again.

        An ingest compares each new item with the items sharing most of its band keys,
        and the same items come back source after source (most of the rows a first
        ingest reads): reading each once saves a random read of a large row.
        """
        self._local.remembered = {}
        try:
            yield
        finally:
            self._local.remembered = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """On SQLite, the transactions this thread opens in the block are one, committed at its
        end; an error in any rolls back all of them. Elsewhere each stays its own.

        A commit writes every page the transaction changed to SQLite's log, and one
        source's new items change pages all over the band and hash indexes: writing
        several sources at once writes a page they share once, not once per source
        (bench_store). PostgreSQL logs rows, not pages, and runs writers side by side,
        which a longer transaction would make wait on each other.
        """
        if self.dialect != "sqlite" or getattr(self._local, "connection", None) is not None:
            yield
            return
        with self.engine.begin() as connection:
            self._local.connection = connection
            try:
                yield
            finally:
                self._local.connection = None
