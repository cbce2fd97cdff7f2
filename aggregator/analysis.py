"""What an item's own text says, worked out before it is stored: signature, band keys, topics.

Pure functions of the item and the topic rules, with no store or clock, so an
ingest can work them out in worker processes while the main process writes.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
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
    From a worker process, also that text's shingles (``joined_shingles``).
    """

    slots: tuple[int, ...] | None
    text: int | None
    title: int | None
    lead: int | None
    heads: tuple[int, ...]
    bands: tuple[int, ...]
    topics: tuple[tuple[str, float], ...]
    body: str
    shingles: bytes | None = None


def analyze(
    item: ItemData, topics: Sequence[classify.Topic], *, shingled: bool = False
) -> ItemAnalysis:
    """The item's analysis; ``shingled``, with its text's shingles, which a worker process
    hands over (the main process shingles only the texts it compares: about a third)."""
    text = html_to_text(item.content_html)
    keys = fingerprints.story_keys(item.title, text)
    matches = classify.classify(item.title, text, topics)
    body = normalize(text)  # dedup.body_text(item.content_html), from the text extracted above
    return ItemAnalysis(
        keys.slots,
        keys.text,
        keys.title,
        keys.lead,
        keys.heads,
        keys.bands,
        tuple((m.topic_id, m.score) for m in matches if m.matched),
        body,
        joined_shingles(body) if shingled else None,
    )


def joined_shingles(body: str) -> bytes:
    """``fingerprints.body_shingles(body)`` as one bytes string, joined by b"\n" (no shingle
    holds one: they are words and runs of letters). Pickled and split again in 39 µs where
    shingling takes 125 (the knews day's 5,687 texts, tests/benchmarks/RESULTS.md): a bytes
    string crosses between processes at the cost of a copy."""
    return b"\n".join(fingerprints.shingles(fingerprints.clean_body(body)))


@contextmanager
def handed_shingles(analyses: Iterable[ItemAnalysis]) -> Iterator[None]:
    """The writer's shingles of these analyses' texts come from them while the block runs
    (a source's transaction: most texts it shingles are its own new items')."""
    fingerprints.HANDED.update((a.body, a.shingles) for a in analyses if a.shingles is not None)
    try:
        yield
    finally:
        fingerprints.HANDED.clear()


def text_key(item: ItemData) -> tuple[str, str]:
    """What an analysis depends on, to find it again after dedup re-keys the item."""
    return item.title, item.content_html
