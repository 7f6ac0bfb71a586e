"""`alertbot run --listen` (issue 15): /metrics and /healthz over real HTTP on loopback, from
a real app polling a local feed; the HTTP server's refusals and its slow clients; the
`[metrics]` section and the `--listen` option."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from prometheus_client.parser import text_string_to_metric_families

import alertbot.monitor
from alertbot import app
from alertbot.app import Runtime, open_app
from alertbot.cli import cli
from alertbot.config import ListenAddress, load_config, validate_config
from alertbot.errors import ListenError
from alertbot.metrics import Metrics
from alertbot.monitor import Monitor, serve_monitor
from alertbot.scheduler import PollOutcome
from alertbot.sources.model import FetchError, FetchErrorKind
from alertbot.store import StoreRunner
from alertbot.text.lemmatize import Lemmatizer
from alertbot.watch.match import Matcher
from testsupport.botapi import TOKEN, BotApi
from testsupport.clocks import Clock
from testsupport.httpserver import LocalServer
from testsupport.ports import free_port
from testsupport.sourcefixtures import NewsItem, news_items, rss

FEED_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}
IDS = ("ant-1", "ant-2", "ant-9", "ant-10")  # ant-2 and ant-9 mention Egypt
CLOSED_PORT_URL = "http://127.0.0.1:1/rss.xml"  # nothing listens on port 1
ANY_PORT = ListenAddress("127.0.0.1", 0)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(page: str) -> Samples:
    """Every sample of a /metrics page by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(page)
        for s in family.samples
    }


def value(page: Samples, name: str, **labels: str) -> float:
    """One sample's value; a KeyError naming it when the page lacks it."""
    return page[(name, tuple(sorted(labels.items())))]


