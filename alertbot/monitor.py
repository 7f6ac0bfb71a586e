"""`alertbot run --listen HOST:PORT`: /healthz and /metrics, on a small HTTP server.

    async with serve_monitor(address, monitor) as server:    bound, or a ListenError
        server.url                                           http://127.0.0.1:9108

    GET /healthz   200 "ok" while the scheduler runs and the store answers a trivial read
                   within STORE_WAIT seconds; else 503 and the reason, in one line
    GET /metrics   200 and the Prometheus text format (alertbot.metrics); the outbox
                   gauges are read from the store just before, off the event loop
    another path   404; another method 405; a malformed or oversized request 400

HTTP/1.1, one request per connection (`Connection: close`), served in the run's event
loop, each connection in a task of its own. A client has REQUEST_TIMEOUT seconds to send
its request line and headers (at most MAX_LINE bytes a line, MAX_HEADERS lines) and
WRITE_TIMEOUT seconds to take the answer, and at most MAX_CONNECTIONS are served at once
(more are closed unanswered): a slow or hostile client holds up neither another request
nor the bot. Only the given address is bound.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from alertbot.config import ListenAddress
from alertbot.errors import ListenError
from alertbot.metrics import Metrics
from alertbot.store import Store, StoreError, StoreRunner

log = logging.getLogger(__name__)

STORE_WAIT = 2.0  # s the store has to answer a health check or the outbox read
REQUEST_TIMEOUT = 5.0  # s a client has to send its request line and headers
WRITE_TIMEOUT = 5.0  # s a client has to take the answer
MAX_LINE = 8192  # bytes in the request line or one header line
MAX_HEADERS = 100
MAX_CONNECTIONS = 64  # served at once
TEXT = "text/plain; charset=utf-8"
# What a store that cannot answer raises: the runner once closed ("the store is closed",
# "cannot schedule new futures after shutdown"), SQLite (locked, I/O error, closed).
STORE_FAILURES = (RuntimeError, sqlite3.Error, StoreError)


class Monitor:
    """What the two pages say, from the run's parts: its metrics, its store, and whether
    its scheduler runs."""

    def __init__(
        self,
        metrics: Metrics,
        db: StoreRunner,
        scheduler_running: Callable[[], bool],
        clock: Callable[[], datetime],
    ) -> None:
        self._metrics = metrics
        self._db = db
        self._scheduler_running = scheduler_running
        self._clock = clock
        self._last_problem: str | None = None

    async def health(self) -> str | None:
        """None when healthy, else what is wrong in one line (logged when it changes)."""
        problem = await self._problem()
        if problem != self._last_problem:
            if problem is None:
                log.info("healthz: healthy again")
            else:
                log.warning("healthz: unhealthy: %s", problem)
            self._last_problem = problem
        return problem

    async def _problem(self) -> str | None:
        if not self._scheduler_running():
            return "scheduler not running"
        try:
            await asyncio.wait_for(self._db.run(self._db.store.pending_count), STORE_WAIT)
        except TimeoutError:
            return f"store did not answer within {STORE_WAIT:g} s"
        except STORE_FAILURES as exc:
            return f"store: {_one_line(exc)}"
        return None

    async def metrics_page(self) -> bytes:
        """The metrics, the outbox read from the store now (left out if it cannot be)."""
        now = self._clock()
        try:
            backlog = await asyncio.wait_for(self._db.read(Store.backlog), STORE_WAIT)
        except (TimeoutError, *STORE_FAILURES) as exc:
            log.warning("metrics: the outbox gauges are left out: %s", _one_line(exc))
            backlog = None
        self._metrics.set_backlog(backlog, now)
        return self._metrics.render()


@dataclass(frozen=True)
class Answer:
    """An HTTP response: status, content type, body, more headers."""

    status: HTTPStatus
    body: bytes
    content_type: str = TEXT
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The response as sent, headers and body."""
        lines = [
            f"HTTP/1.1 {self.status.value} {self.status.phrase}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
            "Connection: close",
            *(f"{name}: {value}" for name, value in self.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def _text(status: HTTPStatus, text: str, **headers: str) -> Answer:
    return Answer(status, (text + "\n").encode("utf-8"), headers=headers)


class _BadRequest(Exception):
    """A request that cannot be read as HTTP/1.x (answered 400)."""


@dataclass(frozen=True)
class Request:
    """A request line: method, target, version."""

    method: str
    target: str

    @property
    def path(self) -> str:
        """The target without its query string."""
        return self.target.split("?", 1)[0]


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The request line and headers (the headers are read and dropped: nothing here
    needs them); None if the client closed first. _BadRequest for anything else."""
    line = await _line(reader)
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
        raise _BadRequest("not an HTTP/1.x request line")
    for _ in range(MAX_HEADERS + 1):
        header = await _line(reader)
        if header in (b"\r\n", b"\n"):
            return Request(parts[0], parts[1])
        if not header.endswith(b"\n"):
            raise _BadRequest("the request ended inside its headers")
    raise _BadRequest(f"more than {MAX_HEADERS} header lines")


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readline()
    except ValueError:  # over the reader's limit (MAX_LINE)
        raise _BadRequest(f"a line longer than {MAX_LINE} bytes") from None


class MonitorServer:
    """The listening server and the connections it is serving."""

    def __init__(self, monitor: Monitor, request_timeout: float) -> None:
        self._monitor = monitor
        self._request_timeout = request_timeout
        self._connections: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self.address: ListenAddress | None = None  # as bound (the port chosen for 0)

    @property
    def url(self) -> str:
        """http://address:port of the bound server."""
        return f"http://{self.address}"

    async def start(self, address: ListenAddress) -> None:
        """Bind `address` (a ListenError naming it if that fails) and start serving."""
        try:
            self._server = await asyncio.start_server(
                self._serve, address.host, address.port, limit=MAX_LINE
            )
        except OSError as exc:
            raise ListenError(
                f"cannot serve /healthz and /metrics on {address}: {_bind_error(exc)}"
            ) from None
        port = self._server.sockets[0].getsockname()[1]
        self.address = ListenAddress(address.host, port)

    async def close(self) -> None:
        """Stop listening and drop the connections being served."""
        if self._server is not None:
            self._server.close()
        for task in self._connections:
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: one request, one answer, closed."""
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= MAX_CONNECTIONS:
            writer.transport.abort()
            return
        self._connections.add(task)
        try:
            try:
                async with asyncio.timeout(self._request_timeout):
                    request = await read_request(reader)
            except _BadRequest as exc:
                answer = _text(HTTPStatus.BAD_REQUEST, str(exc))
            else:
                if request is None:
                    return
                answer = await self._answer(request)
            writer.write(answer.encode())
            async with asyncio.timeout(WRITE_TIMEOUT):
                await writer.drain()
            writer.close()
        except (TimeoutError, ConnectionError):
            pass  # a slow, silent or vanished client: dropped unanswered
        finally:
            self._connections.discard(task)
            if not writer.is_closing():
                writer.transport.abort()

    async def _answer(self, request: Request) -> Answer:
        if request.method != "GET":
            return _text(HTTPStatus.METHOD_NOT_ALLOWED, "only GET", Allow="GET")
        try:
            if request.path == "/healthz":
                problem = await self._monitor.health()
                if problem is not None:
                    return _text(HTTPStatus.SERVICE_UNAVAILABLE, problem)
                return _text(HTTPStatus.OK, "ok")
            if request.path == "/metrics":
                page = await self._monitor.metrics_page()
                return Answer(HTTPStatus.OK, page, CONTENT_TYPE_PLAIN_0_0_4)
        except Exception:  # a bug: logged with its traceback, and answered as one
            log.exception("%s %s failed", request.method, request.path)
            return _text(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error (see the log)")
        return _text(HTTPStatus.NOT_FOUND, "not found: try /healthz or /metrics")


@asynccontextmanager
async def serve_monitor(
    address: ListenAddress, monitor: Monitor, *, request_timeout: float = REQUEST_TIMEOUT
) -> AsyncIterator[MonitorServer]:
    """Serve /healthz and /metrics on `address` until the block ends."""
    server = MonitorServer(monitor, request_timeout)
    await server.start(address)
    try:
        yield server
    finally:
        await server.close()


def _bind_error(exc: OSError) -> str:
    """Why a bind failed, without asyncio's wrapping ("address already in use")."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host ({exc.strerror})"
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
