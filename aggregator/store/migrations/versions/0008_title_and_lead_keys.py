"""Title and lead keys: items are also indexed by their headline and first sentence.

Revision ID: 0008_title_and_lead_keys
Revises: 0007_story_keys

A syndicated copy whose outlet cut the description or put its byline first, and a
wire's flash, short and full versions, share a headline (version labels aside) or a
first sentence (byline aside) when their texts are far apart: each item's band keys
are worked out again from its text, as this version works them out.
"""

from alembic import op

from aggregator.store.story_keys import recompute_story_keys

revision = "0008_title_and_lead_keys"
down_revision = "0007_story_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    recompute_story_keys(op.get_bind())


def downgrade() -> None:
    """Revision 0007's code reads every key as a band: nothing to undo."""
