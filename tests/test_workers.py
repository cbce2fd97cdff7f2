"""Workers sharing one database: claims with leases, one pass, SIGTERM, SQLite's one writer."""

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from aggregator import pipeline
from aggregator.config import load_settings
from aggregator.errors import LeaseLost
from aggregator.ingest.http import make_client
from aggregator.store import Storage, changes, leases
from aggregator.store.schema import sources
from aggregator.store.sources import save_fetch_state
from aggregator.worker import Worker
from tests.feedserver import FeedServer
from tests.support.postgres import postgres_schema_url
from tests.support.workers import CONFIG, feed_files, start_worker, wait_for
from tests.workload import Workload

NOW = datetime(2025, 6, 10, tzinfo=UTC)
LEASE = timedelta(minutes=10)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    running = FeedServer().start()
    yield running
    running.stop()


def open_app(project: Path, database_url: str, extra: str = "") -> pipeline.Aggregator:
    config = project / "config" / "aggregator.toml"
    config.write_text(CONFIG + extra, encoding="utf-8")
    app = pipeline.Aggregator.open(
        load_settings(config, environ={"AGGREGATOR_DATABASE_URL": database_url})
    )
    app.rng = random.Random(7)
    return app


def test_claims_are_disjoint_lapse_and_are_released(storage: Storage, server: FeedServer) -> None:
    Workload(server, 25).add_to(storage)
    first = leases.claim(storage, "a", NOW, LEASE, 10)
    second = leases.claim(storage, "b", NOW, LEASE, 10)
    assert len(first) == len(second) == 10
    assert not {s.id for s in first} & {s.id for s in second}
    assert leases.claims(storage) == {"a": 10, "b": 10}
    # Claimed sources are not due for a one-off update either.
    assert len(storage.sources.due(NOW)) == 5
    assert leases.release(storage, "b", [second[0].id]) == 1
    soon = NOW + timedelta(minutes=1)
    assert len(leases.claim(storage, "c", soon, LEASE, 10)) == 6
    assert leases.claim(storage, "d", soon, LEASE, 10) == []
    # a and b die: their claims lapse and are due again for the others; c's holds.
    taken = leases.claim(storage, "d", NOW + LEASE, LEASE, 100)
    assert {s.id for s in taken} == {s.id for s in first + second[1:]}
    assert leases.release(storage, "d") == len(taken)
    assert set(leases.claims(storage)) == {"c"}


