"""Web sources keep the folder a subscription list put them in (OPML import and export).

Revision ID: 0009_source_category
Revises: 0008_title_and_lead_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_source_category"
down_revision = "0008_title_and_lead_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Idempotent, like 0010: a store stamped back to an earlier revision (as tests of later
    # revisions do) already has the column.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("sources")}
    if "category" not in columns:
        op.add_column("sources", sa.Column("category", sa.Text))


def downgrade() -> None:
    # In place (SQLite 3.35+ and PostgreSQL): a batch rebuild of sources would drop the old
    # table, and with it, through ON DELETE CASCADE, every stored item.
    op.execute("ALTER TABLE sources DROP COLUMN category")
