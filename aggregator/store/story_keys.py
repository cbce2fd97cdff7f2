"""Working out stored items' story keys again, for the migrations that change them.

Stored items are only ever compared with new ones through their stored signature and
band keys (``fingerprints.story_keys``), so a revision that changes what those are
recomputes every item's from its text. Items are read and written in batches of ids,
so memory stays flat however large the store; an item whose keys did not change is
not written.
"""

import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator import fingerprints
from aggregator.text import html_to_text, paragraphs_to_html

BATCH = 2000
_BANDS = sa.text("SELECT band_key, item_id FROM item_bands WHERE item_id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True)
)


def recompute_story_keys(connection: Connection) -> None:
    """Every item's signature and band keys as this version works them out."""
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                # An item whose article page was read (revision 0006, issue #21) is
                # matched by the page's text, as ingest matched it.
                "SELECT items.id, items.title, items.content_html, items.signature,"
                " item_pages.text AS page_text FROM items LEFT JOIN item_pages"
                " ON item_pages.item_id = items.id AND item_pages.state = 'used'"
                " WHERE items.id > :last ORDER BY items.id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            return
        last = rows[-1].id
        stored: dict[int, set[int]] = {row.id: set() for row in rows}
        for key, item in connection.execute(_BANDS, {"ids": list(stored)}):
            stored[item].add(key)
        for row in rows:
            content = (
                paragraphs_to_html(row.page_text.split("\n\n"))
                if row.page_text
                else row.content_html
            )
            keys = fingerprints.story_keys(row.title, html_to_text(content))
            signature = fingerprints.pack(keys.slots) if keys.slots else None
            if signature != (bytes(row.signature) if row.signature is not None else None):
                connection.execute(
                    sa.text("UPDATE items SET signature = :signature WHERE id = :id"),
                    {"signature": signature, "id": row.id},
                )
            if set(keys.bands) != stored[row.id]:
                connection.execute(
                    sa.text("DELETE FROM item_bands WHERE item_id = :id"), {"id": row.id}
                )
                if keys.bands:
                    connection.execute(
                        sa.text("INSERT INTO item_bands (band_key, item_id) VALUES (:key, :id)"),
                        [{"key": key, "id": row.id} for key in sorted(set(keys.bands))],
                    )
