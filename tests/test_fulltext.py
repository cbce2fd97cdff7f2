"""Full text from article pages (issue #21): extraction, politeness, every failure path, upgrade.

Article pages are served by a real HTTP server on 127.0.0.1 in the shapes of
English and Korean news sites (tests/data/pages: chrome, scripts, EUC-KR, a
paywall, a login page), each with the text it must give beside it.
"""

import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import text

from aggregator import fulltext, pipeline
from aggregator.cli import main
from aggregator.config import load_settings
from aggregator.ingest.article import extract_article
from aggregator.ingest.http import make_client
from aggregator.ingest.politeness import HostPacer, RobotsRules
from aggregator.store import Storage, article_pages, migrate
from aggregator.worker import Worker
from tests import legacy_v5
from tests.feedserver import FeedServer, Reply
from tests.support.project import DATA
from tests.support.schema import differences

PAGES = DATA / "pages"
ZONE = ZoneInfo("Asia/Seoul")
ARTICLES = sorted(p.name.removesuffix(".expected.json") for p in PAGES.glob("*.expected.json"))
NOW = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
ROBOTS = b"User-agent: *\nDisallow: /private/\n\nUser-agent: aggregator\nDisallow: /members/\n"


def expected(name: str) -> dict:
    return json.loads((PAGES / f"{name}.expected.json").read_text(encoding="utf-8"))


def html(name: str, charset: str = "utf-8") -> Reply:
    body = (PAGES / f"{name}.html").read_bytes()
    return Reply(200, body, {"Content-Type": f"text/html; charset={charset}"})


@pytest.mark.parametrize("name", ARTICLES)
def test_an_article_page_gives_its_text_title_byline_and_date_and_no_chrome(name: str) -> None:
    wanted = expected(name)
    # No charset from HTTP: the EUC-KR page is read by its own <meta>.
    article = extract_article(
        (PAGES / f"{name}.html").read_bytes(), {"content-type": "text/html"}, "http://x/a", ZONE
    )
    assert list(article.paragraphs) == wanted["paragraphs"]
    assert (article.title, article.author) == (wanted["title"], wanted["author"])
    assert article.published is not None
    assert article.published.astimezone(ZONE).date().isoformat() == wanted["published"]
    assert [phrase for phrase in wanted["chrome"] if phrase in article.text] == []
    assert not article.paywalled


def test_a_paywalled_page_and_a_login_page_give_no_article() -> None:
    paywall = extract_article((PAGES / "en_paywall.html").read_bytes(), {}, "http://x/p", ZONE)
    assert paywall.paywalled
    login = extract_article((PAGES / "login.html").read_bytes(), {}, "http://x/l", ZONE)
    assert len(login.text) < fulltext.MIN_ARTICLE_CHARS


def test_the_pacer_spaces_one_hosts_requests_and_holds_up_no_other() -> None:
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    pacer = HostPacer(2.0, lambda: clock[0], sleep)
    pacer.wait("http://a")
    pacer.wait("http://b")
    pacer.wait("http://a")
    clock[0] += 5
    pacer.wait("http://a")  # the delay already passed
    pacer.slow_down("http://b", 10)
    pacer.wait("http://b")
    pacer.wait("http://b")
    assert slept == [2.0, 10.0]


