"""Four worker processes on real PostgreSQL: many sources, several rounds, one worker killed.

The feeds they publish must be byte-identical to a single-process `update` over the
same sources; the local server's request log shows each source fetched once a round.
A new round starts when the test makes every source due (what an hour passing
does); a killed worker's claims lapse when the test moves their lease into the past.
The default run uses 60 sources; `python -m pytest -m slow` runs 500 (CI runs both).
"""

import os
import random
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update

from aggregator import pipeline
from aggregator.config import load_settings
from aggregator.store import Storage, leases
from aggregator.store.schema import items, sources
from tests.feedserver import FeedServer
from tests.support.postgres import POSTGRES_SERVER, postgres_schema_url
from tests.support.workers import CONFIG, feed_files, start_worker, wait_for
from tests.workload import Workload, make_all_due

WORKERS = 4
NOW = datetime(2025, 6, 10, tzinfo=UTC)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema; its connections carry its name, so a leak can be counted."""
    for url in postgres_schema_url():
        schema = url.rsplit("%3D", 1)[1]
        yield f"{url}&application_name={schema}"


def connections_of(url: str) -> int:
    """Connections to the server opened with this test's application name."""
    name = url.rsplit("application_name=", 1)[1]
    admin = create_engine(POSTGRES_SERVER)
    try:
        with admin.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": name},
            ).scalar_one()
    finally:
        admin.dispose()


def item_count(storage: Storage) -> int:
    with storage.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(items)).scalar_one()


def stored(storage: Storage) -> list[tuple[str, str, str]]:
    """Every item as (source, entry id, title), in a stable order."""
    with storage.engine.connect() as connection:
        rows = connection.execute(
            select(sources.c.key, items.c.entry_id, items.c.title)
            .join(sources, sources.c.id == items.c.source_id)
            .order_by(items.c.entry_id)
        )
        return [tuple(row) for row in rows]


@pytest.mark.parametrize(
    "count", [pytest.param(60, id="60"), pytest.param(500, id="500", marks=pytest.mark.slow)]
)
def test_workers_share_rounds_exactly_once_survive_kill_9_and_publish_like_one_process(
    project: Path, postgres_url: str, count: int
) -> None:
    server = FeedServer().start()
    workload = Workload(server, count)
    config = project / "config" / "aggregator.toml"
    config.write_text(CONFIG + '[publish]\nfolder = "reference"\n', encoding="utf-8")
    reference = pipeline.Aggregator.open(
        load_settings(config, environ={"AGGREGATOR_DATABASE_URL": f"sqlite:///{project}/r.db"})
    )
    reference.rng = random.Random(7)
    config.write_text(CONFIG, encoding="utf-8")
    storage = Storage(postgres_url)
    storage.initialize()
    workload.add_to(storage)
    workload.add_to(reference.storage)
    env = {"AGGREGATOR_DATABASE_URL": postgres_url}
    workers: list[subprocess.Popen] = []
    try:
        for round_ in range(3):
            workload.round = round_
            before = workload.hits()
            pipeline.update(reference, NOW + timedelta(hours=round_))  # one fetch each
            expected = feed_files(project / "reference")
            if round_ == 2:
                # Hold some sources' answers, so a worker is surely mid-round when killed.
                workload.held = {f"/s{n}.xml" for n in range(0, count, 10)}
                workload.gate.clear()
            make_all_due(storage)
            if round_ == 0:
                workers = [
                    start_worker(project, project / f"w{i}.log", env) for i in range(WORKERS)
                ]
            victim_paths: set[str] = set()
            if round_ == 2:
                victim, victim_paths = kill_a_worker_mid_round(storage, workload, workers)
                workers.remove(victim)
            expected_items = stored(reference.storage)

            def settled() -> bool:
                return (
                    item_count(storage) == len(expected_items)  # noqa: B023
                    and not leases.claims(storage)
                    and stored(storage) == expected_items  # noqa: B023
                    and feed_files(project / "feeds") == expected  # noqa: B023
                )

            wait_for(settled, f"round {round_} to be stored and published", *workers)
            fetched = workload.hits() - before
            assert set(fetched) == {f"/s{n}.xml" for n in range(count)}
            # Every item stored once (settled), nothing lost; each source fetched once by the
            # reference and once by a worker, or twice by workers for the killed one's claims.
            assert {p for p, n in fetched.items() if n != 2} <= (
                victim_paths if round_ == 2 else set()
            )
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            assert worker.wait(timeout=60) == 0
    finally:
        workload.gate.set()
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        storage.close()
        reference.close()
        server.stop()
    wait_for(lambda: connections_of(postgres_url) == 0, "the workers' connections to close")


def kill_a_worker_mid_round(
    storage: Storage, workload: Workload, workers: list[subprocess.Popen]
) -> tuple[subprocess.Popen, set[str]]:
    """kill -9 a worker holding claims on held sources; make its claims lapse; let answers go."""
    held = workload.held

    def holders_of_held() -> dict[int, int]:
        with storage.engine.connect() as connection:
            rows = connection.execute(
                select(sources.c.claimed_by, func.count())
                .where(sources.c.url.in_([workload.server.url(p) for p in held]))
                .where(sources.c.claimed_by.is_not(None))
                .group_by(sources.c.claimed_by)
            ).all()
        return {int(holder.split(":")[1]): count for holder, count in rows}

    wait_for(lambda: len(holders_of_held()) >= 2, "workers to wait on held sources", *workers)
    pid = max(holders_of_held().items(), key=lambda item: item[1])[0]
    (victim,) = [w for w in workers if w.pid == pid]
    os.kill(pid, signal.SIGKILL)
    victim.wait()
    # Its claims stay until they lapse; move them into the past rather than wait.
    mine = sources.c.claimed_by.like(f"%:{pid}:%")
    with storage.transaction() as tx:
        urls = tx.connection.execute(select(sources.c.url).where(mine)).scalars().all()
        tx.connection.execute(
            update(sources).where(mine).values(lease_until=datetime(2000, 1, 1, tzinfo=UTC))
        )
    assert urls
    workload.gate.set()
    return victim, {url.removeprefix(workload.server.base) for url in urls}
