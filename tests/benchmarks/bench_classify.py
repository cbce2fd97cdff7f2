"""Benchmark: topic classification of one item, the largest CPU cost of an item's analysis.

    python -m tests.benchmarks.bench_classify [--runs 5]

Classifies, against the shipped topics, (1) every entry of the benchmark web
of feeds (``feedcorpus.generate(20, 50)``: 1,000 items of about 2.7 KB, parsed
as ingest parses them, the body as ``html_to_text`` gives it, as
``analysis.analyze`` passes it) and (2) the labelled examples in
tests/data/topics/. Prints items per second and milliseconds per item, the
median of several runs (with the min and max), and the process (CPU) time per
item, so changes to the matcher can be compared on the same machine.
"""

import argparse
import json
import statistics
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator import classify
from aggregator.ingest.feeds import parse_feed
from aggregator.text import html_to_text
from tests.benchmarks import feedcorpus

REPO = Path(__file__).resolve().parents[2]


def corpus_texts() -> list[tuple[str, str]]:
    """(title, plain-text body) of every entry of the benchmark feeds."""
    texts = []
    for feed in feedcorpus.generate(20, 50).feeds:
        source = parse_feed(feed.body, source_key=feed.path, zone=ZoneInfo("UTC"))
        texts.extend((item.title, html_to_text(item.content_html)) for item in source.items)
    return texts


def labelled_texts() -> list[tuple[str, str]]:
    """(title, body) of every labelled example in tests/data/topics/."""
    return [
        (example["title"], example.get("body", ""))
        for path in sorted((REPO / "tests" / "data" / "topics").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
        for example in [json.loads(line)]
    ]


def measure(texts: list[tuple[str, str]], topics: tuple[classify.Topic, ...], runs: int) -> None:
    seconds, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        for title, body in texts:
            classify.classify(title, body, topics)
        cpu.append(time.process_time() - start_cpu)
        seconds.append(time.perf_counter() - start)
    rates = sorted(len(texts) / s for s in seconds)
    median = statistics.median(rates)
    print(
        f"  {len(texts)} items: {median:,.0f} items/s (min {rates[0]:,.0f}, max {rates[-1]:,.0f}),"
        f" {1000 / median:.3f} ms per item"
    )
    # Process time: what classification costs the CPU, less disturbed by other processes
    # on a shared machine than the wall clock (RESULTS.md quotes it).
    per_item = sorted(1000 * s / len(texts) for s in cpu)
    print(
        f"  CPU {statistics.median(per_item):.3f} ms per item"
        f" (min {per_item[0]:.3f}, max {per_item[-1]:.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    topics = classify.load_topics(REPO / "config" / "topics")
    corpus = corpus_texts()
    size = sum(len(title) + len(body) for title, body in corpus) / len(corpus)
    print(f"benchmark feeds (feedcorpus.generate(20, 50), {size:,.0f} characters per item):")
    measure(corpus, topics, args.runs)
    print("labelled examples (tests/data/topics/*.jsonl):")
    measure(labelled_texts(), topics, args.runs)


if __name__ == "__main__":
    main()
