"""The values that flow through the sources layer.

    fetch(url, validators)  -> FetchResult        alertbot.sources.fetch
    parse(FetchResult)      -> Listing            alertbot.sources: feeds, pages, sitemaps, telegram
    complete(Entry)         -> Article            alertbot.sources.extract (full text when needed)
    poll(Source)            -> PollResult         alertbot.sources.poll (all of the above + health)

Fetching returns a value, never raises for an ordinary failure (a 404, a timeout, a body
over the limit): the failure is in `FetchResult.error`. Nothing a source lists is dropped
silently: an entry that does not become an article is counted in `Skipped`, by reason.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum

from alertbot.sources.urls import canonical_url


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
    """One item a source lists: a feed item, a link on a page, a sitemap URL, a post.

    `linked` is False for a feed item with text but no usable link of its own: its `url`
    is then the feed's website (what its alert links to), and `key` tells it apart.
    """

    url: str
    title: str | None = None
    guid: str | None = None
    summary: str | None = None  # the text the source itself gives (may be a teaser)
    content: str | None = None  # full text when the source carries it (plain text)
    published: datetime | None = None  # timezone-aware
    outbound_url: str | None = None  # a Telegram post's first outbound link
    published_date_only: bool = False  # the source gave a day, no time of day (dates.py)
    linked: bool = True

    @property
    def key(self) -> str:
        """The entry's identity in the seen-store: its canonical URL. An entry without a
        link of its own gets its feed site's URL with a fragment naming its guid, or a
        digest of its text: canonical URLs have no fragment, so it never meets a real one.
        Raises ValueError when `url` is not an absolute http(s) URL."""
        site = canonical_url(self.url)
        if self.linked:
            return site
        if self.guid:
            return f"{site}#guid={self.guid}"
        text = "\n".join(part or "" for part in (self.title, self.content or self.summary))
        return f"{site}#text={hashlib.sha256(text.encode()).hexdigest()[:24]}"


class SkipReason(StrEnum):
    """Why a listed entry did not become an article (the names of `Skipped`'s fields)."""

    NO_LINK = "no_link"  # neither a link nor any text: nothing to match, nowhere to link
    BAD_LINK = "bad_link"  # a link that is not a usable http(s) URL, and no text
    DUPLICATE = "duplicate"  # the same link or guid again in the same document
    NO_TEXT = "no_text"  # nothing to match: a link whose page gave no text, an empty post
    CUT = "cut"  # cut off by a truncated document; read again at the next poll


_SKIP_PHRASES = {
    SkipReason.NO_LINK: "without a link",
    SkipReason.BAD_LINK: "with an unusable link",
    SkipReason.DUPLICATE: "listed twice",
    SkipReason.NO_TEXT: "without text",
    SkipReason.CUT: "cut off by a truncated document",
}


@dataclass(frozen=True)
class Skipped:
    """How many listed entries did not become articles, per reason (`SkipReason`)."""

    no_link: int = 0
    bad_link: int = 0
    duplicate: int = 0
    no_text: int = 0
    cut: int = 0

    @classmethod
    def of(cls, reasons: Iterable[SkipReason]) -> Skipped:
        """The counts of these reasons."""
        return cls(**{str(reason): n for reason, n in Counter(reasons).items()})

    def __add__(self, other: Skipped) -> Skipped:
        return Skipped(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                          for f in fields(self)})  # fmt: skip

    def __bool__(self) -> bool:
        return self.total > 0

    @property
    def total(self) -> int:
        """All the skipped entries."""
        return sum(getattr(self, f.name) for f in fields(self))

    def describe(self) -> str:
        """The counts in words: "3 entries without a link, 1 entry listed twice" ("" if none)."""
        parts = []
        for reason in SkipReason:
            n = getattr(self, reason)
            if n:
                parts.append(f"{n:,} {'entry' if n == 1 else 'entries'} {_SKIP_PHRASES[reason]}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Listing:
    """What one document of a source lists: its entries, in order, and what it skipped."""

    entries: list[Entry] = field(default_factory=list)
    skipped: Skipped = field(default_factory=Skipped)


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
