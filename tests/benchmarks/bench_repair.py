"""Benchmark: what repairing real feeds costs, and what ftfy would change and cost (issue #19).

    python -m tests.benchmarks.bench_repair [--runs 5]

Reads every file of ../shared/realworld (in place) as ingest does before repair,
then times ``repair.repair_source`` over all of them (the minimum of several runs,
per item) and counts the items it changed. When ftfy is importable (it is not a
dependency: ``pip install --target DIR ftfy`` and put DIR on PYTHONPATH), it
times ftfy's encoding fix alone (every other fixer off: they rewrite curly quotes
and full-width forms, which Korean text uses on purpose) on each title and
content, and counts the fields it would change.
"""

import argparse
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator.ingest import feeds
from aggregator.ingest.repair import repair_source
from aggregator.types import DEFAULT_LIMITS, SourceData

REALWORLD = Path(__file__).resolve().parents[2] / ".." / "shared" / "realworld"


def read_all() -> list[SourceData]:
    found = []
    for path in sorted(REALWORLD.glob("*/*/*.xml")) + sorted(REALWORLD.glob("yna-cn/*.xml")):
        found.append(
            feeds._parse(  # noqa: SLF001 (the reading before repair is what is measured)
                path.read_bytes(),
                source_key=str(path),
                kind="feed",
                headers=None,
                base_url=None,
                zone=ZoneInfo("Asia/Seoul"),
                max_entries=None,
            )  # fmt: skip
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    documents = read_all()
    count = sum(len(d.items) for d in documents)
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        repaired = [repair_source(d, DEFAULT_LIMITS) for d in documents]
        best = min(best, time.perf_counter() - started)
    changed = sum(
        a != b
        for d, r in zip(documents, repaired, strict=True)
        for a, b in zip(d.items, r.items, strict=True)
    )
    print(f"{len(documents)} documents, {count} items")
    print(f"repair_source: {best / count * 1e6:.1f} us per item; {changed} items changed")
    try:
        import ftfy
    except ImportError:
        print("ftfy: not importable, not measured")
        return
    config = ftfy.TextFixerConfig(
        unescape_html=False, remove_terminal_escapes=False, fix_latin_ligatures=False,
        fix_character_width=False, uncurl_quotes=False, fix_line_breaks=False,
        fix_surrogates=False, remove_control_chars=False, normalization=None, explain=False,
    )  # fmt: skip
    fields = [t for d in documents for i in d.items for t in (i.title, i.content_html)]
    started = time.perf_counter()
    would_change = sum(ftfy.fix_text(text, config) != text for text in fields)
    per_item = (time.perf_counter() - started) / count * 1e6
    print(f"ftfy (encoding fix only): {per_item:.1f} us per item; {would_change} fields changed")


if __name__ == "__main__":
    main()
