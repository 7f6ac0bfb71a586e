"""Polling one source: fetch it, list its entries, complete them into articles.

    poll(source) -> fetch (conditional GET) -> entries (feed items, page links, sitemap
    URLs, channel posts) -> for entries that need it, fetch the article page and extract
    its text (trafilatura, off the event loop) -> articles

An ordinary failure of the source (unreachable, 404, not a feed) comes back in
`PollResult.error`; a failure to complete one entry keeps what the source itself said
(a feed's teaser), or drops a page link that yields no text, and never fails the poll.
Entries the caller has already seen are not fetched again (`seen`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from alertbot.config import SourceConfig
from alertbot.sources.article import make_article
from alertbot.sources.charset import utf8_xml
from alertbot.sources.errors import SourceParseError
from alertbot.sources.extract import Extracted, extract, is_teaser
from alertbot.sources.feeds import parse_feed
from alertbot.sources.fetch import Fetcher
from alertbot.sources.model import (
    Article,
    Entry,
    FetchError,
    FetchErrorKind,
    FetchResult,
    Validators,
)
from alertbot.sources.pages import links_on_page
from alertbot.sources.sitemaps import parse_sitemap
from alertbot.sources.telegram import channel_url, parse_channel
from alertbot.sources.urls import site_host

log = logging.getLogger(__name__)

# At most this many entries are completed per poll: a listing page or a sitemap of
# thousands of URLs must not turn one poll into thousands of fetches.
MAX_ENTRIES_PER_POLL = 50
# A sitemap index: how many child sitemaps (newest first, as listed) are read.
MAX_CHILD_SITEMAPS = 3
_TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me"})


@dataclass(frozen=True)
class PollResult:
    """What one poll of a source produced."""

    source: str
    articles: list[Article] = field(default_factory=list)
    validators: Validators = field(default_factory=Validators)
    not_modified: bool = False
    error: FetchError | None = None
    entries: int = 0  # entries the source listed (before `seen` and the cap)


def source_url(source: SourceConfig) -> str:
    """The URL to fetch for a source: a t.me channel is read from its t.me/s preview page."""
    if source.type == "telegram" and site_host(source.url) in _TELEGRAM_HOSTS:
        return channel_url(source.url)
    return source.url


class Poller:
    """Polls sources with one shared `Fetcher`."""

    def __init__(self, fetcher: Fetcher, *, max_entries: int = MAX_ENTRIES_PER_POLL) -> None:
        self._fetcher = fetcher
        self._max_entries = max_entries

    async def poll(
        self,
        source: SourceConfig,
        validators: Validators,
        now: datetime,
        *,
        trusted: bool = True,
        seen: Callable[[Entry], bool] | None = None,
    ) -> PollResult:
        """Fetch `source` once and return its new articles, or why it failed."""
        fetched = await self._fetcher.fetch(source_url(source), validators, trusted=trusted)
        if fetched.error is not None:
            return PollResult(source.name, validators=validators, error=fetched.error)
        if fetched.not_modified:
            return PollResult(source.name, validators=fetched.validators, not_modified=True)
        try:
            entries = await self._entries(source, fetched, validators, trusted)
        except SourceParseError as exc:
            log.warning("source %r: %s", source.name, exc)
            error = FetchError(FetchErrorKind.PARSE, str(exc), status=fetched.status)
            return PollResult(source.name, validators=validators, error=error)
        listed = len(entries)
        if seen is not None:
            entries = [e for e in entries if not seen(e)]
        entries = entries[: self._max_entries]
        articles = await asyncio.gather(
            *(self._complete(source, entry, now, trusted) for entry in entries)
        )
        return PollResult(
            source.name,
            articles=[a for a in articles if a is not None],
            validators=fetched.validators,
            entries=listed,
        )

    async def _entries(
        self, source: SourceConfig, fetched: FetchResult, validators: Validators, trusted: bool
    ) -> list[Entry]:
        url = fetched.final_url
        if source.type == "feed":
            # The body is decoded once (charset.py); feedparser gets it back as UTF-8 with
            # a declaration that says so, never the original bytes and a conflicting header.
            return await asyncio.to_thread(parse_feed, utf8_xml(fetched.text), url)
        if source.type == "page":
            return await asyncio.to_thread(links_on_page, fetched.text, url)
        if source.type == "telegram":
            return await asyncio.to_thread(parse_channel, fetched.text, url)
        sitemap = await asyncio.to_thread(parse_sitemap, fetched.body, url)
        entries = list(sitemap.entries)
        for child in sitemap.children[:MAX_CHILD_SITEMAPS]:
            result = await self._fetcher.fetch(child, trusted=trusted)
            if result.error is not None:
                log.warning(
                    "source %r: child sitemap %s: %s", source.name, child, result.error.message
                )
                continue
            entries.extend((await asyncio.to_thread(parse_sitemap, result.body, child)).entries)
        return entries

    async def _complete(
        self, source: SourceConfig, entry: Entry, now: datetime, trusted: bool
    ) -> Article | None:
        """The article for an entry, fetching and extracting its page when needed."""
        needs_page = source.type in ("page", "sitemap") or (
            source.type == "feed" and source.full_text and is_teaser(entry)
        )
        extracted: Extracted | None = None
        if needs_page:
            page = await self._fetcher.fetch(entry.url, trusted=trusted)
            if page.error is None and page.text:
                extracted = await asyncio.to_thread(extract, page.text, page.final_url, now=now)
            else:
                reason = page.error.message if page.error else "empty page"
                log.info("source %r: article %s: %s", source.name, entry.url, reason)
        if extracted is None and not (entry.content or entry.summary):
            return None  # a bare link whose page gave no text: nothing to match
        return make_article(source.name, entry, extracted, now)
