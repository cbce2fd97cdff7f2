"""The peers' side of bench_pipeline, run in their own venv (requirements-peers.txt).

    python peers.py reader-first DB URLS_FILE WORKERS   # add every feed, update all
    python peers.py reader-again DB WORKERS             # update all again (all answer 304)
    python peers.py parse FOLDER RUNS                   # feedparser and lxml on the same bytes
    python peers.py feedgen ENTRIES_JSON RUNS           # one Atom feed of those entries

Each prints one JSON object on stdout. This file imports nothing from
aggregator or its tests: it runs with the peers' pinned versions only.
"""

import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path


def reader_update(db: str, urls_file: str | None, workers: int) -> dict[str, object]:
    from reader import make_reader

    reader = make_reader(db)
    if urls_file is not None:
        for url in Path(urls_file).read_text().split():
            reader.add_feed(url)
    started = time.perf_counter()
    # scheduled=False updates every feed now, like `aggregator update --force`.
    reader.update_feeds(scheduled=False, workers=workers)
    seconds = time.perf_counter() - started
    counts = reader.get_entry_counts()
    broken = sum(1 for _ in reader.get_feeds(broken=True))
    reader.close()
    return {"seconds": seconds, "entries": counts.total, "broken_feeds": broken}


def _lxml_entries(body: bytes) -> int:
    """Parse to a tree and touch each entry's title and summary: a floor for any parser."""
    from lxml import etree

    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False))
    count = 0
    for entry in root.iter("item", "{http://www.w3.org/2005/Atom}entry"):
        for child in entry:
            _ = child.text
        count += 1
    return count


def parse(folder: str, runs: int) -> dict[str, object]:
    import feedparser

    bodies = [p.read_bytes() for p in sorted(Path(folder).glob("*.xml"))]
    modes = {
        "feedparser default": lambda b: len(feedparser.parse(b).entries),
        "feedparser sanitize_html=False": lambda b: len(
            feedparser.parse(b, sanitize_html=False).entries
        ),
        "lxml tree only": _lxml_entries,
    }
    result: dict[str, object] = {"feeds": len(bodies)}
    for name, parse_one in modes.items():
        rates = []
        for _ in range(runs):
            started = time.perf_counter()
            entries = sum(parse_one(body) for body in bodies)
            rates.append(entries / (time.perf_counter() - started))
        result[name] = {"entries": entries, "rates": rates}
    return result


def feedgen(entries_json: str, runs: int) -> dict[str, object]:
    from feedgen.feed import FeedGenerator

    entries = json.loads(Path(entries_json).read_text())
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        generator = FeedGenerator()
        generator.id("tag:bench.example,2026:feed")
        generator.title("Benchmark feed")
        generator.link(href="https://bench.example/feed.xml", rel="self")
        generator.author({"name": "bench"})
        for item in entries:
            entry = generator.add_entry(order="append")
            entry.id(item["link"])
            entry.title(item["title"])
            entry.link(href=item["link"])
            entry.published(datetime.fromisoformat(item["published"]))
            entry.updated(datetime.fromisoformat(item["published"]))
            entry.content(item["html"], type="html")
        generator.atom_str(pretty=True)
        times.append((time.perf_counter() - started) * 1000)
    return {"entries": len(entries), "ms": times, "median_ms": statistics.median(times)}


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "reader-first":
        result = reader_update(args[0], args[1], int(args[2]))
    elif command == "reader-again":
        result = reader_update(args[0], None, int(args[1]))
    elif command == "parse":
        result = parse(args[0], int(args[1]))
    elif command == "feedgen":
        result = feedgen(args[0], int(args[1]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
