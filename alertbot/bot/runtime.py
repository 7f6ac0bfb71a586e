"""The python-telegram-bot `Application` beside the scheduler: built, started, stopped.

One Application per process, when a token is configured. Its bot sends the alerts (the
notifier) and its updater long-polls for commands. PTB's own JobQueue is not built: the
scheduler in `alertbot.scheduler` runs every job, with or without Telegram (DESIGN.md). If
Telegram cannot be reached at start, alerts wait in the outbox and the bot keeps trying
to connect in the background; a rejected token is a configuration error.

Updates of different chats are handled side by side, those of one chat in order
(`ChatOrderedUpdates`): one chat's slow command never holds up another chat's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from alertbot.bot import admin, handlers
from alertbot.bot.access import Level
from alertbot.bot.commands import COMMANDS, SERVICES, BotServices
from alertbot.config import Config
from alertbot.errors import ConfigError

log = logging.getLogger(__name__)

RETRY_START = (5.0, 300.0)  # seconds: first and longest wait between connection attempts
POLL_TIMEOUT = 30  # getUpdates long-poll seconds
CONCURRENT_UPDATES = 64  # updates in hand at once, across chats


class ChatOrderedUpdates(BaseUpdateProcessor):
    """Handles the updates of different chats side by side, and those of one chat in the
    order they came.

    PTB's default handles one update at a time, so a command that waits (a /watch storing
    its watch while a poll records its articles, a backtest) holds up every other chat's;
    PTB's plain concurrent processing could let two commands of one chat overtake each
    other (/watch, then /unwatch of the same name).
    """

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int | None, tuple[asyncio.Lock, int]] = {}  # lock, updates using it

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle `update` after the earlier updates of its chat."""
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else None
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users == 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class TelegramRuntime:
    """Builds the Application for `config.telegram`; `open`, `start`, `stop`, `close`."""

    def __init__(self, config: Config) -> None:
        assert config.telegram is not None
        self.config = config
        self.application = (
            Application.builder()
            .token(config.telegram.token)
            .base_url(config.telegram.api_url)
            .request(HTTPXRequest(connect_timeout=10, read_timeout=20, write_timeout=20))
            .get_updates_request(HTTPXRequest(connect_timeout=10, read_timeout=POLL_TIMEOUT + 10))
            .job_queue(None)
            .concurrent_updates(ChatOrderedUpdates())
            .build()
        )
        self._starting: asyncio.Task[None] | None = None

    @property
    def bot(self):
        """The bot that sends alerts and replies."""
        return self.application.bot

    async def open(self) -> None:
        """Connect (getMe). A rejected token raises ConfigError; an unreachable Telegram
        is logged and retried by `start`."""
        try:
            await self.application.initialize()
        except InvalidToken:
            raise ConfigError(
                "rejected by Telegram (Unauthorized)",
                path=str(self.config.path),
                key="telegram.token",
            ) from None
        except NetworkError as exc:
            log.warning("Telegram is not reachable yet (%s); alerts are kept until it is", exc)

    def register(self, services: BotServices) -> None:
        """Add the command and button handlers."""
        register(self.application, services)

    def start(self) -> None:
        """Start answering commands, in the background (retrying until connected)."""
        self._starting = asyncio.create_task(self._start())

    async def _start(self) -> None:
        delay, longest = RETRY_START
        while not self.application._initialized:
            try:
                await self.application.initialize()
            except NetworkError as exc:
                log.warning("Telegram still not reachable (%s); next try in %g s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
        await self.application.start()
        assert self.config.telegram is not None
        await set_commands(self.application, self.config.telegram.admins)
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            timeout=POLL_TIMEOUT, allowed_updates=["message", "callback_query"]
        )
        log.info("Telegram bot @%s is answering commands", self.application.bot.username)

    async def stop(self) -> None:
        """Stop polling for commands and stop the handlers (sending still works)."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            await asyncio.gather(self._starting, return_exceptions=True)
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()

    async def close(self) -> None:
        """Stop if still running, and release the HTTP clients."""
        await self.stop()
        await self.application.shutdown()


def register(application: Application, s: BotServices) -> None:
    """Add every handler to a python-telegram-bot Application."""
    application.bot_data[SERVICES] = s
    table = {**handlers.HANDLERS, **admin.HANDLERS}
    assert set(table) == {c.name for c in COMMANDS}, "every command has one handler"
    for name, handler in table.items():
        application.add_handler(CommandHandler(name, handler))
    application.add_handler(CallbackQueryHandler(handlers.button))
    application.add_handler(MessageHandler(filters.COMMAND, handlers.unknown))
    application.add_error_handler(handlers.on_error)


async def set_commands(application: Application, admins: tuple[int, ...]) -> None:
    """Register the command menus: English by default, Arabic for Arabic clients; admins
    see the admin commands in their private chats."""
    public = [c for c in COMMANDS if c.level is not Level.ADMIN]
    bot = application.bot
    await bot.set_my_commands([BotCommand(c.name, c.english) for c in public])
    await bot.set_my_commands([BotCommand(c.name, c.arabic) for c in public], language_code="ar")
    for admin_id in admins:
        try:
            await bot.set_my_commands(
                [BotCommand(c.name, c.english) for c in COMMANDS],
                scope=BotCommandScopeChat(admin_id),
            )
        except TelegramError as exc:  # the admin never started a chat with the bot
            log.info("admin %d: command menu not set: %s", admin_id, exc)
