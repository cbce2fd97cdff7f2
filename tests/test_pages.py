"""The HTML pages as a reader meets them (issue #20): local time with its zone, the other
sources of a story, older stories a click away, and a layout that fits a desktop and a
phone in headless Chromium, Korean text included."""

import html
import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from aggregator import pipeline
from aggregator.config import load_settings
from aggregator.publish import pages
from aggregator.server import FeedsApp
from tests.support.cli import run
from tests.support.programs import need
from tests.support.project import DATA

NOW = datetime(2025, 9, 20, tzinfo=UTC)


@pytest.fixture
def published(project: Path) -> Path:
    """Three seeds (one Korean, also reported by another outlet), in pages of one story each."""
    korean = (DATA / "seeds" / "generic_korean.txt").read_text(encoding="utf-8")
    (project / "seeds" / "korean.txt").write_text(korean, encoding="utf-8")
    other = korean.replace("한반도뉴스", "다른뉴스")
    assert other != korean
    (project / "seeds" / "zz-other-outlet.txt").write_text(other, encoding="utf-8")
    config = project / "config" / "aggregator.toml"
    config.write_text('timezone = "Asia/Seoul"\n[publish]\nmax_entries = 1\n', encoding="utf-8")
    app = pipeline.Aggregator.open(load_settings(config, environ={}))
    try:
        pipeline.update(app, NOW)
    finally:
        app.close()
    return project / "feeds"


def test_pages_show_local_time_other_sources_and_older_stories(published: Path) -> None:
    page = (published / "all.html").read_text(encoding="utf-8")
    shown = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', page)
    assert shown
    for stamp, text in shown:
        local = datetime.fromisoformat(stamp).astimezone(ZoneInfo("Asia/Seoul"))
        assert text == local.strftime("%Y-%m-%d %H:%M KST")
    # The newest story, the Korean one, is on the topic page and on the newest archive page.
    assert '<p class="meta">Also reported by 다른뉴스</p>' in page
    archived = "".join(
        p.read_text(encoding="utf-8") for p in (published / "archive" / "all").glob("*.html")
    )
    assert archived.count('<p class="meta">Also reported by 다른뉴스</p>') == 1
    # Pages of one story: three stories fill three archive pages.
    assert '<a rel="prev" href="archive/all/3.html">Older stories</a>' in page
    second = (published / "archive" / "all" / "2.html").read_text(encoding="utf-8")
    assert '<a rel="prev" href="1.html">Older stories</a>' in second
    assert '<a href="../../all.html">Latest stories</a>' in second
    first = (published / "archive" / "all" / "1.html").read_text(encoding="utf-8")
    assert "Older stories" not in first and "KST</time>" in first
    index = (published / "index.html").read_text(encoding="utf-8")
    assert "KST" in index and "UTC" not in index


# Appended to a copy of the page: the layout as the browser computed it, into the DOM.
MEASURE = """<script>
document.documentElement.dataset.overflow =
  String(document.documentElement.scrollWidth > window.innerWidth);
document.documentElement.dataset.koreanFont =
  String(document.fonts.check('16px "Noto Sans CJK KR"', '한'));
</script>"""


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_chromium_lays_the_pages_out_on_desktop_and_phone(
    published: Path, tmp_path: Path, width: int, height: int
) -> None:
    chromium = need("chromium")
    for name in ("all.html", "archive/all/1.html"):
        measured = tmp_path / name.replace("/", "-")
        page = (published / name).read_text(encoding="utf-8")
        measured.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
        common = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--hide-scrollbars", f"--window-size={width},{height}",
            f"--user-data-dir={tmp_path / 'profile'}",
        ]  # fmt: skip
        dom = subprocess.run(
            [*common, "--dump-dom", measured.as_uri()], capture_output=True, text=True, timeout=120
        )
        assert dom.returncode == 0, dom.stderr[-2000:]
        assert 'data-overflow="false"' in dom.stdout, (name, width)
        assert 'data-korean-font="true"' in dom.stdout, "no Korean font (fonts-noto-cjk)"
        shot = tmp_path / f"{measured.stem}-{width}.png"
        taken = subprocess.run(
            [*common, f"--screenshot={shot}", measured.as_uri()], capture_output=True, timeout=120
        )
        assert taken.returncode == 0 and shot.stat().st_size > 10_000, name


def test_items_json_carries_source_author_summary_story_and_other_sources(
    published: Path,
) -> None:
    listed = run(published.parent, "items", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == 3  # four items, three stories: the copy is merged into its original
    wanted = {"source", "source_key", "author", "summary", "story", "also_reported_by"}
    for row in rows:
        assert wanted <= set(row)
        assert row["story"] == row["id"] and row["source"] and row["summary"]
    merged = [row for row in rows if row["also_reported_by"]]
    assert len(merged) == 1
    (other,) = merged[0]["also_reported_by"]
    assert other["id"].startswith("tag:") and other["id"] != merged[0]["id"]
    korean = next(row for row in rows if row["source_key"] == "seed:korean.txt")
    assert korean["language"] == "ko" and korean["summary"].startswith("통일부는")


def test_each_story_without_a_link_has_its_own_page_linked_as_alternate(published: Path) -> None:
    base = "http://127.0.0.1:8080/"
    documents = [published / "all.xml", *sorted((published / "archive").rglob("*.xml"))]
    linked = set()
    for document in documents:
        for entry in feedparser.parse(document.read_bytes()).entries:
            (alternate,) = [link.href for link in entry.links if link.rel == "alternate"]
            assert alternate.startswith(base + "stories/"), entry.title  # seeds have no link
            linked.add((alternate.removeprefix(base), entry.title))
    assert len(linked) == 3  # every story, also those only the archive pages hold
    served = FeedsApp(published)
    for path, title in linked:
        page = (published / path).read_text(encoding="utf-8")
        assert f"<h1>{html.escape(title)}</h1>" in page and "KST</time>" in page
        status: list[str] = []
        answer = served({"PATH_INFO": "/" + path}, lambda s, _h, seen=status: seen.append(s))
        assert status == ["200 OK"] and b"".join(answer) == (published / path).read_bytes()
    korean = next(path for path, title in linked if title.startswith("통일부"))
    assert "판문점에서 열자고" in (published / korean).read_text(encoding="utf-8")  # full text
    assert f'<a href="{korean}">' in (published / "all.html").read_text(encoding="utf-8")


def test_a_story_page_is_sanitized_whatever_was_stored() -> None:
    story = pages.Story(
        "<b>Title</b>",
        "Wire",
        NOW,
        '<p onclick="steal()">Text</p><script>alert(1)</script><a href="javascript:x()">a</a>',
        "en",
    )
    page = pages.render_story(story, "News", ZoneInfo("Asia/Seoul")).decode()
    assert "<h1>&lt;b&gt;Title&lt;/b&gt;</h1>" in page
    assert "<p>Text</p>" in page
    assert "script" not in page and "onclick" not in page and "javascript:" not in page
    assert "2025-09-20 09:00 KST" in page
