"""Benchmark: the cost of deduplicating one new item with 10k, 100k and 1M items stored.

    python -m tests.benchmarks.bench_dedup [--sizes 10000,100000,1000000] [--runs 5]

Fills a SQLite store (bulk, outside the pipeline) with items that have real
signatures and band keys, then times what the pipeline does for each new
item: its signature, the identity lookup and the band-index lookup with the
verification of candidates. Prints medians (and min/max) of several runs of
200 new items each; the goal is that 1M costs no more than twice 10k.
"""

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from aggregator import dedup, fingerprints
from aggregator.store import Storage
from aggregator.store.schema import epoch_seconds, item_bands, items, sources
from tests import corpus

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(corpus._sentence(rng) for _ in range(12))  # noqa: SLF001 (shared generator)
        for _ in range(count)
    ]


def fill(storage: Storage, size: int) -> None:
    """``size`` stored items, each a different story with its own signature, in bulk.

    Distinct stories share few shingles, so their signatures are modelled as
    random slot values: what matters here is the shape of the band index.
    """
    rng = random.Random(size)
    with storage.transaction() as tx:
        tx.connection.execute(insert(sources).values(id=1, key="bench", kind="feed", title="b"))
    batch_items, batch_bands = [], []
    for n in range(size):
        slots = tuple(rng.getrandbits(64) for _ in range(fingerprints.SIGNATURE_SLOTS))
        batch_items.append(
            {
                "id": n + 1, "source_id": 1, "key": f"k{n}", "entry_id": f"tag:x,2026:{n}",
                "title": f"t{n}", "content_html": "", "published": NOW, "updated": NOW,
                "first_seen": NOW, "content_hash": "h", "story_id": n + 1,
                "link_hash": f"{n:064d}", "signature": fingerprints.pack(slots),
            }
        )  # fmt: skip
        batch_bands.extend(
            {"band_key": k, "item_id": n + 1, "published_epoch": epoch_seconds(NOW)}
            for k in set(fingerprints.band_keys(slots))
        )
        if len(batch_items) == 20_000 or n == size - 1:
            with storage.transaction() as tx:
                tx.connection.execute(insert(items), batch_items)
                tx.connection.execute(insert(item_bands), batch_bands)
            batch_items, batch_bands = [], []


def lookup_cost(storage: Storage, texts: list[str]) -> float:
    """Milliseconds per new item for signature + identity lookup + band lookup + verification."""
    start = time.perf_counter()
    links = [f"https://new.example/{n}" for n in range(len(texts))]
    with storage.transaction() as tx:
        identities = tx.stories_by_identity(2, ((link, link) for link in links))
        keys = [fingerprints.story_keys(text, "") for text in texts]
        signatures = [found.slots for found in keys]
        bands = [found.bands for found in keys]
        for link in links:
            identities.story(link, link)
        # One lookup for all of them, as an ingest does for a source's new items.
        candidates = tx.story_candidates(
            bands,
            [NOW] * len(bands),
            dedup.STORY_WINDOW,
            [(found.text, found.title, found.lead) for found in keys],
        )
        for slots, found in zip(signatures, candidates, strict=True):
            dedup.matching_stories(slots, "", NOW, found, 0.5)
    return (time.perf_counter() - start) * 1000 / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            storage = Storage(f"sqlite:///{Path(folder) / 'bench.db'}")
            storage.initialize()
            started = time.perf_counter()
            fill(storage, size)
            filled = time.perf_counter() - started
            costs = [lookup_cost(storage, _texts(200, seed=run)) for run in range(args.runs)]
            storage.close()
        rows.append((size, statistics.median(costs), min(costs), max(costs), filled))
        print(f"  filled {size} items in {filled:.0f}s", flush=True)
    base = rows[0][1]
    print("\nstored items | ms per new item (median) | min | max | vs first")
    print("--- | --- | --- | --- | ---")
    for size, median, low, high, _ in rows:
        print(f"{size:,} | {median:.3f} | {low:.3f} | {high:.3f} | {median / base:.2f}x")


if __name__ == "__main__":
    main()
