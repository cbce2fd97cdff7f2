"""Benchmark: parse_feed entries per second, lxml fast path against the feedparser path.

    PYTHONPATH=. python -m tests.benchmarks.bench_parse [--feeds 40] [--entries 50] [--runs 5]

Parses every feed of ``feedcorpus.generate(feeds, entries)`` (RSS 2.0 and
Atom, 2.7 KB entries with HTML summaries and Hangul) with ``parse_feed`` (which
takes the fast path for these documents) and with the feedparser path forced,
sanitizing included, and prints the median (min-max) of ``runs`` runs of each.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from aggregator.ingest import feeds
from tests.benchmarks import feedcorpus

ZONE = ZoneInfo("Asia/Seoul")


def rate(parse: Callable, corpus: feedcorpus.Corpus) -> float:
    """Entries per second for one pass over the corpus."""
    started = time.perf_counter()
    count = 0
    for feed in corpus.feeds:
        data = parse(
            feed.body,
            source_key=feed.path,
            headers={"Content-Type": feed.content_type},
            base_url=f"https://bench.example{feed.path}",
            zone=ZONE,
        )
        count += len(data.items)
    return count / (time.perf_counter() - started)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--feeds", type=int, default=40)
    options.add_argument("--entries", type=int, default=50)
    options.add_argument("--runs", type=int, default=5)
    args = options.parse_args()
    corpus = feedcorpus.generate(args.feeds, args.entries)
    paths = {
        "parse_feed (lxml fast path)": feeds.parse_feed,
        "feedparser path (forced)": feeds._parse_with_feedparser,  # noqa: SLF001
    }
    print(f"{corpus.entries} entries in {len(corpus.feeds)} feeds, {args.runs} runs each")
    for label, parse in paths.items():
        rate(parse, corpus)  # warm-up: imports, caches
        rates = [rate(parse, corpus) for _ in range(args.runs)]
        print(
            f"{label:30} {statistics.median(rates):9,.0f} entries/s"
            f"  (min {min(rates):,.0f}, max {max(rates):,.0f})"
        )


if __name__ == "__main__":
    main()
