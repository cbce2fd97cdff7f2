"""Hidden items, the server's Retry-After and a source's date offset (issue #19).

Revision ID: 0009_editorial_and_source_dates
Revises: 0008_title_and_lead_keys

``items.hidden``: an editor took the item down (`aggregator items hide`).
``sources.retry_after``: the time a 429/503 asked us not to come back before,
which `update --force` honours. ``sources.date_offset_seconds``: a feed that
writes local time as UTC is read in that offset.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_editorial_and_source_dates"
down_revision = "0008_title_and_lead_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns, and one with a constant default: SQLite adds them without a rebuild.
    op.add_column(
        "items", sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("sources", sa.Column("retry_after", sa.DateTime))
    op.add_column("sources", sa.Column("date_offset_seconds", sa.Integer))


def downgrade() -> None:
    # DROP COLUMN itself (SQLite 3.35+), not a batch rebuild: rebuilding "sources" drops
    # the table, and with foreign keys on that deletes every item (ON DELETE CASCADE).
    for table, column in (
        ("sources", "date_offset_seconds"),
        ("sources", "retry_after"),
        ("items", "hidden"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
