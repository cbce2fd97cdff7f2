"""The band index dated: each row carries its item's publication time.

Revision ID: 0014_dated_band_index
Revises: 0013_xxh3_signatures

Issue #22: a new item only matches items published within ``dedup.STORY_WINDOW`` of it,
but a lookup fetched the best-ranked members of its band keys whenever they were
published: in a store holding a year of items a crowded key's members are all older, and
each lookup read their rows with their texts and dropped them. With the date in the row
the lookup knows them without reading them. The table is rebuilt, filled from
``items.published`` in key order (each row goes at the end of the new B-tree; on SQLite
the table is its primary key's B-tree, WITHOUT ROWID, revision 0005).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_dated_band_index"
down_revision = "0013_xxh3_signatures"
branch_labels = None
depends_on = None

# items.published in whole seconds since 1970, rounded down as ``schema.epoch_seconds``
# does. SQLite stores the date as text, with microseconds after the 19th character, and
# rounds them to milliseconds (30.999999 s is 31 s): the seconds are the text's up to them.
_SECONDS = {
    "sqlite": "CAST(strftime('%s', substr(items.published, 1, 19)) AS INTEGER)",
    "postgresql": "CAST(FLOOR(EXTRACT(EPOCH FROM items.published)) AS BIGINT)",
}


def _rebuild(*, dated: bool) -> None:
    dialect = op.get_bind().dialect.name
    columns = [
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer,
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    ]
    if dated:
        columns.append(sa.Column("published_epoch", sa.BigInteger, nullable=False))
        copy = (
            "INSERT INTO item_bands_rebuilt (band_key, item_id, published_epoch)"
            f" SELECT item_bands.band_key, item_bands.item_id, {_SECONDS[dialect]}"
            " FROM item_bands JOIN items ON items.id = item_bands.item_id"
        )
    else:
        copy = (
            "INSERT INTO item_bands_rebuilt (band_key, item_id)"
            " SELECT item_bands.band_key, item_bands.item_id FROM item_bands"
        )
    op.create_table("item_bands_rebuilt", *columns, sqlite_with_rowid=False)
    op.execute(f"{copy} ORDER BY item_bands.band_key, item_bands.item_id")
    op.drop_table("item_bands")
    op.rename_table("item_bands_rebuilt", "item_bands")
    op.create_index("ix_item_bands_item", "item_bands", ["item_id"])
    if dialect == "postgresql":
        # Constraints keep the names the table was created with: the baseline's again.
        for kind in ("pkey", "item_id_fkey"):
            op.execute(
                f"ALTER TABLE item_bands RENAME CONSTRAINT item_bands_rebuilt_{kind}"
                f" TO item_bands_{kind}"
            )


def upgrade() -> None:
    _rebuild(dated=True)


def downgrade() -> None:
    _rebuild(dated=False)