def write_config(path: Path, sources: list[tuple[str, str]], extra: str = "") -> Path:
    """A console-only config: the sources, one watch (مصر), `extra` at the top."""
    lines = [f"database = {json.dumps(str(path.parent / 'alertbot.db'))}", extra, ""]
    lines += ["[polling]", 'timeout = "2s"', ""]
    for name, url in sources:
        lines += ["[[source]]", f"name = {json.dumps(name)}", f"url = {json.dumps(url)}", ""]
    lines += ["[[watch]]", 'name = "Egypt"', 'query = "مصر"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def serve_outlet(server: LocalServer) -> list[NewsItem]:
    """A full-text feed of four articles of the last hour at /outlet/rss.xml."""
    base = server.url("/outlet")
    items = news_items(ids=IDS, base_url=base, arabic_slugs=False,
                       start=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
    feed = rss(items, base_url=base, full_text=True)
    server.route("/outlet/rss.xml", feed, headers=FEED_HEADERS)
    return items


@asynccontextmanager
async def monitored(runtime: Runtime) -> AsyncIterator[str]:
    """/healthz and /metrics of a runtime (on its clock) on a free loopback port; the URL."""
    scheduler = runtime.scheduler
    monitor = Monitor(runtime.metrics, scheduler.db, lambda: scheduler.running, scheduler.clock)
    async with serve_monitor(ANY_PORT, monitor) as server:
        yield server.url


async def scrape(base: str) -> Samples:
    """GET /metrics, checked to be the Prometheus text format, parsed."""
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(f"{base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["connection"] == "close"
    return samples(response.text)


async def get(url: str, method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False) as client:  # no proxy for loopback
        return await client.request(method, url)


async def until(condition, what: str) -> None:
    """Yield to the event loop until `condition()` holds (a few hundred turns at most)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never: {what}")


# -- the numbers, from a real app --------------------------------------------------------


async def test_a_poll_its_matched_articles_and_their_alerts_show_on_metrics(
    tmp_path: Path, lemmatizer: Lemmatizer
) -> None:
    """Pins the hooks: a poll, a failed poll, the articles and matches, the queued alerts
    waiting in the outbox (and for how long, by the injected clock), then sent, with their
    latency; the page is served over HTTP while the app's scheduler is not running."""
    clock = Clock(datetime.now(UTC))
    with LocalServer() as server:
        items = serve_outlet(server)
        config = load_config(write_config(
            tmp_path / "alertbot.toml",
            [("Outlet", server.url("/outlet/rss.xml")), ("Down", CLOSED_PORT_URL)],
        ))  # fmt: skip
        matcher = Matcher(config.watches, lemmatizer)
        matched = [i for i in items if matcher.match_article(i.plain_title, i.plain_text)]
        assert len(matched) == 2
        runtime = await open_app(config, lemmatizer, stdout=io.StringIO(), clock=clock)
        async with runtime.stack, monitored(runtime) as base:
            scheduler = runtime.scheduler
            before = await scrape(base)
            outlet, down = scheduler.sources.values()
            await scheduler.poll_source(outlet)
            await scheduler.poll_source(down)
            queued = await scrape(base)
            clock.now += timedelta(seconds=90)
            waited = await scrape(base)
            sent = await scheduler.dispatcher.dispatch()
            delivered = await scrape(base)
            health = await get(f"{base}/healthz")

    assert sent.sent == 2
    assert value(before, "alertbot_articles_total") == 0
    assert value(before, "alertbot_outbox_pending", channel="console") == 0
    assert value(before, "alertbot_alerts_sent_total", channel="console") == 0
    assert value(before, "alertbot_role", role="bot") == 0

    assert value(queued, "alertbot_polls_total", source="Outlet") == 1
    assert value(queued, "alertbot_poll_failures_total", source="Outlet") == 0
    assert value(queued, "alertbot_source_failing", source="Outlet") == 0
    assert value(queued, "alertbot_polls_total", source="Down") == 1
    assert value(queued, "alertbot_poll_failures_total", source="Down") == 1
    assert value(queued, "alertbot_source_failing", source="Down") == 1
    assert value(queued, "alertbot_articles_total") == len(items)
    assert value(queued, "alertbot_articles_duplicate_total") == 0
    assert value(queued, "alertbot_articles_matched_total") == 2
    assert value(queued, "alertbot_articles_filed_total", story="new") == 2
    assert value(queued, "alertbot_alerts_queued_total") == 2
    assert value(queued, "alertbot_outbox_pending", channel="console") == 2
    assert value(queued, "alertbot_outbox_oldest_pending_seconds", channel="console") == 0
    assert value(queued, "alertbot_outbox_pending", channel="telegram") == 0

    assert value(waited, "alertbot_outbox_oldest_pending_seconds", channel="console") == 90

    assert value(delivered, "alertbot_alerts_sent_total", channel="console") == 2
    assert value(delivered, "alertbot_alerts_failed_total", channel="console") == 0
    assert value(delivered, "alertbot_outbox_pending", channel="console") == 0
    assert value(delivered, "alertbot_outbox_oldest_pending_seconds", channel="console") == 0
    latency = "alertbot_dispatch_latency_seconds"
    assert value(delivered, f"{latency}_count", channel="console") == 2
    assert value(delivered, f"{latency}_sum", channel="console") == 180
    assert value(delivered, f"{latency}_bucket", channel="console", le="60.0") == 0
    assert value(delivered, f"{latency}_bucket", channel="console", le="120.0") == 2

    assert (health.status_code, health.text) == (503, "scheduler not running\n")


async def test_a_source_backing_off_after_a_restart_is_failing_without_a_poll(
    tmp_path: Path, lemmatizer: Lemmatizer
) -> None:
    """A source that failed before a restart is skipped while it backs off (up to hours):
    its `alertbot_source_failing` is 1 from its first skipped run, not from its next poll."""
    config = load_config(write_config(tmp_path / "alertbot.toml", [("Down", CLOSED_PORT_URL)]))
    runtime = await open_app(config, lemmatizer, stdout=io.StringIO())
    async with runtime.stack:
        (down,) = runtime.scheduler.sources.values()
        assert (await runtime.scheduler.poll_source(down)).error is not None
    restarted = await open_app(config, lemmatizer, stdout=io.StringIO())
    async with restarted.stack, monitored(restarted) as base:
        (down,) = restarted.scheduler.sources.values()
        assert (await restarted.scheduler.poll_source(down)).skipped
        page = await scrape(base)
    assert value(page, "alertbot_source_failing", source="Down") == 1
    assert ("alertbot_polls_total", (("source", "Down"),)) not in page


async def test_healthz_is_200_while_the_scheduler_runs_and_503_once_it_stops(
    tmp_path: Path, lemmatizer: Lemmatizer
) -> None:
    """Pins /healthz and the clusterer role over `run_forever` and its shutdown."""
    config = load_config(write_config(tmp_path / "alertbot.toml", [("Down", CLOSED_PORT_URL)]))
    runtime = await open_app(config, lemmatizer, stdout=io.StringIO())
    try:
        async with runtime.stack, monitored(runtime) as base:
            scheduler = runtime.scheduler
            stop = asyncio.Event()
            running = asyncio.create_task(scheduler.run_forever(stop))
            await until(lambda: scheduler.running, "the scheduler runs")
            up = await get(f"{base}/healthz")
            roles = await scrape(base)
            stop.set()
            await running
            down = await get(f"{base}/healthz")
            after = await scrape(base)
    finally:
        gc.unfreeze()  # run_forever froze this test process's objects
    assert (up.status_code, up.text) == (200, "ok\n")
    assert up.headers["connection"] == "close"
    assert value(roles, "alertbot_role", role="clusterer") == 1
    assert value(roles, "alertbot_role", role="bot") == 0  # no Telegram
    assert (down.status_code, down.text) == (503, "scheduler not running\n")
    assert value(after, "alertbot_role", role="clusterer") == 0


async def test_the_bot_role_is_held_while_telegram_polling_runs(
    tmp_path: Path, lemmatizer: Lemmatizer
) -> None:
    """Pins `alertbot_role{role="bot"}`, which the README's "no worker holds the bot"
    alert reads: 1 from the start of Telegram polling to its stop."""
    with BotApi() as api:
        telegram = f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api.url}"'
        path = write_config(tmp_path / "alertbot.toml", [("Down", CLOSED_PORT_URL)], telegram)
        runtime = await open_app(load_config(path), lemmatizer)
        try:
            async with runtime.stack, monitored(runtime) as base:
                scheduler = runtime.scheduler
                stop = asyncio.Event()
                running = asyncio.create_task(scheduler.run_forever(stop))
                await until(lambda: scheduler.running, "the scheduler runs")
                held = await scrape(base)
                stop.set()
                await running
                released = await scrape(base)
        finally:
            gc.unfreeze()
    assert value(held, "alertbot_role", role="bot") == 1
    assert value(held, "alertbot_role", role="clusterer") == 1
    assert value(released, "alertbot_role", role="bot") == 0


def test_a_removed_source_leaves_the_page() -> None:
    """A source removed from Telegram (/removesource) while failing would keep the
    "source failing" alert firing until a restart: its series go with it."""
    metrics = Metrics()
    error = FetchError(FetchErrorKind.TIMEOUT, "timed out")
    metrics.polled(PollOutcome("Added", error=error))
    metrics.polled(PollOutcome("Kept"))
    assert value(samples(metrics.render().decode()), "alertbot_source_failing", source="Added")
    metrics.forget_source("Added")
    metrics.forget_source("Never polled")
    page = samples(metrics.render().decode())
    assert not [key for key in page if ("source", "Added") in key[1]]
    assert value(page, "alertbot_polls_total", source="Kept") == 1


# -- the store behind the pages ----------------------------------------------------------


@asynccontextmanager
async def served(
    db: StoreRunner, address: ListenAddress = ANY_PORT, **kwargs: float
) -> AsyncIterator[str]:
    """The pages of fresh metrics over `db`, its scheduler said to be running; the URL."""
    monitor = Monitor(Metrics(), db, lambda: True, lambda: datetime.now(UTC))
    async with serve_monitor(address, monitor, **kwargs) as server:
        yield server.url


async def test_healthz_is_503_naming_the_store_when_it_is_closed_and_metrics_still_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Pins the store's part of /healthz, and /metrics leaving out the outbox gauges
    (rather than showing them stale) when the store cannot be read."""
    db = StoreRunner.open(tmp_path / "alertbot.db")
    async with served(db) as base:
        healthy = await get(f"{base}/healthz")
        assert (healthy.status_code, healthy.text) == (200, "ok\n")
        assert value(await scrape(base), "alertbot_outbox_pending", channel="console") == 0
        db.close()
        closed = await get(f"{base}/healthz")
        page = await scrape(base)
    assert closed.status_code == 503
    assert closed.text == "store: RuntimeError: the store is closed\n"
    assert not [key for key in page if key[0].startswith("alertbot_outbox")]
    assert value(page, "alertbot_articles_total") == 0
    assert "healthz: unhealthy: store: RuntimeError: the store is closed" in caplog.messages


async def test_healthz_is_503_when_the_store_does_not_answer_in_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store thread busy past STORE_WAIT (a long write, a disk that hangs) is unhealthy."""
    monkeypatch.setattr(alertbot.monitor, "STORE_WAIT", 0.2)
    db = StoreRunner.open(tmp_path / "alertbot.db")
    try:
        async with served(db) as base:
            busy = asyncio.create_task(db.run(time.sleep, 0.6))
            await asyncio.sleep(0)  # queued: the health check's read waits behind it
            answer = await get(f"{base}/healthz")
            await busy
            again = await get(f"{base}/healthz")
    finally:
        db.close()
    assert (answer.status_code, answer.text) == (503, "store did not answer within 0.2 s\n")
    assert again.status_code == 200


# -- the HTTP server ---------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StoreRunner]:
    opened = StoreRunner.open(tmp_path / "alertbot.db")
    yield opened
    opened.close()


async def test_other_paths_are_404_other_methods_405_and_garbage_400(
    db: StoreRunner,
) -> None:
    async with served(db) as base:
        missing = await get(f"{base}/")
        posted = await get(f"{base}/metrics", "POST")
        head = await get(f"{base}/healthz", "HEAD")
        query = await get(f"{base}/healthz?verbose=1")
        garbage = await raw(base, b"hello\r\n\r\n")
        long_header = await raw(base, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 10_000 + b"\r\n\r\n")
        many = await raw(base, b"GET /metrics HTTP/1.1\r\n" + b"X: 1\r\n" * 101 + b"\r\n")
        still = await get(f"{base}/healthz")
    assert missing.status_code == 404
    assert (posted.status_code, posted.headers["allow"]) == (405, "GET")
    assert head.status_code == 405
    assert query.status_code == 200
    assert garbage.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"not an HTTP/1.x request line" in garbage
    assert long_header.startswith(b"HTTP/1.1 400 ")
    assert b"longer than 8192 bytes" in long_header
    assert many.startswith(b"HTTP/1.1 400 ")
    assert still.status_code == 200


async def raw(base: str, request: bytes) -> bytes:
    """Send bytes as they are; everything the server answers before it closes."""
    host, port = httpx.URL(base).host, httpx.URL(base).port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_a_slow_client_holds_up_no_other_request_and_is_dropped(
    db: StoreRunner,
) -> None:
    """Pins the request deadline: a client that sends half a request line and waits is
    dropped unanswered, and a request made meanwhile is answered before that."""
    async with served(db, request_timeout=1.5) as base:
        url = httpx.URL(base)
        reader, writer = await asyncio.open_connection(url.host, url.port)
        writer.write(b"GET /metr")
        await writer.drain()

        async def dropped() -> float:
            assert await asyncio.wait_for(reader.read(), 10) == b""  # closed, no answer
            return time.monotonic()

        async def answered() -> float:
            response = await get(f"{base}/healthz")
            assert response.status_code == 200
            return time.monotonic()

        dropped_at, answered_at = await asyncio.gather(dropped(), answered())
        writer.close()
    assert answered_at < dropped_at


async def test_a_port_in_use_is_a_listen_error_naming_the_address(
    db: StoreRunner,
) -> None:
    with held_port() as port, pytest.raises(ListenError) as raised:
        async with served(db, ListenAddress("127.0.0.1", port)):
            pass
    assert str(raised.value) == (
        f"cannot serve /healthz and /metrics on 127.0.0.1:{port}: address already in use"
    )


@contextmanager
def held_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


# -- alertbot run --------------------------------------------------------------------------


async def test_run_serves_the_pages_during_the_run_and_closes_them_at_its_end(
    tmp_path: Path, lemmatizer: Lemmatizer
) -> None:
    """Pins the wiring in `alertbot.app.run`: `[metrics] listen` is served from start (a
    `--once` pass has no running scheduler: 503), and closed when the run ends."""
    port = free_port()
    with LocalServer() as server:
        server.hang("/feed")  # the pass lasts the 2 s fetch timeout
        config = load_config(write_config(
            tmp_path / "alertbot.toml", [("Hung", server.url("/feed"))],
            extra=f'[metrics]\nlisten = "127.0.0.1:{port}"',
        ))  # fmt: skip
        lines: list[str] = []
        pages: list[asyncio.Task[tuple[httpx.Response, Samples]]] = []

        async def look(base: str) -> tuple[httpx.Response, Samples]:
            return await get(f"{base}/healthz"), await scrape(base)

        def echo(line: str) -> None:
            lines.append(line)
            if line.startswith("/healthz and /metrics at "):
                pages.append(asyncio.create_task(look(line.rsplit(" ", 1)[1])))

        status = await app.run(config, lemmatizer, once=True, echo=echo)
    assert status == 1  # the one source failed
    assert f"/healthz and /metrics at http://127.0.0.1:{port}" in lines
    health, page = await pages[0]
    assert (health.status_code, health.text) == (503, "scheduler not running\n")
    assert value(page, "alertbot_role", role="clusterer") == 0
    with pytest.raises(httpx.ConnectError):
        await get(f"http://127.0.0.1:{port}/healthz")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.usefixtures("cli_in_process")
def test_run_with_its_port_in_use_exits_2_in_one_line_naming_it(tmp_path: Path) -> None:
    with held_port() as port:
        config = write_config(
            tmp_path / "alertbot.toml", [("Down", CLOSED_PORT_URL)],
            extra=f'[metrics]\nlisten = "127.0.0.1:{port}"',
        )  # fmt: skip
        refused = invoke("run", "--once", "--config", str(config))
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.splitlines() == [
        f"alertbot: cannot serve /healthz and /metrics on 127.0.0.1:{port}: address already in use"
    ]


@pytest.mark.usefixtures("cli_in_process")
def test_the_listen_option_wins_over_the_config(tmp_path: Path) -> None:
    port = free_port()
    with held_port() as busy:
        config = write_config(
            tmp_path / "alertbot.toml", [("Down", CLOSED_PORT_URL)],
            extra=f'[metrics]\nlisten = "127.0.0.1:{busy}"',
        )  # fmt: skip
        ran = invoke("run", "--once", "--config", str(config), "--listen", f"127.0.0.1:{port}")
    assert ran.exit_code == 1, ran.output  # polled its one source, which failed
    assert f"alertbot: /healthz and /metrics at http://127.0.0.1:{port}" in ran.stderr


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("9108", "expected host:port, e.g. 127.0.0.1:9108, got '9108'"),
        (":9108", "no host in ':9108': give the address to bind, e.g. 127.0.0.1:9108"),
        ("127.0.0.1:0", "the port must be a number from 1 to 65535, got '0'"),
        ("::1:9108", "an IPv6 address goes in brackets, e.g. [::1]:9108, got '::1:9108'"),
    ],
)
def test_a_bad_listen_option_is_a_usage_error(given: str, message: str) -> None:
    """Refused before anything loads (exit 2, click's usage error)."""
    refused = invoke("run", "--listen", given)
    assert refused.exit_code == 2
    assert f"Invalid value for '--listen': {message}" in refused.output


