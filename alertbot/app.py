"""`alertbot run`: the sources, the pipeline, the outbox and the notifiers, on one scheduler.

    AsyncIOScheduler (APScheduler 3, one per process)
      poll:<source>   every source's interval, with jitter; one poll of a source at a time;
                      a per-source deadline; a late run still runs (misfire grace)
      dispatch        every few seconds, and straight after a poll that queued alerts
      prune           daily: retention, and the story index's old entries
      recap           every minute: the daily email recap, when due (alertbot.daily)

and, with a Telegram token, the python-telegram-bot Application beside it answering
commands (alertbot.bot.runtime). `alertbot.assembly` builds all of it from the config.

A poll fetches the source (conditional GET), completes its new entries into articles (CPU
work in a process pool), runs them through the `Pipeline` on one worker thread (matching,
stories, `Store.record_item`), and only then stores the source's validators and health: a
crash before that point polls the same items again rather than skipping them.

A source that keeps failing backs off (`alertbot.sources.health`); its scheduled runs are
skipped until its next poll time. Shutdown (SIGTERM, SIGINT): no new runs start, running
ones get `GRACE` seconds to finish and are then cancelled, the database is closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from alertbot.bot.runtime import TelegramRuntime
from alertbot.config import Config, SourceConfig
from alertbot.daily import DailyRecap
from alertbot.notify import DispatchCounts, Dispatcher
from alertbot.pipeline import Pipeline, ProcessCounts
from alertbot.sources.health import after_failure, after_success
from alertbot.sources.model import Entry, FetchError, FetchErrorKind, Validators
from alertbot.sources.poll import Poller, PollResult
from alertbot.sources.urls import canonical_url
from alertbot.store import Store
from alertbot.stories import WINDOW

log = logging.getLogger(__name__)
T = TypeVar("T")

DISPATCH_EVERY = timedelta(seconds=5)
PRUNE_EVERY = timedelta(days=1)
RECAP_CHECK = timedelta(minutes=1)  # how often the daily recap's time is checked
MAX_ROUNDS = 10  # polls in a row of a source whose new entries exceed one poll's cap
GRACE = 5.0  # seconds running work gets at shutdown before it is cancelled


def add_counts(total: ProcessCounts, more: ProcessCounts) -> None:
    """Add `more`'s counts into `total`."""
    for name, value in vars(more).items():
        if isinstance(value, int):
            setattr(total, name, getattr(total, name) + value)
    total.grown |= more.grown


def utc_now() -> datetime:
    """The current time, timezone-aware (the one clock the application reads)."""
    return datetime.now(UTC)


def poll_deadline(config: Config) -> float:
    """Seconds one poll of a source may take, article pages included, before it is
    abandoned: long enough for 50 article fetches, short enough that a hung source is
    retried on its next run instead of holding its slot for good."""
    return float(max(60, 6 * config.polling.timeout))


def source_interval(config: Config, source: SourceConfig) -> timedelta:
    """How often a source is polled."""
    return timedelta(seconds=source.interval or config.polling.interval)


@dataclass
class PollOutcome:
    """What one poll of one source did."""

    source: str
    skipped: bool = False  # backing off after failures
    error: FetchError | None = None
    not_modified: bool = False
    entries: int = 0
    counts: ProcessCounts = field(default_factory=ProcessCounts)


