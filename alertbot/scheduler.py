"""The scheduler and its jobs: polls, dispatch, pruning, the daily recap; and shutdown.

    AsyncIOScheduler (APScheduler 3, one per process)
      poll:<source>   every source's interval, with jitter; one poll of a source at a time;
                      a per-source deadline; a late run still runs (misfire grace)
      dispatch        every few seconds, and straight after a poll that queued alerts
      prune           daily: retention, and the story index's old entries
      recap           every minute: the daily email recap, when due (alertbot.recap.daily)

A poll fetches the source (conditional GET), completes its new entries into articles
(CPU work in a process pool), prepares them on the pipeline's worker thread (matching,
fingerprints and story terms, in one pass over the text), records them on the store's
thread (stories, `Store.record_item`), and only then stores the source's validators and
health: a crash before that point polls the same items again rather than skipping them.
The listing is fetched once per poll and its new entries completed in batches
(`MAX_ENTRIES_PER_POLL`, up to `MAX_ROUNDS` batches); what a poll leaves waiting, and
every entry it skipped, is logged in one line and kept with the health for `alertbot
status`.

Threads. The event loop runs the jobs and the bot; the pipeline's worker prepares articles
with the matcher (a chat's new watches are compiled beside it and swapped in between two
articles); the store's thread (`alertbot.store.runner`) owns the database and the story
index, and records a poll's articles a few at a time. So a bot command never waits for a
poll's matching, and its store call only for at most one short transaction.

A source that keeps failing backs off (`alertbot.sources.health`); its scheduled runs are
skipped until its next poll time. After `TELL_ADMINS_AFTER` failed polls in a row the
admins are told once (`tell_admins`), and once when it recovers. Shutdown (SIGTERM,
SIGINT): no new runs start, running ones get `GRACE` seconds to finish and are then
cancelled, quietly, with one log line naming them (`shutdown: abandoned poll of Hung
(still running after 5 s)`); a step still on the pipeline's worker gets `PIPELINE_WAIT`
more, then the database is closed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from alertbot.clock import utc_now
from alertbot.config import Config, SourceConfig
from alertbot.errors import SourceExistsError
from alertbot.metrics import Metrics
from alertbot.notify import DispatchCounts, Dispatcher
from alertbot.pipeline import Pipeline, ProcessCounts
from alertbot.sources.health import SourceHealth, after_failure, after_success
from alertbot.sources.model import Entry, FetchError, FetchErrorKind, Skipped, Validators
from alertbot.sources.poll import Poller, PollResult
from alertbot.store import Store, StoreRunner
from alertbot.store.base import SOURCES, WATCHLIST
from alertbot.store.engine import unavailable
from alertbot.stories import WINDOW, StoryId
from alertbot.workers import HEARTBEAT, ROLE_RETRY, Workers

if TYPE_CHECKING:
    from alertbot.bot.runtime import TelegramRuntime
    from alertbot.recap.daily import DailyRecap

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

DISPATCH_EVERY = timedelta(seconds=5)
PRUNE_EVERY = timedelta(days=1)
RECAP_CHECK = timedelta(minutes=1)  # how often the daily recap's time is checked
MAX_ROUNDS = 10  # batches of new entries completed in one poll of a source
RECORD_CHUNK = 5  # articles recorded in one transaction (tens of ms of the store's thread)
TELL_ADMINS_AFTER = 3  # failed polls in a row after which the admins are told, once
GRACE = 5.0  # seconds running work gets at shutdown before it is cancelled
PIPELINE_WAIT = 1.0  # seconds a step still on the pipeline's worker gets after that
SWITCH_INTERVAL = 0.001  # s a thread computing may keep the GIL from one that waits for it


def poll_deadline(config: Config) -> float:
    """Seconds one poll of a source may take, article pages included, before it is
    abandoned: long enough for 50 article fetches, short enough that a hung source is
    retried on its next run instead of holding its slot for good."""
    return float(max(60, 6 * config.polling.timeout))


@dataclass(frozen=True)
class Source:
    """A source as the scheduler polls it: its config, and whether it is trusted (config
    sources are; sources added from Telegram are fetched under alertbot.sources.safety)."""

    config: SourceConfig
    trusted: bool

    @property
    def key(self) -> str:
        """The name as sources are told apart (case does not count)."""
        return self.config.name.casefold()


@dataclass
class PollOutcome:
    """What one poll of one source did."""

    source: str
    skipped: bool = False  # backing off after failures, or polled by another worker
    elsewhere: bool = False  # another worker holds the source's lease
    error: FetchError | None = None
    not_modified: bool = False
    entries: int = 0
    counts: ProcessCounts = field(default_factory=ProcessCounts)
    left_out: Skipped = field(default_factory=Skipped)  # entries skipped, per reason
    waiting: int = 0  # new entries left for the next polls by the per-poll cap


class Scheduler:
    """The running worker: polls sources, queues alerts, dispatches them, on one scheduler."""

    def __init__(
        self,
        config: Config,
        db: StoreRunner,
        pipeline: Pipeline,
        poller: Poller,
        dispatcher: Dispatcher,
        *,
        clock: Callable[[], datetime] = utc_now,
        work: Executor | None = None,
        telegram: TelegramRuntime | None = None,
        daily: DailyRecap | None = None,
        tell_admins: Callable[[str], Awaitable[None]] | None = None,
        workers: Workers | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        # What of the work is this process's (alertbot.workers): all of it on SQLite.
        self.workers = workers if workers is not None else Workers(db, url=None, clock=clock)
        self.metrics = metrics if metrics is not None else Metrics()
        self.tell_admins = tell_admins  # tells the Telegram admins (app.tell_admins)
        self.telegram = telegram
        self.daily = daily
        self.db = db
        self.pipeline = pipeline
        self.poller = poller
        self.dispatcher = dispatcher
        self.clock = clock
        self._work = work or ThreadPoolExecutor(1, thread_name_prefix="alertbot-pipeline")
        self._running: dict[asyncio.Task[Any], str] = {}  # job runs, and what they are
        self._abandoned: set[asyncio.Task[Any]] = set()  # cancelled by shutdown
        self._scheduler: AsyncIOScheduler | None = None
        self._watch_changes = asyncio.Lock()  # set_chat_watches, one at a time
        self.sources: dict[str, Source] = {}
        for config_source in config.sources:
            self._add(Source(config_source, trusted=True))
        for runtime_source in db.store.runtime_sources():
            if runtime_source.name.casefold() not in self.sources:
                self._add(Source(runtime_source, trusted=False))
        self._stopping = False

    @property
    def running(self) -> bool:
        """Whether the scheduler runs its jobs: from `run_forever`'s start to its shutdown."""
        return self._scheduler is not None and self._scheduler.running and not self._stopping

    @property
    def store(self) -> Store:
        """The store (for reading in tests and tools; async code goes through `db`)."""
        return self.db.store

    def _add(self, source: Source) -> None:
        self.sources[source.key] = source

    async def in_pipeline(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run matcher work (preparing articles) on the pipeline's worker thread, in order,
        off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._work, partial(function, *args, **kwargs))

    async def set_chat_watches(self) -> None:
        """Recompile the watches and exclusions after a chat's changed (read from the
        store); every article prepared from the moment this returns is matched with them.

        Compiled on a thread of its own, not queued on the pipeline's worker: behind a
        poll's batch there, the /watch or /unwatch that asked would wait seconds for its
        answer. The new matcher replaces the old one between two articles of a batch
        (`Pipeline.set_watchlists` only assigns it). One change at a time, so that an
        older reading of the store never replaces a newer one.
        """
        async with self._watch_changes:
            store = self.db.store
            self.workers.seen(await self.db.run(store.version))
            chat_watches = await self.db.run(store.all_chat_watches)
            chat_exclusions = await self.db.run(store.all_chat_exclusions)
            watchlists = replace(
                self.pipeline.watchlists,
                chat_watches=chat_watches,
                chat_exclusions=chat_exclusions,
            )
            await asyncio.to_thread(self.pipeline.set_watchlists, watchlists)

    # -- polling -----------------------------------------------------------------------

    async def poll_source(
        self, source: Source, *, force: bool = False, trial: bool = False
    ) -> PollOutcome:
        """Poll one source, record its new articles and their alerts, save its health.

        Without `force`, a source that is backing off after failures is skipped until its
        next poll time. The listing is fetched once; more new entries than one batch are
        completed in further batches (up to `MAX_ROUNDS`), and its validators are kept
        back until nothing is left, so a 304 can never hide entries that were cut off.
        A `trial` poll (a source being added) that fails saves nothing: a refused source
        leaves no trace.
        """
        name = source.config.name
        interval = self._interval(source)
        if not trial and not await self.workers.may_poll(
            source.key, interval, poll_deadline(self.config)
        ):
            return PollOutcome(name, skipped=True, elsewhere=True)
        now = self.clock()
        before, validators = await self.db.run_bulk(self.db.store.source_state, name)
        if (
            not force
            and before.consecutive_failures
            and before.next_poll is not None
            and now < before.next_poll
        ):
            backing_off = PollOutcome(name, skipped=True)
            self.metrics.polled(backing_off)
            return backing_off
        outcome = PollOutcome(name)
        result = await self._within_deadline(
            source,
            self.poller.poll(
                source.config,
                validators,
                self.clock(),
                trusted=source.trusted,
                seen=partial(self._seen, name),
            ),
            PollResult(name, validators=validators),
        )
        outcome.not_modified = result.not_modified
        outcome.entries = result.entries
        for batch in range(MAX_ROUNDS):
            if batch:  # the next batch of the same listing, not fetched again
                result = await self._within_deadline(
                    source,
                    self.poller.more(source.config, result, self.clock(), trusted=source.trusted),
                    replace(result, articles=[], skipped=Skipped()),
                )
            outcome.error = result.error
            outcome.left_out += result.skipped
            if result.articles:
                outcome.counts.add(await self._process(result))
            if result.error is not None or not result.left:
                break
        outcome.waiting = len(result.left)
        if outcome.error is not None and trial:
            return outcome
        done = self.clock()
        if outcome.error is not None:
            health = after_failure(before, outcome.error, done, interval)
            # A failed fetch read no listing: the last known count of entries waiting stands.
            waiting = outcome.waiting or before.waiting
            health = replace(health, skipped=outcome.left_out, waiting=waiting)
            saved = validators
        else:
            health = after_success(
                before, done, interval, skipped=outcome.left_out, waiting=outcome.waiting
            )
            # Nothing left behind: the listing's validators; else an unconditional fetch next.
            saved = result.validators if result.complete else Validators()
        telling = _admin_news(name, before, health)
        if telling is not None:
            health = replace(health, admins_told=health.consecutive_failures > 0)
        await self.db.run_bulk(
            self.db.store.save_source_state, name, source.config.url, health, saved
        )
        self.metrics.polled(outcome)
        if outcome.counts.queued:
            log.info("source %r: %d new alerts queued", name, outcome.counts.queued)
        self._log_left_out(name, outcome)
        if telling is not None:
            log.warning("%s", telling)
            if self.tell_admins is not None:
                await self.tell_admins(telling)
        await self._stories_grew(outcome.counts.grown)
        return outcome

    def _log_left_out(self, name: str, outcome: PollOutcome) -> None:
        """One line per poll about what it left out: skipped entries, entries waiting."""
        parts = []
        if outcome.left_out:
            parts.append(f"{outcome.left_out.describe()} skipped")
        if outcome.waiting:
            parts.append(f"{outcome.waiting:,} new entries waiting for the next polls")
        if parts:
            log.info("source %r: %s", name, "; ".join(parts))

    async def _process(self, result: PollResult) -> ProcessCounts:
        """Prepare a poll's articles on the pipeline's worker, record them on the store's,
        `RECORD_CHUNK` at a time: each is one transaction, and the longest a bot command's
        store call waits for (`StoreRunner.run_bulk`)."""
        prepared = await self.in_pipeline(self.pipeline.prepare, result.articles, self.clock())
        counts = ProcessCounts()
        for start in range(0, len(prepared), RECORD_CHUNK):
            chunk = prepared[start : start + RECORD_CHUNK]
            recorded = await self.db.run_bulk(
                self.pipeline.record, self.db.store, chunk, self.clock()
            )
            self.metrics.processed(recorded)
            counts.add(recorded)
        return counts

    async def _within_deadline(
        self, source: Source, step: Awaitable[PollResult], abandoned: PollResult
    ) -> PollResult:
        """One step of a poll (the fetch and first batch, or one more batch), abandoned at
        the deadline: then `abandoned` with a timeout error."""
        deadline = poll_deadline(self.config)
        try:
            return await asyncio.wait_for(step, deadline)
        except TimeoutError:
            message = f"poll did not finish within {deadline:g} s; abandoned"
            log.warning("source %r: %s", source.config.name, message)
            return replace(abandoned, error=FetchError(FetchErrorKind.TIMEOUT, message))

    async def _stories_grew(self, story_ids: set[StoryId]) -> None:
        """Tell the notifiers that these stories gained outlets (Telegram edits "also:")."""
        for notifier in self.dispatcher.notifiers:
            for story_id in sorted(story_ids):
                await notifier.story_grew(story_id)

    async def _seen(self, source: str, entries: Sequence[Entry]) -> list[bool]:
        """For each entry, whether its URL or guid is already known (its page is not
        fetched): one call on the store's thread for the whole listing."""
        return await self.db.run_bulk(_seen_entries, self.db.store, source, entries)

    async def poll_and_dispatch(self, source: Source) -> None:
        """The scheduled job of one source: poll it, then deliver what it queued."""
        outcome = await self.poll_source(source)
        if outcome.counts.queued and not self._stopping:
            await self.dispatcher.dispatch()

    def _interval(self, source: Source) -> timedelta:
        return timedelta(seconds=source.config.interval or self.config.polling.interval)

    # -- one pass ----------------------------------------------------------------------

    async def run_once(self) -> tuple[list[PollOutcome], DispatchCounts]:
        """Poll every source once (backoff ignored), then deliver everything due."""
        outcomes = await asyncio.gather(
            *(self.poll_source(s, force=True) for s in self.sources.values())
        )
        sent = await self.dispatcher.dispatch()
        return list(outcomes), sent

    # -- the scheduler -----------------------------------------------------------------

    async def prune(self) -> None:
        """Drop what retention allows (one worker at a time), and the index's stories too
        old to be joined (every worker, its own index)."""
        now = self.clock()
        retention = timedelta(seconds=self.config.retention)
        async with self.workers.singleton("prune") as mine:
            if mine:
                counts = await self.db.run_bulk(self.db.store.prune, now, retention)
                log.info(
                    "pruned %d seen items, %d outbox rows, %d stories",
                    counts.seen_items, counts.outbox, counts.stories,
                )  # fmt: skip
        await self.db.run_bulk(self.pipeline.forget_before, now - 2 * WINDOW)

    async def recap(self) -> None:
        """The daily recap's check, by one worker at a time: the one that sends it records
        it under the lock, so the next finds today's sent."""
        assert self.daily is not None
        async with self.workers.singleton("recap") as mine:
            if mine:
                await self.daily.run()

    async def heartbeat(self) -> None:
        """Say this worker is alive; compile the watches again if another worker's
        command changed them."""
        await self.workers.beat()
        if await self.workers.moved(WATCHLIST):
            await self.set_chat_watches()
        if await self.workers.moved(SOURCES):
            await self._take_up_runtime_sources()

    async def _take_up_runtime_sources(self) -> None:
        """Schedule the sources another worker added from Telegram, and drop those it
        removed (config sources stay)."""
        stored = await self.db.run(self.db.store.runtime_sources)
        keys = {config.name.casefold(): config for config in stored}
        for key, config in keys.items():
            if key not in self.sources:
                source = Source(config, trusted=False)
                self._add(source)
                if self._scheduler is not None and self._scheduler.running:
                    self._schedule_source(source, self.clock())
                log.info("source %r: added by another worker", config.name)
        for key, source in list(self.sources.items()):
            if not source.trusted and key not in keys:
                self._drop_source(key, source.config.name)
                log.info("source %r: removed by another worker", source.config.name)
        self.workers.sources_known(len(self.sources))

    async def keep_bot(self) -> None:
        """Answer commands while this worker holds the bot (one worker per token)."""
        telegram = self.telegram
        assert telegram is not None
        await self.workers.keep_role("bot", telegram.start, telegram.stop)
        self.metrics.set_role("bot", self.workers.holds("bot"))

    def _job(
        self, make: Callable[[], Awaitable[object]], what: str
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """A scheduler job tracked for shutdown as `what` (an error in it is logged by
        APScheduler with its traceback, and the job runs again at its next time)."""

        async def job() -> None:
            if self._stopping:
                return
            task = asyncio.current_task()
            assert task is not None
            self._running[task] = what
            try:
                await make()
            except asyncio.CancelledError:
                if task not in self._abandoned:
                    raise
                # Abandoned by shutdown, which said so in one line: not a failure of the
                # job for APScheduler to log with a traceback.
                task.uncancel()
            except Exception as exc:
                why = unavailable(exc)
                if why is None:
                    raise
                # The database is down or busy: nothing was lost (what was not recorded is
                # polled again, what was not marked sent is sent again); one line, not a
                # traceback each time every job finds it so.
                log.warning("%s: %s; tried again at its next run", what, why)
            finally:
                self._running.pop(task, None)

        return job

    def _every(
        self,
        job_id: str,
        make: Callable[[], Awaitable[object]],
        every: timedelta,
        first: datetime,
        *,
        jitter: float | None = None,
        name: str | None = None,
    ) -> None:
        """Run `make` every `every` from `first`: one run at a time, late runs coalesced,
        a run late by less than one interval still made."""
        assert self._scheduler is not None
        self._scheduler.add_job(
            self._job(make, name or job_id),
            IntervalTrigger(seconds=every.total_seconds(), jitter=jitter),
            id=job_id,
            name=name or job_id,
            next_run_time=first,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(every.total_seconds()),
            replace_existing=True,
        )

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        """Add the poll, dispatch, prune and recap jobs."""
        self._scheduler = scheduler
        now = self.clock()
        count = max(1, len(self.sources))
        for i, source in enumerate(self.sources.values()):
            interval = self._interval(source)
            # Spread the first polls over the first few seconds instead of all at once.
            self._schedule_source(
                source, now + timedelta(seconds=min(interval.total_seconds(), 10) * i / count)
            )
        self._every("dispatch", self.dispatcher.dispatch, DISPATCH_EVERY, now)
        if self.daily is not None:
            self._every("recap", self.recap, RECAP_CHECK, now + timedelta(seconds=5))
        self._every("prune", self.prune, PRUNE_EVERY, now + timedelta(minutes=1))
        if self.workers.shared:
            self._every("heartbeat", self.heartbeat, HEARTBEAT, now)
            if self.telegram is not None:
                self._every("bot", self.keep_bot, ROLE_RETRY, now)

    def _schedule_source(self, source: Source, first: datetime) -> None:
        interval = self._interval(source)
        self._every(
            f"poll:{source.key}",
            partial(self.poll_and_dispatch, source),
            interval,
            first,
            jitter=min(interval.total_seconds() * 0.1, 30),
            name=f"poll of {source.config.name}",
        )

    async def add_source(self, config: SourceConfig, added_by: int | None) -> PollOutcome:
        """Add an untrusted source at run time: polled once now (its current items are
        recorded, and alert like any others); kept and scheduled only if that worked."""
        source = Source(config, trusted=False)
        if source.key in self.sources:
            raise SourceExistsError(f"a source named {config.name!r} exists")
        self._add(source)
        outcome = await self.poll_source(source, force=True, trial=True)
        if outcome.error is not None:
            del self.sources[source.key]
            return outcome
        await self.db.run(self.db.store.add_runtime_source, config, added_by, self.clock())
        if self._scheduler is not None and self._scheduler.running:
            self._schedule_source(source, self.clock() + self._interval(source))
        if outcome.counts.queued:
            await self.dispatcher.dispatch()
        return outcome

    async def remove_source(self, name: str) -> SourceConfig | None:
        """Remove a source added at run time (config sources stay); None if there is none."""
        removed = await self.db.run(self.db.store.remove_runtime_source, name)
        if removed is None:
            return None
        self._drop_source(name.casefold(), removed.name)
        return removed

    def _drop_source(self, key: str, name: str) -> None:
        """Stop polling a source: its entry, its job and its metrics go."""
        self.sources.pop(key, None)
        self.metrics.forget_source(name)
        if self._scheduler is not None and self._scheduler.get_job(f"poll:{key}") is not None:
            self._scheduler.remove_job(f"poll:{key}")

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run the scheduler until `stop` is set, then shut down within about GRACE s.

        What is alive at this point lives for the run: the morphology database (millions of
        objects) and the story index rebuilt at open. The collector's full passes over them
        could never free any of it, yet stop every thread for about half a second each
        (a bot command answered that much later, measured in bench/footprint_bench.py): they
        are moved out of its reach (`gc.freeze`).
        """
        gc.freeze()
        scheduler = AsyncIOScheduler(timezone=self.config.timezone)
        self.schedule(scheduler)
        scheduler.start()
        self.metrics.set_role("clusterer", True)  # one process holds every role
        switch_interval = sys.getswitchinterval()
        if self.telegram is not None:
            # The event loop that answers commands needs the GIL each time it wakes, while
            # the pipeline's worker (matching), the store's thread (recording) and a backtest
            # compute: it waits up to the switch interval (5 ms by default) every time, a
            # few dozen times per command. At 1 ms, during a 400-article poll, the p95 reply
            # fell from 564 to 271 ms and the poll took no longer (bench/footprint_bench.py).
            sys.setswitchinterval(SWITCH_INTERVAL)
            if not self.workers.shared:  # else the worker holding the bot (keep_bot)
                self.workers.roles.add("bot")
                self.telegram.start()
                self.metrics.set_role("bot", True)
        try:
            await stop.wait()
        finally:
            await self.shutdown(scheduler)
            sys.setswitchinterval(switch_interval)

    async def shutdown(self, scheduler: AsyncIOScheduler | None = None) -> None:
        """Stop taking work; give running jobs GRACE seconds, then cancel them."""
        loop = asyncio.get_running_loop()
        grace_ends = loop.time() + GRACE  # from now, stopping the bot included
        self._stopping = True
        self.dispatcher.stop()
        if self.telegram is not None:
            await self.telegram.stop()
            self.metrics.set_role("bot", False)
        if scheduler is not None and scheduler.running:
            scheduler.pause()
        running = dict(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=max(0.0, grace_ends - loop.time()))
            if late:
                self._abandoned.update(late)
                for task in late:
                    task.cancel()
                what = ", ".join(sorted(running[task] for task in late))
                log.warning("shutdown: abandoned %s (still running after %g s)", what, GRACE)
                await asyncio.wait(late, timeout=1.0)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        self.metrics.set_role("clusterer", False)
        await self._stop_pipeline()

    async def _stop_pipeline(self) -> None:
        """Stop the pipeline's worker: nothing new starts; a step already running (it is
        short) gets PIPELINE_WAIT seconds, and is then left behind rather than waited for
        (the process exits without it: alertbot.app's exit deadline)."""
        try:  # queued behind the running step, if any: done once the worker is idle
            idle = asyncio.wrap_future(self._work.submit(lambda: None))
        except RuntimeError:  # shut down already (a second shutdown)
            return
        self._work.shutdown(wait=False)
        await asyncio.wait({idle}, timeout=PIPELINE_WAIT)


def _seen_entries(store: Store, source: str, entries: Sequence[Entry]) -> list[bool]:
    seen = []
    for entry in entries:
        try:
            url = entry.key
        except ValueError:
            seen.append(False)
            continue
        seen.append(store.is_seen_entry(url, entry.guid, source))
    return seen


def _admin_news(name: str, before: SourceHealth, after: SourceHealth) -> str | None:
    """What to tell the admins after a poll: that the source is failing (once, when it
    reaches `TELL_ADMINS_AFTER` failures in a row), that it recovered (once, if they
    were told it was failing), or nothing."""
    if after.consecutive_failures >= TELL_ADMINS_AFTER and not before.admins_told:
        return (
            f"source {name!r} has failed {after.consecutive_failures} polls in a row:"
            f" {after.last_error_kind}: {after.last_error}. It is retried with backoff;"
            " you will be told when it recovers."
        )
    if after.healthy and before.admins_told:
        return f"source {name!r} recovered after {before.consecutive_failures} failed polls."
    return None
