"""The six knews-rss days replayed as web sources: what subscribers get is repaired (issue #19).

Each day's folder of ../shared/realworld/knews-rss is served on 127.0.0.1 (read in
place), one source per file; the clock is set just after that day's files were
built and every source is fetched, day after day, as a daemon would meet them.
Then, in every feed written and every item stored: no title or text shows a
damaged entity, every link is an absolute http(s) URI, no entry was dropped for a
character, and none is dated after the moment it was first seen.

The default run replays a few files (those that carry each defect) over the two
days that hold every defect, to stay within seconds; ``-m slow`` replays every
file of every day (CI runs both).
"""

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from aggregator import pipeline
from aggregator.config import load_settings
from aggregator.ingest.repair import is_absolute_http_uri
from aggregator.store.schema import items, sources
from aggregator.text import html_to_text
from tests.feedserver import FeedServer, Reply, Request
from tests.support.project import write_config

KNEWS = Path(__file__).resolve().parents[1] / ".." / "shared" / "realworld" / "knews-rss"
ATOM = "{http://www.w3.org/2005/Atom}"
DAMAGED = re.compile(r"(?<!&)quot;|&lt;|&amp;lt;|&nbsp;|&apos;")
_BUILT = re.compile(rb"<lastBuildDate>([^<]+)</lastBuildDate>")
# Files carrying each defect (entities, doubled links, a control character on the 27th,
# Seoul time written as UTC), on two days.
FEW = ("pressian-_all_.xml", "hani-_all_.xml", "hankookilbo-_all_.xml", "chosun-economy.xml")
FEW_DAYS = ("2022-07-26", "2022-07-27")

pytestmark = pytest.mark.skipif(not KNEWS.is_dir(), reason=f"the real feeds are not at {KNEWS}")


@dataclass(frozen=True)
class Replay:
    """What a replay left: the feeds folder, and per day the ingest reports' warnings."""

    feeds: Path
    database_url: str
    warnings: tuple[str, ...]
    entries_served: int


def days(only: tuple[str, ...] = ()) -> list[Path]:
    return sorted(p for p in KNEWS.iterdir() if p.is_dir() and (not only or p.name in only))


def fetched_at(day: Path, names: list[str]) -> datetime:
    """Just after the day's newest file was built: when a daemon would have fetched it."""
    built = [
        datetime.fromisoformat(m[1].decode().replace("Z", "+00:00"))
        for name in names
        if (day / name).exists() and (m := _BUILT.search((day / name).read_bytes()[:2048]))
    ]
    return max(built).astimezone(UTC).replace(microsecond=0) + timedelta(minutes=5)


def replay(
    root: Path, names: list[str], database_url: str, only_days: tuple[str, ...] = ()
) -> Replay:
    """Serve each day in turn and update with the clock of that day; the folder written."""
    server = FeedServer().start()
    current: dict[str, Path] = {}

    def served(request: Request) -> Reply:
        name = request.path.rsplit("/", 1)[-1]
        if name not in current:
            return Reply(404, b"not served today")
        body = (current[name] / name).read_bytes()
        return Reply(body=body, headers={"Content-Type": "application/rss+xml"})

    try:
        urls = [server.serve(f"/{name}", served) for name in names]
        # full_text "never": a replay reads what the files hold, never the outlets' sites.
        declared = "".join(f'\n[[sources]]\nurl = "{url}"\nfull_text = "never"\n' for url in urls)
        config = write_config(root, "[fetch]\nworkers = 4\nper_host = 4\n" + declared)
        (root / "feeds").mkdir(exist_ok=True)
        settings = load_settings(config, environ={"AGGREGATOR_DATABASE_URL": database_url})
        app = pipeline.Aggregator.open(settings)
        app.rng = random.Random(19)
        warnings: list[str] = []
        served_entries = 0
        try:
            for day in days(only_days):
                current.clear()
                current.update({n: day for n in names if (day / n).exists()})
                served_entries += sum((day / n).read_bytes().count(b"<item>") for n in current)
                ingested, _ = pipeline.update(app, fetched_at(day, names), force=True)
                # Only the files an outlet did not publish that day may fail (404).
                absent = {u for u, n in zip(urls, names, strict=True) if n not in current}
                assert {f.subject for f in ingested.failures} <= absent, ingested.failures
                warnings.extend(ingested.warnings)
        finally:
            app.close()
    finally:
        server.stop()
    return Replay(root / "feeds", database_url, tuple(warnings), served_entries)


def published_entries(feeds: Path) -> Iterator[tuple[str, str, list[str]]]:
    """(title, text, link hrefs) of every entry of every feed and archive page written."""
    for path in sorted(feeds.rglob("*.xml")):
        for entry in etree.parse(str(path)).getroot().iter(f"{ATOM}entry"):
            content = entry.findtext(f"{ATOM}content") or ""
            hrefs = [link.get("href", "") for link in entry.iter(f"{ATOM}link")]
            yield entry.findtext(f"{ATOM}title") or "", html_to_text(content), hrefs


def check(result: Replay) -> dict[str, int]:
    """The issue's "Done when", asserted; the figures it was asserted on."""
    from aggregator.store import Storage

    entries = list(published_entries(result.feeds))
    assert entries
    damaged = [title for title, text, _ in entries if DAMAGED.search(title + "\n" + text)]
    assert damaged == []
    bad_links = [
        href for _, _, hrefs in entries for href in hrefs if not is_absolute_http_uri(href)
    ]
    assert bad_links == []
    assert not [w for w in result.warnings if "skipped" in w]  # no entry dropped
    storage = Storage(result.database_url)
    try:
        with storage.engine.connect() as connection:
            rows = connection.execute(
                select(items.c.title, items.c.content_html, items.c.link, items.c.published,
                       items.c.updated, items.c.first_seen, sources.c.key)
                .join(sources, sources.c.id == items.c.source_id)
            ).all()  # fmt: skip
    finally:
        storage.close()
    assert not [r.title for r in rows if DAMAGED.search(r.title + html_to_text(r.content_html))]
    assert not [r.link for r in rows if r.link is not None and not is_absolute_http_uri(r.link)]
    assert not [r.title for r in rows if r.published > r.first_seen]
    return {
        "entries served": result.entries_served,
        "items stored": len(rows),
        "entries published": len(entries),
        "characters dropped warnings": sum("XML cannot hold" in w for w in result.warnings),
        "links mended warnings": sum("doubled scheme" in w for w in result.warnings),
        "sources read in an offset": sum("from now on" in w for w in result.warnings),
    }


def test_a_few_real_feeds_replayed_reach_subscribers_repaired(tmp_path: Path) -> None:
    result = replay(tmp_path, list(FEW), f"sqlite:///{tmp_path / 'store.db'}", FEW_DAYS)
    figures = check(result)
    assert figures["characters dropped warnings"] >= 1  # chosun-economy, 2022-07-27
    assert figures["links mended warnings"] >= 1
    assert figures["sources read in an offset"] >= 1


@pytest.mark.slow
def test_every_real_feed_replayed_reaches_subscribers_repaired(tmp_path: Path) -> None:
    names = sorted({p.name for day in days() for p in day.glob("*.xml")})
    result = replay(tmp_path, names, f"sqlite:///{tmp_path / 'store.db'}")
    figures = check(result)
    print(figures)
