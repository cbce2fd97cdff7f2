"""Shingles hashed with xxh3: every stored item's signature and band keys worked out again.

Revision ID: 0013_xxh3_signatures
Revises: 0012_containment_keys

Issue #22: a signature's shingles (and a sketch key's pieces) are hashed with xxHash's
xxh3_64, natively and several times faster than blake2b, in the same one-permutation
MinHash. A stored signature is only ever compared with new ones, so every stored item's
signature and band keys are worked out again as this version works them out.
"""

from alembic import op

from aggregator.store.story_keys import recompute_story_keys

revision = "0013_xxh3_signatures"
down_revision = "0012_containment_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    recompute_story_keys(op.get_bind())


def downgrade() -> None:
    """Revision 0012's code hashes with blake2b: its signatures and keys, as it works them out,
    cannot be had from this version's code; a downgrade leaves them, and that code merges
    new items with the items stored before only on identity and equal text until they are
    written again."""
