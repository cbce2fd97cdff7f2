"""Web sources keep the folder a subscription list put them in (OPML import and export).

Revision ID: 0010_source_category
Revises: 0009_editorial_and_source_dates
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_source_category"
down_revision = "0009_editorial_and_source_dates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("category", sa.Text))


def downgrade() -> None:
    # In place (SQLite 3.35+ and PostgreSQL): a batch rebuild of sources would drop the old
    # table, and with it, through ON DELETE CASCADE, every stored item.
    op.execute("ALTER TABLE sources DROP COLUMN category")
