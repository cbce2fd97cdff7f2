"""The argument parser: every command, its options, its --help with an example."""

import argparse
from collections.abc import Callable
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
from aggregator.cli.db import cmd_db_current, cmd_db_upgrade
from aggregator.cli.items import cmd_items_hide, cmd_items_remove, cmd_items_unhide
from aggregator.cli.sources import (
    cmd_sources_add,
    cmd_sources_export,
    cmd_sources_full_text,
    cmd_sources_import,
    cmd_sources_list,
    cmd_sources_remove,
)
from aggregator.config import DEFAULT_FULL_TEXT, FULL_TEXT_MODES
from aggregator.types import LabelSplit


def _command(
    group: "argparse._SubParsersAction[argparse.ArgumentParser]",
    name: str,
    handler: Callable[..., int] | None,  # given the Aggregator (db commands: the Storage)
    help: str,
    example: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A sub-command whose --help describes it and ends with an example."""
    sub = group.add_parser(
        name,
        parents=[_global_options()],
        help=help,
        description=description or help,
        epilog=f"example: {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if handler is not None:
        sub.set_defaults(handler=handler)
    return sub


def _group(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
    name: str,
    help: str,
    description: str,
    example: str,
) -> Callable[..., argparse.ArgumentParser]:
    """A command with actions of its own (``sources add``); adds an action when called."""
    group = _command(commands, name, None, help, example, description)
    actions = group.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)
    return partial(_command, actions)


def _add_global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options every command takes, before or after its name (README "Commands").

    After the command they are parsed by the sub-command's own parser; their defaults
    are suppressed there, so a sub-command never resets what was given before its name.
    """
    unset = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $AGGREGATOR_CONFIG, else config/aggregator.toml)",
        **({"default": None} | unset),
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress details", **unset
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="errors only: no log lines below error, no summary lines",
        **unset,
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="json: one JSON object per line, for log shippers",
        **({"default": "text"} | unset),
    )


