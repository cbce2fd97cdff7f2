"""SQLite's search index holds the items' plain text, written by the code, not a trigger.

Revision ID: 0015_plain_text_search
Revises: 0014_dated_band_index

Revision 0011's FTS5 index read ``content_html`` itself through triggers: markup was
searchable (``href``, ``class``, an entity's letters), and FTS5 flushes what it holds at
every trigger's statement, which made the insert trigger a quarter of a first ingest's
writer (issue #22). The index is now an FTS5 table of its own holding each item's title
and plain text (``search.searchable``), written by ``search.index_pending`` in the
transaction that stores the item; triggers only mark an inserted or edited item as not
yet indexed (``items_search_pending``) and take a deleted one out. Every stored item is
indexed here. PostgreSQL's text search parser skips tags already: nothing changes there.
"""

import importlib

from alembic import op
from sqlalchemy import text

from aggregator.text import html_to_text, normalize

revision = "0015_plain_text_search"
down_revision = "0014_dated_band_index"
branch_labels = None
depends_on = None

_TRIGGERS = ("insert", "delete", "update")
_UPGRADE = [
    *(f"DROP TRIGGER items_search_{trigger}" for trigger in _TRIGGERS),
    "DROP TABLE items_search",
    # Trigrams need positions (a word is a phrase of them): the default detail=full.
    # No column sizes: they only rank, and nothing ranks.
    "CREATE VIRTUAL TABLE items_search USING fts5(title, body, tokenize='trigram', columnsize=0)",
    "CREATE TABLE items_search_pending (item_id INTEGER PRIMARY KEY)",
    "CREATE TRIGGER items_search_insert AFTER INSERT ON items BEGIN"
    " INSERT INTO items_search_pending (item_id) VALUES (new.id); END",
    "CREATE TRIGGER items_search_update AFTER UPDATE OF title, content_html ON items BEGIN"
    " DELETE FROM items_search WHERE rowid = old.id;"
    " INSERT OR IGNORE INTO items_search_pending (item_id) VALUES (new.id); END",
    "CREATE TRIGGER items_search_delete AFTER DELETE ON items BEGIN"
    " DELETE FROM items_search WHERE rowid = old.id;"
    " DELETE FROM items_search_pending WHERE item_id = old.id; END",
]
# Revision 0011, which made the index this one replaces (and remakes it on the way down).
_ITEM_SEARCH = importlib.import_module("aggregator.store.migrations.versions.0011_item_search")
# Items indexed per statement, in id order (the texts of one round are held in memory).
_ROUND = 1000


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in _UPGRADE:
        op.execute(statement)
    _index_stored()


def _index_stored() -> None:
    """Every stored item's title and plain text, as ``search.index_pending`` writes them
    (written out here: a migration does what its revision did, whatever the code does later)."""
    connection = op.get_bind()
    after = 0
    while rows := connection.execute(
        text("SELECT id, title, content_html FROM items WHERE id > :after ORDER BY id LIMIT :n"),
        {"after": after, "n": _ROUND},
    ).all():
        connection.exec_driver_sql(
            "INSERT INTO items_search (rowid, title, body) VALUES (?, ?, ?)",
            [
                (row.id, normalize(row.title), normalize(html_to_text(row.content_html)))
                for row in rows
            ],
        )
        after = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER items_search_{trigger}")
    op.execute("DROP TABLE items_search")
    op.execute("DROP TABLE items_search_pending")
    _ITEM_SEARCH.upgrade()
