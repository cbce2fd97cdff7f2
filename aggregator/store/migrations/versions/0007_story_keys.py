"""Story keys: every item's text key in the band index, and Chinese and Japanese signatures.

Revision ID: 0007_story_keys
Revises: 0006_item_pages

Items with the same normalized text now share a band key whatever their length
(``fingerprints.text_key``), and words in Han or kana are shingled by character as
Hangul ones were (they made one shingle per sentence before). Stored items are
only ever compared with new ones through their stored keys, so each item's
signature and band keys are worked out again from its text here, as this
version works them out (``story_keys.recompute_story_keys``).
"""

from alembic import op

from aggregator.store.story_keys import recompute_story_keys

revision = "0007_story_keys"
down_revision = "0006_item_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    recompute_story_keys(op.get_bind())


def downgrade() -> None:
    """Older code reads every band key's members as signed items: a short item (no
    signature) must not be one. Other items' text keys are a band it can read."""
    op.execute(
        "DELETE FROM item_bands WHERE item_id IN (SELECT id FROM items WHERE signature IS NULL)"
    )