def _global_options() -> argparse.ArgumentParser:
    """A parent parser holding the global options, for every sub-command."""
    options = argparse.ArgumentParser(add_help=False)
    _add_global_options(options, defaults=False)
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aggregator",
        description="Aggregate Korean Peninsula news into one Atom feed per topic.",
        epilog="example: aggregator --config config/aggregator.toml update",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aggregator {__version__}")
    _add_global_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    add = partial(_command, commands)

    initializing = commands.add_parser(
        "init",
        parents=[_global_options()],
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
    update = add(
        "update",
        cmd_update,
        "ingest seeds and due web sources, then regenerate changed feeds",
        "aggregator update",
    )
    ingest = add(
        "ingest",
        cmd_ingest,
        "ingest seeds and due web sources without publishing",
        "aggregator ingest --force",
    )
    for sub in (update, ingest):
        sub.add_argument(
            "--force", action="store_true", help="fetch every enabled source now, due or not"
        )
        sub.add_argument(
            "--source",
            metavar="NAME_OR_URL",
            help="only this web source, fetched now whether due or not (no seeds)",
        )
    regenerate = add(
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
    evaluating = add(
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
    pruning = add(
        "prune",
        cmd_prune,
        "remove stories older than retention.keep that no feed shows (their ids are remembered)",
        "aggregator prune --dry-run",
    )
    pruning.add_argument(
        "--dry-run", action="store_true", help="list what would go; remove nothing"
    )
    exporting_items = add(
        "export",
        cmd_export,
        "write every stored source and item as JSON Lines (a backup, or a move to PostgreSQL)",
        "aggregator export --output backup.jsonl",
    )
    exporting_items.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    importing_items = add(
        "import",
        cmd_import,
        "load an export into an empty database, with the same published ids",
        "aggregator --config /srv/agg/config/aggregator.toml import backup.jsonl",
    )
    importing_items.add_argument("file", metavar="FILE.jsonl")
    status = add(
        "status",
        cmd_status,
        "health: items per topic, last runs, failing inputs; exit 1 when something needs "
        "attention (usable as a monitoring check)",
        "aggregator status --json",
    )
    status.add_argument("--json", action="store_true", help="JSON for scripts and monitoring")
    explain = add(
        "explain",
        cmd_explain,
        "show why an item is or is not in each topic",
        "aggregator explain 000_bbf987679977ef00.txt",
    )
    explain.add_argument(
        "item", metavar="ITEM", help="entry id, seed file name, link or title words"
    )
    items = add(
        "items", cmd_items, "list stored items with their topics", "aggregator items --json"
    )
    items.add_argument("--topic", metavar="ID", help="only items in this topic")
    items.add_argument("--json", action="store_true", help="JSON for scripts")
    items.add_argument(
        "--search",
        metavar="WORDS",
        help="only stories whose title or text holds every word (Korean too), newest first",
    )
    items.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    add_edit = partial(_command, items.add_subparsers(dest="items_command", metavar="ACTION"))
    for action, handler, help_text in (
        ("hide", cmd_items_hide, "take an item out of every feed; it stays stored"),
        ("unhide", cmd_items_unhide, "put a hidden item back into the feeds"),
        ("remove", cmd_items_remove, "delete an item; a source still listing it never revives it"),
    ):
        add_edit(action, handler, help_text, f"aggregator items {action} 001.txt").add_argument(
            "item", metavar="ID", help="entry id, link, or key (a seed file's name, a guid)"
        )
    add_action = _group(
        commands,
        "sources",
        "manage web sources (RSS, Atom, JSON Feed)",
        "Manage web sources; those declared in the config file are listed too.",
        "aggregator sources add https://example.org/feed.xml --interval 30m",
    )

    listing = add_action("list", cmd_sources_list, "sources and health", "aggregator sources list")
    listing.add_argument("--json", action="store_true", help="JSON for scripts")
    adding = add_action(
        "add",
        cmd_sources_add,
        "follow a feed: fetched once first, and found through the page's "
        '<link rel="alternate"> when URL is a web page',
        "aggregator sources add https://example.org/feed.xml --name Example --interval 30m",
    )
    adding.add_argument("url", metavar="URL", help="a feed, or a web page that links its feed")
    adding.add_argument("--no-check", action="store_true", help="add it without fetching it first")
    adding.add_argument("--category", metavar="FOLDER", help="a folder for it (OPML export)")
    adding.add_argument("--name", metavar="N", help="a name to show instead of the feed's title")
    adding.add_argument("--interval", metavar="DURATION", help="how often to fetch, e.g. 30m")
    adding.add_argument(
        "--full-text",
        choices=FULL_TEXT_MODES,
        default=DEFAULT_FULL_TEXT,
        help="read each entry's article page: never, auto (when the entry's text is shorter "
        "than full_text.below characters; the default) or always",
    )
    full_text = add_action(
        "full-text",
        cmd_sources_full_text,
        "when to read a source's article pages (never, auto or always)",
        "aggregator sources full-text https://example.org/feed.xml always",
    )
    full_text.add_argument("source", metavar="URL_OR_NAME")
    full_text.add_argument("mode", choices=FULL_TEXT_MODES)
    removing = add_action(
        "remove",
        cmd_sources_remove,
        "stop following a source (its items are deleted)",
        "aggregator sources remove https://example.org/feed.xml",
    )
    removing.add_argument("source", metavar="URL_OR_NAME")
    importing = add_action(
        "import",
        cmd_sources_import,
        "follow every feed listed in an OPML file",
        "aggregator sources import subscriptions.opml",
    )
    importing.add_argument("file", metavar="FILE.opml")
    exporting = add_action(
        "export",
        cmd_sources_export,
        "write the enabled sources as OPML 2.0",
        "aggregator sources export --output sources.opml",
    )
    exporting.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    running = add(
        "daemon",
        cmd_daemon,
        "run the scheduler in the foreground until SIGINT/SIGTERM",
        "aggregator daemon --serve --port 8080",
    )
    running.add_argument("--serve", action="store_true", help="also serve the feeds over HTTP")
    add(
        "worker",
        cmd_worker,
        "fetch due web sources with other workers on one PostgreSQL database (claims with "
        "leases), regenerate and prune in one place at a time; until SIGINT/SIGTERM",
        "aggregator --config /srv/aggregator/config/aggregator.toml worker",
    )
    serving = add(
        "serve",
        cmd_serve,
        "serve the feeds folder over HTTP (ETag, gzip, HTML pages, OPML)",
        "aggregator serve --host 0.0.0.0 --port 8080",
    )
    for sub in (running, serving):
        sub.add_argument(
            "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
        )
        sub.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    _add_db_commands(commands)
    return parser


def _add_db_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    add_action = _group(
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
