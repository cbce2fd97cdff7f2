"""Benchmark: the near-duplicate signature of one item, against its first, straightforward version.

    python -m tests.benchmarks.bench_signature [--runs 9]

Times ``fingerprints.shingles`` and ``fingerprints.signature`` on texts as ``analysis.analyze``
passes them (title, newline, plain-text body): (1) every entry of the benchmark
web of feeds (English with Hangul mixed in, about 2 KB of text), (2) the Korean
and (3) the English labelled examples of tests/data/topics/ run together into
texts of about 2 KB. The first version, kept as the oracle of
tests/test_signature_equivalence.py, runs back to back with the current one on
the same texts, so the ratio holds on a busy machine; the minimum of several
runs is printed (the least disturbed), with the median beside it.
"""

import argparse
import itertools
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator import fingerprints
from aggregator.ingest.feeds import parse_feed
from aggregator.text import html_to_text
from tests.benchmarks.bench_classify import corpus_texts, labelled_texts
from tests.support.project import REPO
from tests.support.signatures import blake2b_signature
from tests.test_signature_equivalence import reference_shingles, reference_signature

THRESHOLD = 0.5  # dedup.similarity's default
SEOUL = ZoneInfo("Asia/Seoul")

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
TEXT_SIZE = 2000


def _run_together(texts: list[str]) -> list[str]:
    """The texts joined, in order, into texts of about ``TEXT_SIZE`` characters."""
    joined, current = [], ""
    for text in texts * (1 + 40 * TEXT_SIZE // sum(map(len, texts))):
        current = f"{current}\n{text}" if current else text
        if len(current) >= TEXT_SIZE:
            joined.append(current)
            current = ""
    return joined


def text_sets() -> dict[str, list[str]]:
    labelled = [f"{title}\n{body}" for title, body in labelled_texts()]
    return {
        "benchmark feeds": [f"{title}\n{body}" for title, body in corpus_texts()],
        "Korean examples": _run_together([t for t in labelled if _HANGUL.search(t)]),
        "English examples": _run_together([t for t in labelled if t.isascii()]),
    }


def _seconds(function: Callable[[str], object], texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        function(text)
    return time.perf_counter() - start


def compare(
    label: str,
    first: Callable[[str], object],
    now: Callable[[str], object],
    texts: list[str],
    runs: int,
) -> None:
    old, new = [], []
    for _ in range(runs):
        old.append(_seconds(first, texts) * 1000 / len(texts))
        new.append(_seconds(now, texts) * 1000 / len(texts))
    print(
        f"  {label:10s} first {min(old):.3f} ms (median {statistics.median(old):.3f}),"
        f" now {min(new):.3f} ms (median {statistics.median(new):.3f}),"
        f" {min(old) / min(new):.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--day", help="also count alike pairs of this knews-rss day, both hashes")
    args = parser.parse_args()
    runs = args.runs
    for name, texts in text_sets().items():
        size = statistics.mean(map(len, texts))
        print(f"{name} ({len(texts)} texts, {size:,.0f} characters each):")
        compare("shingles", reference_shingles, fingerprints.shingles, texts, runs)
        compare("signature", reference_signature, fingerprints.signature, texts, runs)
        compare("blake2b", blake2b_signature, fingerprints.signature, texts, runs)
    if args.day:
        alike_pairs(REPO.parent / "shared" / "realworld" / "knews-rss" / args.day)


def alike_pairs(day: Path) -> None:
    """Pairs of one day's real items whose signatures are alike (>= 0.5), blake2b against xxh3.

    Candidate pairs are those sharing a band key under either hash (what the store looks
    up); each is scored under both.
    """
    texts = {}
    for path in sorted(day.glob("*.xml")):
        data = parse_feed(path.read_bytes(), source_key=path.name, zone=SEOUL)
        for item in data.items:
            texts[item.link or item.guid] = f"{item.title}\n{html_to_text(item.content_html)}"
    scored = {}
    for name, signature in (("blake2b", blake2b_signature), ("xxh3", fingerprints.signature)):
        signatures = {key: signature(text) for key, text in texts.items()}
        scored[name] = signatures
    candidates = set()
    for signatures in scored.values():
        members = defaultdict(list)
        for key, slots in signatures.items():
            for band in fingerprints.band_keys(slots) if slots else ():
                members[band].append(key)
        for keys in members.values():
            candidates.update(itertools.combinations(sorted(keys), 2))
    alike = {
        name: {
            (a, b)
            for a, b in candidates
            if fingerprints.similarity(signatures[a], signatures[b]) >= THRESHOLD
        }
        for name, signatures in scored.items()
    }
    both = alike["blake2b"] & alike["xxh3"]
    print(
        f"{day.name}: {len(texts)} distinct items, {len(candidates)} candidate pairs; alike "
        f"(>= {THRESHOLD}): blake2b {len(alike['blake2b'])}, xxh3 {len(alike['xxh3'])}, "
        f"both {len(both)}"
    )


if __name__ == "__main__":
    main()
