"""Containment keys: items are also indexed by their headline's and text's beginning sketches.

Revision ID: 0012_containment_keys
Revises: 0011_item_search

Issue #18: a flash and its full version share most of a headline, and a copy an outlet
cut at another length shares its text's beginning, when their texts are far apart; an
outlet's copyright notice and a leading column label ([사설]) no longer count in the
keys. Each item's signature and band keys are worked out again from its text, as this
version works them out.
"""

from alembic import op

from aggregator.store.story_keys import recompute_story_keys

revision = "0012_containment_keys"
down_revision = "0011_item_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    recompute_story_keys(op.get_bind())


def downgrade() -> None:
    """Revision 0011's code reads every key as a band: nothing to undo (the extra keys
    only add candidates, which its decision compares as before)."""
