"""Story keys: every item's text key in the band index, and Chinese and Japanese signatures.

Revision ID: 0007_story_keys
Revises: 0006_item_pages

Items with the same normalized text now share a band key whatever their length
(``fingerprints.text_key``), and words in Han or kana are shingled by character as
Hangul ones were (they made one shingle per sentence before). Stored items are
only ever compared with new ones through their stored keys, so each item's
signature and band keys are worked out again from its text here: an item whose
keys did not change is not written. Items are read and written in batches of
ids, so memory stays flat however large the store.
"""

import sqlalchemy as sa
from alembic import op

from aggregator import fingerprints
from aggregator.text import html_to_text

revision = "0007_story_keys"
down_revision = "0006_item_pages"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, title, content_html, signature FROM items"
                " WHERE id > :last ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            return
        last = rows[-1].id
        ids = [row.id for row in rows]
        stored: dict[int, set[int]] = {item: set() for item in ids}
        for key, item in connection.execute(
            sa.text("SELECT band_key, item_id FROM item_bands WHERE item_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ):
            stored[item].add(key)
        for row in rows:
            slots, _, bands = fingerprints.story_keys(row.title, html_to_text(row.content_html))
            signature = fingerprints.pack(slots) if slots else None
            if signature != (bytes(row.signature) if row.signature is not None else None):
                connection.execute(
                    sa.text("UPDATE items SET signature = :signature WHERE id = :id"),
                    {"signature": signature, "id": row.id},
                )
            if set(bands) != stored[row.id]:
                connection.execute(
                    sa.text("DELETE FROM item_bands WHERE item_id = :id"), {"id": row.id}
                )
                if bands:
                    connection.execute(
                        sa.text("INSERT INTO item_bands (band_key, item_id) VALUES (:key, :id)"),
                        [{"key": key, "id": row.id} for key in sorted(set(bands))],
                    )


def downgrade() -> None:
    """Older code reads every band key's members as signed items: a short item (no
    signature) must not be one. Other items' text keys are a band it can read."""
    op.execute(
        "DELETE FROM item_bands WHERE item_id IN (SELECT id FROM items WHERE signature IS NULL)"
    )
