"""``aggregator db``: the schema commands, which open the database without checking its
schema first."""

import argparse
import sys

from aggregator.cli.output import EXIT_INPUT_FAILED, EXIT_OK, EXIT_USAGE, reporting_errors
from aggregator.config import find_config, load_settings
from aggregator.errors import ConfigError
from aggregator.store import Storage, migrate


def cmd_db_upgrade(storage: Storage, args: argparse.Namespace) -> int:
    before, after = migrate.upgrade(storage)
    if before == after:
        print(f"db: {storage.display_url} is at revision {after.current}, the newest")
    else:
        print(f"db: upgraded {storage.display_url} from {before.described} to {after.described}")
    return EXIT_OK


def cmd_db_current(storage: Storage, args: argparse.Namespace) -> int:
    found = migrate.state(storage)
    print(f"db: {storage.display_url} has {found.described}; this aggregator needs {found.head}")
    if found.up_to_date or found.empty:
        return EXIT_OK
    print("run `aggregator db upgrade` to migrate it")
    return EXIT_INPUT_FAILED


def run_db(args: argparse.Namespace) -> int:
    """The schema commands: they open the database without checking its schema first."""
    try:
        storage = Storage(load_settings(find_config(args.config)).database_url)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return reporting_errors(lambda: args.db_handler(storage, args))
    finally:
        storage.close()


def add_db_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    database = commands.add_parser(
        "db",
        help="the database schema: show its revision, migrate it",
        description="Show or migrate the database schema (Alembic revisions shipped inside).",
        epilog="example: aggregator db upgrade",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    for name, handler, text, example in (
        (
            "upgrade",
            cmd_db_upgrade,
            "migrate the database to this version's schema (creating it when empty)",
            "aggregator db upgrade",
        ),
        (
            "current",
            cmd_db_current,
            "show the database's schema revision; exit 1 when it needs `db upgrade`",
            "aggregator db current",
        ),
    ):
        sub = actions.add_parser(
            name,
            help=text,
            description=text,
            epilog=f"example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(db_handler=handler)
