"""What the command line prints and returns: exit statuses, failures, errors, logging, progress.

Exit status: 0 all inputs fine; 1 some input failed (the rest were stored and
published); 2 usage or configuration error; 3 another run holds the database.
"""

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from aggregator import (
    logs,
)
from aggregator.errors import AggregatorError, ConfigError, LockedError, SchemaError
from aggregator.progress import ClearProgressLine, Progress, TerminalProgress

EXIT_OK, EXIT_INPUT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3


# The commands whose work takes long enough to show progress on a terminal.
PROGRESS_COMMANDS = {"update", "ingest", "regenerate"}


class UsageError(AggregatorError):
    """A command was given an argument it cannot use (exit status 2)."""


def print_failures(failures: Sequence[object]) -> None:
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)


def reporting_errors(run: Callable[[], int]) -> int:
    """Run a command; an error it reports is printed and becomes its exit status."""
    try:
        return run()
    except LockedError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except (UsageError, SchemaError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AggregatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_FAILED


def configure_logging(verbose: bool, quiet: bool, log_format: str) -> logging.Handler:
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    handler = logs.configure(level, json_lines=log_format == "json")
    if verbose:
        # -v: a line per input read and per source fetched.
        logging.getLogger("aggregator").setLevel(logging.DEBUG)
    else:
        # APScheduler logs every job start at INFO; only the daemon's own summary matters.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler


def progress_line(args: argparse.Namespace, handler: logging.Handler) -> Progress:
    """A live progress line on a terminal; nothing with -q, -v (its own lines), or no terminal."""
    shown = args.command in PROGRESS_COMMANDS and not (args.quiet or args.verbose)
    if not shown or not sys.stderr.isatty():
        return Progress()
    progress = TerminalProgress(sys.stderr)
    handler.addFilter(ClearProgressLine(progress))
    return progress