@pytest.fixture
def database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store's URL, which commands run through main() use too."""
    monkeypatch.setenv("AGGREGATOR_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def server() -> Iterator[FeedServer]:
    site = FeedServer().start()
    yield site
    site.stop()


def rss(items: list[tuple[str, str, str, str | None]]) -> Reply:
    """(title, link, description, pubDate or None) -> an RSS 2.0 document."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        + (f"<description>{description}</description>" if description else "")
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + "</item>"
        for title, link, description, date in items
    )
    document = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Site</title><link>http://site.example/</link>{entries}</channel></rss>"
    )
    return Reply(200, document.encode(), {"Content-Type": "application/rss+xml"})


def open_app(
    project: Path, database_url: str, sources: str, extra: str = ""
) -> pipeline.Aggregator:
    config = project / "config" / "aggregator.toml"
    config.write_text(
        '[fetch]\nmin_interval = "1m"\nworkers = 4\nread_timeout = "500ms"\ndeadline = "2s"\n'
        f'max_bytes = 200000\n[full_text]\nhost_delay = "2s"\n{extra}{sources}',
        encoding="utf-8",
    )
    settings = load_settings(config, environ={"AGGREGATOR_DATABASE_URL": database_url})
    app = pipeline.Aggregator.open(settings)
    app.rng = random.Random(3)
    return app


def item_at(app: pipeline.Aggregator, link: str):  # noqa: ANN201
    (found,) = app.storage.find_items(link)
    return found


def test_a_title_only_feed_gets_each_articles_text_topics_and_story(
    server: FeedServer, project: Path, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server.serve("/robots.txt", Reply(200, ROBOTS, {"Content-Type": "text/plain"}))
    server.serve("/news/en-unification", html("en_unification"))
    server.serve("/news/ko-budget", html("ko_budget_euckr", "EUC-KR"))
    server.serve("/news/ko-alliance", html("ko_alliance"))
    names = ("en-unification", "ko-budget", "ko-alliance")
    links = {name: server.url(f"/news/{name}") for name in names}
    titles = {n: expected(page)["title"] for n, page in zip(links, ARTICLES_BY_LINK, strict=True)}
    dated, later = "Tue, 24 Nov 2026 00:30:00 +0000", "Tue, 24 Nov 2026 01:30:00 +0000"
    title_only = server.serve(
        "/title-only.xml",
        rss([(titles[n], links[n], "", None if n == "ko-budget" else dated) for n in links]),
    )
    # Another outlet carries the alliance story in full (a wire copy with its own link).
    wire_text = "".join(f"&lt;p&gt;{p}&lt;/p&gt;" for p in expected("ko_alliance")["paragraphs"])
    wire = server.serve(
        "/wire.xml",
        # An hour later: the title-only outlet's version is the story's entry.
        rss([(titles["ko-alliance"], server.url("/wire/ncg"), wire_text, later)]),
    )
    sources = (
        f'[[sources]]\nurl = "{wire}"\nfull_text = "never"\n'
        f'[[sources]]\nurl = "{title_only}"\n'  # "auto", the default
    )
    app = open_app(project, database, sources)
    slept: list[float] = []
    app.sleep = slept.append
    try:
        pipeline.update(app, NOW)
        for name, page in zip(links, ARTICLES_BY_LINK, strict=True):
            item = item_at(app, links[name])
            read = article_pages.page_of(app.storage, item.id)
            assert read is not None and read.state == "used", read
            assert read.text == "\n\n".join(expected(page)["paragraphs"])
            assert item.content_html == ""  # what is published is what the source published
        assert item_at(app, links["en-unification"]).topics == ("inter-korean",)
        budget = item_at(app, links["ko-budget"])
        assert budget.topics == ("domestic-politics",)
        # Its entry had no date or author: the page's are the item's.
        assert budget.published == datetime(2026, 12, 2, 13, 41, tzinfo=UTC)
        assert budget.author == "김민수"
        alliance = item_at(app, links["ko-alliance"])
        assert alliance.topics == ("alliance",)
        wire_item = item_at(app, server.url("/wire/ncg"))
        assert alliance.story_id == wire_item.story_id  # one story with the full-text outlet's copy
        # Each page read once, robots.txt once, one host's requests spaced by the pacer.
        assert [len(server.hits(f"/news/{name}")) for name in links] == [1, 1, 1]
        assert len(server.hits("/robots.txt")) == 1
        assert all("text/html" in r.headers["accept"] for r in server.hits("/news/ko-budget"))
        # After robots.txt, three pages 2 s apart: paused until 2, 4 and 6 s after it (less
        # the time robots.txt took), the pause never really taken.
        assert len(slept) == 3 and 4.0 < max(slept) <= 6.0

        # Unchanged entries ask for nothing again; what is published stays the entry's.
        pipeline.update(app, NOW + timedelta(hours=2), force=True)
        assert [len(server.hits(f"/news/{name}")) for name in links] == [1, 1, 1]
        feed = (project / "feeds" / "all.xml").read_text(encoding="utf-8")
        assert expected("ko_budget_euckr")["paragraphs"][0] not in feed
    finally:
        app.close()

    config = ["--config", str(project / "config" / "aggregator.toml")]
    assert main([*config, "explain", links["en-unification"]]) == 0
    assert f"text: the article page ({links['en-unification']})" in capsys.readouterr().out
    # The wire's copy of the alliance story is the later version: the entry is the title-only
    # outlet's, explained by its page.
    assert main([*config, "explain", server.url("/wire/ncg")]) == 0
    explained = capsys.readouterr().out
    assert "a later version of the story published as" in explained
    assert f"text: the article page ({links['ko-alliance']})" in explained
    # A source the config file declares takes its mode from there.
    assert main([*config, "sources", "full-text", title_only, "never"]) == 1
    assert "set full_text in its [[sources]] table" in capsys.readouterr().err

    # Revision 0007 works out stored items' keys again: from the page's text where it was read.
    storage = Storage(database)
    try:
        alliance_id = storage.find_items(links["ko-alliance"])[0].id
        signature = text("SELECT signature FROM items WHERE id = :id")
        with storage.engine.begin() as connection:
            before = connection.execute(signature, {"id": alliance_id}).scalar_one()
            config_0007 = migrate._config(connection)
            command.downgrade(config_0007, "0006_item_pages")
            command.upgrade(config_0007, "head")
            assert before is not None
            assert connection.execute(signature, {"id": alliance_id}).scalar_one() == before
    finally:
        storage.close()

    published = open_app(project, database, sources, "[publish]\nfull_text = true\n")
    try:
        pipeline.regenerate(published, NOW + timedelta(hours=3))
    finally:
        published.close()
    feed = (project / "feeds" / "all.xml").read_text(encoding="utf-8")
    assert expected("ko_budget_euckr")["paragraphs"][0] in feed


ARTICLES_BY_LINK = ("en_unification", "ko_budget_euckr", "ko_alliance")


def test_every_failed_page_keeps_its_entry_and_is_counted(
    server: FeedServer,
    project: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    server.serve("/robots.txt", Reply(200, ROBOTS, {"Content-Type": "text/plain"}))
    server.serve("/news/paywall", html("en_paywall"))
    server.serve("/news/locked", Reply(302, b"", {"Location": "/signin?next=/news/locked"}))
    server.serve("/signin", html("login"))
    server.serve("/news/huge", Reply(200, b"<p>" + b"x" * 300_000, {"Content-Type": "text/html"}))
    # The slow page on a host of its own: a host in trouble gets no more requests in the run.
    slow_site = FeedServer().start()
    request.addfinalizer(slow_site.stop)
    slow_site.serve("/news/slow", Reply(hang=True))
    server.serve("/news/pdf", Reply(200, b"%PDF-1.7", {"Content-Type": "application/pdf"}))
    server.serve("/members/story", html("en_unification"))
    server.serve("/news/removed", Reply(301, b"", {"Location": "/"}))
    server.serve("/", html("en_unification"))  # a front page with plenty of text
    paths = ["paywall", "locked", "missing", "huge", "slow", "pdf", "removed", "private", "members"]
    links = {p: server.url(f"/news/{p}") for p in paths[:7]}
    links["slow"] = slow_site.url("/news/slow")
    links["private"] = server.url("/private/story")
    links["members"] = server.url("/members/story")
    summary = "Chipmakers are reviewing their plans, the ministry said on Thursday."
    feed = server.serve(
        "/feed.xml",
        rss([(f"Story {p}", links[p], summary, None) for p in paths]),
    )
    app = open_app(project, database, f'[[sources]]\nurl = "{feed}"\nfull_text = "always"\n')
    app.sleep = lambda seconds: None
    try:
        report, _ = pipeline.update(app, NOW)
        assert not report.failures  # a page that fails is no failed input
        reasons = {}
        for name, link in links.items():
            item = item_at(app, link)
            assert item.content_html == f"<p>{summary}</p>"  # the feed's text, kept
            read = article_pages.page_of(app.storage, item.id)
            assert read is not None
            reasons[name] = (read.state, read.error)
        assert reasons["paywall"] == ("failed", "the page is paywalled (it shows a teaser)")
        assert reasons["locked"][0] == "failed"
        assert "redirected to a login page" in (reasons["locked"][1] or "")
        assert reasons["missing"] == ("failed", "HTTP 404 Not Found")
        assert reasons["huge"] == ("failed", "response larger than 200000 bytes: aborted")
        assert reasons["pdf"] == ("failed", "not an HTML page (application/pdf)")
        assert reasons["removed"] == ("failed", f"redirected to the home page ({server.url('/')})")
        # robots.txt has a group for our User-Agent: it applies, and the "*" group does not.
        assert reasons["private"] == ("failed", "HTTP 404 Not Found")
        assert reasons["members"][1] == f"disallowed by {server.base}/robots.txt"
        assert not server.hits("/members/story")
        # A timeout is the host's trouble: tried again later, after a backoff.
        assert reasons["slow"] == ("pending", "timed out (ReadTimeout)")
        source = app.storage.sources.find(feed)
        assert source is not None and source.page_failures == 8

        slow_site.serve("/news/slow", html("en_unification"))
        pipeline.update(app, NOW + timedelta(minutes=5))  # not yet: backing off
        assert len(slow_site.hits("/news/slow")) == 1
        pipeline.update(app, NOW + timedelta(hours=2), force=True)
        read = article_pages.page_of(app.storage, item_at(app, links["slow"]).id)
        assert read is not None and read.state == "used"
    finally:
        app.close()
    config = ["--config", str(project / "config" / "aggregator.toml")]
    main([*config, "sources", "list"])
    listed = capsys.readouterr().out
    assert "full text: always; article pages not used: 8" in listed
    main([*config, "status"])
    assert f"article pages not used: 8 of {feed}" in capsys.readouterr().out


def test_a_worker_reads_the_pages_its_sources_want(
    server: FeedServer, project: Path, database: str
) -> None:
    server.serve("/news/ko-budget", html("ko_budget_euckr", "EUC-KR"))
    link = server.url("/news/ko-budget")
    feed = server.serve("/feed.xml", rss([(expected("ko_budget_euckr")["title"], link, "", None)]))
    app = open_app(project, database, f'[[sources]]\nurl = "{feed}"\n')
    app.sleep = lambda seconds: None
    try:
        app.storage.sources.sync_config(app.settings.sources)
        worker = Worker(app, "w1", threading.Event(), clock=lambda: NOW)
        with make_client(app.settings.fetch) as client:
            worker.run_pass(client)
            worker.run_pass(client)
        item = item_at(app, link)
        read = article_pages.page_of(app.storage, item.id)
        assert read is not None and read.state == "used"
        assert item.topics == ("domestic-politics",)
        assert len(server.hits("/news/ko-budget")) == 1
    finally:
        app.close()


def test_robots_txt_that_cannot_be_read_disallows_and_a_missing_one_allows(
    server: FeedServer, settings
) -> None:  # noqa: ANN001
    other = FeedServer().start()
    try:
        server.serve("/robots.txt", Reply(503, b"busy"))
        pacer = HostPacer(0.0, lambda: 0.0, lambda seconds: None)
        with make_client(settings.fetch) as client:
            robots = RobotsRules(client, settings.fetch, pacer)
            refused = robots.verdict(server.url("/news/a"))
            assert not refused.allowed and "robots.txt could not be read" in (refused.reason or "")
            assert refused.unreadable  # the page is tried again later, not given up
            assert robots.verdict(other.url("/news/a")).allowed  # 404: no rules
            robots.verdict(server.url("/news/b"))
        assert len(server.hits("/robots.txt")) == 1  # once per host per run
    finally:
        other.stop()


def test_a_store_written_before_article_pages_is_upgraded_with_its_sources_kept_as_they_were(
    database_url: str,
) -> None:
    legacy_v5.create(database_url)
    storage = Storage(database_url)
    try:
        with storage.engine.begin() as connection:
            # The store as the previous revision left it (as `db upgrade` adopts a v5 store),
            # then this one's upgrade.
            config = migrate._config(connection)
            command.stamp(config, migrate.BASELINE)
            connection.execute(
                text("UPDATE meta SET value = :mark WHERE key = 'schema_version'"),
                {"mark": migrate.SCHEMA_VERSION_MARK},
            )
            command.upgrade(config, "0005_item_bands_without_rowid")
        before, after = migrate.upgrade(storage)
        assert before.current == "0005_item_bands_without_rowid"
        assert after.current == migrate.head()
        assert differences(storage) == []
        web = storage.sources.find(legacy_v5.WEB)
        assert web is not None and (web.full_text, web.page_failures) == ("never", 0)
        assert len(storage.newest_items(None, 10)) == 1
        with storage.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM item_pages")).scalar() == 0
    finally:
        storage.close()
