"""The command line: parse options, open the store, call one library function, report.

Exit status: 0 all inputs fine; 1 some input failed (the rest were stored and
published); 2 usage or configuration error; 3 another run holds the database.
"""

import argparse
import json
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from aggregator import (
    __version__,
    classify,
    daemon,
    evaluation,
    fulltext,
    health,
    labels,
    logs,
    metrics,
    pipeline,
    workdir,
    worker,
)
from aggregator.clock import utcnow
from aggregator.config import (
    DEFAULT_FULL_TEXT,
    FULL_TEXT_MODES,
    find_config,
    load_settings,
    parse_duration,
)
from aggregator.errors import AggregatorError, ConfigError, LockedError, SchemaError
from aggregator.opml import Subscription, read_opml, render_opml
from aggregator.progress import ClearProgressLine, Progress, TerminalProgress
from aggregator.server import BackgroundServer
from aggregator.store import Storage, editorial, migrate, transfer
from aggregator.store.editorial import NamedItem
from aggregator.types import WebSource

EXIT_OK, EXIT_INPUT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

# The commands whose work takes long enough to show progress on a terminal.
PROGRESS_COMMANDS = {"update", "ingest", "regenerate"}

Command = Callable[[pipeline.Aggregator, argparse.Namespace], int]


class UsageError(AggregatorError):
    """A command was given an argument it cannot use (exit status 2)."""


def _print_failures(failures: Sequence[object]) -> None:
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)


