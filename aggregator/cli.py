"""The command line: parse options, open the store, call one library function, report.

Exit status: 0 all inputs fine; 1 some input failed (the rest were stored and
published); 2 usage or configuration error; 3 another run holds the database.
"""

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from aggregator import __version__, classify, daemon, pipeline
from aggregator.clock import utcnow
from aggregator.config import find_config, load_settings
from aggregator.errors import AggregatorError, ConfigError, LockedError, SchemaError

EXIT_OK, EXIT_INPUT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

Command = Callable[[pipeline.Aggregator, argparse.Namespace], int]


def _print_failures(failures: Sequence[object]) -> None:
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)


def cmd_update(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    ingested, published = pipeline.update(app, utcnow())
    _print_failures(ingested.failures)
    print(
        f"update: {ingested.items_new} new, {ingested.items_updated} updated, "
        f"{len(ingested.failures)} failed inputs; "
        f"{len(published.written)} feeds written, {len(published.unchanged)} unchanged "
        f"in {app.settings.feeds_dir}"
    )
    return EXIT_INPUT_FAILED if ingested.failures else EXIT_OK


def cmd_ingest(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    report = pipeline.ingest(app, utcnow())
    _print_failures(report.failures)
    print(
        f"ingest: {report.inputs_read} inputs read, {report.inputs_unchanged} unchanged, "
        f"{report.items_new} new, {report.items_updated} updated, {len(report.failures)} failed"
    )
    return EXIT_INPUT_FAILED if report.failures else EXIT_OK


def cmd_regenerate(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    known = {spec.key for spec in app.feed_specs()}
    if args.topic is not None and args.topic not in known:
        print(f"error: unknown topic {args.topic!r} (known: {', '.join(sorted(known))})")
        return EXIT_USAGE
    report = pipeline.regenerate(app, utcnow(), args.topic)
    for path in report.written:
        print(f"wrote {path}")
    print(f"regenerate: {len(report.written)} written, {len(report.unchanged)} unchanged")
    return EXIT_OK


def cmd_status(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    storage = app.storage
    counts = storage.topic_counts()
    print(f"database: {storage.display_url}")
    print(f"items: {storage.item_count()}")
    for topic in app.topics:
        print(f"  {topic.id}: {counts.get(topic.id, 0)}")
    for kind in ("ingest", "regenerate"):
        run = storage.last_run(kind)
        if run is None:
            print(f"last {kind}: never")
        elif kind == "ingest":
            print(
                f"last ingest: {run.finished.isoformat()} "
                f"({run.items_new} new, {run.items_updated} updated, {len(run.failures)} failed)"
            )
        else:
            print(f"last regenerate: {run.finished.isoformat()} ({run.feeds_written} written)")
    failing = storage.failing_sources()
    print(f"failing inputs: {len(failing)}")
    for key, error in failing:
        print(f"  {key}: {error}")
    return EXIT_INPUT_FAILED if failing else EXIT_OK


def cmd_explain(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    found = app.storage.find_items(args.item)
    if not found:
        print(f"no stored item matches {args.item!r} (try an entry id, a seed file name or a link)")
        return EXIT_USAGE
    for item in found:
        print(f"{item.title}\n  id: {item.entry_id}\n  source: {item.source_key}")
        print(classify.explain(app.classify_text(item.title, item.content_html)))
    return EXIT_OK


def cmd_items(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    items = app.storage.newest_items(args.topic, args.limit)
    rows = [
        {
            "id": item.entry_id,
            "title": item.title,
            "link": item.link,
            "published": item.published.isoformat(),
            "topics": list(item.topics),
        }
        for item in items
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(f"{row['published'][:10]}  {','.join(row['topics']) or '-':<40} {row['title']}")
    return EXIT_OK


def cmd_daemon(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    return daemon.run(app)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aggregator",
        description="Aggregate Korean Peninsula news into one Atom feed per topic.",
        epilog="example: aggregator --config config/aggregator.toml update",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aggregator {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $AGGREGATOR_CONFIG, else config/aggregator.toml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("-q", "--quiet", action="store_true", help="log errors only")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Command, help: str, example: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    add(
        "update",
        cmd_update,
        "ingest everything, then regenerate changed feeds",
        "aggregator update",
    )
    add("ingest", cmd_ingest, "ingest seeds into the store without publishing", "aggregator ingest")
    regenerate = add(
        "regenerate",
        cmd_regenerate,
        "regenerate feeds from the store (re-classifying if the rules changed)",
        "aggregator regenerate --topic alliance",
    )
    regenerate.add_argument("--topic", metavar="ID", help="only this topic's feed (or 'all')")
    add("status", cmd_status, "items per topic, last runs, failing inputs", "aggregator status")
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
    items.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    add(
        "daemon",
        cmd_daemon,
        "run the scheduler in the foreground until SIGINT/SIGTERM",
        "aggregator daemon",
    )
    return parser


def _configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        # APScheduler logs every job start at INFO; only the daemon's own summary matters.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    if args.command == "daemon" and not args.quiet:
        logging.getLogger("aggregator").setLevel(logging.INFO)
    try:
        settings = load_settings(find_config(args.config))
        app = pipeline.Aggregator.open(settings)
    except (ConfigError, SchemaError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AggregatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_FAILED
    try:
        return args.handler(app, args)
    except LockedError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except AggregatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_FAILED
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
