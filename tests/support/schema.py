"""How a database's schema compares with schema.py."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from aggregator.store import Storage, schema


def differences(storage: Storage) -> list[object]:
    """What the database's tables, columns and indexes lack or add against schema.py."""
    with storage.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), schema.metadata)
