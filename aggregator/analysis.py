"""What an item's own text says, worked out before it is stored: signature, band keys, topics.

Pure functions of the item and the topic rules, with no store or clock, so an
ingest can work them out in worker processes while the main process writes.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from aggregator import classify, fingerprints
from aggregator.text import html_to_text, normalize
from aggregator.types import ItemData


@dataclass(frozen=True)
class ItemAnalysis:
    """An item's MinHash signature (None when too short), its text, title and lead keys
    (``fingerprints.story_keys``, None when too short), its text beginning's keys, its
    band keys (the signature's and those keys), its topics' scores,
    and its body's text as its content hash reads it (``dedup.content_hash``'s ``body``:
    worked out here from the text the rest needs, the writer does not extract it again).
    """

    slots: tuple[int, ...] | None
    text: int | None
    title: int | None
    lead: int | None
    heads: tuple[int, ...]
    bands: tuple[int, ...]
    topics: tuple[tuple[str, float], ...]
    body: str


def analyze(item: ItemData, topics: Sequence[classify.Topic]) -> ItemAnalysis:
    text = html_to_text(item.content_html)
    keys = fingerprints.story_keys(item.title, text)
    matches = classify.classify(item.title, text, topics)
    return ItemAnalysis(
        keys.slots,
        keys.text,
        keys.title,
        keys.lead,
        keys.heads,
        keys.bands,
        tuple((m.topic_id, m.score) for m in matches if m.matched),
        normalize(text),  # dedup.body_text(item.content_html), from the text extracted above
    )


def text_key(item: ItemData) -> tuple[str, str]:
    """What an analysis depends on, to find it again after dedup re-keys the item."""
    return item.title, item.content_html
