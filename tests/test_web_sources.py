"""Web sources against real HTTP servers on 127.0.0.1: politeness, limits and hostile servers.

Each behaviour is asserted on the wire (which request headers arrived, how
many requests were made) and in the store. Time is injected as ``now``; the
fetch limits are real and short.
"""

import argparse
import gzip
import logging
import os
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import httpx
import pytest

from aggregator import pipeline
from aggregator.cli.sources import cmd_sources_list
from aggregator.config import Settings, load_settings
from aggregator.ingest import parallel
from aggregator.ingest.http import TrustOnFirstHandshake, fetch, make_client, run_per_host
from aggregator.types import FetchOutcome
from tests import corpus
from tests.feedserver import TLS_CERTIFICATE, FeedServer, Reply, endless, trickle
from tests.support.feeds import web_rss
from tests.support.project import write_config

NOW = datetime(2025, 6, 10, 0, 0, tzinfo=UTC)
FETCH = """
[fetch]
connect_timeout = "2s"
read_timeout = "1s"
deadline = "2s"
max_bytes = 4194304
max_entries = 100
"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feed_server = FeedServer().start()
    yield feed_server
    feed_server.stop()


@pytest.fixture
def project_with(project: Path, database_url: str):  # noqa: ANN201 (a factory)
    """Open the project with these sources declared in its config."""
    opened: list[pipeline.Aggregator] = []

    def open_with(*urls: str, extra: str = "") -> pipeline.Aggregator:
        # Entries here link to hosts that do not exist: no article page is read for them.
        sources = "".join(f'\n[[sources]]\nurl = "{u}"\nfull_text = "never"\n' for u in urls)
        config = project / "config" / "aggregator.toml"
        config.write_text(FETCH + extra + sources, encoding="utf-8")
        settings = load_settings(config, environ={"AGGREGATOR_DATABASE_URL": database_url})
        app = pipeline.Aggregator.open(settings)
        app.rng = random.Random(7)
        opened.append(app)
        return app

    yield open_with
    for app in opened:
        app.close()


def source(app: pipeline.Aggregator, url: str):  # noqa: ANN201
    found = app.storage.sources.find(url)
    assert found is not None
    return found


def test_https_is_verified_with_certificates_loaded_at_the_first_handshake(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    server = FeedServer(tls=True).start()
    try:
        url = server.serve("/feed.xml", Reply(body=web_rss("Hotline restored")))
        with make_client(settings.fetch) as client:
            refused = fetch(client, url, settings.fetch)
        assert refused.outcome == FetchOutcome.ERROR
        assert "CERTIFICATE_VERIFY_FAILED" in (refused.error or "")
        monkeypatch.setenv("SSL_CERT_FILE", str(TLS_CERTIFICATE))  # as httpx reads it
        with make_client(settings.fetch) as client:
            trusted = fetch(client, url, settings.fetch)
        assert trusted.outcome == FetchOutcome.OK and trusted.body == web_rss("Hotline restored")
    finally:
        server.stop()
    # The context is httpx's own, but for when it loads its certificates.
    monkeypatch.delenv("SSL_CERT_FILE")
    ours, httpx_own = TrustOnFirstHandshake(), httpx.create_ssl_context()
    for setting in ("check_hostname", "verify_mode", "verify_flags", "options", "minimum_version"):
        assert getattr(ours, setting) == getattr(httpx_own, setting), setting
    assert ours.cert_store_stats()["x509_ca"] == 0 and not ours.loaded
    with httpx.Client(verify=ours) as client, pytest.raises(httpx.ConnectError):
        client.get(url)  # the server has stopped: a handshake was not even reached
    assert not ours.loaded
    server = FeedServer(tls=True).start()
    try:
        with httpx.Client(verify=ours) as client, pytest.raises(httpx.ConnectError):
            client.get(server.serve("/", Reply()))
    finally:
        server.stop()
    assert ours.loaded and ours.cert_store_stats() == httpx_own.cert_store_stats()


def test_a_feed_is_fetched_politely_and_its_items_published(
    server: FeedServer, project_with
) -> None:
    url = server.serve(
        "/feed.xml",
        Reply(body=web_rss("Hotline restored"), headers={"Content-Type": "application/rss+xml"}),
    )
    app = project_with(url)
    ingested, _ = pipeline.update(app, NOW)
    assert ingested.items_new == 3 and not ingested.failures  # two seeds and one entry
    (request,) = server.hits("/feed.xml")
    assert request.headers["user-agent"].startswith("aggregator/0.1.0 (+https://")
    assert "application/atom+xml" in request.headers["accept"]
    assert "gzip" in request.headers["accept-encoding"]
    feed = feedparser.parse((app.settings.feeds_dir / "inter-korean.xml").read_bytes())
    (entry,) = [e for e in feed.entries if e.title == "Hotline restored"]
    assert entry.link == "https://news.example/0"
    assert entry.source.title == "Peninsula Wire"
    health = source(app, url)
    assert health.last_status == "200" and health.error_count == 0
    assert health.next_fetch == NOW + timedelta(hours=1)  # the default interval


def test_the_second_round_is_conditional_and_rewrites_nothing(
    server: FeedServer, project_with
) -> None:
    def conditional(request) -> Reply:  # noqa: ANN001
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(304)
        return Reply(
            body=web_rss("Hotline restored"),
            headers={"ETag": '"v1"', "Last-Modified": "Mon, 09 Jun 2025 00:00:00 GMT"},
        )

    url = server.serve("/feed.xml", conditional)
    app = project_with(url)
    pipeline.update(app, NOW)
    feeds = {p: p.stat().st_mtime_ns for p in app.settings.feeds_dir.glob("*.xml")}
    for path in feeds:
        os.utime(path, ns=(1, 1))
    later = NOW + timedelta(hours=1)
    ingested, published = pipeline.update(app, later)
    first, second = server.hits("/feed.xml")
    assert "if-none-match" not in first.headers
    assert second.headers["if-none-match"] == '"v1"'
    assert second.headers["if-modified-since"] == "Mon, 09 Jun 2025 00:00:00 GMT"
    assert ingested.items_new == ingested.items_updated == 0
    assert published.written == ()
    assert all(path.stat().st_mtime_ns == 1 for path in feeds)
    assert source(app, url).last_status == "not modified"


def test_a_byte_identical_200_is_not_parsed_or_written(server: FeedServer, project_with) -> None:
    url = server.serve("/feed.xml", Reply(body=web_rss("Hotline restored")))
    app = project_with(url)
    pipeline.update(app, NOW)
    ingested, _ = pipeline.update(app, NOW + timedelta(hours=1))
    assert len(server.hits("/feed.xml")) == 2
    assert (ingested.inputs_read, ingested.items_new, ingested.items_updated) == (0, 0, 0)


def test_a_source_is_not_fetched_before_it_is_due(server: FeedServer, project_with) -> None:
    url = server.serve(
        "/feed.xml", Reply(body=web_rss("A"), headers={"Cache-Control": "public, max-age=7200"})
    )
    app = project_with(url)
    pipeline.update(app, NOW)
    assert source(app, url).next_fetch == NOW + timedelta(hours=2)  # raised by max-age
    pipeline.update(app, NOW + timedelta(minutes=90))
    assert len(server.hits("/feed.xml")) == 1
    pipeline.update(app, NOW + timedelta(hours=2))
    assert len(server.hits("/feed.xml")) == 2
    pipeline.update(app, NOW + timedelta(hours=2, minutes=1), force=True)
    assert len(server.hits("/feed.xml")) == 3


def test_ttl_and_syndication_hints_raise_the_interval(server: FeedServer, project_with) -> None:
    ttl = server.serve("/ttl.xml", Reply(body=web_rss("A", extra="<ttl>180</ttl>")))
    sy = server.serve(
        "/sy.xml",
        Reply(
            body=web_rss("B")
            .replace(
                b"<rss version",
                b'<rss xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" version',
            )
            .replace(
                b"<title>Peninsula", b"<sy:updatePeriod>daily</sy:updatePeriod><title>Peninsula"
            )
        ),
    )
    app = project_with(ttl, sy, extra="\n[fetch.bounds]\n" * 0)
    pipeline.update(app, NOW)
    assert source(app, ttl).next_fetch == NOW + timedelta(hours=3)
    assert source(app, sy).next_fetch == NOW + timedelta(days=1)


def test_redirects_permanent_move_the_url_temporary_do_not(
    server: FeedServer, project_with
) -> None:
    server.serve("/new.xml", Reply(body=web_rss("Moved")))
    moved = server.serve("/old.xml", Reply(301, headers={"Location": "/new.xml"}))
    temporary = server.serve("/tmp.xml", Reply(302, headers={"Location": "/new.xml"}))
    app = project_with(moved, temporary)
    ingested, _ = pipeline.update(app, NOW)
    assert not ingested.failures
    assert source(app, moved).url == server.url("/new.xml")
    assert source(app, moved).key == moved  # identity (and entry ids) unchanged
    assert source(app, temporary).url == temporary


def test_gone_disables_the_source(server: FeedServer, project_with) -> None:
    url = server.serve("/feed.xml", Reply(410, b"gone"))
    app = project_with(url)
    ingested, _ = pipeline.update(app, NOW)
    assert [f.subject for f in ingested.failures] == [url]
    gone = source(app, url)
    assert not gone.enabled and gone.disabled_reason.startswith("gone:")
    pipeline.update(app, NOW + timedelta(days=2))
    assert len(server.hits("/feed.xml")) == 1


def test_errors_back_off_exponentially_and_reset_on_success(
    server: FeedServer, project_with
) -> None:
    answers = iter([Reply(500), Reply(404), Reply(503), Reply(body=web_rss("Back"))])
    url = server.serve("/feed.xml", lambda _request: next(answers))
    app = project_with(url)
    now = NOW
    waits = []
    for _ in range(3):
        ingested, _ = pipeline.update(app, now)
        assert ingested.failures and url in str(ingested.failures[0])
        state = source(app, url)
        waits.append(state.next_fetch - now)
        now = state.next_fetch
    assert [source(app, url).error_count] == [3]
    base = timedelta(minutes=5)
    for attempt, wait in enumerate(waits):
        assert base * 2**attempt * 0.8 <= wait <= base * 2**attempt
    pipeline.update(app, now)
    recovered = source(app, url)
    assert recovered.error_count == 0 and recovered.last_error is None
    assert recovered.next_fetch == now + timedelta(hours=1)


@pytest.mark.parametrize(
    "retry_after",
    ["7200", format_datetime(NOW + timedelta(hours=2), usegmt=True)],
    ids=["seconds", "http-date"],
)
def test_retry_after_is_honoured(server: FeedServer, project_with, retry_after: str) -> None:
    url = server.serve("/feed.xml", Reply(429, headers={"Retry-After": retry_after}))
    app = project_with(url)
    pipeline.update(app, NOW)
    assert source(app, url).next_fetch == NOW + timedelta(hours=2)
    pipeline.update(app, NOW + timedelta(hours=1))
    assert len(server.hits("/feed.xml")) == 1
    # --force overrides our schedule, not the server's (issue #19).
    pipeline.update(app, NOW + timedelta(hours=1), force=True)
    assert len(server.hits("/feed.xml")) == 1
    assert source(app, url).retry_after == NOW + timedelta(hours=2)
    pipeline.update(app, NOW + timedelta(hours=2), force=True)
    assert len(server.hits("/feed.xml")) == 2


def test_a_gone_source_is_not_asked_again_even_when_forced(
    server: FeedServer, project_with
) -> None:
    url = server.serve("/feed.xml", Reply(410, b"gone"))
    app = project_with(url)
    pipeline.update(app, NOW)
    pipeline.update(app, NOW + timedelta(minutes=1), force=True)
    pipeline.update(app, NOW + timedelta(days=2), force=True)
    assert len(server.hits("/feed.xml")) == 1


def test_an_euc_kr_feed_keeps_its_hangul(server: FeedServer, project_with) -> None:
    url = server.serve("/kr.xml", Reply(body=web_rss("통일부, 남북 회담 제안", encoding="euc-kr")))
    app = project_with(url)
    pipeline.update(app, NOW)
    feed = feedparser.parse((app.settings.feeds_dir / "all.xml").read_bytes())
    assert "통일부, 남북 회담 제안" in [e.title for e in feed.entries]


def test_opml_import_and_export_round_trip(tmp_path: Path) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(
        """<?xml version="1.0"?><opml version="1.0"><head><title>x</title></head><body>
        <outline text="Korea"><outline text="Wire" type="rss" xmlUrl="https://a.example/rss"/>
        <outline text="Other" type="rss" xmlUrl="https://b.example/atom"/></outline>
        </body></opml>""",
        encoding="utf-8",
    )
    from aggregator.opml import read_opml, render_opml

    subscriptions = read_opml(opml.read_bytes(), str(opml))
    assert [s.url for s in subscriptions] == ["https://a.example/rss", "https://b.example/atom"]
    exported = render_opml("t", subscriptions, NOW)
    assert [s.title for s in read_opml(exported, "exported")] == ["Wire", "Other"]
    assert b'version="2.0"' in exported


def test_parsing_hostile_documents_leaks_nothing(server: FeedServer, project_with) -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
        b"<rss version='2.0'><channel><title>x</title><item><title>T &leak;</title>"
        b"<link>https://x.example/1</link><description>&leak;</description></item>"
        b"</channel></rss>"
    )
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + (
            b"]><rss version='2.0'><channel><title>bomb</title><item><title>&lol9;</title>"
            b"<link>https://x.example/2</link></item></channel></rss>"
        )
    )
    urls = [server.serve("/xxe.xml", Reply(body=xxe)), server.serve("/lol.xml", Reply(body=laughs))]
    app = project_with(*urls)
    pipeline.update(app, NOW)
    stored = app.storage.newest_items(None, 100)
    everything = " ".join(i.title + i.content_html for i in stored)
    assert "root:" not in everything
    assert "lollollol" not in everything


@pytest.mark.parametrize(
    ("path", "reply", "reason"),
    [
        ("/hang.xml", Reply(hang=True), "timed out"),
        ("/trickle.xml", Reply(stream=trickle()), "within 2s"),
        ("/endless.xml", Reply(stream=endless()), "larger than 4194304 bytes"),
        (
            "/bomb.xml",
            Reply(
                body=gzip.compress(b"<rss>" + b" " * 50_000_000, compresslevel=9),
                headers={"Content-Encoding": "gzip"},
            ),
            "larger than 4194304 bytes",
        ),
        ("/loop.xml", Reply(302, headers={"Location": "/loop2.xml"}), "redirect loop"),
        ("/file.xml", Reply(301, headers={"Location": "file:///etc/passwd"}), "file: URL refused"),
        ("/page.xml", Reply(body=b"<html><body><p>Not a feed</p></body></html>"), "not a feed"),
        ("/missing.xml", Reply(404), "HTTP 404"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_hostile_or_broken_source_costs_only_itself(
    server: FeedServer, project_with, path: str, reply: Reply, reason: str
) -> None:
    server.serve("/loop2.xml", Reply(302, headers={"Location": "/loop.xml"}))
    good = server.serve("/good.xml", Reply(body=web_rss("Hotline restored")))
    bad = server.serve(path, reply)
    app = project_with(bad, good)
    ingested, _ = pipeline.update(app, NOW)
    (failure,) = ingested.failures
    assert failure.subject == bad and reason in failure.reason
    assert source(app, bad).last_error == failure.reason
    assert "Hotline restored" in [i.title for i in app.storage.newest_items(None, 10)]
    # What was stored stays stored; the next try is later.
    assert source(app, bad).next_fetch > NOW


def test_malformed_but_usable_invalid_utf8_and_big_feeds(server: FeedServer, project_with) -> None:
    broken = web_rss("Broken but usable", site="a").replace(
        b"</channel></rss>", b"<item><title>unclosed"
    )
    invalid = web_rss("Caf\xe9 talks", site="b").replace("Caf\xe9".encode(), b"Caf\xe9")
    big = web_rss(*[f"Story {n}" for n in range(5000)], site="c")
    empty = web_rss()
    urls = [
        server.serve(p, Reply(body=b))
        for p, b in [("/broken.xml", broken), ("/invalid.xml", invalid), ("/big.xml", big),
                     ("/empty.xml", empty)]
    ]  # fmt: skip
    app = project_with(*urls)
    ingested, _ = pipeline.update(app, NOW)
    assert not ingested.failures
    titles = [i.title for i in app.storage.newest_items(None, 1000)]
    assert "Broken but usable" in titles
    assert any(t.startswith("Caf") and "talks" in t for t in titles)
    assert sum(t.startswith("Story ") for t in titles) == 100  # the per-fetch cap
    assert any("only the first 100 taken" in w for w in ingested.warnings)


def test_parsing_on_worker_processes_stores_exactly_what_one_process_stores(
    server: FeedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Enough sources to use the worker processes; the same run parsed in the main process
    (the threshold raised out of reach) must give the same items, stories, topics and feeds.

    One fetch thread, so both runs store the sources in the same order: which copy of a
    story is canonical depends on which source is stored first.
    """
    entries = corpus.generate(150, feeds=parallel.MIN_SOURCES + 4, seed=11)
    urls = [
        server.serve(
            f"/wire{feed}.xml",
            Reply(200, corpus.rss(feed, entries), {"Content-Type": "application/rss+xml"}),
        )
        for feed in range(parallel.MIN_SOURCES + 4)
    ]
    outcomes = {}
    for mode in ("workers", "main process"):
        if mode == "main process":
            monkeypatch.setattr(parallel, "MIN_SOURCES", 10_000)
        root = tmp_path / mode.replace(" ", "-")
        # Entries here link to hosts that do not exist: no article page is read for them.
        sources = "".join(f'\n[[sources]]\nurl = "{u}"\nfull_text = "never"\n' for u in urls)
        write_config(root, FETCH + "workers = 1\n" + sources)
        settings = load_settings(root / "config" / "aggregator.toml", environ={})
        app = pipeline.Aggregator.open(settings)
        try:
            caplog.clear()
            with caplog.at_level(logging.DEBUG, logger="aggregator.ingest"):
                ingested, _ = pipeline.update(app, NOW)
            used_workers = "worker processes" in caplog.text
            stored = sorted(
                (i.entry_id, i.title, i.topics, len(i.also_reported_by))
                for i in app.storage.newest_items(None, 10_000)
            )
        finally:
            app.close()
        feeds = {p.name: p.read_bytes() for p in sorted((root / "feeds").glob("*.xml"))}
        outcomes[mode] = (used_workers, ingested.items_new, stored, feeds)
    assert outcomes["workers"][0] and not outcomes["main process"][0]
    assert outcomes["workers"][1] == len(entries)
    assert any(also for *_, also in outcomes["workers"][2])  # some stories did merge
    assert outcomes["workers"][1:] == outcomes["main process"][1:]