def cmd_update(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    ingested, published = pipeline.update(app, utcnow(), force=args.force)
    app.progress.finish()
    _print_failures(ingested.failures + published.failures)
    print(
        f"update: {ingested.items_new} new, {ingested.items_updated} updated, "
        f"{len(ingested.failures)} failed inputs; "
        f"{len(published.written)} files written, {len(published.unchanged)} unchanged "
        f"in {app.settings.feeds_dir}"
    )
    return EXIT_INPUT_FAILED if ingested.failures or published.failures else EXIT_OK


def cmd_ingest(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    report = pipeline.ingest(app, utcnow(), force=args.force)
    app.progress.finish()
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
    if args.dry_run:
        for change in pipeline.preview_rules(app):
            if args.topic is not None and change.topic != args.topic:
                continue
            print(f"{change.topic}: {len(change.entering)} entering, {len(change.leaving)} leaving")
            for title in change.entering:
                print(f"  + {title}")
            for title in change.leaving:
                print(f"  - {title}")
        return EXIT_OK
    report = pipeline.regenerate(app, utcnow(), args.topic)
    app.progress.finish()
    for path in report.written:
        print(f"wrote {path}")
    _print_failures(report.failures)
    print(f"regenerate: {len(report.written)} written, {len(report.unchanged)} unchanged")
    return EXIT_INPUT_FAILED if report.failures else EXIT_OK


def cmd_evaluate(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    feeds = Path(args.feeds) if args.feeds else None
    if feeds is not None and not feeds.is_dir():
        raise UsageError(f"{feeds}: no such folder of saved feeds")
    examples: list[evaluation.Example] = []
    problems: list[str] = []
    for file in args.files:
        path = Path(file)
        try:
            labelled = labels.load_labelled(path, feeds)
        except OSError as error:
            raise UsageError(f"{path}: {error.strerror}") from None
        examples.extend(labelled.examples)
        problems.extend(labelled.problems)
    if args.split is not None:
        examples = [e for e in examples if e.split == args.split]
    _print_failures(problems)
    heading = f"split {args.split}, " if args.split else ""
    print(f"{heading}{len(examples)} labelled examples, {len(problems)} labels not usable")
    print(evaluation.full_report(examples, app.topics))
    if args.verbose_errors:
        for miss in evaluation.misclassified(examples, app.topics):
            print(miss.explained())
    return EXIT_INPUT_FAILED if problems else EXIT_OK


def cmd_status(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    report = health.check(app, utcnow())
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return EXIT_OK if report.healthy else EXIT_INPUT_FAILED
    print(f"database: {report.database}")
    print(f"items: {report.items}" + (f" ({report.hidden} hidden)" if report.hidden else ""))
    for topic, count in report.topics.items():
        print(f"  {topic}: {count}")
    for kind, run in (("ingest", report.last_ingest), ("regenerate", report.last_regenerate)):
        if run is None:
            print(f"last {kind}: never")
        elif kind == "ingest":
            print(
                f"last ingest: {run.finished.isoformat()} "
                f"({run.items_new} new, {run.items_updated} updated, {len(run.failures)} failed)"
            )
        else:
            print(f"last regenerate: {run.finished.isoformat()} ({run.feeds_written} written)")
    print(f"failing inputs: {len(report.failing)}")
    for key, error in report.failing:
        print(f"  {key}: {error}")
    for url, count, error in report.page_failures:
        print(f"article pages not used: {count} of {url} (last: {error})")
    for problem in report.problems:
        print(f"attention: {problem}")
    return EXIT_OK if report.healthy else EXIT_INPUT_FAILED


def cmd_explain(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    found = app.storage.find_items(args.item)
    if not found:
        print(f"no stored item matches {args.item!r} (try an entry id, a seed file name or a link)")
        return EXIT_USAGE
    for item in found:
        print(f"{item.title}\n  id: {item.entry_id}\n  source: {item.source_key}")
        if item.story_id is not None and item.story_id != item.id:
            (canonical,) = app.storage.items_by_id([item.story_id])
            item = canonical
            print(f"  a later version of the story published as {canonical.entry_id}")
        for report in item.also_reported_by:
            print(f"  also reported by {report.source_title}: {report.link or report.entry_id}")
        content_html, from_page = fulltext.classification_text(app.storage, item)
        if from_page:
            print(f"  text: the article page ({item.link}), the entry's own text being short")
        else:
            print("  text: the entry's own")
        print(classify.explain(app.classify_text(item.title, content_html)))
    return EXIT_OK


def cmd_items(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    items = app.storage.newest_items(args.topic, args.limit, with_hidden=True)
    rows = [
        {
            "id": item.entry_id,
            "title": item.title,
            "link": item.link,
            "published": item.published.isoformat(),
            "topics": list(item.topics),
            "hidden": item.hidden,
        }
        for item in items
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            mark = "[hidden] " if row["hidden"] else ""
            topics = ",".join(row["topics"]) or "-"
            print(f"{row['published'][:10]}  {topics:<40} {mark}{row['title']}")
    return EXIT_OK


def _editorial(app: pipeline.Aggregator, what: str, act: Callable[[], list[NamedItem]]) -> int:
    """Run an editor's action under the cycle lock (no ingest or regeneration meanwhile)."""

    def attempt() -> list[NamedItem]:
        with app.cycle_lock():
            return act()

    named = app.retrying(f"items {what}", attempt)
    if not named:
        print("no stored item has this entry id, link or key (see `aggregator items`)")
        return EXIT_USAGE
    for item in named:
        print(f"{what}: {item.entry_id} {item.title}")
    if what != "unhidden":
        print("feeds and pages change at the next update or regenerate")
    return EXIT_OK


def cmd_items_hide(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    return _editorial(app, "hidden", lambda: editorial.set_hidden(app.storage, args.item, True))


def cmd_items_unhide(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    return _editorial(app, "unhidden", lambda: editorial.set_hidden(app.storage, args.item, False))


def cmd_items_remove(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    return _editorial(app, "removed", lambda: editorial.remove(app.storage, args.item, utcnow()))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def cmd_sources_list(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    registry = app.storage.sources
    registry.sync_config(app.settings.sources)
    listed = registry.all()
    if args.json:
        print(json.dumps([_source_json(s) for s in listed], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not listed:
        print("no web sources (add one with: aggregator sources add URL)")
    for source in listed:
        state = "enabled" if source.enabled else f"disabled ({source.disabled_reason})"
        print(f"{source.label}\n  url: {source.url}\n  {state}, from {source.origin}")
        print(
            f"  last status: {source.last_status or 'never fetched'}; "
            f"last success: {_when(source.last_success)}; next due: {_when(source.next_fetch)}; "
            f"consecutive errors: {source.error_count}"
        )
        if source.date_offset:
            hours = source.date_offset / timedelta(hours=1)
            print(f"  dates read as UTC{hours:+03.0f}:00 (the feed writes local time as UTC)")
        if source.embargoed(utcnow()) and source.retry_after:
            print(f"  not fetched before {_when(source.retry_after)} (its Retry-After)")
        if source.last_error:
            print(f"  last error: {source.last_error}")
        print(f"  full text: {source.full_text}; article pages not used: {source.page_failures}")
        if source.page_error:
            print(f"  last article page error: {source.page_error}")
    failing = [s for s in listed if s.enabled and s.error_count]
    return EXIT_INPUT_FAILED if failing else EXIT_OK


def _source_json(source: WebSource) -> dict[str, object]:
    return {
        "name": source.name,
        "title": source.title,
        "url": source.url,
        "key": source.key,
        "origin": source.origin,
        "enabled": source.enabled,
        "disabled_reason": source.disabled_reason,
        "interval_seconds": source.interval.total_seconds() if source.interval else None,
        "last_status": source.last_status,
        "last_success": source.last_success.isoformat() if source.last_success else None,
        "next_fetch": source.next_fetch.isoformat() if source.next_fetch else None,
        "error_count": source.error_count,
        "last_error": source.last_error,
        "date_offset_seconds": source.date_offset.total_seconds() if source.date_offset else None,
        "retry_after": source.retry_after.isoformat() if source.retry_after else None,
        "full_text": source.full_text,
        "page_failures": source.page_failures,
        "page_error": source.page_error,
    }


def _interval(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        raise UsageError(f"--interval: {error}") from None


def cmd_sources_add(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"{args.url!r} is not an http(s) URL")
    source = app.storage.sources.add(
        args.url,
        name=args.name,
        interval=_interval(args.interval),
        origin="cli",
        full_text=args.full_text,
    )
    print(f"added {source.label} ({source.url}); it is fetched at the next update")
    return EXIT_OK


def cmd_sources_remove(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    source = app.storage.sources.remove(args.source)
    print(f"removed {source.label} ({source.url}) and its items")
    return EXIT_OK


def cmd_sources_import(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        subscriptions = read_opml(path.read_bytes(), str(path))
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror}") from None
    registry = app.storage.sources
    added = skipped = 0
    for subscription in subscriptions:
        if registry.find(subscription.url) is not None:
            skipped += 1
            continue
        registry.add(subscription.url, name=subscription.title, interval=None, origin="opml")
        added += 1
    print(f"import: {added} sources added, {skipped} already followed, from {path}")
    return EXIT_OK


def cmd_sources_export(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    subscriptions = [
        Subscription(s.url, s.name or s.title) for s in app.storage.sources.all() if s.enabled
    ]
    document = render_opml("aggregator sources", subscriptions, utcnow())
    if args.output:
        Path(args.output).write_bytes(document)
    else:
        sys.stdout.write(document.decode("utf-8"))
    return EXIT_OK


def cmd_daemon(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    return daemon.run(app, serve=(args.host, args.port) if args.serve else None)


def cmd_worker(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    return worker.run(app)


def cmd_serve(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    from_database = app.settings.publish_to_database
    server = BackgroundServer(
        app.settings.feeds_dir,
        args.host,
        args.port,
        metrics=lambda: metrics.render(app.storage, app.topics),
        storage=app.storage if from_database else None,
    ).start()
    what = app.storage.display_url if from_database else app.settings.feeds_dir
    print(f"serving the feeds in {what} at {server.url} (Ctrl-C to stop)", flush=True)
    try:
        daemon.wait_for_signal(threading.Event())
    finally:
        server.stop()
    return EXIT_OK


def cmd_prune(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    pruned = pipeline.prune(app, utcnow(), dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    print(f"prune: {verb} {len(pruned.items)} items older than {app.settings.retention_keep}")
    for entry_id, title in pruned.items if args.dry_run else ():
        print(f"  {entry_id}  {title}")
    return EXIT_OK


def cmd_export(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            count = transfer.export(app.storage, out)
        print(f"export: {count} records written to {args.output}")
    else:
        transfer.export(app.storage, sys.stdout)
    return EXIT_OK


def cmd_import(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        with path.open(encoding="utf-8") as lines:
            loaded = transfer.import_lines(app.storage, lines, str(path))
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror}") from None
    print(f"import: {loaded[0]} sources and {loaded[1]} items from {path}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    try:
        created = workdir.init(folder, examples=args.examples)
    except AggregatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    for path in created.files:
        print(f"created {path}")
    print(f"ready: cd {folder} && aggregator update")
    return EXIT_OK


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
        return _reporting_errors(lambda: args.db_handler(storage, args))
    finally:
        storage.close()


def _reporting_errors(run: Callable[[], int]) -> int:
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


def _command(
    group: "argparse._SubParsersAction[argparse.ArgumentParser]",
    name: str,
    handler: Command,
    help: str,
    example: str,
) -> argparse.ArgumentParser:
    """A sub-command whose --help describes it and ends with an example."""
    sub = group.add_parser(
        name,
        help=help,
        description=help,
        epilog=f"example: {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.set_defaults(handler=handler)
    return sub


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
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON object per line, for log shippers",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    add = partial(_command, commands)

    initializing = commands.add_parser(
        "init",
        help="create a working folder: config/ (settings, topic rules), seeds/, feeds/",
        description="Create a working folder for aggregator; refuses to overwrite files.",
        epilog="example: aggregator init ~/peninsula --examples",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    initializing.add_argument("folder", metavar="DIR", nargs="?", default=".")
    initializing.add_argument(
        "--examples", action="store_true", help="also copy the two sample seed files"
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
        "aggregator evaluate tests/data/topics/real/*.jsonl --split tune --errors",
    )
    evaluating.add_argument("files", metavar="FILE.jsonl", nargs="+")
    evaluating.add_argument(
        "--split", choices=labels.SPLITS, help="only the labels of this split (tune or heldout)"
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
    items.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    editing = items.add_subparsers(dest="items_command", metavar="ACTION")
    add_edit = partial(_command, editing)
    for action, handler, help_text in (
        ("hide", cmd_items_hide, "take an item out of every feed; it stays stored"),
        ("unhide", cmd_items_unhide, "put a hidden item back into the feeds"),
        (
            "remove",
            cmd_items_remove,
            "delete an item for good: a source still listing it never brings it back",
        ),
    ):
        editing_one = add_edit(action, handler, help_text, f"aggregator items {action} 001.txt")
        editing_one.add_argument(
            "item", metavar="ID", help="entry id, link, or key (a seed file's name, a guid)"
        )
    sources = commands.add_parser(
        "sources",
        help="manage web sources (RSS, Atom, JSON Feed)",
        description="Manage web sources; those declared in the config file are listed too.",
        epilog="example: aggregator sources add https://example.org/feed.xml --interval 30m",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = sources.add_subparsers(dest="sources_command", metavar="ACTION", required=True)

    add_action = partial(_command, actions)

    listing = add_action("list", cmd_sources_list, "sources and health", "aggregator sources list")
    listing.add_argument("--json", action="store_true", help="JSON for scripts")
    adding = add_action(
        "add",
        cmd_sources_add,
        "follow a feed",
        "aggregator sources add https://example.org/feed.xml --name Example --interval 30m",
    )
    adding.add_argument("url", metavar="URL")
    adding.add_argument("--name", metavar="N", help="a name to show instead of the feed's title")
    adding.add_argument("--interval", metavar="DURATION", help="how often to fetch, e.g. 30m")
    adding.add_argument(
        "--full-text",
        choices=FULL_TEXT_MODES,
        default=DEFAULT_FULL_TEXT,
        help="read each entry's article page: never, auto (when the entry's text is shorter "
        "than full_text.below characters; the default) or always",
    )
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


def _configure_logging(verbose: bool, quiet: bool, log_format: str) -> logging.Handler:
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    handler = logs.configure(level, json_lines=log_format == "json")
    if verbose:
        # -v: a line per input read and per source fetched.
        logging.getLogger("aggregator").setLevel(logging.DEBUG)
    else:
        # APScheduler logs every job start at INFO; only the daemon's own summary matters.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler


def _progress(args: argparse.Namespace, handler: logging.Handler) -> Progress:
    """A live progress line on a terminal; nothing with -q, -v (its own lines), or no terminal."""
    shown = args.command in PROGRESS_COMMANDS and not (args.quiet or args.verbose)
    if not shown or not sys.stderr.isatty():
        return Progress()
    progress = TerminalProgress(sys.stderr)
    handler.addFilter(ClearProgressLine(progress))
    return progress


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = _configure_logging(args.verbose, args.quiet, args.log_format)
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
    app.progress = _progress(args, handler)
    try:
        return _reporting_errors(lambda: args.handler(app, args))
    finally:
        app.progress.finish()
        app.close()


if __name__ == "__main__":
    sys.exit(main())
