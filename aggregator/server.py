"""Serves the feeds folder over HTTP the way feed readers and caches like it.

A small WSGI application (run under waitress, a production WSGI server) that
serves only the files the publisher writes: Atom feeds, archive pages, the
HTML pages and the OPML list. Strong ETags and Last-Modified with 304
answers, HEAD, gzip when asked, and Cache-Control (archive pages are
immutable). Anything else is a 404: no directory listing, no path outside the
folder. The files are served under the path of ``publish.base_url``
(``http://host/feeds/`` -> ``/feeds/all.xml``), since that is where every self link,
subscribe link and OPML entry the publisher wrote points.
"""

import gzip
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import waitress
from prometheus_client import CONTENT_TYPE_LATEST
from waitress.server import BaseWSGIServer, MultiSocketServer

from aggregator.errors import ListenError
from aggregator.store import Storage, published

log = logging.getLogger("aggregator.server")

StartResponse = Callable[[str, list[tuple[str, str]]], object]
_SERVED = re.compile(
    r"^/(?:(?:archive/[a-z0-9-]+/\d+|[a-z0-9-]+)\.(?:xml|html)"
    r"|stories/[0-9a-f]{16}\.html|feeds\.opml)$"
)
_TYPES = {
    ".xml": "application/atom+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
}
FEED_MAX_AGE = 300


def base_path(base_url: str) -> str:
    """The path the feeds are published under: "/feeds/" for "http://host:8080/feeds/"."""
    path = urlsplit(base_url).path
    return path if path.endswith("/") else path + "/"


@dataclass(frozen=True)
class _Representation:
    body: bytes
    gzipped: bytes
    etag: str
    mtime: float


