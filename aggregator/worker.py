"""`aggregator worker`: one of several processes (or machines) sharing one database's work.

    each pass, until SIGINT/SIGTERM:
        claim due web sources, a batch at a time, until none is due (store.leases.claim)
        fetch a batch in parallel; store each source in one transaction that also sets
            its next fetch time and releases its claim (the pipeline's own functions)
        read the seed files every daemon.ingest_interval
        regenerate when any worker changed items (and every daemon.regenerate_interval),
            unless worker.publish is false (feeds written on another machine)
        prune once a day
    then wait worker.poll_interval

Seeds, regeneration and pruning happen in one place at a time, under the database's
cycle lock (a PostgreSQL advisory lock) tried without waiting: another worker doing
the job right now is as good. A change stored while someone else regenerates moves
the changes marker, so the next pass of any worker publishes it.

SQLite has one writer: there a worker holds the daemon lock (a second worker or a
daemon is refused with a message) and each pass holds the cycle lock, so a one-off
`update` waits for it as for a daemon cycle.

SIGINT/SIGTERM: fetches in flight finish and are stored, claims not yet fetched are
released, and the worker exits 0. After kill -9 its claims lapse after worker.lease.
"""

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from itertools import chain
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import IntegrityError, OperationalError

from aggregator import daemon, pipeline
from aggregator.clock import utcnow
from aggregator.errors import AggregatorError, LeaseLost, LockedError
from aggregator.ingest.http import make_client, run_per_host
from aggregator.refresh import Fetched, fetch_source, read_pages, source_host, store_fetched
from aggregator.seed_ingest import ingest_seeds
from aggregator.store import changes, leases
from aggregator.store.lock import RunLock
from aggregator.tally import IngestReport, Tally
from aggregator.types import RunKind, WebSource

if TYPE_CHECKING:  # ingest.http imports httpx (issue #22: without its command line)
    import httpx

