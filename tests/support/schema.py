"""How a database's schema compares with schema.py."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from aggregator.store import Storage, schema


def differences(storage: Storage) -> list[object]:
    """What the database's tables, columns and indexes lack or add against schema.py."""
    with storage.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            # The search index is made by its migration alone (schema.SEARCH_TABLES).
            opts={"include_name": lambda name, kind, _parent: not _is_search(name, kind)},
        )
        return compare_metadata(context, schema.metadata)


def _is_search(name: str | None, kind: str) -> bool:
    if kind == "index":
        return name == schema.SEARCH_INDEX
    return kind == "table" and (name or "").startswith(schema.SEARCH_TABLES)
