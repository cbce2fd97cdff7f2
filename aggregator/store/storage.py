"""The Storage façade: one engine, one transaction per source (on SQLite, per batch of
sources ready together), idempotent writes.

SQLite (WAL mode, foreign keys on) is the default; PostgreSQL is the other database
the schema and its migrations are tested on. Dialect differences live here (the SQLite
pragmas, ``_executemany``'s placeholders, ``_insert_rows``, ``_NEWEST_BAND_MEMBERS``,
``Storage.batch``) and in ``schema.py`` (``UTCDateTime``, ``OneOf``, ``UPSERTS``).
"""

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import OperationalError

from aggregator.dedup import (
    ItemWrite,
    KnownItem,
    StoryCandidate,
    full_slot_values,
    global_key_hash,
    link_hash,
    pack,
    unpack,
)
from aggregator.errors import AggregatorError
from aggregator.store.candidates import most_shared
from aggregator.store.retry import is_transient
from aggregator.store.schema import (
    UPSERTS,
    OneOf,
    ValueList,
    counters,
    item_bands,
    item_topics,
    items,
    meta,
    runs,
    sources,
)
from aggregator.types import Enclosure, InputFailure, Report, SourceInfo, StoredItem

if TYPE_CHECKING:
    from aggregator.store.sources import SourceRegistry


# Near-duplicate candidates compared per new item, the ones sharing the most bands.
MAX_STORY_CANDIDATES = 20
# Candidates' rows an ingest remembers at most (Storage.remembering_candidates).
REMEMBERED_CANDIDATES = 100_000


# Statements run for every source an ingest writes, built once: building a statement
# object costs more than running it on SQLite.
# Each wanted band key with its newest members of other sources, at most NEWEST_MEMBERS,
# as one joined string per key: one walk down the band index per key, stopped at the
# limit. A key that more items share tells less about any of them: news on one subject
# makes some keys crowded (thousands of members in a large store), a near-duplicate
# arrives within days of its story and shares many keys, most of them not crowded. So
# the lookup costs the same in a store of a million items as in a new one (reading every
# member of a crowded key was half a 1,000-source first ingest's writing time).
# (An item has band keys only when it has a signature.)
NEWEST_MEMBERS = 100
_OTHER_MEMBERS = (
    "SELECT item_id FROM item_bands WHERE band_key = {key}"
    " AND item_id NOT IN (SELECT id FROM items WHERE source_id = :source)"
    " ORDER BY item_id DESC LIMIT :most"
)
_NEWEST_BAND_MEMBERS = {
    dialect: text(sql).bindparams(bindparam("band_keys", type_=ValueList(BigInteger())))
    for dialect, sql in (
        (
            "sqlite",
            "SELECT wanted.value, (SELECT group_concat(item_id) FROM ("
            + _OTHER_MEMBERS.format(key="wanted.value")
            + ")) FROM json_each(:band_keys) AS wanted",
        ),
        (
            "postgresql",
            "SELECT wanted, (SELECT string_agg(CAST(item_id AS TEXT), ',') FROM ("
            + _OTHER_MEMBERS.format(key="wanted")
            + ") AS newest) FROM unnest(:band_keys) AS wanted",
        ),
    )
}
_KNOWN_ITEMS = select(
    items.c.key,
    items.c.id,
    items.c.entry_id,
    items.c.content_hash,
    items.c.published,
    items.c.updated,
).where(items.c.source_id == bindparam("source"), OneOf(items.c.key, "keys"))
_KEYS_BY_LINK = select(items.c.link_hash, items.c.key).where(
    items.c.source_id == bindparam("source"), OneOf(items.c.link_hash, "hashes")
)
# The lowest story of other sources' items by link hash, and by global id hash.
_STORIES_BY_LINK, _STORIES_BY_KEY = (
    select(column, func.min(items.c.story_id))
    .where(OneOf(column, "hashes"), items.c.source_id != bindparam("source"))
    .group_by(column)
    for column in (items.c.link_hash, items.c.key_hash)
)
_SIGNATURES = select(items.c.id, items.c.story_id, items.c.signature).where(
    OneOf(items.c.id, "ids")
)
_UPDATED = select(items.c.id, items.c.updated).where(OneOf(items.c.id, "ids"))
# Unordered RETURNING lets both dialects insert many rows per statement; the key
# (unique within a source) says which id went to which item.
_INSERT_ITEMS = insert(items).returning(items.c.key, items.c.id)
_MOVE_UPDATED = (
    update(items).where(items.c.id == bindparam("item")).values(updated=bindparam("moved"))
)
_UPDATE_ITEM = update(items).where(items.c.id == bindparam("item"))
_DELETE_BANDS = delete(item_bands).where(item_bands.c.item_id == bindparam("item"))
_DELETE_TOPICS = delete(item_topics).where(item_topics.c.item_id == bindparam("item"))
# Rows a first ingest writes by the thousand go to the driver as tuples (_insert_rows,
# _executemany): SQLAlchemy's per-row work on parameter dicts cost as much as the
# database's on SQLite.
_SET_STORY = "UPDATE items SET story_id = ? WHERE id = ?"
# Placeholders by the driver's paramstyle (sqlite3: qmark, psycopg: pyformat).
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _executemany(connection: Connection, statement: str, rows: list[tuple[object, ...]]) -> None:
    """Run a statement written with ``?`` placeholders once per row, in the driver.

    For plain values only (numbers and strings): nothing converts them on the way.
    """
    if rows:
        placeholder = _PLACEHOLDERS[connection.dialect.paramstyle]
        connection.exec_driver_sql(statement.replace("?", placeholder), rows)


