"""`aggregator items hide|unhide|remove ID`: an editor takes one item down (issue #19)."""

import argparse
from collections.abc import Callable

from aggregator import pipeline
from aggregator.cli.output import EXIT_OK, EXIT_USAGE
from aggregator.clock import utcnow
from aggregator.store import editorial
from aggregator.store.editorial import NamedItem


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
    print("feeds and pages change at the next update or regenerate")
    return EXIT_OK


def cmd_items_hide(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    return _editorial(app, "hidden", lambda: editorial.set_hidden(app.storage, args.item, True))


def cmd_items_unhide(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    return _editorial(app, "unhidden", lambda: editorial.set_hidden(app.storage, args.item, False))


def cmd_items_remove(app: pipeline.Aggregator, args: argparse.Namespace) -> int:
    return _editorial(app, "removed", lambda: editorial.remove(app.storage, args.item, utcnow()))
