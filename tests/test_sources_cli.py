"""Following sources as Miniflux and FreshRSS users expect (issue #20): `sources add` looks
at the URL first and finds a page's feed, names in any script, no silent ambiguity, one
source refreshed on demand, OPML folders and site links kept both ways."""

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feedserver import FeedServer, Reply
from tests.support.cli import run

KOREAN_NAME = "한반도 뉴스"


def rss(title: str, *items: str) -> Reply:
    entries = "".join(
        f"<item><title>{t}</title><link>https://site.example/{abs(hash(t))}</link>"
        f"<description>{t}: the unification ministry said talks could resume.</description>"
        "</item>"
        for t in items
    )
    body = (
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}"
        f"</title><link>https://site.example/</link>{entries}</channel></rss>"
    )
    return Reply(body=body.encode(), headers={"Content-Type": "application/rss+xml"})


def page(*links: str) -> Reply:
    head = "".join(links)
    body = f"<!doctype html><html><head><title>Site</title>{head}</head><body>hi</body></html>"
    return Reply(body=body.encode(), headers={"Content-Type": "text/html; charset=utf-8"})


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feed_server = FeedServer().start()
    yield feed_server
    feed_server.stop()


def test_add_fetches_once_finds_a_pages_feed_and_refuses_a_taken_name(
    project: Path, server: FeedServer
) -> None:
    feed = server.serve("/news/feed.xml", rss(KOREAN_NAME, "Talks resume", "Hotline restored"))
    site = server.serve(
        "/news/",
        page(
            '<link rel="stylesheet" href="/style.css">',
            '<link rel="alternate" type="application/rss+xml" title="RSS" href="feed.xml">',
        ),
    )
    added = run(project, "sources", "add", site)
    assert added.returncode == 0, added.stderr
    assert f"found the feed {feed} in {site}" in added.stdout
    assert f"'{KOREAN_NAME}', 2 entries" in added.stdout
    assert len(server.hits("/news/feed.xml")) == 1
    listed = json.loads(run(project, "sources", "list", "--json").stdout)
    assert [(s["url"], s["title"], s["site"]) for s in listed] == [
        (feed, KOREAN_NAME, "https://site.example/")
    ]
    bare = server.serve("/bare.html", page())
    refused = run(project, "sources", "add", bare)
    assert refused.returncode == 1
    assert f'error: {bare}: not a feed, and no <link rel="alternate">' in refused.stderr
    other = server.serve("/other.xml", rss("Other", "Tariffs"))
    taken = run(project, "sources", "add", other, "--name", KOREAN_NAME)
    assert taken.returncode == 1 and "another source is named" in taken.stderr
    unchecked = run(project, "sources", "add", server.url("/missing.xml"), "--no-check")
    assert unchecked.returncode == 0 and not server.hits("/missing.xml")


def test_remove_takes_names_in_any_script_and_refuses_what_it_cannot_do(
    project: Path, server: FeedServer, tmp_path: Path
) -> None:
    feed = server.serve("/ko.xml", rss(KOREAN_NAME, "Talks resume"))
    assert run(project, "sources", "add", feed).returncode == 0
    # Typed as decomposed jamo (as some keyboards and file systems give it): the same name.
    removed = run(project, "sources", "remove", unicodedata.normalize("NFD", KOREAN_NAME))
    assert removed.returncode == 0, removed.stderr
    assert f"removed {KOREAN_NAME} ({feed})" in removed.stdout

    twins = tmp_path / "twins.opml"
    twins.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
        '<outline type="rss" text="Wire" xmlUrl="https://a.example/rss"/>'
        '<outline type="rss" text="Wire" xmlUrl="https://b.example/rss"/></body></opml>'
    )
    assert run(project, "sources", "import", str(twins)).returncode == 0
    ambiguous = run(project, "sources", "remove", "Wire")
    assert ambiguous.returncode == 1
    assert "'Wire' names 2 sources (https://a.example/rss, https://b.example/rss)" in (
        ambiguous.stderr
    )
    assert len(json.loads(run(project, "sources", "list", "--json").stdout)) == 2

    (project / "config" / "aggregator.toml").write_text(
        '[[sources]]\nurl = "https://c.example/rss"\nname = "Declared"\nenabled = false\n'
    )
    declared = run(project, "sources", "remove", "Declared")
    assert declared.returncode == 1
    assert "is declared in the config file: delete its [[sources]] table" in declared.stderr


def test_update_source_refreshes_only_that_source(project: Path, server: FeedServer) -> None:
    one = server.serve("/one.xml", rss("One", "Talks resume"))
    two = server.serve("/two.xml", rss("Two", "Hotline restored"))
    for url in (one, two):
        assert run(project, "sources", "add", url, "--no-check").returncode == 0
    assert run(project, "update").returncode == 0
    fetched = len(server.requests)
    result = run(project, "update", "--source", "Two")
    assert result.returncode == 0, result.stderr
    assert "update: 0 new" in result.stdout
    assert [r.path for r in server.requests[fetched:]] == ["/two.xml"]
    by_url = run(project, "ingest", "--source", one)
    assert by_url.returncode == 0 and "1 unchanged" in by_url.stdout
    assert [r.path for r in server.requests[fetched + 1 :]] == ["/one.xml"]
    unknown = run(project, "update", "--source", "Three")
    assert unknown.returncode == 2 and "--source 'Three': no source" in unknown.stderr


def test_opml_keeps_site_links_and_folders_both_ways(project: Path, tmp_path: Path) -> None:
    subscriptions = tmp_path / "subs.opml"
    subscriptions.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
        '<outline text="Korea"><outline text="Wires">'
        '<outline type="rss" text="Wire" xmlUrl="https://a.example/rss"'
        ' htmlUrl="https://a.example/"/></outline></outline>'
        '<outline type="rss" text="Loose" xmlUrl="https://b.example/rss"/></body></opml>'
    )
    assert run(project, "sources", "import", str(subscriptions)).returncode == 0
    listing = run(project, "sources", "list").stdout
    assert "Wire\n  url: https://a.example/rss\n  enabled, from opml\n  category: Korea/Wires" in (
        listing
    )
    exported = run(project, "sources", "export").stdout
    assert (
        '<outline text="Korea" title="Korea">\n      <outline text="Wires" title="Wires">\n'
        '        <outline type="rss" text="Wire" title="Wire" xmlUrl="https://a.example/rss"'
        ' htmlUrl="https://a.example/" />'
    ) in exported
    again = tmp_path / "again.opml"
    again.write_text(exported)
    fresh = tmp_path / "fresh"
    assert run(tmp_path, "init", str(fresh)).returncode == 0
    assert run(fresh, "sources", "import", str(again)).returncode == 0
    rows = json.loads(run(fresh, "sources", "list", "--json").stdout)
    assert [(r["url"], r["category"], r["site"]) for r in rows if r["origin"] == "opml"] == [
        ("https://a.example/rss", "Korea/Wires", "https://a.example/"),
        ("https://b.example/rss", None, None),
    ]
