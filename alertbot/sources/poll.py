"""Polling one source: fetch it, list its entries, complete them into articles.

    poll(source) -> fetch (conditional GET) -> entries (feed items, page links, sitemap
    URLs, channel posts) -> for entries that need it, fetch the article page and extract
    its text (trafilatura, off the event loop) -> articles

An ordinary failure of the source (unreachable, 404, not a feed) comes back in
`PollResult.error`; a failure to complete one entry keeps what the source itself said
(a feed's teaser), or skips a page link that yields no text, and never fails the poll.
Entries the caller has already seen are not fetched again (`seen`, asked once per poll
about the whole listing). Every entry left out is counted in `PollResult.skipped`.

At most `max_entries` new entries are completed at a time: `poll` fetches the listing and
completes the first batch, and `more` completes the next batch from `PollResult.left`
without fetching the listing again.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, cast

from alertbot.config import SourceConfig
from alertbot.sources import worker
from alertbot.sources.article import is_teaser, make_article
from alertbot.sources.charset import utf8_xml
from alertbot.sources.errors import SourceParseError
from alertbot.sources.fetch import Fetcher
from alertbot.sources.model import (
    Article,
    Entry,
    FetchError,
    FetchErrorKind,
    FetchResult,
    Listing,
    Skipped,
    Validators,
)
from alertbot.sources.urls import channel_url, site_host

if TYPE_CHECKING:
    from alertbot.sources.extract import Extracted
    from alertbot.sources.sitemaps import Sitemap

log = logging.getLogger(__name__)

# The parsers, handed to the pool by name (`worker.call`): this process never imports them.
_PARSE_FEED = "alertbot.sources.feeds:parse_feed"
_LINKS_ON_PAGE = "alertbot.sources.pages:links_on_page"
_PARSE_CHANNEL = "alertbot.sources.telegram:parse_channel"
_PARSE_SITEMAP = "alertbot.sources.sitemaps:parse_sitemap"
_EXTRACT = "alertbot.sources.extract:extract"

# At most this many entries are completed at a time (one batch): a listing page or a
# sitemap of thousands of URLs must not turn one step into thousands of fetches.
MAX_ENTRIES_PER_POLL = 50
# A sitemap index: how many child sitemaps (newest first, as listed) are read.
MAX_CHILD_SITEMAPS = 3
_TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me"})


@dataclass(frozen=True)
class PollResult:
    """What one poll of a source produced, or one more batch of it (`Poller.more`)."""

    source: str
    articles: list[Article] = field(default_factory=list)
    validators: Validators = field(default_factory=Validators)
    not_modified: bool = False
    error: FetchError | None = None
    entries: int = 0  # entries the source listed (before `seen` and the cap)
    skipped: Skipped = field(default_factory=Skipped)  # entries this result left out, per reason
    left: tuple[Entry, ...] = ()  # new entries not completed yet (the cap): `Poller.more`

    @property
    def remaining(self) -> int:
        """How many new entries are left for a later batch."""
        return len(self.left)

    @property
    def complete(self) -> bool:
        """True when nothing listed is left for later: no batch waiting, nothing cut off
        (only then may the listing's validators be kept, so a 304 hides nothing)."""
        return not self.left and not self.skipped.cut


def source_url(source: SourceConfig) -> str:
    """The URL to fetch for a source: a t.me channel is read from its t.me/s preview page."""
    if source.type == "telegram" and site_host(source.url) in _TELEGRAM_HOSTS:
        return channel_url(source.url)
    return source.url


def cpu_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A process pool for parsing and extraction, so they run beside the event loop.

    trafilatura and lxml share compiled XPath objects that lock on every call, so threads
    queue on those locks and on the GIL: on two cores, six threads extract at half the
    rate of one. A separate process extracts in parallel with the loop's own work.
    `spawn` keeps the workers from inheriting the parent's threads, locks and the
    morphology database. By default one worker per core, at most 4. (Measured on two
    cores: workers forked from a fork server that preloads the parsers share too little
    (reference counts and the collector copy the pages they touch) to pay for the server
    itself; one worker instead of two saves about 45 MB but extracts a third slower, and
    the pipeline did not gain from the core it left to the main process.)

    Each worker exits when the process that made the pool is gone, however it went
    (kill -9 included), rather than idle on as an orphan (`worker.exit_with_parent`). That
    start-up step lives in its own small module so that a worker imports only it and the
    parsers it is handed (trafilatura, lxml, feedparser: about 45 MB), not this module's
    fetch layer and config.
    """
    count = workers or min(4, max(1, os.cpu_count() or 1))
    return ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker.exit_with_parent,
        initargs=(os.getpid(),),
    )


class Poller:
    """Polls sources with one shared `Fetcher`.

    CPU work (parsing documents, extracting articles) runs on `executor`: give it
    `cpu_pool()` in the application; without one it runs on a single private thread,
    which keeps the event loop responsive (tests, small runs).
    """

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        executor: Executor | None = None,
        max_entries: int = MAX_ENTRIES_PER_POLL,
    ) -> None:
        self._fetcher = fetcher
        self._executor = executor
        self._own_executor: ThreadPoolExecutor | None = None
        self._max_entries = max_entries

    async def __aenter__(self) -> Poller:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the private thread, if one was started (a given executor is the caller's)."""
        if self._own_executor is not None:
            self._own_executor.shutdown(wait=False, cancel_futures=True)
            self._own_executor = None

    async def _run(self, target: str, *args: object, **kwargs: object) -> object:
        """Run parser `target` ("module:function") on the executor (`worker.call`)."""
        executor = self._executor
        if executor is None:
            if self._own_executor is None:
                self._own_executor = ThreadPoolExecutor(1, thread_name_prefix="alertbot-cpu")
            executor = self._own_executor
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, partial(worker.call, target, *args, **kwargs))

    async def poll(
        self,
        source: SourceConfig,
        validators: Validators,
        now: datetime,
        *,
        trusted: bool = True,
        seen: Callable[[Sequence[Entry]], Awaitable[Sequence[bool]]] | None = None,
    ) -> PollResult:
        """Fetch `source` once and return its new articles, or why it failed."""
        fetched = await self._fetcher.fetch(source_url(source), validators, trusted=trusted)
        if fetched.error is not None:
            return PollResult(source.name, validators=validators, error=fetched.error)
        if fetched.not_modified:
            return PollResult(source.name, validators=fetched.validators, not_modified=True)
        try:
            listing = await self._entries(source, fetched, validators, trusted)
        except SourceParseError as exc:
            log.warning("source %r: %s", source.name, exc)
            error = FetchError(FetchErrorKind.PARSE, str(exc), status=fetched.status)
            return PollResult(source.name, validators=validators, error=error)
        entries = listing.entries
        if seen is not None and entries:
            known = await seen(entries)
            entries = [e for e, was_seen in zip(entries, known, strict=True) if not was_seen]
        listed = PollResult(
            source.name,
            validators=fetched.validators,
            entries=len(listing.entries),
            skipped=listing.skipped,
            left=tuple(entries),
        )
        return await self._complete_batch(source, listed, now, trusted)

    async def more(
        self, source: SourceConfig, result: PollResult, now: datetime, *, trusted: bool = True
    ) -> PollResult:
        """The next batch of `result.left`, completed, without fetching the listing again:
        the same validators and listing count, and what is left after it."""
        return await self._complete_batch(
            source, replace(result, articles=[], skipped=Skipped()), now, trusted
        )

    async def _complete_batch(
        self, source: SourceConfig, result: PollResult, now: datetime, trusted: bool
    ) -> PollResult:
        batch, rest = result.left[: self._max_entries], result.left[self._max_entries :]
        completed = await asyncio.gather(
            *(self._complete(source, entry, now, trusted) for entry in batch)
        )
        articles = [a for a in completed if a is not None]
        return replace(
            result,
            articles=articles,
            skipped=result.skipped + Skipped(no_text=len(completed) - len(articles)),
            left=rest,
        )

    async def _entries(
        self, source: SourceConfig, fetched: FetchResult, validators: Validators, trusted: bool
    ) -> Listing:
        url = fetched.final_url
        if source.type == "feed":
            # The body is decoded once (charset.py); feedparser gets it back as UTF-8 with
            # a declaration that says so, never the original bytes and a conflicting header.
            return cast(Listing, await self._run(_PARSE_FEED, utf8_xml(fetched.text), url))
        if source.type == "page":
            links = cast(list[Entry], await self._run(_LINKS_ON_PAGE, fetched.text, url))
            return Listing(links)
        if source.type == "telegram":
            return cast(Listing, await self._run(_PARSE_CHANNEL, fetched.text, url))
        sitemap = cast("Sitemap", await self._run(_PARSE_SITEMAP, fetched.body, url))
        entries, skipped = list(sitemap.entries), sitemap.skipped
        for child in sitemap.children[:MAX_CHILD_SITEMAPS]:
            result = await self._fetcher.fetch(child, trusted=trusted)
            if result.error is not None:
                log.warning(
                    "source %r: child sitemap %s: %s", source.name, child, result.error.message
                )
                continue
            child_map = cast("Sitemap", await self._run(_PARSE_SITEMAP, result.body, child))
            entries.extend(child_map.entries)
            skipped += child_map.skipped
        return Listing(entries, skipped)

    async def _complete(
        self, source: SourceConfig, entry: Entry, now: datetime, trusted: bool
    ) -> Article | None:
        """The article for an entry, fetching and extracting its page when needed."""
        needs_page = source.type in ("page", "sitemap") or (
            # An entry without a link of its own has no page: its url is the feed's site.
            source.type == "feed" and source.full_text and entry.linked and is_teaser(entry)
        )
        extracted: Extracted | None = None
        if needs_page:
            page = await self._fetcher.fetch(entry.url, trusted=trusted)
            if page.error is None and page.text:
                found = await self._run(_EXTRACT, page.text, page.final_url, now=now)
                extracted = cast("Extracted | None", found)
            else:
                reason = page.error.message if page.error else "empty page"
                log.info("source %r: article %s: %s", source.name, entry.url, reason)
        if extracted is None and not (entry.content or entry.summary):
            return None  # a bare link whose page gave no text: nothing to match (counted)
        return make_article(source.name, entry, extracted, now)