def _insert_rows(connection: Connection, table: Table, rows: list[tuple[object, ...]]) -> None:
    """Insert rows of plain values (numbers and strings), in the table's column order.

    PostgreSQL runs each row of an executemany as a statement of its own, which was
    most of a first ingest's writing time there (160,000 band keys): it gets the
    columns as arrays, in one INSERT … SELECT FROM unnest(…).
    """
    if not rows:
        return
    dialect = connection.dialect
    names = ", ".join(column.name for column in table.columns)
    if dialect.name != "postgresql":
        values = ", ".join("?" for _ in table.columns)
        _executemany(connection, f"INSERT INTO {table.name} ({names}) VALUES ({values})", rows)
        return
    arrays = ", ".join(f"CAST(%s AS {c.type.compile(dialect)}[])" for c in table.columns)
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})",
        tuple(list(column) for column in zip(*rows, strict=True)),
    )


@lru_cache(maxsize=4096)
def _candidate(item: int, story: int, signature: bytes) -> StoryCandidate:
    """A stored item's row as a candidate, made once: the same items come back source after
    source (members of crowded band keys; 89% of them in a first ingest), and
    unpacking their signatures again was a fifth of the lookup."""
    slots = unpack(signature)
    return StoryCandidate(item, story, slots, full_slot_values(slots))


def _item_values(write: ItemWrite, slots: tuple[int, ...] | None) -> dict[str, object]:
    """The columns an item's publishable fields and signature fill, on insert or update."""
    item = write.item
    return {
        "title": item.title,
        "content_html": item.content_html,
        "published": write.published,
        "updated": write.updated,
        "author": item.author,
        "site_name": item.site_name,
        "link": item.link,
        "language": item.language,
        "content_hash": write.content_hash,
        "categories": json.dumps(list(item.categories), ensure_ascii=False),
        "enclosures": json.dumps(
            [[e.url, e.type, e.length] for e in item.enclosures], ensure_ascii=False
        ),
        "link_hash": link_hash(item.link),
        "key_hash": global_key_hash(item.key),
        "signature": pack(slots) if slots else None,
    }


@dataclass(frozen=True)
class StoryIdentities:
    """Stories found by link hash and by global id hash (see ``stories_by_identity``)."""

    by_link_hash: dict[str, int]
    by_key_hash: dict[str, int]

    def story(self, link: str | None, key: str) -> int | None:
        stories = (
            self.by_link_hash.get(link_hash(link) or ""),
            self.by_key_hash.get(global_key_hash(key) or ""),
        )
        return min((s for s in stories if s is not None), default=None)


