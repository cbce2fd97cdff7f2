"""Published files kept in the database, for `aggregator serve` on any machine.

Revision ID: 0004_published_files
Revises: 0003_source_leases
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_published_files"
down_revision = "0003_source_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published_files",
        sa.Column("path", sa.String(512), primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("modified", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("published_files")
