"""Polite, bounded fetching of web sources over HTTP (httpx); it fetches bytes and decides nothing.

Conditional GET with the stored validators (RFC 9110 §13), redirects followed
by hand (so a 301/308 chain can move the stored URL, a 302/307 cannot, and no
redirect leaves http/https or loops), and hard limits: connect and read
timeouts, an overall deadline per fetch, and a size cap on the decoded body
that aborts the download (so a gzip bomb stops at the cap, not at the bomb).
"""

import os
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from aggregator import HOMEPAGE, __version__
from aggregator.config import FetchSettings
from aggregator.optional_imports import without
from aggregator.types import FetchOutcome

with without("click"):  # httpx's command line
    import httpx

USER_AGENT = f"aggregator/{__version__} (+{HOMEPAGE})"
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/feed+json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class FetchResult:
    """What one fetch came to.

    ``outcome`` is OK (a body), NOT_MODIFIED (304), GONE (410) or ERROR (with
    ``error`` saying what, and ``http_status`` when there was one).
    ``moved_to`` is set when only permanent redirects led to the body's URL.
    """

    outcome: FetchOutcome
    url: str
    http_status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    moved_to: str | None = None
    error: str | None = None

    @property
    def status_text(self) -> str:
        return f"{self.http_status}" if self.http_status else self.outcome


class _TooLarge(Exception):
    pass


class _PastDeadline(Exception):
    pass


class TrustOnFirstHandshake(ssl.SSLContext):
    """The client's TLS context, as httpx makes it (certificates verified against certifi's
    bundle, or SSL_CERT_FILE / SSL_CERT_DIR), loading those certificates at its first
    handshake rather than when the client is made: loading them takes 30-50 ms, more than
    the rest of a round where every source on plain http answers 304 (issue #22)."""

    def __new__(cls) -> "TrustOnFirstHandshake":
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self) -> None:
        self._loading = threading.Lock()
        self.loaded = False

    def _load(self) -> None:
        with self._loading:
            if self.loaded:
                return
            if os.environ.get("SSL_CERT_FILE"):  # as httpx.create_ssl_context reads them
                self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi  # httpx's own dependency, and its default bundle

                self.load_verify_locations(cafile=certifi.where())
            self.loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:  # type: ignore[override]
        self._load()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:  # type: ignore[override]
        self._load()
        return super().wrap_bio(*args, **kwargs)


def make_client(settings: FetchSettings) -> httpx.Client:
    """One client for a run: shared connection pool, our timeouts, identifying headers."""
    timeout = httpx.Timeout(
        connect=settings.connect_timeout.total_seconds(),
        read=settings.read_timeout.total_seconds(),
        write=settings.read_timeout.total_seconds(),
        pool=settings.deadline.total_seconds(),
    )
    with without("trio"):  # imported by httpcore, which the first client made imports
        return httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            limits=httpx.Limits(max_connections=settings.workers * 2),
            verify=TrustOnFirstHandshake(),
        )


def fetch(
    client: httpx.Client,
    url: str,
    settings: FetchSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str | None = None,
) -> FetchResult:
    """GET ``url`` conditionally, within every limit in ``settings``; never raises for the web.

    ``accept``: what to ask for instead of a feed (an article page asks for HTML).
    """
    deadline = time.monotonic() + settings.deadline.total_seconds()
    visited: set[str] = set()
    current, permanent = url, True
    for _ in range(settings.max_redirects + 1):
        scheme = urlsplit(current).scheme.lower()
        if scheme not in ("http", "https"):
            return FetchResult(
                FetchOutcome.ERROR, url, error=f"redirect to a {scheme or 'relative'}: URL refused"
            )
        if current in visited:
            return FetchResult(FetchOutcome.ERROR, url, error=f"redirect loop at {current}")
        visited.add(current)
        headers = {"Accept": accept} if accept else {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with client.stream("GET", current, headers=headers) as response:
                status = response.status_code
                response_headers = {k.lower(): v for k, v in response.headers.items()}
                if status in _REDIRECTS and "location" in response_headers:
                    permanent = permanent and status in _PERMANENT
                    current = urljoin(current, response_headers["location"])
                    continue
                moved = current if permanent and current != url else None
                if status == 304:
                    return FetchResult(
                        FetchOutcome.NOT_MODIFIED, current, status, None, response_headers, moved
                    )
                if status == 410:
                    return FetchResult(
                        FetchOutcome.GONE, current, status, None, response_headers, moved
                    )
                if status != 200:
                    return FetchResult(
                        FetchOutcome.ERROR, current, status, None, response_headers, moved,
                        error=f"HTTP {status} {response.reason_phrase}".strip(),
                    )  # fmt: skip
                body = _read_body(response, settings.max_bytes, deadline)
                return FetchResult(FetchOutcome.OK, current, status, body, response_headers, moved)
        except _TooLarge:
            return FetchResult(
                FetchOutcome.ERROR,
                current,
                error=f"response larger than {settings.max_bytes} bytes: aborted",
            )
        except _PastDeadline:
            return FetchResult(
                FetchOutcome.ERROR,
                current,
                error=f"no complete response within {settings.deadline.total_seconds():g}s",
            )
        except httpx.TimeoutException as error:
            return FetchResult(
                FetchOutcome.ERROR, current, error=f"timed out ({type(error).__name__})"
            )
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return FetchResult(
                FetchOutcome.ERROR, current, error=f"{type(error).__name__}: {error}"
            )
    return FetchResult(
        FetchOutcome.ERROR, url, error=f"more than {settings.max_redirects} redirects"
    )


def _read_body(response: httpx.Response, limit: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    # iter_bytes yields decoded (decompressed) data, so the cap holds for compressed bodies too.
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        if time.monotonic() > deadline:
            raise _PastDeadline
        chunks.append(chunk)
    return b"".join(chunks)


def run_per_host(
    jobs: Iterable[T],
    host_of: Callable[[T], str],
    work: Callable[[T], R],
    *,
    workers: int,
    per_host: int,
) -> Iterator[list[tuple[T, R]]]:
    """Run ``work`` over ``jobs`` on a bounded thread pool, at most ``per_host`` at once per host.

    Results are yielded as they complete, so one slow source delays nobody else: each
    time, all that are ready, so a consumer can handle them together (the writer
    writes them in one transaction) before it waits for more. Jobs are taken from
    ``jobs`` as results are handed on, at most ``workers`` running plus ``workers``
    finished and waiting: when the consumer (one writer) is slower than the pool,
    fetched bodies and parsed feeds do not pile up for every source of the run.
    """
    semaphores: dict[str, threading.BoundedSemaphore] = {}
    guard = threading.Lock()

    def limited(job: T) -> R:
        host = host_of(job)
        with guard:
            semaphore = semaphores.setdefault(host, threading.BoundedSemaphore(per_host))
        with semaphore:
            return work(job)

    waiting = iter(jobs)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        futures: dict[Future[R], T] = {}
        while True:
            for job in islice(waiting, 2 * workers - len(futures)):
                futures[pool.submit(limited, job)] = job
            if not futures:
                return
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            # Popped, so a result (a fetched body, a parsed feed) is freed once handled.
            yield [(futures.pop(future), future.result()) for future in done]
