"""Many web sources on one local server, for worker tests and the worker benchmark.

Source ``n`` is ``/s{n}.xml``; in round ``r`` its feed lists ``r + 1`` items, each
with its own date, title and link, so nothing merges across sources and the
newest-first order of any feed has no ties: the published feeds depend only on
what was stored, not on which worker stored it or when.
"""

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update

from aggregator.store import Storage
from aggregator.store.schema import sources
from tests.feedserver import FeedServer, Reply, Request

BASE = datetime(2025, 1, 1, tzinfo=UTC)
TOPIC_WORDS = (
    "North Korea and South Korea agree to reopen the inter-Korean liaison office",
    "US and South Korea hold joint drills under the alliance",
    "National Assembly passes the special counsel bill",
)


def feed_body(n: int, round_: int) -> bytes:
    entries = []
    for k in range(round_ + 1):
        published = BASE + timedelta(minutes=k * 1000 + n)
        entries.append(
            f"<item><title>{TOPIC_WORDS[(n + k) % 3]} ({n}.{k})</title>"
            f"<link>https://s{n}.example/{k}</link><guid>https://s{n}.example/{k}</guid>"
            f"<pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            f"<description>Report {k} of source {n}.</description></item>"
        )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Source {n}</title>"
        f"<link>https://s{n}.example/</link>{''.join(entries)}</channel></rss>"
    ).encode()


class Workload:
    """``count`` sources served by ``server``; ``round`` is what their feeds say now."""

    def __init__(self, server: FeedServer, count: int, delay: float = 0.0) -> None:
        self.server = server
        self.count = count
        self.delay = delay
        self.round = 0
        self.gate = threading.Event()  # set: answer; clear: hold the requests of held paths
        self.gate.set()
        self.held: set[str] = set()
        for n in range(count):
            server.serve(f"/s{n}.xml", self._answer)

    def _answer(self, request: Request) -> Reply:
        if request.path in self.held:
            self.gate.wait(30)
        if self.delay:
            time.sleep(self.delay)  # the simulated network: the server's side, not a test's
        n = int(request.path[2:].split(".")[0])
        return Reply(body=feed_body(n, self.round), headers={"Content-Type": "application/rss+xml"})

    def urls(self) -> list[str]:
        return [self.server.url(f"/s{n}.xml") for n in range(self.count)]

    def add_to(self, storage: Storage) -> None:
        """Follow every source (in bulk: the registry checks one URL at a time)."""
        rows = [
            {"key": url, "url": url, "kind": "feed", "title": url, "enabled": True,
             "error_count": 0, "origin": "cli"}
            for url in self.urls()
        ]  # fmt: skip
        with storage.transaction() as tx:
            tx.connection.execute(insert(sources), rows)

    def hits(self) -> Counter[str]:
        """Requests per source path so far."""
        return Counter(r.path for r in self.server.requests if r.path.startswith("/s"))


def make_all_due(storage: Storage) -> None:
    """Start a new round at once: every source due now (what time passing would do)."""
    with storage.transaction() as tx:
        tx.connection.execute(
            update(sources).where(sources.c.kind == "feed").values(next_fetch=None)
        )
