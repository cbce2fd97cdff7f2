"""Topic rules over time: which rules the stored topic assignments were made with, re-classifying
every stored item when they change, and a preview of what a change would do to the feeds.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from aggregator import fulltext
from aggregator.app import Aggregator

if TYPE_CHECKING:  # the rules are read (and classify imported) when first used
    from aggregator import classify

log = logging.getLogger("aggregator.pipeline")

RULES_FINGERPRINT = "rules_fingerprint"


def adopt_rules_if_empty(app: Aggregator) -> None:
    """In a new store, record the current rules as the ones items are classified with.

    Ingest classifies every item with the current rules, so in a store that was
    empty nothing needs re-classifying at the first regeneration (which would
    otherwise classify every item of a large first ingest a second time). Once recorded,
    it stays: every later ingest knows that with one read, in no transaction (issue #22).
    """
    if app.storage.meta(RULES_FINGERPRINT) is not None:
        return
    with app.storage.transaction() as tx:
        if tx.get_meta(RULES_FINGERPRINT) is None and not tx.has_items():
            tx.set_meta(RULES_FINGERPRINT, rules_fingerprint(app.topics))


def rules_fingerprint(topics: tuple[classify.Topic, ...]) -> str:
    """Changes whenever the topic rules change, so stored assignments can be refreshed."""
    return hashlib.sha256(repr(topics).encode()).hexdigest()


def reclassify(app: Aggregator, force: bool = False) -> int:
    """Re-classify every stored item when the rules changed since the last time (or forced)."""
    fingerprint = rules_fingerprint(app.topics)
    with app.storage.transaction() as tx:
        if not force and tx.get_meta(RULES_FINGERPRINT) == fingerprint:
            return 0
    count = 0
    for batch in map(partial(fulltext.with_page_texts, app.storage), app.storage.item_texts()):
        with app.storage.transaction() as tx:
            for text in batch:
                matches = app.classify_text(text.title, text.content_html)
                tx.set_topics(text.id, {m.topic_id: m.score for m in matches if m.matched})
        count += len(batch)
    with app.storage.transaction() as tx:
        tx.set_meta(RULES_FINGERPRINT, fingerprint)
    log.info("re-classified %d stored items with the current rules", count)
    return count


@dataclass(frozen=True)
class RuleChange:
    """What the current rules would change in one topic feed: titles entering and leaving."""

    topic: str
    entering: tuple[str, ...]
    leaving: tuple[str, ...]


def preview_rules(app: Aggregator) -> list[RuleChange]:
    """Each topic feed as the current rules would make it, against what is published; no writes."""
    newest: dict[str, list[tuple[datetime, int, str]]] = {t.id: [] for t in app.topics}
    for batch in map(partial(fulltext.with_page_texts, app.storage), app.storage.item_texts()):
        for text in batch:
            if not text.canonical:
                continue
            for match in app.classify_text(text.title, text.content_html):
                if match.matched:
                    newest[match.topic_id].append((text.published, text.id, text.title))
    changes = []
    for topic in app.topics:
        wanted = sorted(newest[topic.id], reverse=True)[: app.settings.max_entries]
        wanted_titles = {item_id: title for _published, item_id, title in wanted}
        current = {
            i.id: i.title for i in app.storage.newest_items(topic.id, app.settings.max_entries)
        }
        changes.append(
            RuleChange(
                topic.id,
                tuple(t for i, t in wanted_titles.items() if i not in current),
                tuple(t for i, t in current.items() if i not in wanted_titles),
            )
        )
    return changes
