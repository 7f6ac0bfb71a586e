"""Fetching a URL into a `FetchResult`: one HTTP client, limits set on purpose.

    Fetcher(polling)                          one httpx.AsyncClient; `aclose()` or `async with`
    await fetcher.fetch(url, validators, trusted=...) -> FetchResult    never raises for a
                                                                        404, timeout, ...

What a fetch does, and the limits it keeps:

- a conditional GET (If-None-Match, If-Modified-Since from `Validators`); a 304 is
  `not_modified` and costs nothing more;
- at most `polling.concurrency` requests in flight, and at most 2 per host name;
- connect and read timeouts, and a deadline of `polling.timeout` seconds for the network
  time of the whole fetch (all hops, the body included; waiting for a free slot is free);
- redirects followed by hand, at most 5, loops detected; for an untrusted source (added at
  run time) every hop is checked with `alertbot.sources.safety` before it is requested;
- the body decompressed by us, never to more than `polling.max_bytes`: a gzip bomb stops
  at the limit instead of filling memory (httpx's own decoders inflate a whole network read
  at once, up to about 1000 times its size);
- the body decoded to text once, with `alertbot.sources.charset`, off the event loop;
- a 429 or 503 keeps its Retry-After (seconds or an HTTP date) in `FetchError.retry_after`.

Every failure is logged once, on one line, at INFO (the source's problem) or WARNING (ours
to look at: an unsafe address, a body over the limit, a bad URL, a redirect loop).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import ssl
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from alertbot.clock import utc_now
from alertbot.config import PollingConfig
from alertbot.sources import charset
from alertbot.sources.model import FetchError, FetchErrorKind, FetchResult, Validators
from alertbot.sources.safety import AddressPolicy, check_address, check_url, is_public_address
from alertbot.text.sanitize import clean_line

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
PER_HOST = 2
MAX_CONNECT_TIMEOUT = 10.0
NO_VALIDATORS = Validators()  # a first fetch: nothing to send back
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_INFLATE_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate"})
_WARN_KINDS = frozenset(
    {
        FetchErrorKind.UNSAFE_ADDRESS,
        FetchErrorKind.TOO_LARGE,
        FetchErrorKind.BAD_URL,
        FetchErrorKind.TOO_MANY_REDIRECTS,
    }
)


class Fetcher:
    """Fetches URLs for every source of the process through one `httpx.AsyncClient`.

    `timeout` overrides `polling.timeout` (in seconds, fractions allowed); `is_public` is the
    address policy for untrusted fetches; `transport` replaces the network (tests).
    """

    def __init__(
        self,
        polling: PollingConfig,
        *,
        timeout: float | None = None,
        per_host: int = PER_HOST,
        max_redirects: int = MAX_REDIRECTS,
        is_public: AddressPolicy = is_public_address,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = float(polling.timeout if timeout is None else timeout)
        self._max_bytes = polling.max_bytes
        self._max_redirects = max_redirects
        self._allow_private = polling.allow_private_addresses
        self._is_public = is_public
        self._slots = asyncio.Semaphore(polling.concurrency)
        self._hosts = _HostSlots(per_host)
        self._client = httpx.AsyncClient(
            headers={
                "User-Agent": polling.user_agent,
                # Only what `_Inflater` decodes with a bound on its output.
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, MAX_CONNECT_TIMEOUT)),
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=polling.concurrency,
                max_keepalive_connections=polling.concurrency,
            ),
            # No proxies or .netrc credentials from the environment: the address checks
            # must see the real destination, and a runtime source must never get a password.
            trust_env=False,
            verify=_tls_context(),
            transport=transport,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client and its connections."""
        await self._client.aclose()

    async def fetch(
        self, url: str, validators: Validators = NO_VALIDATORS, *, trusted: bool = True
    ) -> FetchResult:
        """GET the URL (conditionally), following redirects; failures are in `.error`."""
        start = time.perf_counter()
        result = await self._follow(url, validators, trusted)
        result = replace(result, elapsed=time.perf_counter() - start)
        if result.error is not None:
            level = logging.WARNING if result.error.kind in _WARN_KINDS else logging.INFO
            log.log(
                level,
                "fetch %s failed: %s: %s",
                _redacted(url),
                result.error.kind,
                result.error.message,
            )
        return result

    async def _follow(self, url: str, validators: Validators, trusted: bool) -> FetchResult:
        budget = _Budget(self._timeout)
        headers = _conditional_headers(validators)
        check_addresses = not trusted and not self._allow_private
        current = url
        visited = {_without_fragment(url)}
        for _ in range(self._max_redirects + 1):
            problem = check_url(current, allow_userinfo=trusted)
            if problem is not None:
                return _failed(url, current, FetchErrorKind.BAD_URL, problem)
            answer = await self._hop(current, headers, budget, check_addresses=check_addresses)
            if answer.error is not None:
                return FetchResult(
                    url=url, final_url=current, status=answer.status, error=answer.error
                )
            if answer.location is None:
                return await self._result(url, current, answer, validators)
            if _without_fragment(answer.location) in visited:
                message = f"redirect loop: {_redacted(current)} -> {_redacted(answer.location)}"
                return _failed(
                    url, current, FetchErrorKind.TOO_MANY_REDIRECTS, message, answer.status
                )
            visited.add(_without_fragment(answer.location))
            current = answer.location
        message = f"more than {self._max_redirects} redirects"
        return _failed(url, current, FetchErrorKind.TOO_MANY_REDIRECTS, message)

    async def _hop(
        self, url: str, headers: dict[str, str], budget: _Budget, *, check_addresses: bool
    ) -> _Answer:
        """One request, no redirect followed; transport failures become an error answer."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            if check_addresses:
                port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
                async with budget.spend():
                    problem = await check_address(host, port, is_public=self._is_public)
                if problem is not None:
                    return _Answer(error=FetchError(FetchErrorKind.UNSAFE_ADDRESS, problem))
            async with self._hosts.slot(host), self._slots, budget.spend():
                return await self._exchange(url, headers)
        except TimeoutError:
            message = f"no complete answer within {self._timeout:g} s"
            return _Answer(error=FetchError(FetchErrorKind.TIMEOUT, message))
        except httpx.TimeoutException as exc:
            return _Answer(error=FetchError(FetchErrorKind.TIMEOUT, _describe(exc)))
        except (httpx.NetworkError, httpx.ProtocolError, httpx.ProxyError) as exc:
            # ConnectError covers refused, unreachable, DNS and TLS handshake failures.
            return _Answer(error=FetchError(FetchErrorKind.CONNECTION, _describe(exc)))
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return _Answer(error=FetchError(FetchErrorKind.BAD_URL, _describe(exc)))
        except httpx.DecodingError as exc:
            return _Answer(error=FetchError(FetchErrorKind.PARSE, _describe(exc)))

    async def _exchange(self, url: str, headers: dict[str, str]) -> _Answer:
        """Send the request and read the answer: a redirect, a 304, an error or a body."""
        request = self._client.build_request("GET", url, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            status = response.status_code
            if response.next_request is not None:
                return _Answer(status=status, location=str(response.next_request.url))
            if status == 304:
                return _Answer(status=status, headers=response.headers)
            if not 200 <= status < 300:
                return _Answer(status=status, error=_status_error(response))
            body = await self._read(response)
            if isinstance(body, FetchError):
                return _Answer(status=status, error=body)
            return _Answer(status=status, headers=response.headers, body=body)
        finally:
            await response.aclose()

    async def _read(self, response: httpx.Response) -> bytes | FetchError:
        """The decompressed body, or an error as soon as it passes `max_bytes`."""
        limit = self._max_bytes
        codings = _content_codings(response.headers)
        length = response.headers.get("Content-Length", "")
        if not codings and length.isdigit() and int(length) > limit:
            return _too_large(f"Content-Length {length} is over the limit of {limit} bytes")
        inflater = _Inflater(codings[0]) if codings in (["gzip"], ["x-gzip"], ["deflate"]) else None
        # A coding we did not ask for (br, zstd, stacked): httpx decodes it, counted as it comes.
        chunks = response.aiter_raw() if inflater or not codings else response.aiter_bytes()
        parts = []
        size = 0
        try:
            async for chunk in chunks:
                data = inflater.inflate(chunk, limit - size + 1) if inflater else chunk
                size += len(data)
                if size > limit:
                    return _too_large(f"body is over the limit of {limit} bytes")
                parts.append(data)
            if inflater:
                data = inflater.flush()
                size += len(data)
                if size > limit:
                    return _too_large(f"body is over the limit of {limit} bytes")
                parts.append(data)
        except zlib.error as exc:
            return FetchError(FetchErrorKind.PARSE, f"cannot decompress the body: {exc}")
        if not size:
            return FetchError(
                FetchErrorKind.EMPTY,
                f"HTTP {response.status_code} with no body",
                response.status_code,
            )
        return b"".join(parts)

    async def _result(
        self, url: str, final_url: str, answer: _Answer, sent: Validators
    ) -> FetchResult:
        headers = answer.headers or httpx.Headers()
        validators = Validators(
            etag=headers.get("ETag"), last_modified=headers.get("Last-Modified")
        )
        if answer.status == 304:
            # A 304 may repeat the validators or leave them out; either way they still hold.
            validators = Validators(
                etag=validators.etag or sent.etag,
                last_modified=validators.last_modified or sent.last_modified,
            )
            return FetchResult(
                url=url, final_url=final_url, status=304, validators=validators, not_modified=True
            )
        content_type = headers.get("Content-Type")
        # The one decoding of this body; off the loop, since detection reads the whole page.
        text, encoding = await asyncio.to_thread(charset.decode, answer.body, content_type)
        return FetchResult(
            url=url,
            final_url=final_url,
            status=answer.status,
            body=answer.body,
            text=text,
            encoding=encoding,
            content_type=content_type,
            validators=validators,
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The certificate store, loaded once per process (it takes a tenth of a second)."""
    return httpx.create_ssl_context()


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), if valid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class _Answer:
    """What one hop came back with: a redirect, a final response, or an error."""

    status: int | None = None
    location: str | None = None
    headers: httpx.Headers | None = None
    body: bytes = b""
    error: FetchError | None = None


