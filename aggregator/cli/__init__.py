"""The command line: parse options, open the store, call one library function, report.

parser.py    every command's options and --help
commands.py  the commands that run on the store
sources.py   ``aggregator sources``
db.py        ``aggregator db`` (the schema)
output.py    exit statuses, errors, logging and the progress line
"""

import logging
import sys
from collections.abc import Sequence

from aggregator import pipeline
from aggregator.cli.commands import cmd_init
from aggregator.cli.db import run_db
from aggregator.cli.output import (
    EXIT_INPUT_FAILED,
    EXIT_USAGE,
    configure_logging,
    progress_line,
    reporting_errors,
)
from aggregator.cli.parser import build_parser
from aggregator.config import find_config, load_settings
from aggregator.errors import AggregatorError, ConfigError, SchemaError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = configure_logging(args.verbose, args.quiet, args.log_format)
    if args.command in ("daemon", "worker") and not args.quiet and not args.verbose:
        logging.getLogger("aggregator").setLevel(logging.INFO)
    if args.command == "init":
        return cmd_init(args)
    if args.command == "db":
        return run_db(args)
    try:
        app = pipeline.Aggregator.open(load_settings(find_config(args.config)))
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


__all__ = ["build_parser", "main"]
