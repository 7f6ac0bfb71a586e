"""A small threaded HTTP/1.1 server on loopback, for tests and benchmarks.

    with LocalServer() as srv:
        srv.route("/feed", body=b"<rss/>", headers={"Content-Type": "application/rss+xml"})
        srv.route("/page", body=b"hi", headers={"ETag": '"v1"'}, conditional=True)
        srv.route("/slow", body=b"late", delay=0.2)
        srv.route("/gz", body=b"x" * 1000, gzip=True)
        srv.route("/teapot", handler=lambda request: Response(status=418))
        srv.redirect("/old", "/page")
        srv.hang("/never")                # answers nothing until the server closes
        httpx.get(srv.url("/feed"))
        srv.requests                      # every request seen: method, path, headers, time
        srv.max_active                    # the most requests it was handling at once

Routes match the path without its query string; anything else is a 404. Closing the server
wakes every hanging or delayed handler, so `close()` never waits for them.
"""

from __future__ import annotations

import email.utils
import gzip as gzip_module
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


@dataclass(frozen=True)
class Request:
    """A request as the server saw it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    time: float  # time.monotonic() when it arrived


@dataclass
class Response:
    """What a handler answers; `body=None` closes the connection without answering.

    Content-Length is added unless the headers already have one (to test a lying server).
    """

    status: int = 200
    body: bytes | None = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class _Route:
    handler: Handler | None = None
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = False
    gzip: bool = False
    delay: float = 0.0
    hang: bool = False


class ServedInThread:
    """Start, stop and context-manager plumbing for the `ThreadingHTTPServer` in `_server`.

    Subclasses set `_server` and `_closing` (an Event, set first on close so that waiting
    handlers can give up) and may extend `close()` to wake their own waiters.
    """

    _server: ThreadingHTTPServer
    _closing: threading.Event
    _thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self._closing.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


class LocalServer(ServedInThread):
    """An HTTP server on `host`, port 0, serving registered routes from daemon threads."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[Request] = []
        self.max_active = 0
        self._active = 0
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = _Server((host, 0), _RequestHandler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/") -> str:
        """The absolute URL of a path on this server."""
        return f"http://{self.host}:{self.port}{path}"

    def route(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        conditional: bool = False,
        gzip: bool = False,
        delay: float = 0.0,
        handler: Handler | None = None,
    ) -> None:
        """Serve `body` at `path`, or whatever `handler(request)` returns.

        `conditional`: answer 304 when If-None-Match matches the ETag header given, or
        If-Modified-Since is not before the Last-Modified header given. `gzip`: compress the
        body and say so. `delay`: seconds to wait before answering.
        """
        self._routes[path] = _Route(
            handler=handler,
            status=status,
            body=body,
            headers=dict(headers or {}),
            conditional=conditional,
            gzip=gzip,
            delay=delay,
        )

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        """Answer `path` with a redirect to `location` (absolute or relative, as given)."""
        self.route(path, status=status, headers={"Location": location})

    def hang(self, path: str) -> None:
        """Accept requests to `path` and never answer them (until the server closes)."""
        self._routes[path] = _Route(hang=True)

    def requests_to(self, path: str) -> list[Request]:
        """The requests seen for one path (query string ignored)."""
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def _respond(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            self._active += 1
            self.max_active = max(self.max_active, self._active)
        try:
            return self._answer(request)
        finally:
            with self._lock:
                self._active -= 1

    def _answer(self, request: Request) -> Response:
        route = self._routes.get(request.path.split("?", 1)[0])
        if route is None:
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        if route.hang:
            self._closing.wait()
            return Response(body=None)
        if route.delay and self._closing.wait(route.delay):
            return Response(body=None)
        if route.handler is not None:
            return route.handler(request)
        headers = dict(route.headers)
        if route.conditional and _not_modified(request.headers, headers):
            kept = {k: v for k, v in headers.items() if k.lower() in ("etag", "last-modified")}
            return Response(304, b"", kept)
        body = route.body
        if route.gzip:
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        return Response(route.status, body, headers)


def _not_modified(request: dict[str, str], headers: dict[str, str]) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since when both are sent."""
    lower = {k.lower(): v for k, v in headers.items()}
    if "if-none-match" in request:
        tags = [t.strip() for t in request["if-none-match"].split(",")]
        return "etag" in lower and ("*" in tags or lower["etag"] in tags)
    if "if-modified-since" in request and "last-modified" in lower:
        since = email.utils.parsedate_to_datetime(request["if-modified-since"])
        modified = email.utils.parsedate_to_datetime(lower["last-modified"])
        return modified <= since
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    owner: LocalServer

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away is not an error worth a traceback in test output."""


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: with Nagle on, the body waits ~40 ms for the
    # client's delayed ACK on every response.
    disable_nagle_algorithm = True
    timeout = 10  # an idle keep-alive connection gives up its thread after this
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._handle()

    def _handle(self) -> None:
        request = Request(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            time=time.monotonic(),
        )
        response = self.server.owner._respond(request)
        if response.body is None:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        bodyless = response.status in (204, 304) or 100 <= response.status < 200
        given = {name.lower() for name in response.headers}
        if not bodyless and "content-length" not in given:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and not bodyless:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read `LocalServer.requests` instead."""
