"""A database that is briefly locked or unreachable: retried within bounds, then reported.

SQLite is held by a real second connection; PostgreSQL is the real server behind
a local TCP proxy that the test takes down (every connection cut, new ones
refused) and brings back, as a restart looks to clients. Pauses between retries
go through an injected ``sleep``, so no test waits for them.
"""

import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time

from aggregator import pipeline
from aggregator.clock import utcnow
from aggregator.config import load_settings
from aggregator.store.retry import StoreUnavailable, pauses
from tests.support.postgres import POSTGRES_SERVER, postgres_schema_url
from tests.tcpproxy import TcpProxy

NEW_SEED = """Seoul and Pyongyang reopen the liaison hotline

Published: 12 Jun. 2025, 09:00

The two Koreas restored the inter-Korean liaison hotline on Thursday, the
unification ministry said, after a year of silence across the border.
"""


def _open(project: Path, storage_lines: str) -> pipeline.Aggregator:
    (project / "config" / "aggregator.toml").write_text(f"[storage]\n{storage_lines}\n")
    return pipeline.Aggregator.open(
        load_settings(project / "config" / "aggregator.toml", environ={})
    )


def test_pauses_grow_and_stay_within_the_window() -> None:
    assert pauses(60) == [0.5, 1, 2, 4, 8, 8, 8, 8, 8, 8]
    assert sum(pauses(60)) <= 60
    assert pauses(3.5) == [0.5, 1, 2]
    assert pauses(0.1) == []


def _recording_sleep(action: Callable[[int], None]) -> tuple[list[float], Callable[[float], None]]:
    """A sleep that records its pauses and does ``action(n)`` on the n-th instead of waiting."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        action(len(slept))

    return slept, sleep


@freeze_time("2025-06-12 10:00:00")
def test_a_locked_sqlite_database_is_retried_until_it_is_free(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _open(project, 'busy_timeout = "50ms"\nretry_for = "10s"')
    holder = sqlite3.connect(project / "aggregator.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    slept, app.sleep = _recording_sleep(lambda n: holder.execute("ROLLBACK") if n == 2 else None)
    with caplog.at_level(logging.WARNING, logger="aggregator.store"):
        ingested, published = pipeline.update(app, utcnow())
    assert slept == [0.5, 1]
    assert ingested.items_new == 2 and not published.failures
    assert b"inter-Korean hotline" in (project / "feeds" / "inter-korean.xml").read_bytes()
    assert "update: database sqlite:///" in caplog.text and "database is locked" in caplog.text
    holder.close()
    app.close()


@freeze_time("2025-06-12 10:00:00")
def test_a_database_locked_for_too_long_is_reported_and_loses_nothing(project: Path) -> None:
    app = _open(project, 'busy_timeout = "50ms"\nretry_for = "4s"')
    pipeline.update(app, utcnow())
    before = (project / "feeds" / "all.xml").read_bytes()
    (project / "seeds" / "hotline.txt").write_text(NEW_SEED, encoding="utf-8")
    holder = sqlite3.connect(project / "aggregator.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    slept, app.sleep = _recording_sleep(lambda n: None)
    with pytest.raises(StoreUnavailable) as raised:
        pipeline.update(app, utcnow())
    assert slept == pauses(4) == [0.5, 1, 2]
    assert "gave up after 4 attempts over 3.5 s" in str(raised.value)
    assert (project / "feeds" / "all.xml").read_bytes() == before  # nothing half-published
    holder.execute("ROLLBACK")
    holder.close()
    ingested, _ = pipeline.update(app, utcnow())
    assert ingested.items_new == 1
    assert b"liaison hotline" in (project / "feeds" / "all.xml").read_bytes()
    assert len(app.storage.newest_items(None, 100)) == 3
    app.close()


@pytest.fixture
def postgres_behind_proxy() -> Iterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL schema, and its URL through a proxy that can be taken down."""
    schema_urls = postgres_schema_url()
    url = next(schema_urls)
    server = urlsplit(POSTGRES_SERVER.replace("postgresql+psycopg", "postgresql"))
    proxy = TcpProxy(server.hostname or "127.0.0.1", server.port or 5432)
    netloc = f"{server.username}@127.0.0.1:{proxy.port}"
    yield url.replace(server.netloc, netloc), proxy
    proxy.close()
    next(schema_urls, None)


