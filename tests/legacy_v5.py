"""A database as released before migrations (meta.schema_version = 5), with data in every table.

The tables are the released ``aggregator/store/schema.py`` of schema version 5,
frozen here (with its aware-datetime column type spelled as the plain DateTime it
stored): tests upgrade such a database and check nothing is lost.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
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
    create_engine,
    insert,
)

UTCDateTime = DateTime  # stored as naive UTC, as the released type decorator did

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
    Column("key", String(2048), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # "seed" or "feed"
    Column("title", Text, nullable=False),
    Column("link", Text),
    Column("feed_id", Text),
    Column("feed_updated", UTCDateTime),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("body_hash", String(64)),
    Column("last_checked", UTCDateTime),
    Column("last_error", Text),
    Column("url", Text),
    Column("name", Text),
    Column("interval_seconds", Integer),
    Column("origin", String(16)),  # "config", "cli" or "opml"
    Column("etag", Text),
    Column("last_modified", Text),
    Column("next_fetch", UTCDateTime),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_status", String(32)),
    Column("last_success", UTCDateTime),
    Column("disabled_reason", Text),
    Index("ix_sources_due", "kind", "enabled", "next_fetch"),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(2048), nullable=False),
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
    Column("content_hash", String(64), nullable=False),
    Column("categories", Text, nullable=False, default="[]"),
    Column("enclosures", Text, nullable=False, default="[]"),
    Column("story_id", Integer, index=True),
    Column("link_hash", String(64), index=True),
    Column("key_hash", String(64), index=True),
    Column("signature", LargeBinary),
    UniqueConstraint("source_id", "key", name="uq_items_source_key"),
    Index("ix_items_published", "published", "id"),
)

item_bands = Table(
    "item_bands",
    metadata,
    Column("band_key", BigInteger, primary_key=True),
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_item_bands_item", "item_id"),
)

item_topics = Table(
    "item_topics",
    metadata,
    Column("item_id", ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", String(64), primary_key=True),
    Column("score", Float, nullable=False),
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
    Column("failures", Text, nullable=False, default=""),
    Column("duration_ms", Integer),
    Index("ix_runs_kind_started", "kind", "started"),
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("identity", String(64), primary_key=True),
    Column("pruned", UTCDateTime, nullable=False),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", Integer, nullable=False),
)

# Naive UTC, as the released version wrote them.
T0 = datetime(2025, 6, 1, 9, 0)
T1 = datetime(2025, 6, 2, 9, 30)
NEXT_FETCH = datetime(2100, 1, 1)  # not due: commands run on it fetch nothing
WEB = "http://feeds.example.org/wire.xml"


def _insert(connection: Connection, table: Table, rows: list[dict[str, object]]) -> None:
    for row in rows:  # one statement each: the rows name different columns
        connection.execute(insert(table).values(**row))


def create(url: str) -> None:
    """Create a version-5 database at ``url`` holding a seed, a web source, a story of two."""
    engine = create_engine(url)
    try:
        metadata.create_all(engine)
        item = {
            "title": "Seoul proposes talks",
            "content_html": "<p>Seoul proposed talks on Monday.</p>",
            "published": T0,
            "updated": T0,
            "first_seen": T0,
            "content_hash": "c" * 64,
            "categories": '["politics"]',
            "enclosures": "[]",
            "language": "en",
        }
        with engine.begin() as connection:
            _insert(
                connection,
                meta,
                [
                    {"key": "schema_version", "value": "5"},
                    {"key": "rules_fingerprint", "value": "f" * 64},
                ],
            )
            _insert(
                connection,
                sources,
                [
                    {
                        "id": 1,
                        "key": "seed:a.txt",
                        "kind": "seed",
                        "title": "Seeds",
                        "enabled": True,
                        "body_hash": "a" * 64,
                        "last_checked": T0,
                        "error_count": 0,
                    },
                    {
                        "id": 2,
                        "key": WEB,
                        "kind": "feed",
                        "title": "Wire",
                        "url": WEB,
                        "name": "Wire",
                        "interval_seconds": 1800,
                        "origin": "cli",
                        "enabled": True,
                        "etag": '"v1"',
                        "last_modified": "Mon, 02 Jun 2025 09:00:00 GMT",
                        "next_fetch": NEXT_FETCH,
                        "error_count": 2,
                        "last_status": "200 OK",
                        "last_success": T0,
                        "last_error": None,
                    },
                ],
            )
            _insert(
                connection,
                items,
                [
                    {
                        **item,
                        "id": 1,
                        "source_id": 1,
                        "key": "a.txt",
                        "story_id": 1,
                        "entry_id": "tag:aggregator.localhost,2026:seed-1",
                        "link": None,
                        "signature": b"\x01" * 16,
                    },
                    {
                        **item,
                        "id": 2,
                        "source_id": 2,
                        "key": "https://wire.example.org/1",
                        "story_id": 1,
                        "entry_id": "tag:aggregator.localhost,2026:wire-1",
                        "link": "https://wire.example.org/1",
                        "title": "Talks offered",
                        "published": T1,
                        "updated": T1,
                        "first_seen": T1,
                        "key_hash": "k" * 64,
                    },
                ],
            )
            _insert(connection, item_bands, [{"band_key": 7, "item_id": 1}])
            _insert(
                connection,
                item_topics,
                [
                    {"item_id": 1, "topic_id": "inter-korean", "score": 9.5},
                ],
            )
            _insert(
                connection,
                runs,
                [
                    {
                        "kind": "ingest",
                        "started": T0,
                        "finished": T0,
                        "items_new": 2,
                        "items_updated": 0,
                        "feeds_written": 0,
                        "failures": "",
                        "duration_ms": 12,
                    },
                ],
            )
            _insert(connection, tombstones, [{"identity": "d" * 64, "pruned": T0}])
            _insert(connection, counters, [{"name": "items:new", "value": 2}])
    finally:
        engine.dispose()