def test_a_store_under_a_lapsed_and_retaken_claim_is_undone(
    storage: Storage, server: FeedServer
) -> None:
    Workload(server, 1).add_to(storage)
    (mine,) = leases.claim(storage, "a", NOW, LEASE, 1)
    (theirs,) = leases.claim(storage, "b", NOW + LEASE, LEASE, 1)
    assert mine.id == theirs.id
    state = {"next_fetch": NOW + timedelta(hours=1), "last_status": "200"}
    with pytest.raises(LeaseLost, match="claim of a lapsed"), storage.transaction() as tx:
        save_fetch_state(tx, mine.id, state, "a")
    with storage.transaction() as tx:
        save_fetch_state(tx, theirs.id, state, "b")
    with storage.engine.connect() as connection:
        row = connection.execute(select(sources).where(sources.c.id == mine.id)).one()
    assert (row.claimed_by, row.lease_until, row.last_status) == (None, None, "200")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema: several workers need PostgreSQL (SQLite has one writer)."""
    yield from postgres_schema_url()


def test_concurrent_claims_never_overlap(postgres_url: str, server: FeedServer) -> None:
    stores = [Storage(postgres_url) for _ in range(6)]
    stores[0].initialize()
    Workload(server, 300).add_to(stores[0])
    got: dict[str, list[int]] = {}
    start = threading.Barrier(len(stores))

    def claim_all(store: Storage, holder: str) -> None:
        start.wait()
        got[holder] = []
        while batch := leases.claim(store, holder, NOW, LEASE, 7):
            got[holder].extend(s.id for s in batch)

    threads = [threading.Thread(target=claim_all, args=(s, f"w{i}")) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    claimed = [i for ids in got.values() for i in ids]
    assert len(claimed) == len(set(claimed)) == 300
    assert sum(1 for ids in got.values() if ids) > 1  # they really shared the work


def test_workers_add_to_the_shared_counters_at_once(postgres_url: str) -> None:
    stores = [Storage(postgres_url) for _ in range(6)]
    stores[0].initialize()
    start = threading.Barrier(len(stores))

    def add(store: Storage) -> None:
        start.wait()
        for n in range(30):  # each a new counter, which all of them create at once
            store.add_counts({f"new:{n}": 1, "items:new": 2, "unused": 0})

    threads = [threading.Thread(target=add, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stores[0].counts() == {"items:new": 360} | {f"new:{n}": 6 for n in range(30)}
    for store in stores:
        store.close()


def test_a_worker_pass_fetches_every_due_source_once_and_publishes_like_update(
    project: Path, tmp_path: Path, database_url: str, server: FeedServer
) -> None:
    workload = Workload(server, 20)
    reference = open_app(
        project, f"sqlite:///{tmp_path / 'reference.db'}", '[publish]\nfolder = "reference"\n'
    )
    app = open_app(project, database_url)
    clock = [NOW]
    try:
        workload.add_to(app.storage)
        worker = Worker(app, "w1", threading.Event(), clock=lambda: clock[0])
        with make_client(app.settings.fetch) as client:
            report = worker.run_pass(client)
            assert (report.items_new, report.failures) == (20 + 2, ())  # and the two seeds
            assert set(workload.hits().values()) == {1}
            published = feed_files(app.settings.feeds_dir)
            assert leases.claims(app.storage) == {}
            assert changes.pending_changes(app.storage) is None

            workload.round = 1
            clock[0] = NOW + timedelta(hours=1)  # every source is due again
            assert worker.run_pass(client).items_new == 20
            assert set(workload.hits().values()) == {2}
            assert worker.run_pass(client).items_new == 0  # nothing due: nothing fetched
            assert set(workload.hits().values()) == {2}
        assert feed_files(app.settings.feeds_dir) != published
        published = feed_files(app.settings.feeds_dir)

        # The same sources and seeds through the single-process update give the same feeds.
        workload.add_to(reference.storage)
        pipeline.update(reference, NOW + timedelta(hours=1))
        assert feed_files(project / "reference") == published
    finally:
        app.close()
        reference.close()


def test_a_worker_that_does_not_publish_leaves_it_to_one_that_does(
    project: Path, database_url: str, server: FeedServer
) -> None:
    workload = Workload(server, 5)
    quiet = open_app(project, database_url, extra="")
    config = project / "config" / "aggregator.toml"
    config.write_text(CONFIG.replace("[worker]\n", "[worker]\npublish = false\n"))
    elsewhere = pipeline.Aggregator.open(
        load_settings(config, environ={"AGGREGATOR_DATABASE_URL": database_url})
    )
    try:
        assert not elsewhere.settings.worker.publish
        workload.add_to(quiet.storage)
        with make_client(quiet.settings.fetch) as client:
            fetcher = Worker(elsewhere, "far", threading.Event(), clock=lambda: NOW)
            assert fetcher.run_pass(client).items_new == 5 + 2
            assert not (project / "feeds" / "all.xml").exists()
            assert changes.pending_changes(quiet.storage) is not None
            publisher = Worker(quiet, "near", threading.Event(), clock=lambda: NOW)
            assert publisher.run_pass(client).items_new == 0
        assert (project / "feeds" / "all.xml").read_bytes().count(b"<entry") == 5 + 2
        assert changes.pending_changes(quiet.storage) is None
    finally:
        elsewhere.close()
        quiet.close()


def test_sigterm_stores_fetches_in_flight_releases_the_rest_and_sqlite_has_one_writer(
    project: Path, server: FeedServer
) -> None:
    (project / "config" / "aggregator.toml").write_text(CONFIG, encoding="utf-8")
    storage = Storage(f"sqlite:///{project / 'aggregator.db'}")
    storage.initialize()
    workload = Workload(server, 30)
    workload.add_to(storage)
    workload.held = {f"/s{n}.xml" for n in range(30)}
    workload.gate.clear()
    log = project / "worker.log"
    worker = start_worker(project, log)
    try:
        # Eight fetches in flight (fetch.workers), two more claimed and waiting.
        wait_for(lambda: len(server.requests) == 8, "fetches to start", worker)
        assert sum(leases.claims(storage).values()) == 10

        second = subprocess.run(
            [sys.executable, "-m", "aggregator", "worker"],
            cwd=project,
            env={k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 3
        assert "SQLite has one writer" in second.stderr

        worker.send_signal(signal.SIGTERM)
        wait_for(lambda: "received SIGTERM" in log.read_text(), "SIGTERM to arrive", worker)
        workload.gate.set()
        assert worker.wait(timeout=60) == 0
    finally:
        workload.gate.set()
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert "stopped" in log.read_text()
    assert leases.claims(storage) == {}
    fetched = [s for s in storage.sources.all() if s.next_fetch is not None]
    assert len(fetched) == 8 and all(s.last_status == "200" for s in fetched)
    assert len(storage.sources.due(datetime.now(UTC))) == 22
    assert len(server.requests) == 8
    storage.close()
