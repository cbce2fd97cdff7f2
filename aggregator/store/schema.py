"""The database schema: every table in one place.

Uniqueness is the database's job (unique constraints), so two ingests at once
cannot create a duplicate. Every change here comes with an Alembic revision in
``migrations/versions/`` (see ``migrate.py``); tests check that the migrations
give exactly these tables.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes that round-trip identically on SQLite and PostgreSQL.

    Stored as naive UTC (SQLite has no zone type); read back as aware UTC.
    Storing a naive value is refused: it would be ambiguous forever.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store naive datetime {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def epoch_seconds(when: datetime) -> int:
    """An aware datetime in whole seconds since 1970 UTC, rounded down (the band index's
    ``published_epoch``)."""
    return (when - _EPOCH) // timedelta(seconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    # Identity: "seed:<file name>", or the URL a web source was first added with. Entry
    # ids derive from it, so it never changes, even when a 301 moves the feed.
    Column("key", String(2048), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # "seed" or "feed"
    Column("title", Text, nullable=False),
    Column("link", Text),
    Column("feed_id", Text),
    Column("feed_updated", UTCDateTime),
    Column("enabled", Boolean, nullable=False, default=True),
    # sha256 of the last body read, so an unchanged input is not parsed again.
    Column("body_hash", String(64)),
    Column("last_checked", UTCDateTime),
    Column("last_error", Text),
    # Web sources: where to fetch now, how often, and where they were declared.
    Column("url", Text),
    Column("name", Text),
    Column("interval_seconds", Integer),
    Column("origin", String(16)),  # "config", "cli" or "opml"
    # The folder a subscription list put the source in (OPML outline nesting), kept so an
    # export gives the reader its folders back.
    Column("category", Text),
    # Politeness state (RFC 9110 validators, RFC 9111 freshness, backoff).
    Column("etag", Text),
    Column("last_modified", Text),
    Column("next_fetch", UTCDateTime),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_status", String(32)),
    Column("last_success", UTCDateTime),
    Column("disabled_reason", Text),
    # A worker's claim: its id, and when the claim lapses (a dead worker's sources are due
    # again then). Cleared in the transaction that stores what the worker fetched.
    Column("claimed_by", String(255)),
    Column("lease_until", UTCDateTime),
    # The server's own embargo (Retry-After with a 429 or 503): even `update --force` waits.
    Column("retry_after", UTCDateTime),
    # A feed that writes local time as UTC is read in this offset (ingest.offsets).
    Column("date_offset_seconds", Integer),
    # Article pages (issue #21): "never", "auto" or "always" (config.FULL_TEXT_MODES); pages
    # that could not be used (counted since the source was added), and the last reason.
    Column("full_text", String(8)),
    Column("page_failures", Integer),
    Column("page_error", Text),
    Index("ix_sources_due", "kind", "enabled", "next_fetch"),
)

# Search (migrations 0011_item_search and 0015_plain_text_search), outside this metadata
# since SQLAlchemy cannot declare them: on SQLite, the FTS5 table ``items_search`` (and
# the shadow tables FTS5 keeps beside it), ``items_search_pending`` (items not yet indexed)
# and the triggers that mark them (store/search.py); on PostgreSQL, a GIN index on this
# expression, which the search query repeats word for word so the planner uses it.
SEARCH_TABLES = ("items_search",)
SEARCH_INDEX = "ix_items_search"
SEARCH_VECTOR = "to_tsvector('simple'::regconfig, title || ' ' || content_html)"

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(2048), nullable=False),
    # The permanent Atom id, assigned once at first sight and never recomputed.
    Column("entry_id", String(512), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("content_html", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("author", Text),
    Column("site_name", Text),
    Column("link", Text),
    Column("language", String(16)),
    # sha256 of the publishable fields, to tell an edit from a re-read.
    Column("content_hash", String(64), nullable=False),
    # JSON lists: the source's own categories, and enclosures (url, type, length).
    Column("categories", Text, nullable=False, default="[]"),
    Column("enclosures", Text, nullable=False, default="[]"),
    # The story this item belongs to: the id of the story's canonical item (its own id
    # when it is the canonical one). Only canonical items are published, once per story.
    Column("story_id", Integer, index=True),
    # sha256 of the canonical link, so the same link from another source is one lookup.
    Column("link_hash", String(64), index=True),
    # sha256 of the item's id when it is a global one (a URI), for the same lookup by id.
    Column("key_hash", String(64), index=True),
    # One-permutation MinHash of the text (dedup.signature), None for short texts.
    Column("signature", LargeBinary),
    # Taken down by an editor (`aggregator items hide`): stored, shown in no feed or page.
    Column("hidden", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("source_id", "key", name="uq_items_source_key"),
    Index("ix_items_published", "published", "id"),
    # Arrival order, which archive pages are cut in: the next page is a range scan.
    Index("ix_items_arrival", "first_seen", "id"),
)

# Locality-sensitive band keys of each item's signature: a near-duplicate lookup is a
# few index probes here, whatever the number of stored items. On SQLite the rows are
# the primary key's B-tree (WITHOUT ROWID), not a second copy beside it: a first ingest
# writes sixteen keys per item. Each row carries its item's publication time, in whole
# seconds since 1970 (``epoch_seconds``; a plain number is 4 bytes in SQLite where a
# date is 26, times sixteen rows an item; revision 0014), so a lookup knows which of the
# members it ranks were published too long before or after a new item to be compared,
# without reading their rows (a crowded key's older members, issue #22).
item_bands = Table(
    "item_bands",
    metadata,
    Column("band_key", BigInteger, primary_key=True),
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("published_epoch", BigInteger, nullable=False),
    Index("ix_item_bands_item", "item_id"),
    sqlite_with_rowid=False,
)

item_topics = Table(
    "item_topics",
    metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", String(64), primary_key=True),
    Column("score", Float, nullable=False),
    # "Newest N of a topic" is a range scan over this index.
    Index("ix_item_topics_topic", "topic_id", "item_id"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # "ingest" or "regenerate"
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime, nullable=False),
    Column("items_new", Integer, nullable=False, default=0),
    Column("items_updated", Integer, nullable=False, default=0),
    Column("feeds_written", Integer, nullable=False, default=0),
    # One failure per line: "subject: reason".
    Column("failures", Text, nullable=False, default=""),
    Column("duration_ms", Integer),
    Index("ix_runs_kind_started", "kind", "started"),
)

# The article page of an item whose entry is short (issue #21): wanted ("pending"), read
# ("used": its text classifies and matches the item) or given up ("failed", with the
# reason). ``entry_hash`` is the item's content_hash when the page was wanted, so an
# edited entry asks for the page again and an unchanged one never does.
item_pages = Table(
    "item_pages",
    metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("entry_hash", String(64), nullable=False),
    Column("state", String(8), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt", UTCDateTime),
    # Whether the entry gave a date; without one the page's date is the item's.
    Column("feed_dated", Boolean, nullable=False),
    Column("fetched", UTCDateTime),
    Column("url", Text),  # where the page was read, after redirects
    Column("text", Text),  # the article's paragraphs, separated by blank lines
    Column("title", Text),
    Column("author", Text),
    Column("published", UTCDateTime),
    Column("error", Text),
    # "What is pending" is a range scan of this index, empty when no page is wanted.
    Index("ix_item_pages_state", "state", "next_attempt"),
)

# Identities of pruned items (sha256 of source key and item key), so an item that
# reappears in its source after retention removed it is not ingested again.
tombstones = Table(
    "tombstones",
    metadata,
    Column("identity", String(64), primary_key=True),
    Column("pruned", UTCDateTime, nullable=False),
)

# Published files (feeds, archive pages, HTML pages, OPML), by path in the feeds
# folder, when publish.to_database is on: what `serve` answers from on any machine.
published_files = Table(
    "published_files",
    metadata,
    Column("path", String(512), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("modified", UTCDateTime, nullable=False),
)

# Counters that only grow, shared by every process on the database (fetches by
# outcome, items stored, duplicates merged): what /metrics reports.
counters = Table(
    "counters",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", Integer, nullable=False),
)
