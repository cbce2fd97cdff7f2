"""Versioned schema migrations (Alembic), run from code: no alembic.ini for users.

What opening a database does, by what it holds:

    no aggregator tables        created by upgrading to head (a fresh clone's first update)
    the newest revision         used as it is
    an older revision, or a     refused with "run `aggregator db upgrade`"; that command
    release's v5 schema         stamps a v5 database as the baseline, then upgrades it
    an unknown revision         refused: a newer aggregator migrated it

Creating and upgrading hold the "schema" run lock, so workers starting together on
an empty database create it once.

Opening a database at the newest revision reads that revision and compares it with
the newest migration file's (``newest_file_revision``): importing Alembic would take
longer than a short command's whole run (issue #22, ``bench_cli``), so it is
imported only when the schema must be created, migrated or judged.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, select, update
from sqlalchemy.exc import OperationalError

from aggregator.errors import AggregatorError, SchemaError
from aggregator.store import schema
from aggregator.store.engine import Database
from aggregator.store.lock import RunLock

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_baseline"
# Releases before Alembic kept their schema version in meta; 5 was the last one.
LEGACY_VERSION = "5"
# ... and refuse any other: what they find in a migrated database (see 0001_baseline).
SCHEMA_VERSION_MARK = "alembic"
LOCK_WAIT_SECONDS = 60.0
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this aggregator's migrations."""

    current: str | None  # its Alembic revision; None when it has no alembic_version
    head: str
    empty: bool  # none of aggregator's tables exist
    legacy_version: str | None = None  # meta.schema_version of a database before Alembic

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def described(self) -> str:
        if self.empty:
            return "no tables yet"
        if self.current is None:
            return f"schema version {self.legacy_version} (before migrations)"
        return f"revision {self.current}"


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision this aggregator knows."""
    revision = _scripts().get_current_head()
    assert revision is not None
    return revision


# What the migration template (script.py.mako) writes: ``revision = 'id'`` and
# ``down_revision = 'id'`` (or None), one per line.
_REVISION_LINE = re.compile(r"""^(revision|down_revision) = (None|'[^']*'|"[^"]*")$""", re.M)


@functools.cache
def newest_file_revision() -> str | None:
    """The head revision, read from the migration files' text without importing Alembic:
    the one revision no other revises. None when the files do not say it that plainly
    (a merge of branches, another way of writing): then only ``head()`` can tell."""
    revised, revisions = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"].strip("'\""))
        revised.add(found["down_revision"].strip("'\""))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def stored_revision(connection: Connection) -> str | None:
    """The revision a database's ``alembic_version`` holds; None when it has none."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()


def known_revisions() -> list[str]:
    """Every revision, oldest first."""
    return [script.revision for script in reversed(list(_scripts().walk_revisions()))]


def _state(connection: Connection) -> SchemaState:
    tables = set(inspect(connection).get_table_names())
    current = stored_revision(connection)
    legacy = None
    if current is None and "meta" in tables:
        legacy = connection.execute(
            select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
        ).scalar()
    empty = not tables & set(schema.metadata.tables)
    return SchemaState(current, head(), empty, legacy)


def state(storage: Database) -> SchemaState:
    """The schema state of a database (nothing is changed)."""
    try:
        with storage.engine.connect() as connection:
            return _state(connection)
    except OperationalError as error:
        raise AggregatorError(f"cannot open database {storage.display_url}: {error}") from None


def ensure_current(storage: Database) -> None:
    """Create an empty database's schema; refuse one that is not at the newest revision."""
    newest = newest_file_revision()
    try:
        with storage.engine.connect() as connection:
            if newest is not None and stored_revision(connection) == newest:
                return
    except OperationalError as error:
        raise AggregatorError(f"cannot open database {storage.display_url}: {error}") from None
    if state(storage).up_to_date:
        return
    # Under the lock: SQLite commits each CREATE on its own, so a process creating the
    # database right now must finish before its tables can be judged.
    with RunLock(storage, "schema", wait=LOCK_WAIT_SECONDS):
        found = state(storage)
        if found.empty:
            _upgrade(storage, empty_only=True)
            return
    if found.up_to_date:
        return
    if found.current is not None and found.current not in known_revisions():
        raise SchemaError(
            f"database {storage.display_url} has schema revision {found.current}, unknown to "
            f"this aggregator (it needs {found.head}): it was migrated by a newer version"
        )
    raise SchemaError(
        f"database {storage.display_url} has {found.described}, this aggregator needs "
        f"revision {found.head}: run `aggregator db upgrade`"
    )


def upgrade(storage: Database) -> tuple[SchemaState, SchemaState]:
    """Migrate a database to the newest revision (creating it when empty); (before, after)."""
    with RunLock(storage, "schema", wait=LOCK_WAIT_SECONDS):
        return _upgrade(storage, empty_only=False)


def _upgrade(storage: Database, *, empty_only: bool) -> tuple[SchemaState, SchemaState]:
    # One transaction, so a migration that fails or is killed leaves the database as it
    # was. SQLite can roll back DDL too, but Python's driver commits before each DDL
    # statement unless a transaction was begun explicitly.
    with storage.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        before = _state(connection)
        if before.up_to_date or (empty_only and not before.empty):
            # Someone else created it while this process waited for the lock.
            return before, before
        from alembic import command

        config = _config(connection)
        if before.current is None and not before.empty:
            if before.legacy_version != LEGACY_VERSION:
                raise SchemaError(
                    f"database {storage.display_url} has {before.described}; only version "
                    f"{LEGACY_VERSION} (or an empty database) can be upgraded"
                )
            command.stamp(config, BASELINE)
            connection.execute(
                update(schema.meta)
                .where(schema.meta.c.key == "schema_version")
                .values(value=SCHEMA_VERSION_MARK)
            )
        elif before.current is not None and before.current not in known_revisions():
            raise SchemaError(
                f"database {storage.display_url} has schema revision {before.current}, "
                "unknown to this aggregator: it was migrated by a newer version"
            )
        command.upgrade(config, "head")
        return before, _state(connection)