def test_fetches_wait_for_the_writer_instead_of_piling_up() -> None:
    """Jobs are taken as results are handed on: with the consumer stopped after its first
    result, at most two per worker were ever started (the rest of the run waits)."""
    drawn: list[int] = []

    def jobs() -> Iterator[int]:
        for job in range(100):
            drawn.append(job)
            yield job

    results = run_per_host(jobs(), lambda job: f"host{job % 3}", lambda job: job * 2,
                           workers=4, per_host=2)  # fmt: skip
    first = next(results)
    assert first and all(doubled == job * 2 for job, doubled in first)
    assert len(drawn) <= 2 * 4
    rest = dict(pair for ready in results for pair in ready)
    assert sorted([*dict(first), *rest]) == list(range(100))
    assert all(v == k * 2 for k, v in rest.items())


def test_results_that_are_ready_together_are_handed_on_together() -> None:
    """The writer gets every result finished while it wrote the last ones, to write them in
    one transaction; one still running is not waited for."""
    slow, finished = threading.Event(), threading.Semaphore(0)

    def work(job: int) -> int:
        if job == 0:
            slow.wait(timeout=10)
        finished.release()
        return job

    results = run_per_host(range(8), lambda job: "host", work, workers=4, per_host=4)
    handed = [next(results)]
    for _ in range(7):  # the consumer is busy until the other seven are finished
        assert finished.acquire(timeout=10)
    while sum(map(len, handed)) < 7:
        handed.append(next(results))
    assert 0 not in {job for ready in handed for job, _ in ready}
    assert max(map(len, handed)) > 1
    slow.set()
    assert list(results) == [[(0, 0)]]


