"""The command line: parse options, open the store, call one library function, report.

parser.py    every command's options and --help
commands.py  the commands that run on the store
sources.py   ``aggregator sources``
db.py        ``aggregator db`` (the schema)
output.py    exit statuses, errors, logging and the progress line

Each command imports what it runs when it runs (issue #22): ``--version`` and ``--help``
load no database, feed or scheduler library, and ``status`` loads SQLAlchemy but not
Alembic. ``tests/test_cli_startup.py`` checks which libraries stay unloaded;
``tests/benchmarks/bench_cli.py`` times the commands.
"""

import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from aggregator import collector
from aggregator.cli.commands import cmd_init
from aggregator.cli.db import run_db
from aggregator.cli.output import (
    EXIT_INPUT_FAILED,
    EXIT_USAGE,
    configure_logging,
    is_summary,
    progress_line,
    reporting_errors,
)
from aggregator.cli.parser import build_parser, parser_for
from aggregator.config import find_config, load_settings
from aggregator.errors import AggregatorError, ConfigError, SchemaError

# Commands that open the store without reading the topic rules, read when first used:
# status never uses them, update and ingest only for a new or changed item or to
# regenerate, which a round where every source answers 304 does not (issue #22).
RULES_WHEN_USED = {"status", "update", "ingest"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a reader that closes the pipe early (``| head``) just ends the output."""
    try:
        with contextlib.ExitStack() as quiet:
            status = _main(argv, quiet)
            sys.stdout.flush()
        return status
    except BrokenPipeError:
        # Python's advice (signal docs, "Note on SIGPIPE"): point stdout at devnull so the
        # interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INPUT_FAILED


def run() -> NoReturn:
    """The ``aggregator`` command and ``python -m aggregator``: one command, then the
    process ends (``main`` runs one in any process: the tests call it)."""
    status = main()
    collector.leaving()
    sys.exit(status)


def _main(argv: Sequence[str] | None, quiet: contextlib.ExitStack) -> int:
    parser = parser_for(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.quiet and is_summary(args):
        devnull = quiet.enter_context(open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        quiet.enter_context(contextlib.redirect_stdout(devnull))
    handler = configure_logging(args.verbose, args.quiet, args.log_format)
    if args.command in ("daemon", "worker") and not args.quiet and not args.verbose:
        logging.getLogger("aggregator").setLevel(logging.INFO)
    if args.command == "init":
        return cmd_init(args)
    if args.command == "db":
        return run_db(args)
    from aggregator.app import Aggregator

    try:
        settings = load_settings(find_config(args.config))
        app = Aggregator.open(settings, rules=args.command not in RULES_WHEN_USED)
    except (ConfigError, SchemaError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AggregatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_FAILED
    app.progress = progress_line(args, handler)
    try:
        return reporting_errors(lambda: args.handler(app, args))
    finally:
        app.progress.finish()
        app.close()


__all__ = ["build_parser", "main", "run"]