log = logging.getLogger("aggregator.worker")
# Regenerations in a row while other workers keep changing items, before fetching again.
MAX_REGENERATIONS = 3
PRUNE_INTERVAL = timedelta(days=1)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def worker_id() -> str:
    """This process's name on its claims: host, process id, and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """The passes of one worker process over one open store."""

    def __init__(
        self,
        app: pipeline.Aggregator,
        holder: str,
        stop: threading.Event,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.app = app
        self.holder = holder
        self.stop = stop
        self.clock = clock
        self.next_seeds: datetime | None = None
        self.next_prune = clock() + daemon.PRUNE_DELAY

    def scheduled_pass(self, client: "httpx.Client") -> None:
        """One pass as the scheduler runs it: a busy or unreachable database waits for the next."""
        if self.stop.is_set():
            return
        try:
            with self._pass_lock():
                self.run_pass(client)
        except (AggregatorError, OperationalError) as error:
            log.error("worker pass failed: %s", _first_line(error))

    def run_pass(self, client: "httpx.Client") -> IngestReport:
        started, timer = self.clock(), time.perf_counter()
        tally = Tally()
        self.fetch_due(client, tally)
        read_pages(self.app, client, self.clock(), tally)
        now = self.clock()
        seeded = False
        if self.next_seeds is None or now >= self.next_seeds:
            with self._in_one_place() as mine:
                if mine:
                    self.app.storage.sources.sync_config(self.app.settings.sources)
                    ingest_seeds(self.app, now, tally)
                    self.next_seeds = now + self.app.settings.daemon.ingest_interval
                    seeded = True
        report = tally.report()
        # Recorded when something was fetched, and at the seeds' pace (as the daemon's
        # ingest job), so `status` does not report a quiet worker as stale.
        if tally.outcomes or report.inputs_read or report.failures or seeded:
            self._record(tally, started, timer)
        if self.app.settings.worker.publish:
            self.publish(self.clock())
        if self.clock() >= self.next_prune:
            with self._in_one_place() as mine:
                if mine:
                    pipeline.prune(self.app, self.clock())
                    self.next_prune = self.clock() + PRUNE_INTERVAL
        return report

    def fetch_due(self, client: "httpx.Client", tally: Tally) -> None:
        """Claim and fetch batches of due sources until none is due (or stopping)."""
        settings = self.app.settings
        while not self.stop.is_set():
            now = self.clock()
            batch = leases.claim(
                self.app.storage, self.holder, now, settings.worker.lease, settings.worker.batch
            )
            if not batch:
                return
            self._fetch_batch(client, batch, now, tally)

    def _fetch_batch(
        self, client: "httpx.Client", batch: list[WebSource], now: datetime, tally: Tally
    ) -> None:
        def fetch(source: WebSource) -> Fetched | None:
            if self.stop.is_set():
                return None  # stopping: not started, released below
            return fetch_source(self.app, client, None, source, now)

        done: set[int] = set()
        try:
            # Source by source, each its own transaction: one that cannot be stored is
            # reported and released, the others stand.
            for source, fetched in chain.from_iterable(
                run_per_host(
                    batch,
                    source_host,
                    fetch,
                    workers=self.app.settings.fetch.workers,
                    per_host=self.app.settings.fetch.per_host,
                )
            ):
                if fetched is None:
                    continue
                try:
                    tally.add(store_fetched(self.app, source, fetched, now, self.holder))
                except LeaseLost as error:
                    log.warning("not stored, another worker has it now: %s", error)
                except IntegrityError as error:
                    # A one-off `update` (which takes no claims) stored the same items at the
                    # same moment; its write stands, and this transaction was undone.
                    log.warning(
                        "source %s not stored: stored at once by another run: %s",
                        source.url,
                        _first_line(error),
                    )
                except OperationalError as error:
                    # A deadlock with another worker, or a dropped connection, undid this
                    # source's transaction: its claim is released below, for the next pass.
                    log.error("source %s not stored: %s", source.url, _first_line(error))
                    continue
                done.add(source.id)
        finally:
            leases.release(self.app.storage, self.holder, [s.id for s in batch if s.id not in done])

    def publish(self, now: datetime) -> None:
        """Regenerate when items changed since the last regeneration, or when it is time."""
        storage = self.app.storage
        last = storage.last_run(RunKind.REGENERATE)
        interval = self.app.settings.daemon.regenerate_interval
        if changes.pending_changes(storage) is None and last and now - last.finished < interval:
            return
        with self._in_one_place() as mine:
            if not mine:
                return  # another worker is regenerating; a later pass covers what it missed
            for _ in range(MAX_REGENERATIONS):
                marker = changes.pending_changes(storage)
                pipeline.regenerate(self.app, self.clock())
                if marker is not None:
                    changes.mark_published(storage, marker)
                if changes.pending_changes(storage) is None:
                    return

    def _record(self, tally: Tally, started: datetime, timer: float) -> None:
        duration_ms = round((time.perf_counter() - timer) * 1000)
        report = pipeline.record_ingest(self.app, tally, started, self.clock(), duration_ms)
        log.info(
            "worker %s: %d fetched, %d unchanged, %d new items, %d updated, %d failed, in %d ms",
            self.holder,
            sum(tally.outcomes.values()),
            report.inputs_unchanged,
            report.items_new,
            report.items_updated,
            len(report.failures),
            duration_ms,
            extra={"count": report.items_new, "duration": duration_ms / 1000},
        )

    def _pass_lock(self) -> AbstractContextManager[object]:
        """On SQLite a whole pass holds the cycle lock (one writer); on PostgreSQL none does."""
        if self.app.storage.dialect == "postgresql":
            return nullcontext()
        return RunLock(self.app.storage, "cycle", wait=self.app.settings.lock_wait.total_seconds())

    @contextmanager
    def _in_one_place(self) -> Iterator[bool]:
        """The cycle lock if nobody holds it (True), else False at once."""
        lock = RunLock(self.app.storage, "cycle", wait=0)
        try:
            lock.__enter__()
        except LockedError:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()


@contextmanager
def _single_writer(app: pipeline.Aggregator) -> Iterator[None]:
    """On SQLite, the daemon lock: one worker (or daemon) per database file."""
    if app.storage.dialect == "postgresql":
        yield
        return
    lock = RunLock(app.storage, "daemon", wait=0)
    try:
        lock.__enter__()
    except LockedError as error:
        raise LockedError(
            f"{error}. SQLite has one writer: run one worker (or one daemon) on it; "
            "several workers need PostgreSQL"
        ) from None
    try:
        yield
    finally:
        lock.release()


def run(
    app: pipeline.Aggregator,
    stop: threading.Event | None = None,
    *,
    holder: str | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Work until SIGINT/SIGTERM (or ``stop`` is set); 0 after a clean stop.

    Passes are scheduled by APScheduler, as the daemon's jobs are: each worker.poll_interval
    after the last one ended. On the way out the pass in flight finishes, then every claim
    still held is released.
    """
    stop = stop or threading.Event()
    worker = Worker(app, holder or worker_id(), stop, clock)
    failures: list[BaseException] = []

    def scheduled(client: "httpx.Client") -> None:
        try:
            worker.scheduled_pass(client)
        except BaseException as error:  # a bug: re-raised in the main thread below
            failures.append(error)
            stop.set()
        if not stop.is_set():
            schedule(client, app.settings.worker.poll_interval)

    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)}, timezone="UTC"
    )

    def schedule(client: "httpx.Client", after: timedelta) -> None:
        """The next pass, ``after`` the last one ended (so passes never overlap)."""
        when = utcnow() + after
        scheduler.add_job(scheduled, "date", run_date=when, args=[client], id="pass")

    with _single_writer(app), make_client(app.settings.fetch) as client:
        log.info("worker %s started on %s", worker.holder, app.storage.display_url)
        schedule(client, timedelta(0))
        scheduler.start()
        try:
            daemon.wait_for_signal(stop)
        finally:
            stop.set()
            scheduler.shutdown(wait=True)
            leases.release(app.storage, worker.holder)
    if failures:
        raise failures[0]
    log.info("worker %s stopped", worker.holder)
    return 0
