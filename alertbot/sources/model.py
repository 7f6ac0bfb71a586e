"""The values that flow through the sources layer.

    fetch(url, validators)  -> FetchResult        alertbot.sources.fetch
    parse(FetchResult)      -> list[Entry]        alertbot.sources: feeds, pages, sitemaps, telegram
    complete(Entry)         -> Article            alertbot.sources.extract (full text when needed)
    poll(Source)            -> PollResult         alertbot.sources.poll (all of the above + health)

Fetching returns a value, never raises for an ordinary failure (a 404, a timeout, a body
over the limit): the failure is in `FetchResult.error`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class FetchErrorKind(StrEnum):
    """Why a fetch failed, in words an operator can act on."""

    HTTP_STATUS = "http-status"  # 4xx/5xx other than 304
    TIMEOUT = "timeout"  # connect/read timeout or the overall deadline
    CONNECTION = "connection"  # refused, reset, DNS failure, TLS failure
    TOO_LARGE = "too-large"  # decoded body over polling.max_bytes
    TOO_MANY_REDIRECTS = "too-many-redirects"
    UNSAFE_ADDRESS = "unsafe-address"  # a runtime source pointing at a private address
    BAD_URL = "bad-url"  # not http(s), no host, malformed
    PARSE = "parse"  # the body is not what the source type expects
    EMPTY = "empty"  # 200 with an empty body


@dataclass(frozen=True)
class FetchError:
    """A failed fetch: its kind, a one-line message, and the HTTP status if there was one."""

    kind: FetchErrorKind
    message: str
    status: int | None = None
    retry_after: float | None = None  # seconds, from a 429/503 Retry-After header


@dataclass(frozen=True)
class Validators:
    """What a conditional GET sends back: ETag and Last-Modified from the last 200."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one fetch.

    `not_modified` is a 304 (body empty, validators unchanged). `text` is the body decoded
    once with the charset found by `alertbot.sources.charset`; `body` keeps the bytes for
    parsers that want them (feedparser, XML).
    """

    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    text: str = ""
    encoding: str | None = None
    content_type: str | None = None
    validators: Validators = field(default_factory=Validators)
    not_modified: bool = False
    error: FetchError | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True for a 2xx with a body or a 304."""
        return self.error is None


@dataclass(frozen=True)
class Entry:
    """One item a source lists: a feed item, a link on a page, a sitemap URL, a post."""

    url: str
    title: str | None = None
    guid: str | None = None
    summary: str | None = None  # the text the source itself gives (may be a teaser)
    content: str | None = None  # full text when the source carries it (plain text)
    published: datetime | None = None  # timezone-aware
    outbound_url: str | None = None  # a Telegram post's first outbound link
    published_date_only: bool = False  # the source gave a day, no time of day (dates.py)


@dataclass(frozen=True)
class Article:
    """A piece of news ready for matching."""

    source: str
    url: str
    canonical_url: str
    title: str
    text: str
    summary: str | None
    published: datetime | None  # timezone-aware
    language: str | None
    fetched: datetime  # timezone-aware
    guid: str | None = None
    # `published` is a day (00:00 UTC of the date the source gave), its time of day unknown:
    # shown as the date alone.
    published_date_only: bool = False