class App:
    """The running application: polls sources, queues alerts, dispatches them."""

    def __init__(
        self,
        config: Config,
        store: Store,
        pipeline: Pipeline,
        poller: Poller,
        dispatcher: Dispatcher,
        *,
        clock: Callable[[], datetime] = utc_now,
        work: Executor | None = None,
        telegram: TelegramRuntime | None = None,
    ) -> None:
        self.config = config
        self.telegram = telegram
        self.daily: DailyRecap | None = None  # set when [email] is configured
        self.store = store
        self.pipeline = pipeline
        self.poller = poller
        self.dispatcher = dispatcher
        self.clock = clock
        self._work = work or ThreadPoolExecutor(1, thread_name_prefix="alertbot-pipeline")
        self._running: set[asyncio.Task[Any]] = set()
        self._scheduler: AsyncIOScheduler | None = None
        # Config sources are trusted; sources added from Telegram are fetched under the
        # address checks of alertbot.sources.safety.
        self.sources: dict[str, tuple[SourceConfig, bool]] = {
            s.name.casefold(): (s, True) for s in config.sources
        }
        for source in store.runtime_sources():
            self.sources.setdefault(source.name.casefold(), (source, False))
        self._stopping = False

    async def in_work_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run a store or pipeline step (or a bot command's work) on the one worker
        thread, in order, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._work, partial(function, *args))

    # -- polling -----------------------------------------------------------------------

    async def poll_source(self, source: SourceConfig, *, force: bool = False) -> PollOutcome:
        """Poll one source, record its new articles and their alerts, save its health.

        Without `force`, a source that is backing off after failures is skipped until its
        next poll time. A source listing more new entries than one poll completes is polled
        again at once (up to `MAX_ROUNDS` times), and its validators are kept back until
        nothing is left, so a 304 can never hide entries that were cut off.
        """
        now = self.clock()
        health, validators = await self.in_work_thread(self.store.source_state, source.name)
        if (
            not force
            and health.consecutive_failures
            and health.next_poll is not None
            and now < health.next_poll
        ):
            return PollOutcome(source.name, skipped=True)
        outcome = PollOutcome(source.name)
        saved = validators
        for _ in range(MAX_ROUNDS):
            result = await self._poll_once(source, validators)
            outcome.error = result.error
            outcome.not_modified = result.not_modified
            outcome.entries = max(outcome.entries, result.entries)
            if result.articles:
                counts = await self.in_work_thread(
                    self.pipeline.process, result.articles, self.clock()
                )
                add_counts(outcome.counts, counts)
            if result.error is not None or not result.remaining:
                if result.error is None:
                    saved = result.validators
                break
            validators = Validators()  # fetch the whole listing again for the rest
        interval = source_interval(self.config, source)
        done = self.clock()
        if outcome.error is not None:
            health = after_failure(health, outcome.error, done, interval)
        else:
            health = after_success(health, done, interval)
        await self.in_work_thread(
            self.store.save_source_state, source.name, source.url, health, saved
        )
        if outcome.counts.queued:
            log.info("source %r: %d new alerts queued", source.name, outcome.counts.queued)
        await self._stories_grew(outcome.counts.grown)
        return outcome

    async def _poll_once(self, source: SourceConfig, validators: Validators) -> PollResult:
        """One fetch of the source and its new entries, abandoned at the deadline."""
        deadline = poll_deadline(self.config)
        _, trusted = self.sources.get(source.name.casefold(), (source, False))
        try:
            return await asyncio.wait_for(
                self.poller.poll(
                    source,
                    validators,
                    self.clock(),
                    trusted=trusted,
                    seen=partial(self._seen, source),
                ),
                deadline,
            )
        except TimeoutError:
            message = f"poll did not finish within {deadline:g} s; abandoned"
            log.warning("source %r: %s", source.name, message)
            error = FetchError(FetchErrorKind.TIMEOUT, message)
            return PollResult(source.name, validators=validators, error=error)

    async def _stories_grew(self, story_ids: set[int]) -> None:
        """Tell the notifiers that can edit sent alerts that these stories gained outlets."""
        for notifier in self.dispatcher.notifiers:
            grew = getattr(notifier, "story_grew", None)
            if grew is None:
                continue
            for story_id in sorted(story_ids):
                await grew(story_id)

    def _seen(self, source: SourceConfig, entry: Entry) -> bool:
        """True when an entry's URL or guid is already known: its page is not fetched."""
        try:
            url = canonical_url(entry.url)
        except ValueError:
            return False
        return self.store.is_seen_entry(url, entry.guid, source.name)

    async def poll_and_dispatch(self, source: SourceConfig) -> None:
        """The scheduled job of one source: poll it, then deliver what it queued."""
        outcome = await self.poll_source(source)
        if outcome.counts.queued and not self._stopping:
            await self.dispatcher.dispatch()

    # -- one pass ----------------------------------------------------------------------

    async def run_once(self) -> tuple[list[PollOutcome], DispatchCounts]:
        """Poll every source once (backoff ignored), then deliver everything due."""
        outcomes = await asyncio.gather(
            *(self.poll_source(s, force=True) for s, _ in self.sources.values())
        )
        sent = await self.dispatcher.dispatch()
        return list(outcomes), sent

    # -- the scheduler -----------------------------------------------------------------

    async def prune(self) -> None:
        """Drop what retention allows, and the index's stories too old to be joined."""
        now = self.clock()
        counts = await self.in_work_thread(
            self.store.prune, now, timedelta(seconds=self.config.retention)
        )
        await self.in_work_thread(self.pipeline.forget_before, now - 2 * WINDOW)
        log.info(
            "pruned %d seen items, %d outbox rows, %d stories",
            counts.seen_items, counts.outbox, counts.stories,
        )  # fmt: skip

    def _job(
        self, make: Callable[[], Awaitable[object]]
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """A scheduler job tracked for shutdown (an error in it is logged by APScheduler
        with its traceback, and the job runs again at its next time)."""

        async def job() -> None:
            if self._stopping:
                return
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await make()
            finally:
                self._running.discard(task)

        return job

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        """Add the poll, dispatch and prune jobs."""
        self._scheduler = scheduler
        now = self.clock()
        count = max(1, len(self.sources))
        for i, (source, _) in enumerate(self.sources.values()):
            interval = source_interval(self.config, source)
            # Spread the first polls over the first few seconds instead of all at once.
            self._schedule_source(
                source, now + timedelta(seconds=min(interval.total_seconds(), 10) * i / count)
            )
        scheduler.add_job(
            self._job(self.dispatcher.dispatch),
            IntervalTrigger(seconds=DISPATCH_EVERY.total_seconds()),
            id="dispatch",
            next_run_time=now,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(DISPATCH_EVERY.total_seconds()),
        )
        if self.daily is not None:
            scheduler.add_job(
                self._job(self.daily.run),
                IntervalTrigger(seconds=RECAP_CHECK.total_seconds()),
                id="recap",
                next_run_time=now + timedelta(seconds=5),
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(RECAP_CHECK.total_seconds()),
            )
        scheduler.add_job(
            self._job(self.prune),
            IntervalTrigger(seconds=PRUNE_EVERY.total_seconds()),
            id="prune",
            next_run_time=now + timedelta(minutes=1),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(PRUNE_EVERY.total_seconds()),
        )

    def _schedule_source(self, source: SourceConfig, first: datetime) -> None:
        assert self._scheduler is not None
        interval = source_interval(self.config, source)
        self._scheduler.add_job(
            self._job(partial(self.poll_and_dispatch, source)),
            IntervalTrigger(
                seconds=interval.total_seconds(), jitter=min(interval.total_seconds() * 0.1, 30)
            ),
            id=f"poll:{source.name.casefold()}",
            name=f"poll {source.name}",
            next_run_time=first,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(interval.total_seconds()),
            replace_existing=True,
        )

    async def add_source(self, source: SourceConfig, added_by: int | None) -> PollOutcome:
        """Add an untrusted source at run time: polled once now (its current items are
        recorded, and alert like any others); kept and scheduled only if that worked."""
        if source.name.casefold() in self.sources:
            raise ValueError(f"a source named {source.name!r} exists")
        self.sources[source.name.casefold()] = (source, False)
        outcome = await self.poll_source(source, force=True)
        if outcome.error is not None:
            del self.sources[source.name.casefold()]
            return outcome
        await self.in_work_thread(self.store.add_runtime_source, source, added_by, self.clock())
        if self._scheduler is not None and self._scheduler.running:
            self._schedule_source(source, self.clock() + source_interval(self.config, source))
        if outcome.counts.queued:
            await self.dispatcher.dispatch()
        return outcome

    async def remove_source(self, name: str) -> SourceConfig | None:
        """Remove a source added at run time (config sources stay); None if there is none."""
        removed = await self.in_work_thread(self.store.remove_runtime_source, name)
        if removed is None:
            return None
        self.sources.pop(name.casefold(), None)
        if self._scheduler is not None:
            job = self._scheduler.get_job(f"poll:{name.casefold()}")
            if job is not None:
                job.remove()
        return removed

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run the scheduler until `stop` is set, then shut down within about GRACE s."""
        scheduler = AsyncIOScheduler(timezone=self.config.timezone)
        self.schedule(scheduler)
        scheduler.start()
        if self.telegram is not None:
            self.telegram.start()
        try:
            await stop.wait()
        finally:
            await self.shutdown(scheduler)

    async def shutdown(self, scheduler: AsyncIOScheduler | None = None) -> None:
        """Stop taking work; give running jobs GRACE seconds, then cancel them."""
        self._stopping = True
        self.dispatcher.stop()
        if self.telegram is not None:
            await self.telegram.stop()
        if scheduler is not None and scheduler.running:
            scheduler.pause()
        running = set(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=GRACE)
            for task in late:
                task.cancel()
            if late:
                log.warning("shutdown: abandoned %d running job(s)", len(late))
                await asyncio.wait(late, timeout=1.0)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        # A pipeline step already on the worker thread finishes (it is short and its
        # transaction must not be cut); nothing new starts.
        await asyncio.to_thread(partial(_shutdown_executor, self._work))


def _shutdown_executor(executor: Executor) -> None:
    executor.shutdown(wait=True, cancel_futures=True)
