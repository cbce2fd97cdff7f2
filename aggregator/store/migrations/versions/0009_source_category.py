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
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("category")
