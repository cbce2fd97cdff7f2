"""The Storage façade: one object the pipeline, the CLI and the server open, composed of
the store's modules so callers need not know which one does what.

    engine.py   the connection, SQLite's pragmas, transactions and batches (the leaf)
    dialect.py  what differs between SQLite and PostgreSQL
    writes.py   one ingest transaction's writes (``StoreTransaction``)
    band_index.py  its band keys and near-duplicate candidates (``BandIndex``)
    reads.py    reads for publishing, status and explain
    sources.py  web sources: the registry, the "due" query, politeness state
    runs.py     the shared counters and the run log
    changes.py  the changes marker every write that shows in the feeds moves
    migrate.py  the schema's revisions (``initialize`` refuses an outdated one)

SQLite (WAL mode, foreign keys on) is the default; PostgreSQL is the other database
the schema and its migrations are tested on.
"""

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.exc import OperationalError

from aggregator.errors import AggregatorError
from aggregator.store import changes, migrate, reads, runs
from aggregator.store.engine import Database
from aggregator.store.reads import ItemText
from aggregator.store.retry import is_transient
from aggregator.store.runs import RunRecord
from aggregator.store.sources import SourceRegistry
from aggregator.types import RunKind, StoredItem

if TYPE_CHECKING:  # imported where a transaction opens: reading commands never write
    from aggregator.store.writes import StoreTransaction


class Storage(Database):
    """Opens the database, creates or checks its schema, and hands out transactions."""

    def __init__(
        self, url: str, *, busy_timeout: float = 5.0, page_cache: int | None = None
    ) -> None:
        super().__init__(url, busy_timeout=busy_timeout, page_cache=page_cache)
        changes.watch(self.engine)

    @property
    def sources(self) -> SourceRegistry:
        """The web-source registry over this store."""
        return SourceRegistry(self)

    def initialize(self) -> None:
        """Create the schema in an empty database; refuse one that is not at the newest revision.

        ``aggregator db upgrade`` (``migrate.upgrade``) migrates an older one.
        """
        try:
            migrate.ensure_current(self)
        except OperationalError as error:
            if is_transient(error):
                raise  # the caller's retries may ride it out
            raise AggregatorError(f"cannot open database {self.display_url}: {error}") from None

    @contextmanager
    def remembering_candidates(self) -> Iterator[None]:
        """``Database.remembering_candidates``; at its end the candidates' unpacked
        signatures are let go as well (about 10 MB after a large ingest, issue #22)."""
        try:
            with super().remembering_candidates():
                yield
        finally:
            # Imported with the writes, which reading commands and rounds that store no
            # item never load: then there is nothing to let go (issue #22).
            if (candidates := sys.modules.get("aggregator.store.candidates")) is not None:
                candidates.forget_signatures()

    @contextmanager
    def transaction(self) -> Iterator["StoreTransaction"]:
        """One transaction: committed when the block ends, rolled back on error.

        Inside a ``batch`` (of this thread) it is part of the batch's transaction.
        """
        # The writes (and the fingerprints they key stories by) load with the first
        # transaction: `aggregator status` and the other reading commands never open one.
        from aggregator.store import search
        from aggregator.store.writes import StoreTransaction

        with self._connection() as (connection, remembered):
            yield StoreTransaction(connection, remembered)
            # Items the block wrote without handing over their text (an import, a title
            # from an article page): searchable once committed, like the writer's.
            search.index_pending(connection, {})

    # Reads for publishing, status and explain (reads.py).

    def newest_items(
        self, topic_id: str | None, limit: int, *, with_hidden: bool = False
    ) -> list[StoredItem]:
        """The newest ``limit`` items of a topic (or of all items), newest first (see reads)."""
        return reads.newest_items(self.engine, topic_id, limit, with_hidden=with_hidden)

    def find_items(self, reference: str) -> list[StoredItem]:
        """Items matching an entry id, an item key, a link, or (failing those) a title fragment."""
        return reads.find_items(self.engine, reference)

    def items_by_id(self, ids: Sequence[int]) -> list[StoredItem]:
        return reads.items_by_id(self.engine, ids)

    def search(self, words: Sequence[str], topic_id: str | None, limit: int) -> list[StoredItem]:
        """Up to ``limit`` stories whose title or text holds every word, newest first."""
        from aggregator.store import search  # items --search only

        ids = search.matching_story_ids(self.engine, words, topic_id, limit)
        return reads.items_by_id(self.engine, ids)

    def item_texts(self, batch: int = 500) -> Iterator[list[ItemText]]:
        """Every stored item's classifiable text, in batches (for re-classification)."""
        return reads.item_texts(self.engine, batch)

    def topic_counts(self) -> dict[str, int]:
        """Stories per topic, as the feeds count them: a merged copy is not one more."""
        return reads.topic_counts(self.engine)

    def story_count(self) -> int:
        return reads.story_count(self.engine)

    def item_count(self) -> int:
        return reads.item_count(self.engine)

    def failing_sources(self) -> list[tuple[str, str]]:
        """(source key, last error) of every source whose last attempt failed."""
        return reads.failing_sources(self.engine)

    def meta(self, key: str) -> str | None:
        return reads.meta_value(self.engine, key)

    # Counters and the run log (runs.py).

    def add_counts(self, counts: dict[str, int]) -> None:
        """Add to the shared counters (creating them at zero), in one upsert."""
        runs.add_counts(self, counts)

    def counts(self) -> dict[str, int]:
        return runs.counts(self)

    def record_run(self, run: RunRecord) -> None:
        runs.record_run(self, run)

    def last_run(self, kind: RunKind) -> RunRecord | None:
        return runs.last_run(self, kind)
