"""A bot under test: a news site and the Bot API stand-in on loopback, the app running on
them, and a user's message answered.

    news_site()                      -> LocalServer serving /feed (3 full-text items)
    running_bot(config_path, api, lemmatizer)   the app, polling the stand-in
    say(api, chat_id, text)          -> the bot's next reply in that chat
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alertbot.app import Runtime, open_app
from alertbot.config import load_config
from testsupport.botapi import BotApi
from testsupport.httpserver import LocalServer
from testsupport.sourcefixtures import news_items, rss


@contextmanager
def news_site() -> Iterator[LocalServer]:
    """A site whose /feed carries three full-text items of the last hour."""
    with LocalServer() as server:
        items = news_items(3, base_url=server.url(""), start=datetime.now(UTC) - timedelta(hours=1))
        feed = rss(items, base_url=server.url(""), full_text=True)
        server.route("/feed", feed, headers={"Content-Type": "application/rss+xml"})
        yield server


@asynccontextmanager
async def running_bot(path: Path, api: BotApi, lemmatizer: Any) -> AsyncIterator[Runtime]:
    """The app of the config at `path`, its Telegram side polling `api`."""
    runtime = await open_app(load_config(path), lemmatizer)
    async with runtime.stack:
        runtime.scheduler.telegram.start()
        # Polling has begun once the webhook is deleted (a long poll is recorded only
        # when it is answered).
        await api.until(lambda a: a.calls_to("deleteWebhook"), timeout=10)
        yield runtime
        await runtime.scheduler.shutdown()


async def say(api: BotApi, chat_id: int, text: str, **kw: Any) -> str:
    """Send a message as a user and return the bot's next reply in that chat."""
    before = len(api.sent(chat_id))
    api.send_text(chat_id, text, **kw)
    await api.until(lambda a: len(a.sent(chat_id)) > before, timeout=10)
    return api.sent(chat_id)[before].text