class FeedsApp:
    """The WSGI application over one feeds folder, or over the files published to the database.

    With ``storage`` (publish.to_database), the files are read from the database, so
    any machine with its URL serves the same bytes under the same ETags.
    """

    def __init__(
        self,
        folder: Path,
        metrics: Callable[[], bytes] | None = None,
        storage: Storage | None = None,
        prefix: str = "/",
    ) -> None:
        self.folder = folder.resolve()
        self.metrics = metrics
        self.storage = storage
        self.prefix = prefix
        self._cache: dict[Path, tuple[object, _Representation]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        if path == "/metrics" and self.metrics is not None and method == "GET":
            body = self.metrics()
            start_response(
                "200 OK",
                [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body))),
                 ("Cache-Control", "no-store")],
            )  # fmt: skip
            return [body]
        if method not in ("GET", "HEAD"):
            return self._plain(
                start_response,
                "405 Method Not Allowed",
                b"GET or HEAD only\n",
                [("Allow", "GET, HEAD")],
            )
        if path + "/" == self.prefix:
            return self._plain(
                start_response, "301 Moved Permanently", b"", [("Location", self.prefix)]
            )
        if not path.startswith(self.prefix):
            return self._plain(
                start_response, "404 Not Found", b"not found\n", head=method == "HEAD"
            )
        path = "/" + path.removeprefix(self.prefix)
        if path == "/":
            path = "/index.html"
        # Only names the publisher writes; "..", "%2e%2e", "//" and directories never match.
        file = self.folder / path.lstrip("/")
        load = self._load if self.storage is None else self._load_published
        representation = load(file) if _SERVED.match(path) else None
        if representation is None:
            return self._plain(
                start_response, "404 Not Found", b"not found\n", head=method == "HEAD"
            )

        wants_gzip = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
        body = representation.gzipped if wants_gzip else representation.body
        # Each encoding is its own representation with its own strong ETag (RFC 9110 §8.8.3).
        etag = f'"{representation.etag}{"-gz" if wants_gzip else ""}"'
        immutable = path.startswith("/archive/")
        headers = [
            ("ETag", etag),
            ("Last-Modified", formatdate(representation.mtime, usegmt=True)),
            (
                "Cache-Control",
                "public, max-age=31536000, immutable"
                if immutable
                else f"public, max-age={FEED_MAX_AGE}",
            ),
            ("Vary", "Accept-Encoding"),
        ]
        if self._not_modified(environ, etag, representation.mtime):
            # A 304 carries the validators and caching fields only (RFC 9110 §15.4.5).
            start_response("304 Not Modified", headers)
            return [b""]
        headers += [("Content-Type", _TYPES[file.suffix]), ("X-Content-Type-Options", "nosniff")]
        if wants_gzip:
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response("200 OK", headers)
        return [b"" if method == "HEAD" else body]

    @staticmethod
    def _not_modified(environ: dict, etag: str, mtime: float) -> bool:
        """RFC 9110 §13.1: If-None-Match wins; If-Modified-Since only without it."""
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            return "*" in tags or etag in tags
        since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if since:
            try:
                return int(mtime) <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _load(self, file: Path) -> _Representation | None:
        """The file's bytes, gzip and ETag, cached until the publisher replaces the file."""
        try:
            stat = file.stat()
        except OSError:
            return None
        if not file.is_file():
            return None
        key = (stat.st_mtime, stat.st_size)
        with self._lock:
            cached = self._cache.get(file)
            if cached and cached[0] == key:
                return cached[1]
        body = file.read_bytes()
        representation = _Representation(
            body,
            gzip.compress(body, mtime=0),
            hashlib.sha256(body).hexdigest()[:32],
            stat.st_mtime,
        )
        with self._lock:
            self._cache[file] = (key, representation)
        return representation

    def _load_published(self, file: Path) -> _Representation | None:
        """A published file's bytes from the database, re-read only when its digest changes."""
        assert self.storage is not None
        path = file.relative_to(self.folder).as_posix()
        found = published.digest_of(self.storage, path)
        if found is None:
            return None
        with self._lock:
            cached = self._cache.get(file)
            if cached and cached[0] == found:
                return cached[1]
        body = published.content_of(self.storage, path)
        if body is None:
            return None  # removed in between
        representation = _Representation(
            body, gzip.compress(body, mtime=0), found[0][:32], found[1].timestamp()
        )
        with self._lock:
            self._cache[file] = (found, representation)
        return representation

    @staticmethod
    def _plain(
        start_response: StartResponse,
        status: str,
        body: bytes,
        extra: list | None = None,
        head: bool = False,
    ) -> list[bytes]:
        start_response(
            status,
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("X-Content-Type-Options", "nosniff"),
                *(extra or []),
            ],
        )
        return [b"" if head else body]


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header asks for gzip (RFC 9110 §12.5.3: "gzip;q=0" refuses it)."""
    qualities: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, *parameters = (p.strip() for p in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            if parameter.startswith("q="):
                try:
                    quality = float(parameter[2:])
                except ValueError:
                    quality = 0.0
        qualities[coding] = quality
    return qualities.get("gzip", qualities.get("x-gzip", qualities.get("*", 0.0))) > 0


def make_server(
    folder: Path,
    host: str,
    port: int,
    metrics: Callable[[], bytes] | None = None,
    storage: Storage | None = None,
    prefix: str = "/",
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server for the feeds (and /metrics), bound and ready to ``run()``."""
    return waitress.create_server(
        FeedsApp(folder, metrics, storage, prefix),
        host=host,
        port=port,
        ident="aggregator",
        threads=4,
    )


class BackgroundServer:
    """The server on a thread of its own, beside the daemon's scheduler or a waiting main thread."""

    def __init__(
        self,
        folder: Path,
        host: str,
        port: int,
        metrics: Callable[[], bytes] | None = None,
        storage: Storage | None = None,
        prefix: str = "/",
    ) -> None:
        try:
            self.server = make_server(folder, host, port, metrics, storage, prefix)
        except OSError as error:
            raise ListenError(host, port, error.strerror or str(error)) from None
        self.url = f"http://{host}:{self.server.effective_port}{prefix}"
        self.thread = threading.Thread(target=self.server.run, name="serve", daemon=True)

    def start(self) -> "BackgroundServer":
        self.thread.start()
        log.info("serving feeds at %s", self.url)
        return self

    def stop(self) -> None:
        """Close every socket from inside the server's own loop, which then ends.

        Closing them from this thread would pull them from under a running select().
        """

        def close_all() -> None:
            for channel in list(self.server._map.values()):  # noqa: SLF001 (waitress's socket map)
                channel.close()

        self.server.trigger.pull_trigger(close_all)
        self.thread.join(timeout=10)