@dataclass(frozen=True)
class RunRecord:
    """One logged ingest or regeneration."""

    kind: str
    started: datetime
    finished: datetime
    items_new: int
    items_updated: int
    feeds_written: int
    failures: tuple[str, ...]
    duration_ms: int | None = None


@dataclass(frozen=True)
class ItemText:
    """What classification reads of a stored item (and where it would sort in a feed)."""

    id: int
    title: str
    content_html: str
    published: datetime
    canonical: bool


# The size of SQLite's log that starts a checkpoint (see _sqlite_pragmas).
SQLITE_CHECKPOINT_PAGES = 10_000


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


def _sqlite_pragmas(busy_timeout: float, dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # busy_timeout makes a briefly locked database wait instead of failing at once.
    cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
    _use_wal(cursor, busy_timeout)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # An ingest writes band keys and item hashes at random places in their indexes, so
    # each source's transaction dirties pages all over them. Checkpointing once the log
    # holds 10,000 pages (40 MB; the default is 1,000) copies a page dirtied by many
    # sources into the database once instead of after nearly every source. (A page cache
    # of 16 MB instead of the default 2 MB added 15 MB to a 200 x 50 first ingest's peak
    # and nothing measurable to its speed: bench_pipeline, 1,031 against 1,047 entries/s.)
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    cursor.close()


class StoreTransaction:
    """Reads and writes inside one transaction (one per source during ingest, or per batch
    of sources on SQLite)."""

    def __init__(
        self, connection: Connection, remembered: dict[int, tuple[int, bytes]] | None = None
    ) -> None:
        self.connection = connection
        # Candidates' rows read before in this ingest: item -> (story, signature).
        self.remembered = remembered

    def source_state(self, key: str) -> tuple[int, str | None] | None:
        """The id and last body hash of a known source, or None."""
        row = self.connection.execute(
            select(sources.c.id, sources.c.body_hash).where(sources.c.key == key)
        ).first()
        return None if row is None else (row.id, row.body_hash)

    def save_source(
        self,
        info: SourceInfo,
        body_hash: str | None,
        now: datetime,
        date_offset: timedelta | None = None,
    ) -> int:
        """Insert or update a source's metadata (and the offset its dates are read in); its id."""
        values = {
            "date_offset_seconds": int(date_offset.total_seconds()) if date_offset else None,
            "kind": info.kind,
            "title": info.title,
            "link": info.link,
            "feed_id": info.feed_id,
            "feed_updated": info.updated,
            "body_hash": body_hash,
            "last_checked": now,
            "last_error": None,
        }
        state = self.source_state(info.key)
        if state is None:
            return self.connection.execute(
                insert(sources).values(key=info.key, enabled=True, **values)
            ).inserted_primary_key[0]
        self.connection.execute(update(sources).where(sources.c.id == state[0]).values(**values))
        return state[0]

    def record_source_error(self, key: str, kind: str, error: str, now: datetime) -> None:
        """Remember why a source failed, without touching what it stored before."""
        state = self.source_state(key)
        if state is None:
            self.connection.execute(
                insert(sources).values(
                    key=key, kind=kind, title=key, enabled=True, last_checked=now, last_error=error
                )
            )
        else:
            self.connection.execute(
                update(sources)
                .where(sources.c.id == state[0])
                .values(last_checked=now, last_error=error)
            )

    def known_items(self, source_id: int, keys: Iterable[str]) -> dict[str, KnownItem]:
        """What the store knows of these item keys of one source."""
        rows = self.connection.execute(_KNOWN_ITEMS, {"source": source_id, "keys": list(keys)})
        return {
            row.key: KnownItem(row.id, row.entry_id, row.content_hash, row.published, row.updated)
            for row in rows
        }

    def known_keys_by_link(self, source_id: int, links: Iterable[str]) -> dict[str, str]:
        """For links this source already has items for: link -> the item's key."""
        wanted = {h: link for link in links if (h := link_hash(link))}
        rows = self.connection.execute(_KEYS_BY_LINK, {"source": source_id, "hashes": list(wanted)})
        return {wanted[link]: key for link, key in rows}

    def stories_by_identity(
        self, source_id: int, identities: Iterable[tuple[str | None, str]]
    ) -> "StoryIdentities":
        """Stories of other sources' items with the same canonical link or global id.

        One query per kind of identity for a whole source's new items, not two per item.
        """
        wanted = list(identities)
        found = StoryIdentities({}, {})
        for statement, hashes, into in (
            (_STORIES_BY_LINK, {link_hash(link) for link, _ in wanted}, found.by_link_hash),
            (_STORIES_BY_KEY, {global_key_hash(key) for _, key in wanted}, found.by_key_hash),
        ):
            values = sorted(h for h in hashes if h is not None)
            if values:
                rows = self.connection.execute(statement, {"source": source_id, "hashes": values})
                into.update({value: story for value, story in rows})
        return found

    def story_candidates(
        self, source_id: int, band_sets: Sequence[Sequence[int]]
    ) -> list[list[StoryCandidate]]:
        """For each set of band keys: items of other sources sharing bands with it.

        These are a new item's near-duplicate candidates, ranked by how many bands
        they share: a near-duplicate shares many, an item that only talks about the
        same subject one or two. News on one subject shares bands widely, so only each
        key's newest NEWEST_MEMBERS are counted and the best-ranked few compared, which
        bounds the cost however crowded the index gets. One query answers a whole
        source's new items: its own items are never candidates, so what it is writing
        cannot change the answer.
        """
        wanted = sorted({key for keys in band_sets for key in keys})
        if not wanted:
            return [[] for _ in band_sets]
        rows = self.connection.execute(
            _NEWEST_BAND_MEMBERS[self.connection.dialect.name],
            {"band_keys": wanted, "source": source_id, "most": NEWEST_MEMBERS},
        )
        members = {key: sorted(map(int, joined.split(","))) for key, joined in rows if joined}
        member_sets = {key: set(found) for key, found in members.items()}
        ranked = [
            most_shared(members, member_sets, keys, MAX_STORY_CANDIDATES) for keys in band_sets
        ]
        rows = self._candidate_rows({item for best in ranked for item in best})
        return [[_candidate(item, *rows[item]) for item in best] for best in ranked]

    def _candidate_rows(self, wanted: set[int]) -> dict[int, tuple[int, bytes]]:
        """The story and signature of each wanted item, read unless remembered."""
        remembered = {} if self.remembered is None else self.remembered
        missing = sorted(wanted.difference(remembered))
        rows = self.connection.execute(_SIGNATURES, {"ids": missing}) if missing else ()
        read = {item: (story, signature) for item, story, signature in rows}
        if self.remembered is not None:
            if len(remembered) + len(read) > REMEMBERED_CANDIDATES:
                remembered.clear()  # a bound on memory: about 35 MB
            remembered.update(read)
        return {item: read.get(item) or remembered[item] for item in wanted}

    def add_bands(self, bands: dict[int, Sequence[int]]) -> None:
        """Index new items' band keys (item id -> keys), in one statement."""
        rows = [(key, item) for item, keys in bands.items() for key in set(keys)]
        _insert_rows(self.connection, item_bands, rows)

    def set_bands(self, item_id: int, keys: Sequence[int], *, new: bool = False) -> None:
        """Replace an item's band keys (``new``: it has none yet, nothing to delete)."""
        if not new:
            self.connection.execute(_DELETE_BANDS, {"item": item_id})
        self.add_bands({item_id: keys})

    def assign_stories(self, stories: Sequence[tuple[int, int | None, datetime]]) -> None:
        """Put new items in their stories: (item id, story joined or None, when it was published).

        An item that joined no story is its own. When one joins a story, the story's
        canonical entry now lists another source, so readers should see it change:
        its ``updated`` moves to when that source published, at least a second later
        than before. That is a function of the data, so an interrupted and a clean run
        agree.
        """
        assigned = [(story or item, item) for item, story, _ in stories]
        _executemany(self.connection, _SET_STORY, assigned)
        joined = [(story, reported) for _, story, reported in stories if story is not None]
        if not joined:
            return
        stories_joined = sorted({story for story, _ in joined})
        rows = self.connection.execute(_UPDATED, {"ids": stories_joined})
        updated = {story: when for story, when in rows}
        for story, reported in joined:
            updated[story] = max(updated[story] + timedelta(seconds=1), reported)
        # In id order: two writers moving the same stories lock them in the same order,
        # so neither can wait on the other in a cycle (a deadlock on PostgreSQL).
        moves = [{"item": story, "moved": updated[story]} for story in sorted(updated)]
        self.connection.execute(_MOVE_UPDATED, moves)

    def insert_items(
        self,
        source_id: int,
        writes: Sequence[tuple[ItemWrite, tuple[int, ...] | None]],
        now: datetime,
    ) -> list[int]:
        """Insert a source's new items (with their signatures) in one statement; their ids.

        Each is its own story until ``assign_stories`` says otherwise.
        """
        if not writes:
            return []
        rows = [
            {
                "source_id": source_id,
                "key": write.item.key,
                "entry_id": write.entry_id,
                "first_seen": now,
                **_item_values(write, slots),
            }
            for write, slots in writes
        ]
        ids = {key: item for key, item in self.connection.execute(_INSERT_ITEMS, rows)}
        return [ids[write.item.key] for write, _ in writes]

    def update_item(self, write: ItemWrite, slots: tuple[int, ...] | None) -> None:
        """Rewrite a stored item in place (an edit its source published)."""
        self.connection.execute(_UPDATE_ITEM, {"item": write.id, **_item_values(write, slots)})
        if self.remembered is not None:
            self.remembered.pop(write.id, None)  # its signature changed

    def add_topics(self, topics: dict[int, dict[str, float]]) -> None:
        """Record new items' topic assignments (item id -> topic -> score), in one statement."""
        rows = [
            (item, topic, score)
            for item, scores in topics.items()
            for topic, score in scores.items()
        ]
        _insert_rows(self.connection, item_topics, rows)

    def set_topics(self, item_id: int, scores: dict[str, float], *, new: bool = False) -> None:
        """Replace an item's topic assignments (``new``: it has none yet, nothing to delete)."""
        if not new:
            self.connection.execute(_DELETE_TOPICS, {"item": item_id})
        self.add_topics({item_id: scores})

    def has_items(self) -> bool:
        return self.connection.execute(select(items.c.id).limit(1)).first() is not None

    def get_meta(self, key: str) -> str | None:
        return self.connection.execute(select(meta.c.value).where(meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        if self.get_meta(key) is None:
            self.connection.execute(insert(meta).values(key=key, value=value))
        else:
            self.connection.execute(update(meta).where(meta.c.key == key).values(value=value))


# The items columns a StoredItem holds: not the dedup hashes and signature, which are
# large and only ingest reads.
_ITEM_FIELDS = (
    items.c.id,
    items.c.entry_id,
    items.c.key,
    items.c.title,
    items.c.content_html,
    items.c.published,
    items.c.updated,
    items.c.author,
    items.c.site_name,
    items.c.link,
    items.c.language,
    items.c.story_id,
    items.c.enclosures,
)


class Storage:
    """Opens the database, creates or checks its schema, and hands out transactions."""

    def __init__(self, url: str, *, busy_timeout: float = 5.0) -> None:
        self.url = url
        # pool_pre_ping: after a PostgreSQL restart, pooled connections are dead;
        # each checkout tests its connection and replaces a dead one.
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        # This thread's batch (.connection) and remembered candidates (.remembered).
        self._local = threading.local()
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", partial(_sqlite_pragmas, busy_timeout))

    @property
    def sources(self) -> "SourceRegistry":
        """The web-source registry over this store."""
        from aggregator.store.sources import SourceRegistry

        return SourceRegistry(self)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def initialize(self) -> None:
        """Create the schema in an empty database; refuse one that is not at the newest revision.

        ``aggregator db upgrade`` (``migrate.upgrade``) migrates an older one.
        """
        from aggregator.store import migrate  # migrate needs this module first

        try:
            migrate.ensure_current(self)
        except OperationalError as error:
            if is_transient(error):
                raise  # the caller's retries may ride it out
            raise AggregatorError(f"cannot open database {self.display_url}: {error}") from None

    @property
    def display_url(self) -> str:
        """The URL without a password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        """One transaction: committed when the block ends, rolled back on error.

        Inside a ``batch`` (of this thread) it is part of the batch's transaction.
        """
        remembered = getattr(self._local, "remembered", None)
        joined = getattr(self._local, "connection", None)
        if joined is not None:
            yield StoreTransaction(joined, remembered)
            return
        with self.engine.begin() as connection:
            yield StoreTransaction(connection, remembered)

    @contextmanager
    def remembering_candidates(self) -> Iterator[None]:
        """Near-duplicate candidates' rows read in the block (by this thread) are kept for the
        rest of it, as first read; an item rewritten meanwhile is read again.

        An ingest compares each new item with the items sharing most of its band keys,
        and the same items come back source after source (89% of the rows read in a
        first ingest of 200 x 50): reading each once saves a random read of a large row
        (up to 11 µs at 50,000 items, a fifth of writing a new item).
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
        (bench_store: the writer's 1,810-1,910 new items/s became 2,410). PostgreSQL logs
        rows, not pages, and runs writers side by side, which a longer transaction
        would make wait on each other.
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

    # Reads for publishing, status and explain.

    def newest_items(self, topic_id: str | None, limit: int) -> list[StoredItem]:
        """The newest ``limit`` items of a topic (or of all items), newest first."""
        # One entry per story: its canonical item.
        query = (
            self._story_query(topic_id, items.c.id)
            .order_by(items.c.published.desc(), items.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            ids = list(connection.execute(query).scalars())
            return self._load(connection, ids)

    def _story_query(self, topic_id: str | None, *columns: object) -> Select:
        """Canonical items, of one topic if given.

        The topic is a correlated EXISTS, not a join: walking the published-date
        index newest first and probing each item's topics stops after ``limit``
        hits, so the cost follows the feed's size, not the store's (a join would
        collect every item of the topic and sort them all).
        """
        query = select(*columns).where(items.c.story_id == items.c.id)
        if topic_id is not None:
            query = query.where(
                exists().where(
                    item_topics.c.item_id == items.c.id, item_topics.c.topic_id == topic_id
                )
            )
        return query

    def find_items(self, reference: str) -> list[StoredItem]:
        """Items matching an entry id, an item key, a link, or (failing those) a title fragment."""
        exact = or_(
            items.c.entry_id == reference, items.c.key == reference, items.c.link == reference
        )
        with self.engine.connect() as connection:
            ids = list(connection.execute(select(items.c.id).where(exact)).scalars())
            if not ids:
                pattern = f"%{reference.lower()}%"
                ids = list(
                    connection.execute(
                        select(items.c.id).where(func.lower(items.c.title).like(pattern))
                    ).scalars()
                )
            return self._load(connection, ids)

    def items_by_id(self, ids: Sequence[int]) -> list[StoredItem]:
        with self.engine.connect() as connection:
            return self._load(connection, ids)

    def item_texts(self, batch: int = 500) -> Iterator[list[ItemText]]:
        """Every stored item's classifiable text, in batches (for re-classification)."""
        last = 0
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(
                        items.c.id,
                        items.c.title,
                        items.c.content_html,
                        items.c.published,
                        items.c.story_id,
                    )
                    .where(items.c.id > last)
                    .order_by(items.c.id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield [
                ItemText(r.id, r.title, r.content_html, r.published, r.story_id == r.id)
                for r in rows
            ]
            last = rows[-1].id

    def _load(self, connection: Connection, ids: Sequence[int]) -> list[StoredItem]:
        if not ids:
            return []
        rows = connection.execute(
            select(
                *_ITEM_FIELDS,
                sources.c.key.label("source_key"),
                sources.c.title.label("source_title"),
                sources.c.link.label("source_link"),
                sources.c.feed_id.label("source_feed_id"),
                sources.c.feed_updated.label("source_updated"),
            )
            .join(sources, sources.c.id == items.c.source_id)
            .where(items.c.id.in_(ids))
        ).all()
        # The next two queries are sorted here, not in SQL: an ORDER BY lets SQLite walk
        # the whole table in index order rather than look the ids up (for a thousand ids,
        # which archive pages load at once, it prefers the walk).
        topics: dict[int, list[str]] = {}
        for item_id, topic_id in sorted(
            connection.execute(
                select(item_topics.c.item_id, item_topics.c.topic_id).where(
                    item_topics.c.item_id.in_(ids)
                )
            ).all(),
            key=lambda row: row.topic_id,
        ):
            topics.setdefault(item_id, []).append(topic_id)
        reports: dict[int, list[Report]] = {}
        for member in sorted(
            connection.execute(
                select(
                    items.c.story_id,
                    items.c.link,
                    items.c.entry_id,
                    items.c.site_name,
                    sources.c.title,
                    items.c.first_seen,
                    items.c.id,
                )
                .join(sources, sources.c.id == items.c.source_id)
                .where(items.c.story_id.in_(ids), items.c.story_id != items.c.id)
            ).all(),
            key=lambda row: (row.first_seen, row.id),
        ):
            reports.setdefault(member.story_id, []).append(
                Report(member.site_name or member.title, member.link, member.entry_id)
            )
        by_id = {
            row.id: StoredItem(
                id=row.id,
                entry_id=row.entry_id,
                source_key=row.source_key,
                source_title=row.source_title,
                source_link=row.source_link,
                source_feed_id=row.source_feed_id,
                source_updated=row.source_updated,
                key=row.key,
                title=row.title,
                content_html=row.content_html,
                published=row.published,
                updated=row.updated,
                author=row.author,
                site_name=row.site_name,
                link=row.link,
                language=row.language,
                topics=tuple(topics.get(row.id, ())),
                also_reported_by=tuple(reports.get(row.id, ())),
                story_id=row.story_id,
                enclosures=tuple(Enclosure(*e) for e in json.loads(row.enclosures or "[]")),
            )
            for row in rows
        }
        return [by_id[i] for i in ids if i in by_id]

    def topic_counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(item_topics.c.topic_id, func.count()).group_by(item_topics.c.topic_id)
            )
            return {topic: count for topic, count in rows}

    def item_count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(items)).scalar_one()

    def failing_sources(self) -> list[tuple[str, str]]:
        """(source key, last error) of every source whose last attempt failed."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(sources.c.key, sources.c.last_error)
                .where(sources.c.last_error.is_not(None))
                .order_by(sources.c.key)
            )
            return [(row.key, row.last_error) for row in rows]

    # Counters and the run log.

    def add_counts(self, counts: dict[str, int]) -> None:
        """Add to the shared counters (creating them at zero).

        One upsert on PostgreSQL and SQLite: workers add to the same counters at once, and
        an update-then-insert would let two of them insert the same new counter. In name
        order, so two transactions never wait on each other's rows crosswise.
        """
        rows = [{"name": n, "value": a} for n, a in sorted(counts.items()) if a]
        if not rows:
            return
        upsert = UPSERTS[self.dialect](counters)
        upsert = upsert.on_conflict_do_update(
            index_elements=[counters.c.name],
            set_={"value": counters.c.value + upsert.excluded.value},
        )
        with self.transaction() as tx:
            tx.connection.execute(upsert, rows)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return dict(connection.execute(select(counters.c.name, counters.c.value)).all())

    def record_run(
        self,
        kind: str,
        started: datetime,
        finished: datetime,
        *,
        items_new: int = 0,
        items_updated: int = 0,
        feeds_written: int = 0,
        failures: Sequence[InputFailure] = (),
        duration_ms: int | None = None,
    ) -> None:
        with self.transaction() as tx:
            tx.connection.execute(
                insert(runs).values(
                    kind=kind,
                    started=started,
                    finished=finished,
                    items_new=items_new,
                    items_updated=items_updated,
                    feeds_written=feeds_written,
                    failures="\n".join(str(f) for f in failures),
                    duration_ms=duration_ms,
                )
            )

    def last_run(self, kind: str) -> RunRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(runs).where(runs.c.kind == kind).order_by(runs.c.id.desc()).limit(1)
            ).first()
        if row is None:
            return None
        return RunRecord(
            row.kind,
            row.started,
            row.finished,
            row.items_new,
            row.items_updated,
            row.feeds_written,
            tuple(line for line in row.failures.split("\n") if line),
            row.duration_ms,
        )
