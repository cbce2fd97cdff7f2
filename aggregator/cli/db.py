"""``aggregator db``: the schema commands, which open the database without checking its
schema first."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from aggregator.cli.options import Commands, group
from aggregator.cli.output import EXIT_INPUT_FAILED, EXIT_OK, EXIT_USAGE, reporting_errors
from aggregator.config import find_config, load_settings
from aggregator.errors import ConfigError

if TYPE_CHECKING:
    from aggregator.store import Storage


def cmd_db_upgrade(storage: Storage, args: argparse.Namespace) -> int:
    from aggregator.store import migrate

    before, after = migrate.upgrade(storage)
    if before == after:
        print(f"db: {storage.display_url} is at revision {after.current}, the newest")
    else:
        print(f"db: upgraded {storage.display_url} from {before.described} to {after.described}")
    return EXIT_OK


def cmd_db_current(storage: Storage, args: argparse.Namespace) -> int:
    from aggregator.store import migrate

    found = migrate.state(storage)
    print(f"db: {storage.display_url} has {found.described}; this aggregator needs {found.head}")
    if found.up_to_date or found.empty:
        return EXIT_OK
    print("run `aggregator db upgrade` to migrate it")
    return EXIT_INPUT_FAILED


def run_db(args: argparse.Namespace) -> int:
    """The schema commands: they open the database without checking its schema first."""
    from aggregator.store import Storage

    try:
        storage = Storage(load_settings(find_config(args.config)).database_url)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return reporting_errors(lambda: args.handler(storage, args))
    finally:
        storage.close()


def add_db_command(commands: Commands) -> None:
    """``aggregator db`` and its actions, in the parser (cli.parser)."""
    add_action = group(
        commands,
        "db",
        "the database schema: show its revision, migrate it",
        "Show or migrate the database schema (Alembic revisions shipped inside).",
        "aggregator db upgrade",
    )
    add_action(
        "upgrade",
        cmd_db_upgrade,
        "migrate the database to this version's schema (creating it when empty)",
        "aggregator db upgrade",
    )
    add_action(
        "current",
        cmd_db_current,
        "show the database's schema revision; exit 1 when it needs `db upgrade`",
        "aggregator db current",
    )
