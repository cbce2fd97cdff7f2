"""Baseline: the schema as released with meta.schema_version = 5, before Alembic.

Revision ID: 0001_baseline
Revises: none

A database created by those releases has these tables and no alembic_version;
``migrate.upgrade`` recognises it and stamps it with this revision instead of
running it. This file is frozen: later changes are later revisions.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

# Releases before Alembic refuse any schema_version but "5": this value makes them
# refuse a database they no longer understand instead of writing to it.
SCHEMA_VERSION_MARK = "alembic"


def upgrade() -> None:
    meta = op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(2048), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("feed_id", sa.Text),
        sa.Column("feed_updated", sa.DateTime),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("body_hash", sa.String(64)),
        sa.Column("last_checked", sa.DateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("interval_seconds", sa.Integer),
        sa.Column("origin", sa.String(16)),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("next_fetch", sa.DateTime),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("last_status", sa.String(32)),
        sa.Column("last_success", sa.DateTime),
        sa.Column("disabled_reason", sa.Text),
    )
    op.create_index("ix_sources_due", "sources", ["kind", "enabled", "next_fetch"])
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.String(2048), nullable=False),
        sa.Column("entry_id", sa.String(512), nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("content_html", sa.Text, nullable=False),
        sa.Column("published", sa.DateTime, nullable=False),
        sa.Column("updated", sa.DateTime, nullable=False),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("site_name", sa.Text),
        sa.Column("link", sa.Text),
        sa.Column("language", sa.String(16)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("enclosures", sa.Text, nullable=False),
        sa.Column("story_id", sa.Integer),
        sa.Column("link_hash", sa.String(64)),
        sa.Column("key_hash", sa.String(64)),
        sa.Column("signature", sa.LargeBinary),
        sa.UniqueConstraint("source_id", "key", name="uq_items_source_key"),
    )
    op.create_index("ix_items_story_id", "items", ["story_id"])
    op.create_index("ix_items_link_hash", "items", ["link_hash"])
    op.create_index("ix_items_key_hash", "items", ["key_hash"])
    op.create_index("ix_items_published", "items", ["published", "id"])
    op.create_table(
        "item_bands",
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer,
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_item_bands_item", "item_bands", ["item_id"])
    op.create_table(
        "item_topics",
        sa.Column(
            "item_id",
            sa.Integer,
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("topic_id", sa.String(64), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
    )
    op.create_index("ix_item_topics_topic", "item_topics", ["topic_id", "item_id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started", sa.DateTime, nullable=False),
        sa.Column("finished", sa.DateTime, nullable=False),
        sa.Column("items_new", sa.Integer, nullable=False),
        sa.Column("items_updated", sa.Integer, nullable=False),
        sa.Column("feeds_written", sa.Integer, nullable=False),
        sa.Column("failures", sa.Text, nullable=False),
        sa.Column("duration_ms", sa.Integer),
    )
    op.create_index("ix_runs_kind_started", "runs", ["kind", "started"])
    op.create_table(
        "tombstones",
        sa.Column("identity", sa.String(64), primary_key=True),
        sa.Column("pruned", sa.DateTime, nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.bulk_insert(meta, [{"key": "schema_version", "value": SCHEMA_VERSION_MARK}])


def downgrade() -> None:
    for table in (
        "counters",
        "tombstones",
        "runs",
        "item_topics",
        "item_bands",
        "items",
        "sources",
        "meta",
    ):
        op.drop_table(table)