def test_worker_processes_yield_the_cpu_to_the_writer() -> None:
    with parallel.worker_pool(tuple, parallel.MIN_SOURCES) as pool:
        if pool is None:
            pytest.skip("worker processes need at least 2 cores")
        niceness = pool.submit(os.nice, 0).result()
    assert niceness == min(os.nice(0) + parallel.WORKER_NICENESS, 19)


def test_a_feed_writing_seoul_time_as_utc_is_read_in_its_offset_from_then_on(
    server: FeedServer, project_with, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue #19: entries dated hours after the fetch, by less than Seoul's offset."""

    def seoul_as_utc(*hours_ago: float) -> bytes:
        items = "".join(
            f"<item><title>Entry {n}</title><link>https://kr.example/{n}</link>"
            f"<pubDate>{format_datetime(NOW + timedelta(hours=9 - h), usegmt=True)}</pubDate>"
            "<description>text</description></item>"
            for n, h in enumerate(hours_ago)
        )
        return f'<rss version="2.0"><channel><title>KR</title>{items}</channel></rss>'.encode()

    body = {"now": seoul_as_utc(1, 2, 30)}
    url = server.serve("/kr.xml", lambda request: Reply(body=body["now"]))
    app = project_with(url)
    pipeline.update(app, NOW)
    assert source(app, url).date_offset == timedelta(hours=9)
    newest = app.storage.newest_items(None, 10)
    assert newest[0].title == "Entry 0" and newest[0].published == NOW - timedelta(hours=1)
    assert all(item.published <= NOW for item in newest)
    # A later body with no entry ahead is still read in +09:00.
    body["now"] = seoul_as_utc(1, 2, 30, 40)
    pipeline.update(app, NOW + timedelta(days=1), force=True)
    (older,) = [i for i in app.storage.newest_items(None, 10) if i.title == "Entry 3"]
    assert older.published == NOW - timedelta(hours=40)
    cmd_sources_list(app, argparse.Namespace(json=False))
    assert "dates read as UTC+09:00" in capsys.readouterr().out


def test_no_entry_is_dated_after_the_moment_it_was_first_seen(
    server: FeedServer, project_with
) -> None:
    ahead = format_datetime(NOW + timedelta(minutes=5), usegmt=True)  # within the clock skew
    body = (
        '<rss version="2.0"><channel><title>W</title><item><title>Early bird</title>'
        f"<link>https://w.example/1</link><pubDate>{ahead}</pubDate></item></channel></rss>"
    )
    url = server.serve("/w.xml", Reply(body=body.encode()))
    app = project_with(url)
    pipeline.update(app, NOW)
    (entry,) = [i for i in app.storage.newest_items(None, 10) if i.title == "Early bird"]
    assert entry.published == entry.updated == NOW
    # A day later the same entry, edited, with the same date, now in the past: it stays
    # dated when it was first seen, and the edit moves only ``updated``.
    server.serve("/w.xml", Reply(body=body.replace("Early bird", "Early bird, edited").encode()))
    pipeline.update(app, NOW + timedelta(days=1), force=True)
    (edited,) = [i for i in app.storage.newest_items(None, 10) if i.title.startswith("Early")]
    assert edited.published == NOW and edited.updated > NOW
