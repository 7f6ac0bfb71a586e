"""Putting `alertbot run` together: the store, the notifiers, Telegram, email, the App.

    open_app(config, lemmatizer)  -> Runtime(app, notifiers, stack, metrics)
      Store.open, config watches synced
      notifiers: Telegram (with a token) or the console; email for `email.alert_to`
      Pipeline (watches of the config and of every chat), Fetcher, Poller, Dispatcher
      App (alertbot.scheduler), with the bot's handlers and the daily recap when configured
      Metrics, fed by the scheduler and the dispatcher; `run` serves them with `[metrics]`

Also what `alertbot run` prints at start and after `--once`, and its signal handling: a
run told to stop has exited `GRACE + EXIT_MARGIN` seconds later, whatever is still stuck.
"""

from __future__ import annotations

import asyncio
import email.policy
import gc
import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from functools import partial
from typing import TextIO

from telegram.error import TelegramError

from alertbot.bot.access import Gate
from alertbot.bot.commands import BotServices
from alertbot.bot.runtime import TelegramRuntime
from alertbot.bot.service import WatchService
from alertbot.bot.subscriptions import EmailSubscriptions
from alertbot.clock import utc_now
from alertbot.config import Config, nothing_to_poll
from alertbot.metrics import Metrics
from alertbot.monitor import Monitor, serve_monitor
from alertbot.notify import ConsoleNotifier, DispatchCounts, Dispatcher, Notifier
from alertbot.notify.alert import Alert
from alertbot.notify.mail import alert_message
from alertbot.notify.smtp import EmailNotifier, send_message
from alertbot.notify.telegram import TelegramNotifier
from alertbot.pipeline import Pipeline, ProcessCounts, Watchlists
from alertbot.recap.daily import DailyRecap
from alertbot.scheduler import GRACE, PollOutcome, Scheduler
from alertbot.sources.fetch import Fetcher
from alertbot.sources.poll import Poller, cpu_pool
from alertbot.store import Recipient, StoreRunner
from alertbot.text.lemmatize import Lemmatizer
from alertbot.workers import LIVE, Workers

log = logging.getLogger(__name__)

CONSOLE = Recipient("console", "stdout")
EXIT_MARGIN = 1.5  # seconds after GRACE by which a run told to stop has exited


def send_code(config: Config, address: str, code: str) -> None:
    """Mail a /email confirmation code (blocking)."""
    assert config.email is not None
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = config.email.sender
    message["To"] = address
    message["Subject"] = f"alertbot: your confirmation code {code}"
    message.set_content(
        f"Your alertbot confirmation code is {code}.\n\n"
        "Send /verify " + code + " in the Telegram chat that asked for it, within an hour,"
        " to get its daily recap at this address. If you did not ask for this, ignore it.\n"
    )
    send_message(config.email, message)


def config_recipients(config: Config, channels: tuple[str, ...]) -> tuple[Recipient, ...]:
    """Who the config's watches alert: the Telegram alert chats when Telegram delivers,
    else the console."""
    out: list[Recipient] = []
    if "telegram" in channels and config.telegram is not None:
        out.extend(Recipient("telegram", str(c)) for c in config.telegram.alert_chats)
    else:
        out.append(CONSOLE)
    if "email" in channels and config.email is not None:
        out.extend(Recipient("email", address) for address in config.email.alert_to)
    return tuple(out)


async def notifiers_for(
    config: Config,
    db: StoreRunner,
    stack: AsyncExitStack,
    clock: Callable[[], datetime],
    stdout: TextIO | None,
) -> tuple[dict[str, Notifier], TelegramRuntime | None]:
    """The notifiers this configuration uses: Telegram with a token, else the console
    (kept beside Telegram while console alerts from an earlier run are pending); email
    for `email.alert_to` (or while email alerts are pending)."""
    notifiers: dict[str, Notifier] = {}
    telegram = None
    store = db.store
    if config.telegram is not None:
        telegram = TelegramRuntime(config)
        stack.push_async_callback(telegram.close)
        await telegram.open()
        notifiers["telegram"] = TelegramNotifier(
            telegram.bot, db, config.telegram, config.timezone, clock
        )
    if config.telegram is None or await db.run(store.pending_count, "console") > 0:
        notifiers["console"] = ConsoleNotifier(config.timezone, stdout)
    email = config.email
    if email is not None and (email.alert_to or await db.run(store.pending_count, "email") > 0):
        sender = email.sender

        def render(alert: Alert) -> EmailMessage:
            return alert_message(alert, config.timezone, sender=sender, to=alert.recipient,
                                 now=clock())  # fmt: skip

        notifiers["email"] = EmailNotifier(
            email, render, on_failure=partial(tell_admins, telegram, config)
        )
    return notifiers, telegram


