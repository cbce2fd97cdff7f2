"""Full-text search over stored items' titles and text, Korean included (issue #20).

Revision ID: 0011_item_search
Revises: 0010_source_category

SQLite: an FTS5 index with the trigram tokenizer (any three characters match, so a
Korean word is found inside 북한은 or 남북회담, where particles and compounds leave no
spaces to split on), over the items table itself (external content: the text is not
stored twice), kept up to date by triggers on every insert, edit and delete, whichever
process or command writes. PostgreSQL: a GIN index on the items' ``simple`` text search
vector, which the search query's identical expression uses; words match as prefixes.
"""

from alembic import op

from aggregator.store.schema import SEARCH_INDEX, SEARCH_VECTOR

revision = "0011_item_search"
down_revision = "0010_source_category"
branch_labels = None
depends_on = None

_SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_search USING fts5("
    "title, content_html, content='items', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS items_search_insert AFTER INSERT ON items BEGIN"
    " INSERT INTO items_search(rowid, title, content_html)"
    " VALUES (new.id, new.title, new.content_html); END",
    "CREATE TRIGGER IF NOT EXISTS items_search_delete AFTER DELETE ON items BEGIN"
    " INSERT INTO items_search(items_search, rowid, title, content_html)"
    " VALUES ('delete', old.id, old.title, old.content_html); END",
    "CREATE TRIGGER IF NOT EXISTS items_search_update"
    " AFTER UPDATE OF title, content_html ON items BEGIN"
    " INSERT INTO items_search(items_search, rowid, title, content_html)"
    " VALUES ('delete', old.id, old.title, old.content_html);"
    " INSERT INTO items_search(rowid, title, content_html)"
    " VALUES (new.id, new.title, new.content_html); END",
    # What is stored already.
    "INSERT INTO items_search(items_search) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_UPGRADE:
            op.execute(statement)
    else:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON items USING gin (({SEARCH_VECTOR}))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER items_search_{trigger}")
        op.execute("DROP TABLE items_search")
    else:
        op.execute(f"DROP INDEX {SEARCH_INDEX}")
