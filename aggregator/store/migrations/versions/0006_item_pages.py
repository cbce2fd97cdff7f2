"""Article pages of short entries (issue #21): per-source mode and failures, the pages read.

Revision ID: 0006_item_pages
Revises: 0005_item_bands_without_rowid

Sources followed before this revision keep getting what they got: their mode is
"never" (new sources default to "auto"; a config-declared source takes the mode
its [[sources]] table gives, "auto" when it gives none).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_item_pages"
down_revision = "0005_item_bands_without_rowid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain nullable columns: SQLite adds them without rebuilding the table.
    op.add_column("sources", sa.Column("full_text", sa.String(8)))
    op.add_column("sources", sa.Column("page_failures", sa.Integer))
    op.add_column("sources", sa.Column("page_error", sa.Text))
    op.execute("UPDATE sources SET full_text = 'never', page_failures = 0")
    op.create_table(
        "item_pages",
        sa.Column(
            "item_id",
            sa.Integer,
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt", sa.DateTime),
        sa.Column("feed_dated", sa.Boolean, nullable=False),
        sa.Column("fetched", sa.DateTime),
        sa.Column("url", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("published", sa.DateTime),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_item_pages_state", "item_pages", ["state", "next_attempt"])


def downgrade() -> None:
    op.drop_index("ix_item_pages_state", "item_pages")
    op.drop_table("item_pages")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("page_error")
        batch.drop_column("page_failures")
        batch.drop_column("full_text")