async def tell_admins(telegram: TelegramRuntime | None, config: Config, text: str) -> None:
    """Tell the bot's admins about a failure that needs a person (a refused email, a
    source that keeps failing) or its end."""
    if telegram is None or config.telegram is None:
        return
    for admin in config.telegram.admins:
        try:
            await telegram.bot.send_message(admin, f"⚠️ alertbot: {text}")
        except TelegramError as exc:
            log.warning("could not tell admin %d: %s", admin, exc)


@dataclass
class Runtime:
    """The opened parts of a run, and what closes them."""

    scheduler: Scheduler
    notifiers: dict[str, Notifier]
    stack: AsyncExitStack
    metrics: Metrics


async def open_app(
    config: Config,
    lemmatizer: Lemmatizer,
    *,
    stdout: TextIO | None = None,
    clock: Callable[[], datetime] = utc_now,
    executor: Executor | None = None,
    notifiers: dict[str, Notifier] | None = None,
) -> Runtime:
    """Open the store, fetcher, poller and notifiers for `config`; close with `runtime.stack`.

    `executor` runs parsing and extraction (the process pool in production; None: one
    private thread). `notifiers` replaces the configured ones (tests and benchmarks).
    """
    stack = AsyncExitStack()
    metrics = Metrics()
    try:
        db = StoreRunner.open(config.store_target)
        stack.callback(db.close)
        store = db.store
        workers = Workers(db, url=config.database_url, clock=clock)
        stack.push_async_callback(workers.close)  # before the store closes: it says so there
        now = clock()
        await db.run(store.sync_config_watches, config.watches, now)
        telegram = None
        if notifiers is None:
            notifiers, telegram = await notifiers_for(config, db, stack, clock, stdout)
        channels = tuple(notifiers)
        watchlists = Watchlists(
            config.watches,
            config_recipients(config, channels),
            await db.run(store.all_chat_watches),
            config.exclusions,
            await db.run(store.all_chat_exclusions),
        )
        pipeline = Pipeline(lemmatizer, watchlists)
        await db.run(pipeline.load_index, store, now)
        fetcher = await stack.enter_async_context(Fetcher(config.polling))
        poller = await stack.enter_async_context(Poller(fetcher, executor=executor))
        dispatcher = Dispatcher(
            db, notifiers, clock, worker=workers.name, live=LIVE if workers.shared else None,
            metrics=metrics,
        )  # fmt: skip
        daily = None
        if config.email is not None:
            email_config = config.email

            async def send(message: EmailMessage) -> None:
                await asyncio.to_thread(send_message, email_config, message)

            on_failure = partial(tell_admins, telegram, config)
            daily = DailyRecap(config, db, send, clock, on_failure=on_failure)
        scheduler = Scheduler(
            config,
            db,
            pipeline,
            poller,
            dispatcher,
            clock=clock,
            telegram=telegram,
            daily=daily,
            tell_admins=partial(tell_admins, telegram, config),
            workers=workers,
            metrics=metrics,
        )
        await workers.open(len(scheduler.sources))
        if telegram is not None:
            assert config.telegram is not None
            telegram.register(
                BotServices(
                    config=config,
                    db=db,
                    gate=Gate(config.telegram, db),
                    watches=WatchService(
                        lemmatizer, clock, config_sources=[s.name for s in config.sources]
                    ),
                    watches_changed=scheduler.set_chat_watches,
                    clock=clock,
                    add_source=scheduler.add_source,
                    remove_source=scheduler.remove_source,
                    emails=(
                        EmailSubscriptions(db, partial(send_code, config), clock)
                        if config.email is not None
                        else None
                    ),
                )
            )
    except BaseException:
        await stack.aclose()
        raise
    return Runtime(scheduler, notifiers, stack, metrics)


def describe_start(config: Config, runtime: Runtime) -> list[str]:
    """The lines `alertbot run` prints at start: paths, counts, notifiers."""
    chat_watches = runtime.scheduler.pipeline.watchlists.chat_watches
    per_chat = sum(len(w) for w in chat_watches.values())
    channels = [
        f"telegram ({len(config.telegram.alert_chats)} alert chats)"
        if name == "telegram" and config.telegram is not None
        else name
        for name in runtime.notifiers
    ]
    lines = [
        f"config {config.path}, database {config.database_label}",
        f"{len(config.sources)} sources, {len(config.watches)} watches"
        f" (+{per_chat} in {len(chat_watches)} chats)",
        "notifiers: " + ", ".join(channels),
    ]
    if not runtime.scheduler.sources:  # a bot with admins (alertbot.config.nothing_to_poll)
        lines.append("no sources yet: an admin can add them with /addsource")
    if config.telegram is None:
        lines.append("no Telegram token configured: alerts are printed to the console")
    elif not config.telegram.alert_chats and config.watches:
        lines.append("telegram.alert_chats is empty: the [[watch]] alerts reach no chat")
    if config.email is not None:
        lines.append(
            f"daily recap at {config.email.recap_at} ({config.timezone.key}) to"
            f" {len(config.email.recap_to)} addresses and the chats that verified one"
        )
    workers = runtime.scheduler.workers
    if workers.shared:
        lines.append(
            f"worker {workers.name}: shares the sources, the outbox and the roles with the"
            " other workers on this database"
        )
    pending = runtime.scheduler.store.pending_count()
    if pending:
        lines.append(f"{pending} alerts pending from before")
    return lines


