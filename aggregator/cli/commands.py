"""The commands that run on the store: each calls one library function and reports.

Each imports the library it runs when it runs, so the other commands start without it."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.cli.output import (
    EXIT_INPUT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    format_duration,
    print_failures,
)
from aggregator.clock import utcnow
from aggregator.errors import AggregatorError
from aggregator.types import WebSource

if TYPE_CHECKING:
    from aggregator.app import Aggregator


def _one_source(app: Aggregator, reference: str | None) -> WebSource | None:
    """The source `update --source` names (by URL or name), or None for every due one."""
    if reference is None:
        return None
    app.storage.sources.sync_config(app.settings.sources)
    found = app.storage.sources.matching(reference)
    if len(found) != 1:
        problem = "no source" if not found else f"{len(found)} sources match"
        raise UsageError(f"--source {reference!r}: {problem} (see aggregator sources list)")
    return found[0]


def cmd_update(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import pipeline

    only = _one_source(app, args.source)
    ingested, published = pipeline.update(app, utcnow(), force=args.force, only=only)
    app.progress.finish()
    print_failures(ingested.failures + published.failures)
    not_written = f", {len(published.failures)} failed" if published.failures else ""
    files = (
        "nothing new to publish"
        if published.current
        else f"{len(published.written)} files written, {len(published.unchanged)} unchanged"
    )
    print(
        f"update: {ingested.items_new} new, {ingested.items_updated} updated, "
        f"{len(ingested.failures)} failed inputs; {files}{not_written} in {app.settings.feeds_dir}"
    )
    return EXIT_INPUT_FAILED if ingested.failures or published.failures else EXIT_OK


def cmd_ingest(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import pipeline

    report = pipeline.ingest(app, utcnow(), force=args.force, only=_one_source(app, args.source))
    app.progress.finish()
    print_failures(report.failures)
    print(
        f"ingest: {report.inputs_read} inputs read, {report.inputs_unchanged} unchanged, "
        f"{report.items_new} new, {report.items_updated} updated, {len(report.failures)} failed"
    )
    return EXIT_INPUT_FAILED if report.failures else EXIT_OK


def cmd_regenerate(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import pipeline

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
    print_failures(report.failures)
    failed = f", {len(report.failures)} failed" if report.failures else ""
    print(f"regenerate: {len(report.written)} written, {len(report.unchanged)} unchanged{failed}")
    return EXIT_INPUT_FAILED if report.failures else EXIT_OK


def cmd_evaluate(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import evaluation, labels

    feeds = Path(args.feeds) if args.feeds else None
    if feeds is not None and not feeds.is_dir():
        raise UsageError(f"{feeds}: no such folder of saved feeds")
    examples: list[evaluation.Example] = []
    problems: list[str] = []
    for file in args.files:
        path = Path(file)
        try:
            labelled = labels.load_labelled(path, feeds, args.split)
        except OSError as error:
            raise UsageError(f"{path}: {error.strerror}") from None
        examples.extend(labelled.examples)
        problems.extend(labelled.problems)
    print_failures(problems)
    heading = f"split {args.split}, " if args.split else ""
    print(f"{heading}{len(examples)} labelled examples, {len(problems)} labels not usable")
    print(evaluation.full_report(examples, app.topics))
    if args.verbose_errors:
        for miss in evaluation.misclassified(examples, app.topics):
            print(miss.explained())
    return EXIT_INPUT_FAILED if problems else EXIT_OK


def cmd_status(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import health

    report = health.check(app, utcnow())
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return EXIT_OK if report.healthy else EXIT_INPUT_FAILED
    print(f"database: {report.database}")
    hidden = f", {report.hidden} hidden" if report.hidden else ""
    print(f"items: {report.items} ({report.stories} stories{hidden})")
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
            print(
                f"last regenerate: {run.finished.isoformat()} "
                f"({run.feeds_written} written, {len(run.failures)} failed)"
            )
    print(f"failing inputs: {len(report.failing)}")
    for key, error in report.failing:
        print(f"  {key}: {error}")
    if report.failing_outputs:
        print(f"failing outputs: {len(report.failing_outputs)}")
        for failure in report.failing_outputs:
            print(f"  {failure}")
    for url, count, error in report.page_failures:
        print(f"article pages not used: {count} of {url} (last: {error})")
    for problem in report.problems:
        print(f"attention: {problem}")
    return EXIT_OK if report.healthy else EXIT_INPUT_FAILED


def cmd_explain(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import classify, fulltext

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


def cmd_items(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator.publish import pages

    if args.search is not None:
        items = app.storage.search(args.search.split(), args.topic, args.limit + 1)
    else:
        items = app.storage.newest_items(args.topic, args.limit + 1, with_hidden=True)
    if len(items) > args.limit:
        items = items[: args.limit]
        print(
            f"items: showing the newest {args.limit}; more are stored (--limit N shows more)",
            file=sys.stderr,
        )
    rows = [
        {
            "id": item.entry_id,
            "title": item.title,
            "link": item.link,
            "published": item.published.isoformat(),
            "updated": item.updated.isoformat(),
            "topics": list(item.topics),
            "source": item.site_name or item.source_title,
            "source_key": item.source_key,
            "author": item.author,
            "language": item.language,
            "summary": pages.summary(item),
            # items lists stories: each is its story's canonical item, so its id is the story's.
            "story": item.entry_id,
            "also_reported_by": [
                {"source": r.source_title, "link": r.link, "id": r.entry_id}
                for r in item.also_reported_by
            ],
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


def cmd_daemon(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import daemon

    return daemon.run(app, serve=(args.host, args.port) if args.serve else None)


def cmd_worker(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import worker

    return worker.run(app)


def cmd_serve(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import daemon, metrics
    from aggregator.server import BackgroundServer, base_path

    from_database = app.settings.publish_to_database
    server = BackgroundServer(
        app.settings.feeds_dir,
        args.host,
        args.port,
        metrics=lambda: metrics.render(app.storage, app.topics),
        storage=app.storage if from_database else None,
        prefix=base_path(app.settings.base_url),
    ).start()
    what = app.storage.display_url if from_database else app.settings.feeds_dir
    print(f"serving the feeds in {what} at {server.url} (Ctrl-C to stop)", flush=True)
    try:
        daemon.wait_for_signal(threading.Event())
    finally:
        server.stop()
    return EXIT_OK


def cmd_prune(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator import pipeline

    pruned = pipeline.prune(app, utcnow(), dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    keep = format_duration(app.settings.retention_keep)
    print(f"prune: {verb} {len(pruned.items)} items older than {keep}")
    for entry_id, title in pruned.items if args.dry_run else ():
        print(f"  {entry_id}  {title}")
    return EXIT_OK


def cmd_export(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator.store import transfer

    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            count = transfer.export(app.storage, out)
        print(f"export: {count} records written to {args.output}")
    else:
        transfer.export(app.storage, sys.stdout)
    return EXIT_OK


def cmd_import(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator.store import transfer

    path = Path(args.file)
    try:
        with path.open(encoding="utf-8") as lines:
            loaded = transfer.import_lines(app.storage, lines, str(path))
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror}") from None
    print(f"import: {loaded[0]} sources and {loaded[1]} items from {path}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from aggregator import workdir

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
