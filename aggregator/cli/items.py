"""`aggregator items hide|unhide|remove ID`: an editor takes one item down (issue #19)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from aggregator.cli.output import EXIT_OK, EXIT_USAGE
from aggregator.clock import utcnow

if TYPE_CHECKING:
    from aggregator.app import Aggregator
    from aggregator.store.editorial import NamedItem


def _editorial(app: Aggregator, what: str, act: Callable[[], list[NamedItem]]) -> int:
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


def cmd_items_hide(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator.store import editorial

    return _editorial(app, "hidden", lambda: editorial.set_hidden(app.storage, args.item, True))


def cmd_items_unhide(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator.store import editorial

    return _editorial(app, "unhidden", lambda: editorial.set_hidden(app.storage, args.item, False))


def cmd_items_remove(app: Aggregator, args: argparse.Namespace) -> int:
    from aggregator.store import editorial

    return _editorial(app, "removed", lambda: editorial.remove(app.storage, args.item, utcnow()))