@freeze_time("2025-06-12 10:00:00")
def test_postgresql_going_away_and_coming_back_is_ridden_out(
    project: Path, postgres_behind_proxy: tuple[str, TcpProxy]
) -> None:
    url, proxy = postgres_behind_proxy
    app = _open(project, f'url = "{url}"\nretry_for = "30s"')
    pipeline.update(app, utcnow())
    (project / "seeds" / "hotline.txt").write_text(NEW_SEED, encoding="utf-8")
    proxy.take_down()  # the server goes away: pooled connections die, new ones are refused
    slept, app.sleep = _recording_sleep(lambda n: proxy.bring_up() if n == 3 else None)
    ingested, published = pipeline.update(app, utcnow())
    assert slept == [0.5, 1, 2]
    assert ingested.items_new == 1 and not published.failures
    assert b"liaison hotline" in (project / "feeds" / "inter-korean.xml").read_bytes()
    assert len(app.storage.newest_items(None, 100)) == 3
    app.close()


def _daemon_config(project: Path, url: str) -> None:
    (project / "config" / "aggregator.toml").write_text(
        f'[storage]\nurl = "{url}"\nretry_for = "1s"\n'
        '[daemon]\ningest_interval = "200ms"\nregenerate_interval = "1h"\n'
    )


def _start_daemon(project: Path, name: str, database_url: str | None = None) -> subprocess.Popen:
    """``aggregator daemon`` in ``project``, its log in ``project/name.log``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    if database_url is not None:
        environment["AGGREGATOR_DATABASE_URL"] = database_url
    with (project / f"{name}.log").open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "aggregator", "daemon"],
            cwd=project,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def _wait_for(daemon: subprocess.Popen, log_path: Path, condition: Callable[[], bool], what: str):
    """Poll the running daemon's outputs until ``condition`` holds (30 s at most)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert daemon.poll() is None, f"daemon exited before {what}: {log_path.read_text()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_daemon_survives_a_database_outage_and_recovers_by_itself(
    project: Path, postgres_behind_proxy: tuple[str, TcpProxy]
) -> None:
    url, proxy = postgres_behind_proxy
    _daemon_config(project, url)
    daemon, log_path = _start_daemon(project, "daemon"), project / "daemon.log"
    feed = project / "feeds" / "inter-korean.xml"
    second = None

    def wait_for(condition: Callable[[], bool], what: str) -> None:
        _wait_for(daemon, log_path, condition, what)

    try:
        wait_for(lambda: feed.exists() and b"hotline" in feed.read_bytes(), "the first feeds")
        proxy.take_down()
        (project / "seeds" / "hotline.txt").write_text(NEW_SEED, encoding="utf-8")
        wait_for(lambda: "ingest failed: ingest: database" in log_path.read_text(), "a failure")
        assert "retrying in 0.5 s" in log_path.read_text()
        proxy.bring_up()
        wait_for(lambda: b"liaison hotline" in feed.read_bytes(), "recovery")
        assert daemon.poll() is None
        # Its lock died with its connection; it took it again, so a second daemon is refused.
        # (The job that met the outage recovered by retrying; the next job checks the lock.)
        wait_for(
            lambda: (
                "the daemon lock was lost with its connection; it is held again"
                in log_path.read_text()
            ),
            "the lock taken again",
        )
        second = _start_daemon(project, "second")
        assert second.wait(timeout=30) != 0
        assert "another daemon is running" in (project / "second.log").read_text()
    finally:
        if second is not None and second.poll() is None:
            second.terminate()
            second.wait(timeout=30)
        daemon.terminate()
        assert daemon.wait(timeout=30) == 0


def test_a_daemon_whose_lock_another_took_during_an_outage_stops(
    project: Path, postgres_behind_proxy: tuple[str, TcpProxy]
) -> None:
    url, proxy = postgres_behind_proxy
    server = urlsplit(POSTGRES_SERVER.replace("postgresql+psycopg", "postgresql"))
    direct_url = url.replace(f"{server.username}@127.0.0.1:{proxy.port}", server.netloc)
    _daemon_config(project, url)
    first, first_log = _start_daemon(project, "first"), project / "first.log"
    feed = project / "feeds" / "inter-korean.xml"
    second = None
    try:
        _wait_for(first, first_log, lambda: feed.exists(), "the first feeds")
        proxy.take_down()  # the first daemon's session, and the lock it held, end
        second = _start_daemon(project, "second", database_url=direct_url)
        _wait_for(
            second,
            project / "second.log",
            lambda: "daemon started" in (project / "second.log").read_text(),
            "the second daemon to start",
        )
        proxy.bring_up()
        assert first.wait(timeout=30) == 1
        assert (
            "the daemon lock on postgresql" in first_log.read_text()
            and "was lost with its connection, and another process holds it now: "
            "stopping this daemon"
            in first_log.read_text()
        )
        assert second.poll() is None
    finally:
        for daemon in (first, second):
            if daemon is not None and daemon.poll() is None:
                daemon.terminate()
                daemon.wait(timeout=30)
