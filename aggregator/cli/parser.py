"""The argument parser: every command, its options, its --help with an example.

``main`` builds the parser of the one command named on its command line (``parser_for``):
every run of a short command paid for building all 26 commands' parsers (issue #22,
``bench_cli``, ``bench_knews``); ``--version`` needs none. ``--help``, no command or a
name that is no command build them all, so usage and errors are as before.
"""

import argparse
from collections.abc import Callable, Sequence
from functools import partial

from aggregator import __version__
from aggregator.cli.commands import (
    cmd_daemon,
    cmd_evaluate,
    cmd_explain,
    cmd_export,
    cmd_import,
    cmd_ingest,
    cmd_items,
    cmd_prune,
    cmd_regenerate,
    cmd_serve,
    cmd_status,
    cmd_update,
    cmd_worker,
)
from aggregator.cli.db import add_db_command
from aggregator.cli.items import cmd_items_hide, cmd_items_remove, cmd_items_unhide
from aggregator.cli.options import Commands, add_global_options, command, global_options
from aggregator.cli.sources import add_sources_command
from aggregator.types import LabelSplit


def _top_level() -> tuple[argparse.ArgumentParser, Commands]:
    parser = argparse.ArgumentParser(
        prog="aggregator",
        description="Aggregate Korean Peninsula news into one Atom feed per topic.",
        epilog="example: aggregator --config config/aggregator.toml update",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aggregator {__version__}")
    add_global_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    return parser, commands


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    parser, commands = _top_level()
    for add_command in _COMMANDS.values():
        add_command(commands)
    return parser


# Global options that take a value: the word after them is no command's name.
_VALUED = ("--config", "--log-format")


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of the command ``argv`` names, alone; of every command when it names none
    (module docstring)."""
    words = iter(argv)
    for word in words:
        if "=" not in word and len(word) > 2 and any(v.startswith(word) for v in _VALUED):
            next(words, None)  # the option's value (argparse takes "--conf" for "--config")
        elif word == "--version":  # printed as it is parsed: no command is needed
            return _top_level()[0]
        elif word in ("-h", "--help"):
            break
        elif not word.startswith("-"):
            if word not in _COMMANDS:
                break
            parser, commands = _top_level()
            _COMMANDS[word](commands)
            return parser
    return build_parser()


def _init(commands: Commands) -> None:
    initializing = commands.add_parser(
        "init",
        parents=[global_options()],
        help="create a working folder: config/ (settings, topic rules), seeds/, feeds/",
        description="Create a working folder for aggregator; refuses to overwrite files.",
        epilog="example: aggregator init ~/peninsula --examples",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    initializing.add_argument("folder", metavar="DIR", nargs="?", default=".")
    initializing.add_argument(
        "--examples",
        action="store_true",
        help="also copy the two sample seed files and labelled examples for `evaluate`",
    )


def _fetching(sub: argparse.ArgumentParser) -> None:
    """The options of update and ingest."""
    sub.add_argument(
        "--force", action="store_true", help="fetch every enabled source now, due or not"
    )
    sub.add_argument(
        "--source",
        metavar="NAME_OR_URL",
        help="only this web source, fetched now whether due or not (no seeds)",
    )


def _update(commands: Commands) -> None:
    _fetching(
        command(
            commands,
            "update",
            cmd_update,
            "ingest seeds and due web sources, then regenerate changed feeds",
            "aggregator update",
        )
    )


def _ingest(commands: Commands) -> None:
    _fetching(
        command(
            commands,
            "ingest",
            cmd_ingest,
            "ingest seeds and due web sources without publishing",
            "aggregator ingest --force",
        )
    )


def _regenerate(commands: Commands) -> None:
    regenerate = command(
        commands,
        "regenerate",
        cmd_regenerate,
        "regenerate feeds from the store (re-classifying if the rules changed)",
        "aggregator regenerate --topic alliance",
    )
    regenerate.add_argument("--topic", metavar="ID", help="only this topic's feed (or 'all')")
    regenerate.add_argument(
        "--dry-run",
        action="store_true",
        help="show what the current rules would add to or drop from each feed; write nothing",
    )


def _evaluate(commands: Commands) -> None:
    evaluating = command(
        commands,
        "evaluate",
        cmd_evaluate,
        "precision, recall and F1 of the topic rules on labelled examples (JSON Lines), per "
        "topic and per language; labels may point into saved feed files",
        "aggregator evaluate examples.jsonl --errors   (`aggregator init --examples` writes it)",
    )
    evaluating.add_argument("files", metavar="FILE.jsonl", nargs="+")
    evaluating.add_argument(
        "--split", choices=tuple(LabelSplit), help="only the labels of this split (tune or heldout)"
    )
    evaluating.add_argument(
        "--feeds",
        metavar="DIR",
        help="where labels' feed files are (default: the shared/realworld above the labels file)",
    )
    evaluating.add_argument(
        "--errors",
        dest="verbose_errors",
        action="store_true",
        help="list misclassified examples with the rule hits behind each wrong verdict",
    )


def _prune(commands: Commands) -> None:
    pruning = command(
        commands,
        "prune",
        cmd_prune,
        "remove stories older than retention.keep that no feed shows (their ids are remembered)",
        "aggregator prune --dry-run",
    )
    pruning.add_argument(
        "--dry-run", action="store_true", help="list what would go; remove nothing"
    )


def _export(commands: Commands) -> None:
    exporting_items = command(
        commands,
        "export",
        cmd_export,
        "write every stored source and item as JSON Lines (a backup, or a move to PostgreSQL)",
        "aggregator export --output backup.jsonl",
    )
    exporting_items.add_argument("--output", metavar="FILE", help="write here instead of stdout")


def _import(commands: Commands) -> None:
    importing_items = command(
        commands,
        "import",
        cmd_import,
        "load an export into an empty database, with the same published ids",
        "aggregator --config /srv/agg/config/aggregator.toml import backup.jsonl",
    )
    importing_items.add_argument("file", metavar="FILE.jsonl")


def _status(commands: Commands) -> None:
    status = command(
        commands,
        "status",
        cmd_status,
        "health: items per topic, last runs, failing inputs; exit 1 when something needs "
        "attention (usable as a monitoring check)",
        "aggregator status --json",
    )
    status.add_argument("--json", action="store_true", help="JSON for scripts and monitoring")


def _explain(commands: Commands) -> None:
    explain = command(
        commands,
        "explain",
        cmd_explain,
        "show why an item is or is not in each topic",
        "aggregator explain 000_bbf987679977ef00.txt",
    )
    explain.add_argument(
        "item", metavar="ITEM", help="entry id, seed file name, link or title words"
    )


def _items(commands: Commands) -> None:
    items = command(
        commands,
        "items",
        cmd_items,
        "list stored items with their topics",
        "aggregator items --json",
    )
    items.add_argument("--topic", metavar="ID", help="only items in this topic")
    items.add_argument("--json", action="store_true", help="JSON for scripts")
    items.add_argument(
        "--search",
        metavar="WORDS",
        help="only stories whose title or text holds every word (Korean too), newest first",
    )
    items.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    add_edit = partial(command, items.add_subparsers(dest="items_command", metavar="ACTION"))
    for action, handler, help_text in (
        ("hide", cmd_items_hide, "take an item out of every feed; it stays stored"),
        ("unhide", cmd_items_unhide, "put a hidden item back into the feeds"),
        ("remove", cmd_items_remove, "delete an item; a source still listing it never revives it"),
    ):
        add_edit(action, handler, help_text, f"aggregator items {action} 001.txt").add_argument(
            "item", metavar="ID", help="entry id, link, or key (a seed file's name, a guid)"
        )


def _listening(sub: argparse.ArgumentParser) -> None:
    """The options of daemon and serve."""
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sub.add_argument("--port", type=int, default=8080, help="port (default 8080)")


def _daemon(commands: Commands) -> None:
    running = command(
        commands,
        "daemon",
        cmd_daemon,
        "run the scheduler in the foreground until SIGINT/SIGTERM",
        "aggregator daemon --serve --port 8080",
    )
    running.add_argument("--serve", action="store_true", help="also serve the feeds over HTTP")
    _listening(running)


def _worker(commands: Commands) -> None:
    command(
        commands,
        "worker",
        cmd_worker,
        "fetch due web sources with other workers on one PostgreSQL database (claims with "
        "leases), regenerate and prune in one place at a time; until SIGINT/SIGTERM",
        "aggregator --config /srv/aggregator/config/aggregator.toml worker",
    )


def _serve(commands: Commands) -> None:
    _listening(
        command(
            commands,
            "serve",
            cmd_serve,
            "serve the feeds folder over HTTP (ETag, gzip, HTML pages, OPML)",
            "aggregator serve --host 0.0.0.0 --port 8080",
        )
    )


# Every command by name, in the order --help lists them.
_COMMANDS: dict[str, Callable[[Commands], None]] = {
    "init": _init,
    "update": _update,
    "ingest": _ingest,
    "regenerate": _regenerate,
    "evaluate": _evaluate,
    "prune": _prune,
    "export": _export,
    "import": _import,
    "status": _status,
    "explain": _explain,
    "items": _items,
    "sources": add_sources_command,
    "daemon": _daemon,
    "worker": _worker,
    "serve": _serve,
    "db": add_db_command,
}
