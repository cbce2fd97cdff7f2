"""Leases on web sources, so several workers share the fetching (issue #8).

Revision ID: 0003_source_leases
Revises: 0002_arrival_index

A worker claims due sources by setting ``claimed_by`` (its id) and
``lease_until``; it clears both in the transaction that stores what it fetched.
A lease that runs out (the worker died) makes the source due again for others.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_source_leases"
down_revision = "0002_arrival_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain nullable columns: SQLite adds them without rebuilding the table.
    op.add_column("sources", sa.Column("claimed_by", sa.String(255)))
    op.add_column("sources", sa.Column("lease_until", sa.DateTime))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