class _Budget:
    """The network time a fetch may still spend; time spent waiting for a slot is free."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds

    @asynccontextmanager
    async def spend(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            async with asyncio.timeout(max(self.left, 0.0)):
                yield
        finally:
            self.left -= loop.time() - start


@dataclass
class _HostEntry:
    semaphore: asyncio.Semaphore
    users: int = 0


class _HostSlots:
    """At most `limit` requests in flight per host name; hosts nobody waits for are dropped."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._hosts: dict[str, _HostEntry] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        entry = self._hosts.get(host)
        if entry is None:
            entry = self._hosts[host] = _HostEntry(asyncio.Semaphore(self._limit))
        entry.users += 1
        try:
            async with entry.semaphore:
                yield
        finally:
            entry.users -= 1
            if not entry.users:
                del self._hosts[host]


class _Inflater:
    """gzip or deflate decoding that never returns more bytes than it is allowed."""

    def __init__(self, coding: str) -> None:
        self._deflate = coding == "deflate"
        self._started = False
        wbits = zlib.MAX_WBITS if self._deflate else zlib.MAX_WBITS | 16
        self._decompressor = zlib.decompressobj(wbits)

    def inflate(self, data: bytes, most: int) -> bytes:
        """Decompress `data`, stopping once `most` bytes are out (then the body is too big)."""
        try:
            out = self._bounded(data, most)
        except zlib.error:
            if not (self._deflate and not self._started):
                raise
            # "deflate" is often sent raw, without the zlib header it should have (as httpx).
            self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._bounded(data, most)
        self._started = True
        return out

    def flush(self) -> bytes:
        """Whatever the decompressor still holds once the input has ended."""
        return self._decompressor.flush()

    def _bounded(self, data: bytes, most: int) -> bytes:
        parts = []
        produced = 0
        while True:
            out = self._decompressor.decompress(data, most - produced)
            parts.append(out)
            produced += len(out)
            data = self._decompressor.unconsumed_tail
            if not data or produced >= most:
                return b"".join(parts)


