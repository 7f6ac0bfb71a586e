"""Putting `alertbot run` together: the store, the notifiers, Telegram, email, the App.

    open_app(config, lemmatizer)  -> Runtime(app, notifiers, stack)
      Store.open, config watches synced
      notifiers: Telegram (with a token) or the console; email for `email.alert_to`
      Pipeline (watches of the config and of every chat), Fetcher, Poller, Dispatcher
      App (alertbot.app), with the bot's handlers and the daily recap when configured

Also what `alertbot run` prints at start and after `--once`, and its signal handling.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import signal
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from functools import partial
from typing import TextIO

from telegram.error import TelegramError

from alertbot.app import App, PollOutcome, add_counts, utc_now
from alertbot.bot.access import Gate
from alertbot.bot.handlers import BotServices, rebuild_watchlists
from alertbot.bot.notifier import TelegramNotifier
from alertbot.bot.runtime import TelegramRuntime
from alertbot.bot.service import WatchService
from alertbot.bot.subscriptions import EmailSubscriptions
from alertbot.config import Config
from alertbot.daily import DailyRecap
from alertbot.notify import ConsoleNotifier, DispatchCounts, Dispatcher, Notifier
from alertbot.notify.alert import Alert
from alertbot.notify.mail import alert_message
from alertbot.notify.smtp import EmailNotifier, send_message
from alertbot.pipeline import Pipeline, ProcessCounts, Watchlists
from alertbot.sources.fetch import Fetcher
from alertbot.sources.poll import Poller
from alertbot.store import Recipient, Store
from alertbot.text.lemmatize import Lemmatizer

log = logging.getLogger(__name__)

CONSOLE = Recipient("console", "stdout")


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
    store: Store,
    stack: AsyncExitStack,
    clock: Callable[[], datetime],
    stdout: TextIO | None,
) -> tuple[dict[str, Notifier], TelegramRuntime | None]:
    """The notifiers this configuration uses: Telegram with a token, else the console
    (kept beside Telegram while console alerts from an earlier run are pending); email
    for `email.alert_to` (or while email alerts are pending)."""
    notifiers: dict[str, Notifier] = {}
    telegram = None
    if config.telegram is not None:
        telegram = TelegramRuntime(config)
        stack.push_async_callback(telegram.close)
        await telegram.open()
        notifiers["telegram"] = TelegramNotifier(
            telegram.bot, store, config.telegram, config.timezone, clock
        )
    if config.telegram is None or store.pending_count("console"):
        notifiers["console"] = ConsoleNotifier(config.timezone, stdout)
    if config.email is not None and (config.email.alert_to or store.pending_count("email")):
        sender = config.email.sender

        def render(alert: Alert) -> EmailMessage:
            return alert_message(alert, config.timezone, sender=sender, to=alert.recipient,
                                 now=clock())  # fmt: skip

        notifiers["email"] = EmailNotifier(
            config.email, render, on_failure=partial(tell_admins, telegram, config)
        )
    return notifiers, telegram


async def tell_admins(telegram: TelegramRuntime | None, config: Config, text: str) -> None:
    """Tell the bot's admins about a failure that needs a person (a refused email)."""
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

    app: App
    notifiers: dict[str, Notifier]
    stack: AsyncExitStack


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
    try:
        store = Store.open(config.database)
        stack.callback(store.close)
        now = clock()
        store.sync_config_watches(config.watches, now)
        telegram = None
        if notifiers is None:
            notifiers, telegram = await notifiers_for(config, store, stack, clock, stdout)
        channels = tuple(notifiers)
        watchlists = Watchlists(
            config.watches, config_recipients(config, channels), store.all_chat_watches()
        )
        pipeline = Pipeline(store, lemmatizer, watchlists, executor=executor)
        pipeline.load_index(now)
        fetcher = await stack.enter_async_context(Fetcher(config.polling))
        poller = await stack.enter_async_context(Poller(fetcher, executor=executor))
        dispatcher = Dispatcher(store, notifiers, clock)
        for notifier in notifiers.values():
            if isinstance(notifier, TelegramNotifier):
                notifier.set_alert_builder(dispatcher.alert_for)
        app = App(config, store, pipeline, poller, dispatcher, clock=clock, telegram=telegram)
        if telegram is not None:
            telegram.register(
                BotServices(
                    config=config,
                    store=store,
                    gate=Gate(config.telegram, store),
                    watches=WatchService(
                        store, lemmatizer, clock,
                        on_change=partial(rebuild_watchlists, store, pipeline),
                    ),
                    run=app.in_work_thread,
                    clock=clock,
                    add_source=app.add_source,
                    remove_source=app.remove_source,
                    emails=(
                        EmailSubscriptions(store, partial(send_code, config), clock)
                        if config.email is not None
                        else None
                    ),
                )
            )  # fmt: skip
        if config.email is not None:
            email_config = config.email

            async def send(message: EmailMessage) -> None:
                await asyncio.to_thread(send_message, email_config, message)

            app.daily = DailyRecap(
                config, store, send, clock, on_failure=partial(tell_admins, telegram, config)
            )
    except BaseException:
        await stack.aclose()
        raise
    return Runtime(app, notifiers, stack)


def describe_start(config: Config, runtime: Runtime) -> list[str]:
    """The lines `alertbot run` prints at start: paths, counts, notifiers."""
    chat_watches = runtime.app.pipeline.watchlists.chat_watches
    per_chat = sum(len(w) for w in chat_watches.values())
    channels = [
        f"telegram ({len(config.telegram.alert_chats)} alert chats)"
        if name == "telegram" and config.telegram is not None
        else name
        for name in runtime.notifiers
    ]
    lines = [
        f"config {config.path}, database {config.database}",
        f"{len(config.sources)} sources, {len(config.watches)} watches"
        f" (+{per_chat} in {len(chat_watches)} chats)",
        "notifiers: " + ", ".join(channels),
    ]
    if config.telegram is None:
        lines.append("no Telegram token configured: alerts are printed to the console")
    elif not config.telegram.alert_chats and config.watches:
        lines.append("telegram.alert_chats is empty: the [[watch]] alerts reach no chat")
    if config.email is not None:
        lines.append(
            f"daily recap at {config.email.recap_at} ({config.timezone.key}) to"
            f" {len(config.email.recap_to)} addresses and the chats that verified one"
        )
    pending = runtime.app.store.pending_count()
    if pending:
        lines.append(f"{pending} alerts pending from before")
    return lines


def install_signal_handlers(stop: asyncio.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set `stop`; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)

    def remove() -> None:
        for sig in signals:
            loop.remove_signal_handler(sig)

    return remove


def summarize(outcomes: list[PollOutcome], sent: DispatchCounts) -> str:
    """One line about a `--once` pass."""
    failed = [o for o in outcomes if o.error is not None]
    total = ProcessCounts()
    for o in outcomes:
        add_counts(total, o.counts)
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
