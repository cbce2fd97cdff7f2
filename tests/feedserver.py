"""A real HTTP server on 127.0.0.1 for tests: settable routes, and a record of every request.

A route is a function taking the request (path, headers) and returning a
Reply; hostile behaviours (hanging, trickling, endless bodies) are replies too.
"""

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# A self-signed certificate for 127.0.0.1 (tests/data/tls/README.md).
TLS_CERTIFICATE = Path(__file__).parent / "data" / "tls" / "server.pem"


@dataclass(frozen=True)
class Request:
    """What the server saw: the path and the request headers (lower-cased names)."""

    path: str
    headers: dict[str, str]


@dataclass
class Reply:
    """A response: status, headers and body, or ``stream`` for bodies sent piece by piece."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: "Stream | None" = None
    hang: bool = False  # accept the connection and never answer


Route = Callable[[Request], Reply]
Stream = Callable[[threading.Event], Iterator[bytes]]


class _ThreadingServer(ThreadingHTTPServer):
    # Room for many clients connecting at once: with socketserver's backlog of 5, an
    # eighth simultaneous connect can wait out a SYN retry (about a second), which
    # tests and benchmarks would measure instead of the code.
    request_queue_size = 128
    daemon_threads = True


class FeedServer:
    """Serves ``routes`` on an ephemeral port; ``requests`` lists what arrived, in order.

    With ``tls``, over HTTPS with the certificate ``TLS_CERTIFICATE``, which no client
    trusts unless told to.
    """

    def __init__(self, *, tls: bool = False) -> None:
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.posts: list[tuple[str, str]] = []  # (path, form body) of each POST, e.g. WebSub pings
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()})
                server.requests.append(request)
                route = server.routes.get(self.path.split("?")[0])
                reply = route(request) if route else Reply(404, b"not found")
                if reply.hang:
                    server.stopping.wait(30)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.stream is None:
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for chunk in reply.stream(server.stopping):
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                server.posts.append((self.path, body))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _ThreadingServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(TLS_CERTIFICATE, TLS_CERTIFICATE.with_suffix(".key"))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        # A short poll, so stop() (shutdown waits for the next poll) costs every test less.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def serve(self, path: str, route: Route | Reply) -> str:
        """Set what ``path`` answers; returns its URL."""
        self.routes[path] = route if callable(route) else (lambda _request, r=route: r)
        return self.url(path)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path.split("?")[0] == path]

    def start(self) -> "FeedServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def trickle(pause: float = 0.05) -> Stream:
    """A body that never ends, one byte at a time."""

    def chunks(stopping: threading.Event) -> Iterator[bytes]:
        yield b"<?xml version='1.0'?><rss version='2.0'><channel>"
        while not stopping.is_set():
            time.sleep(pause)
            yield b" "

    return chunks


def endless(chunk: bytes = b"<!-- filler -->" * 4096) -> Stream:
    """A body that never ends, as fast as the client reads."""

    def chunks(stopping: threading.Event) -> Iterator[bytes]:
        yield b"<?xml version='1.0'?><rss version='2.0'><channel>"
        while not stopping.is_set():
            yield chunk

    return chunks