def _content_codings(headers: httpx.Headers) -> list[str]:
    values = ",".join(headers.get_list("Content-Encoding"))
    codings = [c.strip().lower() for c in values.split(",")]
    return [c for c in codings if c and c != "identity"]


def _status_error(response: httpx.Response) -> FetchError:
    status = response.status_code
    retry_after = None
    if status in _RETRY_AFTER_STATUSES:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"), utc_now())
    message = f"HTTP {status} {clean_line(response.reason_phrase)}".rstrip()
    if status in _REDIRECT_STATUSES:
        message += " without a Location"
    return FetchError(FetchErrorKind.HTTP_STATUS, message, status, retry_after)


def _conditional_headers(validators: Validators) -> dict[str, str]:
    headers = {}
    if validators.etag and _header_safe(validators.etag):
        headers["If-None-Match"] = validators.etag
    if validators.last_modified and _header_safe(validators.last_modified):
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def _header_safe(value: str) -> bool:
    """Printable ASCII only: a stored validator must not break or inject a header."""
    return value.isascii() and value.isprintable()


def _too_large(message: str) -> FetchError:
    return FetchError(FetchErrorKind.TOO_LARGE, message)


def _failed(
    url: str, final_url: str, kind: FetchErrorKind, message: str, status: int | None = None
) -> FetchResult:
    return FetchResult(
        url=url, final_url=final_url, status=status, error=FetchError(kind, message, status)
    )


def _describe(exc: Exception) -> str:
    """One line naming the exception: httpx messages can be empty or span lines."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _redacted(url: str) -> str:
    """The URL without credentials, for logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
