"""The long-running scheduler: APScheduler 3.x jobs that call the pipeline, nothing more.

Two jobs, run one at a time by a single worker thread (so they never
interleave), each coalescing missed runs into one: ``ingest`` on its interval
(followed at once by a regeneration when it changed items) and ``regenerate``
on its own interval. SIGINT/SIGTERM stop the scheduler after the job in
flight finishes; SIGHUP reloads the config file and topic rules (an invalid
new config is reported and the old one kept). A "daemon" lock on the
database refuses a second daemon; each job first makes sure the lock is
still held (a PostgreSQL lock dies with its connection), and a daemon whose
lock another one took while its connection was down stops.
"""

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from aggregator import classify, metrics, pipeline
from aggregator.clock import utcnow
from aggregator.config import load_settings
from aggregator.errors import AggregatorError, LockedError
from aggregator.server import BackgroundServer, base_path
from aggregator.store.lock import RunLock

log = logging.getLogger("aggregator.daemon")
# Retention runs daily, starting an hour after the daemon, away from the first cycles.
PRUNE_DELAY = timedelta(hours=1)


def _ingest_job(app: pipeline.Aggregator) -> None:
    try:
        report = pipeline.ingest(app, utcnow())
        if report.changed:
            pipeline.regenerate(app, utcnow())
    except AggregatorError as error:
        # A busy database or a bad input must not stop the daemon; the next run retries.
        log.error("ingest failed: %s", error)


def _prune_job(app: pipeline.Aggregator) -> None:
    try:
        pipeline.prune(app, utcnow())
    except AggregatorError as error:
        log.error("pruning failed: %s", error)


def _regenerate_job(app: pipeline.Aggregator) -> None:
    try:
        pipeline.regenerate(app, utcnow())
    except AggregatorError as error:
        log.error("regeneration failed: %s", error)


def _reload_job(app: pipeline.Aggregator, scheduler: BackgroundScheduler) -> None:
    """Re-read the config file and topic rules; keep the old ones if the new ones are invalid.

    Runs as a job, so it never interleaves with an ingest or a regeneration. Then
    regenerates, since rules or publishing settings may have changed.
    """
    path = app.settings.config_path
    try:
        settings = load_settings(path)
        topics = classify.load_topics(settings.topics_dir)
    except AggregatorError as error:
        log.error("SIGHUP: invalid configuration, kept the previous one: %s", error)
        return
    if settings.database_url != app.settings.database_url:
        log.warning("SIGHUP: the database cannot change while running; restart to use it")
        settings = replace(settings, database_url=app.settings.database_url)
    app.reconfigure(settings, topics)
    for job, interval in (
        ("ingest", settings.daemon.ingest_interval),
        ("regenerate", settings.daemon.regenerate_interval),
    ):
        scheduler.reschedule_job(job, trigger="interval", seconds=interval.total_seconds())
    log.info("SIGHUP: reloaded configuration from %s (%d topics)", path, len(topics))
    _regenerate_job(app)


def _holding(
    lock: RunLock, lost: threading.Event, stop: threading.Event, job: Callable[..., None]
) -> Callable[..., None]:
    """``job``, run only while this daemon holds its lock; if another took it, stop instead."""

    def run(*args: object) -> None:
        try:
            lock.confirm()
        except LockedError as error:
            log.error("%s: stopping this daemon", error)
            lost.set()
            stop.set()
            return
        job(*args)

    return run


# How often the main thread wakes while it waits for a signal. A signal the kernel delivers
# to another thread (the scheduler's, the server's) only marks itself pending: CPython runs
# the handler in the main thread, which an untimed wait never lets run (seen in the kill -9
# test: a daemon that ignored SIGTERM). Each wake-up runs the pending handlers.
SIGNAL_CHECK = 0.5  # seconds


def wait_for_signal(stop: threading.Event) -> None:
    """Block until SIGINT or SIGTERM (or ``stop`` is set by someone else), waking every
    ``SIGNAL_CHECK`` seconds so a signal delivered to another thread is handled."""

    def request_stop(signum: int, _frame: object) -> None:
        log.info("received %s: finishing work in flight, then exiting", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(SIGNAL_CHECK):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(
    app: pipeline.Aggregator,
    stop: threading.Event | None = None,
    serve: tuple[str, int] | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or ``stop`` is set); with ``serve``, also serve the feeds.

    Exits 1 when the daemon lock was lost to another daemon, 0 otherwise.
    """
    stop = stop or threading.Event()
    lost = threading.Event()
    with RunLock(app.storage, "daemon", wait=0) as lock:
        server = None
        if serve:
            server = BackgroundServer(
                app.settings.feeds_dir,
                *serve,
                metrics=lambda: metrics.render(app.storage, app.topics),
                storage=app.storage if app.settings.publish_to_database else None,
                prefix=base_path(app.settings.base_url),
            ).start()
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        daemon_settings = app.settings.daemon
        now = utcnow()
        scheduler.add_job(
            _holding(lock, lost, stop, _ingest_job),
            "interval",
            args=[app],
            id="ingest",
            seconds=daemon_settings.ingest_interval.total_seconds(),
            next_run_time=now,
        )
        scheduler.add_job(
            _holding(lock, lost, stop, _regenerate_job),
            "interval",
            args=[app],
            id="regenerate",
            seconds=daemon_settings.regenerate_interval.total_seconds(),
            # Also once at start: a daemon killed mid-regeneration left files behind the
            # store, and an ingest that finds nothing new would not bring them up to date.
            next_run_time=now,
        )

        scheduler.add_job(
            _holding(lock, lost, stop, _prune_job),
            "interval",
            args=[app],
            id="prune",
            days=1,
            next_run_time=now + PRUNE_DELAY,
        )

        def request_reload(_signum: int, _frame: object) -> None:
            scheduler.add_job(
                _holding(lock, lost, stop, _reload_job),
                args=[app, scheduler],
                id="reload",
                replace_existing=True,
            )

        previous_hup = signal.signal(signal.SIGHUP, request_reload)
        scheduler.start()
        log.info(
            "daemon started: ingest every %s, regenerate every %s",
            _human(daemon_settings.ingest_interval),
            _human(daemon_settings.regenerate_interval),
        )
        try:
            wait_for_signal(stop)
        finally:
            signal.signal(signal.SIGHUP, previous_hup)
            scheduler.shutdown(wait=True)
            if server is not None:
                server.stop()
        log.info("daemon stopped")
    return 1 if lost.is_set() else 0


def _human(interval: timedelta) -> str:
    return f"{interval.total_seconds():g}s"
