"""``aggregator sources``: list, add, remove, import and export the web sources."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from aggregator.cli.options import Commands, group
from aggregator.cli.output import EXIT_INPUT_FAILED, EXIT_OK, UsageError
from aggregator.clock import utcnow
from aggregator.config import DEFAULT_FULL_TEXT, FULL_TEXT_MODES, parse_duration
from aggregator.types import WebSource

if TYPE_CHECKING:
    from aggregator.app import Aggregator


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def cmd_sources_list(app: Aggregator, args: argparse.Namespace) -> int:
    listed = app.storage.sources.sync_config(app.settings.sources)
    if args.json:
        print(json.dumps([_source_json(s) for s in listed], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not listed:
        print("no web sources (add one with: aggregator sources add URL)")
    for source in listed:
        state = "enabled" if source.enabled else f"disabled ({source.disabled_reason})"
        print(f"{source.label}\n  url: {source.url}\n  {state}, from {source.origin}")
        if source.category:
            print(f"  category: {source.category}")
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
        "category": source.category,
        "site": source.link,
        "enabled": source.enabled,
        "disabled_reason": source.disabled_reason,
        "interval_seconds": source.interval.total_seconds() if source.interval else None,
        "last_status": source.last_status,
        "last_success": source.last_success.isoformat() if source.last_success else None,
        "next_fetch": source.next_fetch.isoformat() if source.next_fetch else None,
        "error_count": source.error_count,
        "last_error": source.last_error,
        "full_text": source.full_text,
        "page_failures": source.page_failures,
        "page_error": source.page_error,
        "date_offset_seconds": source.date_offset.total_seconds() if source.date_offset else None,
        "retry_after": source.retry_after.isoformat() if source.retry_after else None,
    }


def _interval(text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        raise UsageError(f"--interval: {error}") from None


def cmd_sources_add(app: Aggregator, args: argparse.Namespace) -> int:
    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"{args.url!r} is not an http(s) URL")
    # The same options whether the feed is checked first or not.
    add = partial(
        app.storage.sources.add,
        name=args.name,
        interval=_interval(args.interval),
        origin="cli",
        category=args.category,
        full_text=args.full_text,
    )
    if args.no_check:
        source = add(args.url)
        print(f"added {source.label} ({source.url}) unchecked; it is fetched at the next update")
        return EXIT_OK
    from aggregator.ingest import discover

    found = discover.find_feed(app.settings.fetch, args.url, app.settings.timezone, utcnow())
    if found.page is not None:
        print(f"found the feed {found.url} in {found.page}")
    source = add(found.url, title=found.title, link=found.site)
    print(
        f"added {source.label} ({source.url}): {found.title!r}, {found.entries} entries now; "
        "they are stored at the next update"
    )
    return EXIT_OK


def cmd_sources_full_text(app: Aggregator, args: argparse.Namespace) -> int:
    source = app.storage.sources.set_full_text(args.source, args.mode)
    print(f"{source.label} ({source.url}): full text {source.full_text}")
    return EXIT_OK


def cmd_sources_remove(app: Aggregator, args: argparse.Namespace) -> int:
    app.storage.sources.sync_config(app.settings.sources)
    source = app.storage.sources.remove(args.source)
    print(f"removed {source.label} ({source.url}) and its items")
    return EXIT_OK


def cmd_sources_import(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator.opml import read_opml

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
        registry.add(
            subscription.url,
            name=None,
            title=subscription.title,
            link=subscription.html_url,
            category=subscription.category,
            interval=None,
            origin="opml",
        )
        added += 1
    print(f"import: {added} sources added, {skipped} already followed, from {path}")
    return EXIT_OK


def cmd_sources_export(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator.opml import Subscription, render_opml

    subscriptions = [
        Subscription(s.url, s.label, s.link, s.category)
        for s in app.storage.sources.all()
        if s.enabled
    ]
    document = render_opml("aggregator sources", subscriptions, utcnow())
    if args.output:
        Path(args.output).write_bytes(document)
    else:
        sys.stdout.write(document.decode("utf-8"))
    return EXIT_OK


def add_sources_command(commands: Commands) -> None:
    """``aggregator sources`` and its actions, in the parser (cli.parser)."""
    add_action = group(
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
