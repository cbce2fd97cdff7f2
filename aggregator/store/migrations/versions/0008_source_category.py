"""Web sources keep the folder a subscription list put them in (OPML import and export).

Revision ID: 0008_source_category
Revises: 0007_story_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_source_category"
down_revision = "0007_story_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("category", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("category")
