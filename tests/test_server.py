"""Publishing for readers and caches: the served feeds, archives, pages, OPML and WebSub."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs

import feedparser
import httpx
import pytest

from aggregator import pipeline
from aggregator.config import load_settings
from aggregator.server import BackgroundServer
from tests.feedserver import FeedServer
from tests.support.project import DATA, REPO, write_config

NOW = datetime(2025, 6, 10, tzinfo=UTC)


def open_app(project: Path, config: str = "") -> pipeline.Aggregator:
    path = project / "config" / "aggregator.toml"
    path.write_text(config, encoding="utf-8")
    return pipeline.Aggregator.open(load_settings(path, environ={}))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[pipeline.Aggregator, str]]:
    """The shipped seeds published and served on 127.0.0.1 (one server for the module)."""
    project = tmp_path_factory.mktemp("served")
    write_config(project)
    shutil.copytree(REPO / "seeds", project / "seeds")
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


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [("gzip", True), ("deflate, gzip;q=0.5", True), ("gzip;q=0", False), ("*", True),
     ("*, gzip;q=0", False), ("br", False), ("", False)],
)  # fmt: skip
def test_gzip_only_when_asked(served, accept_encoding: str, gzipped: bool) -> None:  # noqa: ANN001
    _app, base = served
    response = httpx.get(base + "all.xml", headers={"Accept-Encoding": accept_encoding})
    assert ("content-encoding" in response.headers) is gzipped
    assert response.headers["vary"] == "Accept-Encoding"


def test_not_modified_answers_carry_validators_not_a_body(served) -> None:  # noqa: ANN001
    app, base = served
    with httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}) as client:
        first = client.get("/all.xml")
        again = client.get("/all.xml", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["cache-control"] == first.headers["cache-control"]
        assert "content-type" not in again.headers
        # A gzip ETag does not validate the identity representation.
        plain = client.get(
            "/all.xml",
            headers={"If-None-Match": first.headers["etag"], "Accept-Encoding": "identity"},
        )
        assert plain.status_code == 200
        # Archive pages never change: caches may keep them for good.
        archive = app.settings.feeds_dir / "archive" / "all" / "1.xml"
        archive.parent.mkdir(parents=True, exist_ok=True)
        archive.write_bytes(b"<feed/>")
        assert "immutable" in client.get("/archive/all/1.xml").headers["cache-control"]
        archive.unlink()
        assert client.get("/archive/all/1.xml").status_code == 404
        missing = client.head("/missing.xml")
        assert missing.status_code == 404 and missing.content == b""
        assert client.post("/all.xml").status_code == 405


def _url_from(stream: IO[str], pattern: str) -> str:
    """Read a process's output until the line naming the URL it serves at."""
    deadline = time.monotonic() + 30
    for line in stream:
        if match := re.search(pattern, line):
            return match.group(1)
        assert time.monotonic() < deadline, "no URL announced in time"
    raise AssertionError("the process ended without announcing its URL")


@pytest.mark.parametrize(
    ("command", "stream", "pattern"),
    [(["serve", "--port", "0"], "stdout", r"at (http://127\.0\.0\.1:\d+/)"),
     (["daemon", "--serve", "--port", "0"], "stderr", r"serving feeds at (http://\S+/)")],
)  # fmt: skip
def test_serve_and_daemon_serve_stop_on_sigterm(
    project: Path, command: list[str], stream: str, pattern: str
) -> None:
    pipeline_app = open_app(project)
    pipeline.update(pipeline_app, NOW)
    pipeline_app.close()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator", *command],
        cwd=project,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = _url_from(getattr(process, stream), pattern)
        response = httpx.get(base + "alliance.xml")
        assert response.status_code == 200
        assert response.content == (project / "feeds" / "alliance.xml").read_bytes()
        assert "Subscribe" in httpx.get(base).text
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_any_machine_serves_the_feeds_from_the_database(
    project: Path, tmp_path: Path, database_url: str
) -> None:
    """publish.to_database: one machine publishes; another, with only the database URL and
    no feeds folder of its own, serves the same bytes under the same validators."""
    config = f'[storage]\nurl = "{database_url}"\n[publish]\nto_database = true\nmax_entries = 1\n'
    publisher = open_app(project, config)
    elsewhere = tmp_path / "elsewhere"
    write_config(elsewhere, config)
    server_app = pipeline.Aggregator.open(
        load_settings(elsewhere / "config" / "aggregator.toml", environ={})
    )
    server = BackgroundServer(
        server_app.settings.feeds_dir, "127.0.0.1", 0, storage=server_app.storage
    ).start()
    try:
        pipeline.update(publisher, NOW)
        published = project / "feeds"
        assert not (elsewhere / "feeds").exists()
        names = ["alliance.xml", "all.xml", "index.html", "feeds.opml", "archive/all/1.xml"]
        with httpx.Client(base_url=server.url, headers={"Accept-Encoding": "identity"}) as client:
            for name in names:
                response = client.get(name)
                assert response.status_code == 200, name
                assert response.content == (published / name).read_bytes(), name
            etag = client.get("all.xml").headers["etag"]
            assert client.get("all.xml", headers={"If-None-Match": etag}).status_code == 304
            assert client.get("archive/all/9.xml").status_code == 404
            assert client.get("../config/aggregator.toml").status_code == 404

            (project / "seeds" / "new.txt").write_text(
                "Seoul and Pyongyang reopen the liaison hotline\n\nPublished: 12 Jun. 2025, "
                "09:00\n\nThe two Koreas restored the inter-Korean liaison hotline on Thursday, "
                "the unification ministry said.\n",
                encoding="utf-8",
            )
            pipeline.update(publisher, NOW)
            changed = client.get("all.xml", headers={"If-None-Match": etag})
            assert changed.status_code == 200
            assert changed.content == (published / "all.xml").read_bytes()
            assert b"liaison hotline" in changed.content
    finally:
        server.stop()
        server_app.close()
        publisher.close()
