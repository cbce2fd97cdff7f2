"""Parsing fetched bodies and analysing their items on every core.

Fetching is waiting, and stays in threads; parsing and analysing are Python
work that threads cannot run side by side (the GIL). With enough sources due,
an ingest hands them to a pool of worker processes, one per core, while the
main process writes what is ready to the database. Workers start from a clean
interpreter (forkserver), never as a fork of a process with threads running.
They run at a lower priority than the main process: its one writer is what a
first ingest waits for, so when all want a core, the writer gets it. The parser and
the analysis are imported by the first body to parse, and multiprocessing when the
workers start (a round of 304s needs none of them).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from aggregator.errors import InputError
from aggregator.types import InputLimits, SourceData

if TYPE_CHECKING:  # imported when first used: the pool (multiprocessing), the rules (classify)
    from concurrent.futures import Future, ProcessPoolExecutor

    from aggregator import classify
    from aggregator.analysis import ItemAnalysis

log = logging.getLogger("aggregator.ingest")
T = TypeVar("T")

# Below this many sources to parse, starting workers costs more than it saves.
MIN_SOURCES = 8
# How much lower the workers' priority is (nice), so the single writer, which bounds a
# first ingest, is not starved of a core by the parsers (bench_pipeline; RESULTS.md).
WORKER_NICENESS = 5

_topics: tuple[classify.Topic, ...] = ()  # each worker's copy of the rules


def _start_worker(topics: tuple[classify.Topic, ...]) -> None:
    global _topics
    _topics = topics
    os.nice(WORKER_NICENESS)


Analyses = dict[tuple[str, str], "ItemAnalysis"]


def parse_and_analyze(
    body: bytes,
    *,
    source_key: str,
    headers: dict[str, str],
    base_url: str,
    zone: ZoneInfo,
    now: datetime,
    max_entries: int,
    limits: InputLimits,
    date_offset: timedelta | None,
    analyze_items: bool,
) -> tuple[SourceData | None, Analyses, str | None]:
    """In a worker: the parsed source (and its items' analyses), or the reason it is no feed.

    ``analyze_items`` is for a source's first fetch, where every item is new. A later
    body holds mostly items the store already has, which need no analysis; its few
    new ones are analysed by the main process as it writes them.

    The reason travels as text: an exception with its own constructor does not
    survive the trip between processes intact.
    """
    from aggregator.analysis import analyze, text_key
    from aggregator.ingest.feeds import parse_feed

    try:
        data = parse_feed(
            body,
            source_key=source_key,
            headers=headers,
            base_url=base_url,
            zone=zone,
            now=now,
            max_entries=max_entries,
            limits=limits,
            date_offset=date_offset,
        )
    except InputError as error:
        return None, {}, error.reason
    if not analyze_items:
        return data, {}, None
    return data, {text_key(item): analyze(item, _topics) for item in data.items}, None


def worker_count() -> int:
    return len(os.sched_getaffinity(0))


class WorkerPool:
    """Worker processes started at the first body to parse, so a round of 304s starts none
    (nor reads the topic rules they are given: ``topics`` is called then)."""

    def __init__(self, topics: Callable[[], Sequence[classify.Topic]], workers: int) -> None:
        self._topics = topics
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._starting = threading.Lock()

    def submit(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._starting:
            if self._pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                log.debug("parsing on %d worker processes", self._workers)
                self._pool = ProcessPoolExecutor(
                    max_workers=self._workers,
                    mp_context=multiprocessing.get_context("forkserver"),
                    initializer=_start_worker,
                    initargs=(tuple(self._topics()),),
                )
        return self._pool.submit(function, *args, **kwargs)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


@contextmanager
def worker_pool(
    topics: Callable[[], Sequence[classify.Topic]], sources: int
) -> Iterator[WorkerPool | None]:
    """Worker processes for an ingest of ``sources`` sources; None when not worth it."""
    workers = worker_count()
    if sources < MIN_SOURCES or workers < 2:
        yield None
        return
    pool = WorkerPool(topics, workers)
    try:
        yield pool
    finally:
        pool.shutdown()
