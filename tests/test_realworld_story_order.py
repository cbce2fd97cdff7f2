"""One real day's sources stored in two orders: the same stories (slow; reads the files of
../shared/realworld/knews-rss/2022-07-26 in place, nothing of them is in the repository).

Stored forward, the day's 5,687 items made 4,189 stories, stored in reverse 4,190: two
outlets' flashes of one remark, and two outlets' reports of one health bulletin, were found
apart because each was ranked below a crowded band key's earliest-stored members
(``candidates.most_shared`` broke ties to the lowest id; tests/benchmarks/RESULTS.md,
"Stories on a real day in any order").
"""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from aggregator import pipeline
from aggregator.analysis import analyze, text_key
from aggregator.config import load_settings
from aggregator.ingest.feeds import parse_feed
from aggregator.store.schema import items, sources
from aggregator.writer import store_source
from tests.support.project import write_config

DAY = Path(__file__).resolve().parents[1] / ".." / "shared" / "realworld" / "knews-rss"
DAY = DAY / "2022-07-26"
NOW = datetime(2026, 12, 6, tzinfo=UTC)
READY = 16  # sources written together, as an ingest's fetch threads hand them on
# Items (file, link) each group of which is one story, whichever order the day arrives in.
TOGETHER = (
    (
        ("chosun-politics.xml", "/2022/07/26/JBJOQUDVQVEL3EJ33YUKCTSLYA/"),
        ("kmib-politics.xml", "arcid=0017310938"),
        ("segye-politics.xml", "/newsView/20220726506369"),
    ),
    (
        ("chosun-international.xml", "/2022/07/25/XWH5D7FMBNDYPNEK7VXSV76AVI/"),
        ("khan-international.xml", "/article/202207250707001"),
    ),
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DAY.is_dir(), reason=f"the real feeds are not at {DAY}"),
]


def _stories(root: Path, parsed: list) -> dict[tuple[str, str], int]:
    """Each item's story (file, link -> story id) once every source is stored, in order."""
    app = pipeline.Aggregator.open(load_settings(write_config(root), environ={}))
    try:
        with app.storage.remembering_candidates():
            for start in range(0, len(parsed), READY):
                with app.storage.batch():
                    for data, analyses in parsed[start : start + READY]:
                        store_source(app, data, "hash", NOW, analyses=analyses)
        with app.storage.engine.connect() as connection:
            rows = connection.execute(
                select(sources.c.key, items.c.link, items.c.story_id).join(
                    sources, sources.c.id == items.c.source_id
                )
            )
            return {(key.rsplit("/", 1)[1], link or ""): story for key, link, story in rows}
    finally:
        app.close()


def test_a_real_days_stories_are_the_same_stored_forward_and_in_reverse(tmp_path: Path) -> None:
    app = pipeline.Aggregator.open(load_settings(write_config(tmp_path / "t"), environ={}))
    topics, settings = app.topics, app.settings
    app.close()
    parsed = []
    for path in sorted(DAY.glob("*.xml")):
        url = f"http://127.0.0.1/knews/{path.name}"
        data = parse_feed(
            path.read_bytes(), source_key=url, base_url=url, zone=settings.timezone, now=NOW
        )
        parsed.append((data, {text_key(item): analyze(item, topics) for item in data.items}))
    forward = _stories(tmp_path / "forward", parsed)
    reverse = _stories(tmp_path / "reverse", parsed[::-1])
    for group in TOGETHER:
        for stories in (forward, reverse):
            found = [
                {story for (name, link), story in stories.items() if name == file and part in link}
                for file, part in group
            ]
            assert all(found) and len(set().union(*found)) == 1, group