def install_signal_handlers(stop: asyncio.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set `stop` and start the exit deadline (`exit_after`); returns a
    function that removes the handlers."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)

    def stopping() -> None:
        if not stop.is_set():
            exit_after(GRACE + EXIT_MARGIN)
            # The interpreter's teardown then skips the collector's pass over everything
            # alive (the morphology database's quarter of a million objects): about half
            # of the second or two that the teardown takes.
            gc.freeze()
        stop.set()

    for sig in signals:
        loop.add_signal_handler(sig, stopping)

    def remove() -> None:
        for sig in signals:
            loop.remove_signal_handler(sig)

    return remove


def exit_after(seconds: float) -> None:
    """End the process `seconds` from now, if it has not ended by then.

    Shutdown gives running work GRACE seconds and then cancels it, but a call that cannot
    be cancelled (an extraction in a pool worker, a step on the pipeline's thread, a SQLite
    wait on the store's) holds the exit, because the interpreter waits for its threads and
    worker processes. Not waiting for them loses nothing: every commit is crash-safe, an
    abandoned poll is polled again next time, and the pool's workers exit with their
    parent (`alertbot.sources.poll.cpu_pool`).
    """

    def expire() -> None:
        line = f"alertbot: shutdown: still busy {seconds:g} s after the signal; exiting now\n"
        os.write(2, line.encode())
        os._exit(0)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True  # an exit that was on time is not held up by the timer
    timer.start()


def summarize(outcomes: list[PollOutcome], sent: DispatchCounts) -> str:
    """One line about a `--once` pass."""
    failed = [o for o in outcomes if o.error is not None]
    total = ProcessCounts()
    for o in outcomes:
        total.add(o.counts)
    parts = [
        f"polled {len(outcomes)} sources ({len(failed)} failed)",
        f"{total.articles} new articles",
        f"{total.matched} matched",
        f"{total.queued} alerts queued",
        f"{sent.sent} sent",
    ]
    if sent.retried or sent.failed:
        parts.append(f"{sent.retried} to retry, {sent.failed} failed")
    return ", ".join(parts)


async def run(
    config: Config, lemmatizer: Lemmatizer, *, once: bool, echo: Callable[[str], None]
) -> int:
    """`alertbot run`: until SIGTERM or SIGINT, or one pass with `once`; the exit status.

    A signal during a `--once` pass gives the pass GRACE seconds, then abandons it (an
    abandoned poll is simply repeated next time). With no source to poll (none in the
    config, none added from Telegram) it raises a ConfigError rather than sit idle.
    """
    stop = asyncio.Event()
    remove = install_signal_handlers(stop)
    try:
        with cpu_pool() as pool:
            runtime = await open_app(config, lemmatizer, executor=pool)
            async with runtime.stack:
                scheduler = runtime.scheduler
                added = sum(not source.trusted for source in scheduler.sources.values())
                idle = nothing_to_poll(config, added, once=once)
                if idle is not None:
                    raise idle
                serving = None
                if config.metrics is not None:
                    monitor = Monitor(
                        runtime.metrics, scheduler.db, lambda: scheduler.running, utc_now
                    )
                    server = serve_monitor(config.metrics.listen, monitor)
                    serving = await runtime.stack.enter_async_context(server)
                for line in describe_start(config, runtime):
                    echo(line)
                if serving is not None:
                    echo(f"/healthz and /metrics at {serving.url}")
                if not once:
                    await scheduler.run_forever(stop)
                    echo("stopped")
                    return 0
                passing = asyncio.create_task(scheduler.run_once())
                stopping = asyncio.create_task(stop.wait())
                await asyncio.wait({passing, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not passing.done():  # SIGTERM during the pass: finish it or abandon it
                    await asyncio.wait({passing}, timeout=GRACE)
                    if not passing.done():
                        log.warning(
                            "shutdown: abandoned the --once pass (still running after %g s)",
                            GRACE,
                        )
                        passing.cancel()
                    await asyncio.gather(passing, return_exceptions=True)
                    await scheduler.shutdown()
                    echo("stopped")
                    return 0
                outcomes, sent = passing.result()
                await scheduler.shutdown()
                echo(summarize(outcomes, sent))
                return 1 if outcomes and all(o.error for o in outcomes) else 0
    finally:
        remove()
