"""Politeness towards the sites whose article pages we read: robots.txt, and a pause per host.

A feed is published to be fetched; an article page is not, so each site's
robots.txt (RFC 9309) is read once per run, through the same client and limits
as everything else, and obeyed for our User-Agent. Requests to one host start at
least ``delay`` apart (longer when robots.txt asks with Crawl-delay). The clock
and the pause are passed in, so tests need not wait.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from aggregator.config import FetchSettings
from aggregator.ingest.http import USER_AGENT, fetch

if TYPE_CHECKING:  # ingest.http imports httpx (issue #22: without its command line)
    import httpx


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass
class HostPacer:
    """Spaces the requests to each host ``delay`` seconds apart (or a host's own, longer one).

    ``wait(host)`` reserves the host's next slot and pauses until it comes, so
    threads fetching from one host go one slot after another, and other hosts
    are not held up.
    """

    delay: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    _next: dict[str, float] = field(default_factory=dict)
    _own: dict[str, float] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def slow_down(self, host: str, delay: float) -> None:
        """Use a longer delay for one host (its robots.txt Crawl-delay)."""
        with self._guard:
            self._own[host] = max(delay, self.delay)

    def wait(self, host: str) -> None:
        with self._guard:
            now = self.clock()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self._own.get(host, self.delay)
        if start > now:
            self.sleep(start - now)


@dataclass(frozen=True)
class RobotsVerdict:
    """Whether robots.txt lets us read a page; ``unreadable``: it could not be read now (so
    nothing may be read from the host now, and the page may be tried again later)."""

    allowed: bool
    reason: str | None = None
    unreadable: bool = False


class RobotsRules:
    """Each host's robots.txt, fetched at most once per run (one per host at a time)."""

    def __init__(self, client: "httpx.Client", settings: FetchSettings, pacer: HostPacer) -> None:
        self.client, self.settings, self.pacer = client, settings, pacer
        self._parsers: dict[str, RobotFileParser | RobotsVerdict] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def verdict(self, url: str) -> RobotsVerdict:
        host = host_of(url)
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            if host not in self._parsers:
                self._parsers[host] = self._read(host)
        rules = self._parsers[host]
        if isinstance(rules, RobotsVerdict):
            return rules
        if rules.can_fetch(USER_AGENT, url):
            return RobotsVerdict(True)
        return RobotsVerdict(False, f"disallowed by {host}/robots.txt")

    def _read(self, host: str) -> RobotFileParser | RobotsVerdict:
        """RFC 9309 §2.3.1: a robots.txt that is missing (4xx) allows everything; one that
        cannot be read (5xx, timeout, network) disallows everything for now."""
        self.pacer.wait(host)
        result = fetch(self.client, f"{host}/robots.txt", self.settings, accept="text/plain")
        if result.outcome == "ok" and result.body is not None:
            parser = RobotFileParser()
            parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
            delay = parser.crawl_delay(USER_AGENT)
            if delay:
                self.pacer.slow_down(host, float(delay))
            return parser
        status = result.http_status
        if status is not None and 400 <= status < 500:
            return RobotsVerdict(True)
        reason = f"{host}/robots.txt could not be read: {result.error}"
        return RobotsVerdict(False, reason, unreadable=True)
