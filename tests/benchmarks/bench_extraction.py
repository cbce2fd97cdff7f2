"""Benchmark: article extraction, trafilatura (as article.py uses it) against readability-lxml.

    pip install --target ~/.cache/aggregator-bench/readability 'readability-lxml==0.9'
    PYTHONPATH=.:~/.cache/aggregator-bench/readability \
        python -m tests.benchmarks.bench_extraction [--runs 20]

readability-lxml goes in a folder of its own: it brings chardet, which
feedparser then uses to guess undeclared encodings differently from our tests.

Over the article pages of ``tests/data/pages`` that have an ``.expected.json``
(English and Korean news-site shapes, one served in EUC-KR): per page, how many
of the expected paragraphs come out whole, how many chrome phrases leak into the
text, whether title, author and date are found, and the median milliseconds per
page of ``runs`` runs. Both read the same decoded page.
"""

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
from readability import Document

from aggregator.ingest.article import decode_page, extract_article

PAGES = Path(__file__).resolve().parent.parent / "data" / "pages"
ZONE = ZoneInfo("Asia/Seoul")
HEADERS = {"content-type": "text/html"}


@dataclass(frozen=True)
class Extracted:
    text: str
    metadata: tuple[bool, bool, bool]  # title, author, date found


def with_trafilatura(body: bytes) -> Extracted:
    article = extract_article(body, HEADERS, "https://bench.example/a", ZONE)
    return Extracted(
        article.text, (bool(article.title), bool(article.author), bool(article.published))
    )


def with_readability(body: bytes) -> Extracted:
    document = Document(decode_page(body, HEADERS))
    summary = lxml.html.fromstring(document.summary(html_partial=True))
    blocks = (" ".join(e.text_content().split()) for e in summary.iter("p", "div", "td"))
    text = "\n".join(b for b in blocks if b)
    return Extracted(text, (bool(document.short_title()), False, False))


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--runs", type=int, default=20)
    args = options.parse_args()
    extractors: dict[str, Callable[[bytes], Extracted]] = {
        "trafilatura": with_trafilatura,
        "readability-lxml": with_readability,
    }
    print(f"{'page':<22} {'extractor':<17} {'paragraphs':>10} {'chrome':>6} {'t/a/d':>6} {'ms':>7}")
    for expected_path in sorted(PAGES.glob("*.expected.json")):
        name = expected_path.name.removesuffix(".expected.json")
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        body = (PAGES / f"{name}.html").read_bytes()
        for label, extract in extractors.items():
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                found = extract(body)
                timings.append((time.perf_counter() - started) * 1000)
            flat = " ".join(found.text.split())
            whole = sum(p in flat for p in expected["paragraphs"])
            leaked = sum(phrase in found.text for phrase in expected["chrome"])
            meta = "".join("y" if f else "-" for f in found.metadata)
            print(
                f"{name:<22} {label:<17} {whole:>4}/{len(expected['paragraphs']):<5} "
                f"{leaked:>6} {meta:>6} {statistics.median(timings):>7.1f}"
            )


if __name__ == "__main__":
    main()
