"""Publishing for readers and caches: the served feeds, archives, pages, OPML and WebSub."""

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import httpx
import pytest

from aggregator import pipeline
from aggregator.config import load_settings
from aggregator.server import BackgroundServer
from tests.conftest import DATA
from tests.feedserver import FeedServer

NOW = datetime(2025, 6, 10, tzinfo=UTC)


def open_app(project: Path, config: str = "") -> pipeline.Aggregator:
    path = project / "config" / "aggregator.toml"
    path.write_text(config, encoding="utf-8")
    return pipeline.Aggregator.open(load_settings(path, environ={}))


@pytest.fixture
def served(project: Path) -> Iterator[tuple[pipeline.Aggregator, str]]:
    app = open_app(project)
    pipeline.update(app, NOW)
    server = BackgroundServer(app.settings.feeds_dir, "127.0.0.1", 0).start()
    yield app, server.url
    server.stop()
    app.close()


def test_feeds_are_served_with_validators_and_caching_headers(served) -> None:  # noqa: ANN001
    app, base = served
    with httpx.Client(base_url=base, headers={"Accept-Encoding": "identity"}) as client:
        response = client.get("/alliance.xml")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
        assert response.content == (app.settings.feeds_dir / "alliance.xml").read_bytes()
        etag, modified = response.headers["etag"], response.headers["last-modified"]
        assert etag.startswith('"') and not etag.startswith("W/")
        assert response.headers["cache-control"] == "public, max-age=300"
        assert client.get("/alliance.xml", headers={"If-None-Match": etag}).status_code == 304
        assert (
            client.get("/alliance.xml", headers={"If-Modified-Since": modified}).status_code == 304
        )
        assert client.get("/alliance.xml", headers={"If-None-Match": '"other"'}).status_code == 200
        head = client.head("/alliance.xml")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(response.content))

        zipped = client.get("/alliance.xml", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.content == response.content  # httpx decodes it
        assert zipped.headers["etag"] != etag and "Accept-Encoding" in zipped.headers["vary"]

        # A regeneration that changes nothing keeps the ETag.
        pipeline.regenerate(app, NOW + timedelta(hours=1))
        assert client.get("/alliance.xml").headers["etag"] == etag


@pytest.mark.parametrize(
    "path",
    ["/../pyproject.toml", "/%2e%2e/pyproject.toml", "/archive/", "/archive", "//etc/passwd",
     "/aggregator.db", "/.alliance.xml.tmp", "/nothing.xml", "/ALLIANCE.XML"],
)  # fmt: skip
def test_nothing_else_is_served(served, path: str) -> None:  # noqa: ANN001
    _app, base = served
    response = httpx.get(base.rstrip("/") + path)
    assert response.status_code == 404
    assert b"root:" not in response.content


def test_index_topic_pages_and_opml(served) -> None:  # noqa: ANN001
    app, base = served
    index = httpx.get(base).text
    for key, title in [("alliance", "South Korea–US alliance"), ("all", "Korean Peninsula news")]:
        assert f'<link rel="alternate" type="application/atom+xml" title="{title}"' in index
        assert f'href="http://127.0.0.1:8080/{key}.xml"' in index
    assert '<meta name="viewport"' in index
    page = httpx.get(base + "inter-korean.html").text
    assert "Lee Jae-myung pledges to restore inter-Korean hotline" in page
    assert "Monthly True Tone" in page and "2025-05-26" in page
    opml = httpx.get(base + "feeds.opml")
    assert opml.headers["content-type"].startswith("text/x-opml")
    assert opml.text.count('type="rss"') == 4


def _story(n: int) -> str:
    return (
        f"Unification ministry briefing number {n} on border talks\n\n"
        f"Published: {n} Jul. 2025, 10:00\n\n"
        f"The unification ministry said on day {n} that inter-Korean talks on the hotline "
        "could resume soon, and officials in Seoul expected an answer from Pyongyang.\n"
    )


def test_archives_are_complete_immutable_and_chained(project: Path) -> None:
    app = open_app(project, "[publish]\nmax_entries = 2\n")
    try:
        for n in range(1, 4):
            (project / "seeds" / f"s{n}.txt").write_text(_story(n), encoding="utf-8")
        pipeline.update(app, NOW)  # five stories in inter-korean: two complete pages
        folder = app.settings.feeds_dir / "archive" / "inter-korean"
        assert sorted(p.name for p in folder.iterdir()) == ["1.xml", "2.xml"]
        current = feedparser.parse((app.settings.feeds_dir / "inter-korean.xml").read_bytes())
        links = {link.rel: link.href for link in current.feed.links}
        assert links["prev-archive"] == "http://127.0.0.1:8080/archive/inter-korean/2.xml"
        second = (folder / "2.xml").read_bytes()
        assert b"<fh:archive/>" in second
        page = feedparser.parse(second)
        page_links = {link.rel: link.href for link in page.feed.links}
        assert page_links["prev-archive"] == "http://127.0.0.1:8080/archive/inter-korean/1.xml"
        assert page_links["current"] == "http://127.0.0.1:8080/inter-korean.xml"
        backfilled = {
            e.id for p in folder.iterdir() for e in feedparser.parse(p.read_bytes()).entries
        }
        assert len(backfilled | {e.id for e in current.entries}) == 5  # the whole history

        # An edit to an archived story leaves its page as it was: archives never change.
        seed = project / "seeds" / "002_605a32e122b5d713.txt"
        seed.write_text(seed.read_text(encoding="utf-8") + "An added line.\n", encoding="utf-8")
        pipeline.update(app, NOW + timedelta(days=1))
        assert (folder / "2.xml").read_bytes() == second

        if shutil.which("jing"):
            result = subprocess.run(
                ["jing", "-c", str(DATA / "schema" / "atom.rnc"), *map(str, folder.iterdir())],
                capture_output=True,
                text=True,
            )
            assert result.returncode == 0, result.stdout
    finally:
        app.close()


def test_the_hub_is_pinged_only_when_a_feed_changed(project: Path) -> None:
    hub = FeedServer().start()
    try:
        app = open_app(project, f'[publish]\nhub = "{hub.url("/hub")}"\n')
        try:
            pipeline.update(app, NOW)
            feed = feedparser.parse((app.settings.feeds_dir / "alliance.xml").read_bytes())
            assert {"rel": "hub", "href": hub.url("/hub")}.items() <= {
                (k, v) for link in feed.feed.links for k, v in link.items()
            }
            pinged = sorted(parse_qs(body)["hub.url"][0] for _path, body in hub.posts)
            assert pinged == [f"http://127.0.0.1:8080/{k}.xml" for k in
                              ("all", "alliance", "domestic-politics", "inter-korean")]  # fmt: skip
            assert all(parse_qs(body)["hub.mode"] == ["publish"] for _path, body in hub.posts)
            pipeline.update(app, NOW + timedelta(hours=1))
            assert len(hub.posts) == 4  # nothing changed, no ping
        finally:
            app.close()
    finally:
        hub.stop()
