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
import re
import statistics
import time
from collections.abc import Callable

from aggregator import fingerprints
from tests.benchmarks.bench_classify import corpus_texts, labelled_texts
from tests.test_signature_equivalence import reference_shingles, reference_signature

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
    runs = parser.parse_args().runs
    for name, texts in text_sets().items():
        size = statistics.mean(map(len, texts))
        print(f"{name} ({len(texts)} texts, {size:,.0f} characters each):")
        compare("shingles", reference_shingles, fingerprints.shingles, texts, runs)
        compare("signature", reference_signature, fingerprints.signature, texts, runs)


if __name__ == "__main__":
    main()
