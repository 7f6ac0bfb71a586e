"""Fetching over real HTTP from a loopback server: conditional GETs, redirects, limits,
timeouts and address checks. Every timeout is short so the file runs in a few seconds."""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from alertbot.config import PollingConfig
from alertbot.sources.fetch import Fetcher, retry_after_seconds
from alertbot.sources.model import FetchErrorKind, Validators
from testsupport.httpserver import LocalServer, Request, Response

TIMEOUT = 0.5
MAX_BYTES = 1_000_000
USER_AGENT = "alertbot-test/1.0 (+https://example.org/contact)"
ARABIC = "استقبل الرئيس عبد الفتاح السيسي سيرغي ناريشكين وبحثا وقف إطلاق النار في غزة ومحطة الضبعة."


def _polling(**changes: object) -> PollingConfig:
    values: dict[str, object] = {"max_bytes": MAX_BYTES, "user_agent": USER_AGENT}
    values.update(changes)
    return PollingConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(_polling(), timeout=TIMEOUT) as f:
        yield f


def _bomb(megabytes: int) -> bytes:
    """`megabytes` MB of zeros, gzipped (about 1 KB per MB), without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1 << 20)
    return b"".join([compressor.compress(zeros) for _ in range(megabytes)] + [compressor.flush()])


# Conditional GET


async def test_etag_then_304(server, fetcher):
    server.route("/feed", b"<rss/>", headers={"ETag": '"v1"'}, conditional=True)
    first = await fetcher.fetch(server.url("/feed"))
    assert first.ok and first.status == 200 and first.text == "<rss/>"
    assert first.validators == Validators(etag='"v1"')

    second = await fetcher.fetch(server.url("/feed"), first.validators)
    assert second.ok and second.not_modified and second.status == 304
    assert second.body == b"" and second.validators == first.validators
    assert server.requests[1].headers["if-none-match"] == '"v1"'
    assert "if-none-match" not in server.requests[0].headers


async def test_last_modified_then_304(server, fetcher):
    stamp = "Tue, 04 Mar 2025 10:00:00 GMT"
    server.route("/feed", b"<rss/>", headers={"Last-Modified": stamp}, conditional=True)
    first = await fetcher.fetch(server.url("/feed"))
    assert first.status == 200 and first.validators == Validators(last_modified=stamp)

    second = await fetcher.fetch(server.url("/feed"), first.validators)
    assert second.not_modified and second.validators.last_modified == stamp
    assert server.requests[1].headers["if-modified-since"] == stamp


async def test_a_changed_resource_answers_200_with_new_validators(server, fetcher):
    server.route("/feed", b"<rss>2</rss>", headers={"ETag": '"v2"'}, conditional=True)
    result = await fetcher.fetch(server.url("/feed"), Validators(etag='"v1"'))
    assert result.status == 200 and not result.not_modified
    assert result.validators.etag == '"v2"'


async def test_a_validator_that_could_break_a_header_is_not_sent(server, fetcher):
    server.route("/feed", b"<rss/>")
    result = await fetcher.fetch(server.url("/feed"), Validators(etag='"a"\r\nX-Evil: 1'))
    assert result.ok
    assert "if-none-match" not in server.requests[0].headers
    assert "x-evil" not in server.requests[0].headers


# Status codes


@pytest.mark.parametrize("status", [404, 500, 403])
async def test_error_statuses(server, fetcher, status):
    server.route("/x", b"nope", status=status)
    result = await fetcher.fetch(server.url("/x"))
    assert not result.ok and result.status == status
    assert result.error.kind == FetchErrorKind.HTTP_STATUS
    assert result.error.status == status and result.error.retry_after is None
    assert result.error.message.startswith(f"HTTP {status}")


async def test_429_with_retry_after_seconds(server, fetcher):
    server.route("/x", status=429, headers={"Retry-After": "120"})
    result = await fetcher.fetch(server.url("/x"))
    assert result.error.kind == FetchErrorKind.HTTP_STATUS
    assert result.error.retry_after == 120.0


async def test_503_with_retry_after_date(server, fetcher):
    when = datetime.now(UTC) + timedelta(seconds=300)
    server.route("/x", status=503, headers={"Retry-After": email.utils.format_datetime(when)})
    result = await fetcher.fetch(server.url("/x"))
    assert result.error.status == 503
    assert 295 <= result.error.retry_after <= 300


def test_retry_after_parsing():
    now = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("30", now) == 30.0
    assert retry_after_seconds("Tue, 04 Mar 2025 10:01:30 GMT", now) == 90.0
    assert retry_after_seconds("Tue, 04 Mar 2025 09:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


async def test_empty_200_is_an_error(server, fetcher):
    server.route("/x", b"")
    result = await fetcher.fetch(server.url("/x"))
    assert result.error.kind == FetchErrorKind.EMPTY and result.status == 200


# Redirects


async def test_a_chain_of_three_redirects(server, fetcher):
    server.redirect("/r1", server.url("/r2"), 301)
    server.redirect("/r2", server.url("/r3"), 302)
    server.redirect("/r3", server.url("/final"), 307)
    server.route("/final", b"here")
    result = await fetcher.fetch(server.url("/r1"))
    assert result.ok and result.text == "here"
    assert result.url == server.url("/r1") and result.final_url == server.url("/final")
    assert [r.path for r in server.requests] == ["/r1", "/r2", "/r3", "/final"]


async def test_relative_locations(server, fetcher):
    server.redirect("/a/b", "../c?x=1")
    server.redirect("/c", "d")
    server.route("/d", b"done")
    result = await fetcher.fetch(server.url("/a/b"))
    assert result.text == "done" and result.final_url == server.url("/d")


async def test_a_redirect_loop(server, fetcher):
    server.redirect("/l1", "/l2")
    server.redirect("/l2", "/l1")
    result = await fetcher.fetch(server.url("/l1"))
    assert result.error.kind == FetchErrorKind.TOO_MANY_REDIRECTS
    assert "loop" in result.error.message
    assert len(server.requests) == 2


async def test_five_redirects_are_followed_six_are_not(server, fetcher):
    for i in range(6):
        server.redirect(f"/h{i}", f"/h{i + 1}")
    server.route("/h6", b"end")
    assert (await fetcher.fetch(server.url("/h1"))).text == "end"
    result = await fetcher.fetch(server.url("/h0"))
    assert result.error.kind == FetchErrorKind.TOO_MANY_REDIRECTS
    assert result.final_url == server.url("/h6")


async def test_a_redirect_without_location(server, fetcher):
    server.route("/x", status=302)
    result = await fetcher.fetch(server.url("/x"))
    assert result.error.kind == FetchErrorKind.HTTP_STATUS
    assert "without a Location" in result.error.message


async def test_a_redirect_to_another_scheme(server, fetcher):
    server.redirect("/x", "ftp://example.org/feed")
    result = await fetcher.fetch(server.url("/x"))
    assert result.error.kind == FetchErrorKind.BAD_URL
    assert result.final_url == "ftp://example.org/feed"


# Time and size limits


async def test_a_server_that_never_answers_times_out(server, fetcher):
    server.hang("/never")
    start = time.monotonic()
    result = await fetcher.fetch(server.url("/never"))
    assert result.error.kind == FetchErrorKind.TIMEOUT
    # At least the budget; the upper bound only says "not hung" (a loaded machine is slow).
    assert TIMEOUT * 0.9 <= time.monotonic() - start < TIMEOUT * 10


async def test_a_refused_connection(fetcher):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = await fetcher.fetch(f"http://127.0.0.1:{port}/")
    assert result.error.kind == FetchErrorKind.CONNECTION
    assert "\n" not in result.error.message


async def test_a_tls_failure_is_a_connection_error(server, fetcher):
    server.route("/x", b"plain http")
    result = await fetcher.fetch(server.url("/x").replace("http://", "https://"))
    assert result.error.kind == FetchErrorKind.CONNECTION
    assert "SSL" in result.error.message


async def test_a_body_over_the_limit(server, fetcher):
    server.route("/big", b"x" * (MAX_BYTES + 1))
    result = await fetcher.fetch(server.url("/big"))
    assert result.error.kind == FetchErrorKind.TOO_LARGE


async def test_a_body_at_the_limit(server, fetcher):
    server.route("/big", b"x" * MAX_BYTES)
    result = await fetcher.fetch(server.url("/big"))
    assert result.ok and len(result.body) == MAX_BYTES


async def test_a_compressed_body_is_limited_by_its_decoded_size(server, fetcher):
    server.route("/big", b"y" * (MAX_BYTES + 1), gzip=True)
    result = await fetcher.fetch(server.url("/big"))
    assert result.error.kind == FetchErrorKind.TOO_LARGE


async def test_a_gzip_bomb_stops_at_the_limit_without_inflating(server, fetcher):
    server.route("/bomb", _bomb(50), headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        start = time.monotonic()
        result = await fetcher.fetch(server.url("/bomb"))
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error.kind == FetchErrorKind.TOO_LARGE
    assert elapsed < 10  # inflating 50 MB in small steps would take far longer
    assert peak < 8 * MAX_BYTES  # 50 MB inflated would be 50 times the limit


async def test_gzip_and_deflate_bodies_are_decoded(server, fetcher):
    data = ARABIC.encode()
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    server.route("/gz", data, gzip=True)
    server.route("/zlib", zlib.compress(data), headers={"Content-Encoding": "deflate"})
    server.route("/raw", raw.compress(data) + raw.flush(), headers={"Content-Encoding": "deflate"})
    for path in ("/gz", "/zlib", "/raw"):
        result = await fetcher.fetch(server.url(path))
        assert result.body == data and result.text == ARABIC, path
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_a_corrupt_gzip_body(server, fetcher):
    server.route("/gz", b"this is not gzip", headers={"Content-Encoding": "gzip"})
    result = await fetcher.fetch(server.url("/gz"))
    assert result.error.kind == FetchErrorKind.PARSE


async def test_a_windows_1256_page_without_charset(server, fetcher):
    page = f"<html><body><p>{ARABIC}</p></body></html>"
    server.route("/ar", page.encode("cp1256"), headers={"Content-Type": "text/html"})
    result = await fetcher.fetch(server.url("/ar"))
    assert result.text == page and result.encoding == "cp1256"
    assert result.content_type == "text/html"


# Untrusted sources


async def test_an_untrusted_loopback_url_is_refused_a_trusted_one_is_fetched(server, fetcher):
    server.route("/feed", b"<rss/>")
    untrusted = await fetcher.fetch(server.url("/feed"), trusted=False)
    assert untrusted.error.kind == FetchErrorKind.UNSAFE_ADDRESS
    assert server.requests == []
    assert (await fetcher.fetch(server.url("/feed"))).ok


async def test_allow_private_addresses_lets_untrusted_loopback_through(server):
    server.route("/feed", b"<rss/>")
    async with Fetcher(_polling(allow_private_addresses=True), timeout=TIMEOUT) as fetcher:
        assert (await fetcher.fetch(server.url("/feed"), trusted=False)).ok


async def test_an_untrusted_url_with_credentials_is_refused(fetcher):
    result = await fetcher.fetch("http://user:pw@127.0.0.1:9/", trusted=False)
    assert result.error.kind == FetchErrorKind.BAD_URL


@pytest.fixture
def private_server() -> Iterator[LocalServer]:
    """A second server on 127.0.0.2, which the policy below treats as private."""
    try:
        srv = LocalServer("127.0.0.2")
    except OSError as exc:
        pytest.skip(f"cannot listen on 127.0.0.2: {exc}")
    with srv:
        yield srv


def _only_127_0_0_1_is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip == ipaddress.IPv4Address("127.0.0.1")


async def test_every_redirect_hop_of_an_untrusted_source_is_checked(server, private_server):
    server.redirect("/go", private_server.url("/secret"))
    private_server.route("/secret", b"metadata")
    policy = _only_127_0_0_1_is_public
    async with Fetcher(_polling(), timeout=TIMEOUT, is_public=policy) as fetcher:
        result = await fetcher.fetch(server.url("/go"), trusted=False)
        assert result.error.kind == FetchErrorKind.UNSAFE_ADDRESS
        assert result.final_url == private_server.url("/secret")
        assert [r.path for r in server.requests] == ["/go"]
        assert private_server.requests == []

        trusted = await fetcher.fetch(server.url("/go"))
        assert trusted.text == "metadata"


# Limits on concurrency


async def test_at_most_two_requests_per_host(server, fetcher):
    server.route("/slow", b"ok", delay=0.1)
    results = await asyncio.gather(*(fetcher.fetch(server.url("/slow")) for _ in range(6)))
    assert all(r.ok for r in results)
    assert server.max_active == 2


async def test_the_global_limit_on_one_host(server):
    server.route("/slow", b"ok", delay=0.05)
    async with Fetcher(_polling(concurrency=1), timeout=TIMEOUT) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(server.url("/slow")) for _ in range(4)))
    assert all(r.ok for r in results)
    assert server.max_active == 1


async def test_the_global_limit_across_hosts():
    lock = threading.Lock()
    active = [0, 0]  # now, most

    def slow(request: Request) -> Response:
        with lock:
            active[0] += 1
            active[1] = max(active)
        time.sleep(0.1)
        with lock:
            active[0] -= 1
        return Response(body=b"ok")

    servers = [LocalServer(host) for host in ("127.0.0.1", "127.0.0.2", "127.0.0.3")]
    try:
        for srv in servers:
            srv.start().route("/slow", handler=slow)
        async with Fetcher(_polling(concurrency=3), timeout=TIMEOUT * 2) as fetcher:
            urls = [srv.url("/slow") for srv in servers for _ in range(3)]
            results = await asyncio.gather(*(fetcher.fetch(url) for url in urls))
    finally:
        for srv in servers:
            srv.close()
    assert all(r.ok for r in results)
    assert active[1] == 3
    assert all(srv.max_active <= 2 for srv in servers)


async def test_waiting_for_a_slot_does_not_count_against_the_timeout(server):
    server.route("/slow", b"ok", delay=0.15)
    async with Fetcher(_polling(concurrency=1), timeout=0.25) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(server.url("/slow")) for _ in range(3)))
    assert all(r.ok for r in results)


async def test_a_failing_source_does_not_hold_up_a_good_one(server, fetcher):
    server.hang("/never")
    server.route("/good", b"fine")
    bad, good = await asyncio.gather(
        fetcher.fetch(server.url("/never")), fetcher.fetch(server.url("/good"))
    )
    assert bad.error.kind == FetchErrorKind.TIMEOUT
    assert good.ok and good.elapsed < bad.elapsed


# Identity and logging


async def test_the_user_agent_is_sent(server, fetcher):
    server.route("/x", b"ok")
    await fetcher.fetch(server.url("/x"))
    assert server.requests[0].headers["user-agent"] == USER_AGENT


async def test_one_log_line_per_failure_without_traceback(server, fetcher, caplog):
    server.route("/x", status=404)
    with caplog.at_level(logging.INFO, logger="alertbot.sources.fetch"):
        await fetcher.fetch(server.url("/x"))
    [record] = caplog.records
    assert record.levelno == logging.INFO and record.exc_info is None
    assert "http-status" in record.getMessage() and "\n" not in record.getMessage()


async def test_credentials_are_not_logged(fetcher, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with caplog.at_level(logging.INFO, logger="alertbot.sources.fetch"):
        result = await fetcher.fetch(f"http://user:secret@127.0.0.1:{port}/")
    assert result.error.kind == FetchErrorKind.CONNECTION
    assert "secret" not in caplog.text