# -- the [metrics] section ------------------------------------------------------------------


def config_with(tmp_path: Path, section: str) -> Path:
    return write_config(tmp_path / "alertbot.toml", [("Down", CLOSED_PORT_URL)], extra=section)


@pytest.mark.parametrize(
    ("listen", "address"),
    [
        ('"127.0.0.1:9108"', ListenAddress("127.0.0.1", 9108)),
        ('"[::1]:9108"', ListenAddress("::1", 9108)),
        ('"localhost:9108"', ListenAddress("localhost", 9108)),
        ('"0.0.0.0:9108"', ListenAddress("0.0.0.0", 9108)),  # binding all is said, not assumed
    ],
)
def test_metrics_listen_is_read(tmp_path: Path, listen: str, address: ListenAddress) -> None:
    config = load_config(config_with(tmp_path, f"[metrics]\nlisten = {listen}"))
    assert config.metrics is not None
    assert config.metrics.listen == address
    assert str(address) == json.loads(listen)


def test_no_metrics_section_serves_nothing(tmp_path: Path) -> None:
    assert load_config(config_with(tmp_path, "")).metrics is None


PORT_RANGE = "the port must be a number from 1 to 65535, got"


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('listen = "9108"', "listen: expected host:port, e.g. 127.0.0.1:9108, got '9108'"),
        ("listen = 9108", "listen: expected a string, got an integer"),
        (
            'listen = ":9108"',
            "listen: no host in ':9108': give the address to bind, e.g. 127.0.0.1:9108",
        ),
        ('listen = "127.0.0.1:65536"', f"listen: {PORT_RANGE} '65536'"),
        ('listen = "localhost:http"', f"listen: {PORT_RANGE} 'http'"),
        (
            'listen = "[::1:9108"',
            "listen: expected [address]:port, e.g. [::1]:9108, got '[::1:9108'",
        ),
        ('listen = "[nope]:9108"', "listen: 'nope' in brackets is not an IPv6 address"),
        ('listen = "999.0.0.1:9108"', "listen: '999.0.0.1' is not an IP address or host name"),
        ('listen = "my_host:9108"', "listen: 'my_host' is not an IP address or host name"),
        ("", "listen: is required"),
        ('listen = "127.0.0.1:9108"\nport = 9108', "port: unknown key"),
    ],
)
def test_a_bad_metrics_section_is_refused_naming_the_key(
    tmp_path: Path, section: str, problem: str
) -> None:
    path = config_with(tmp_path, f"[metrics]\n{section}")
    assert [str(e) for e in validate_config(path)] == [f"{path}: metrics.{problem}"]
