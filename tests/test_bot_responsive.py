"""Commands are answered while the bot is busy elsewhere: the pipeline's worker on a long
step, a backtest on the reader, a poll recording, another chat's slow command (issue 13).
Through python-telegram-bot and the Bot API stand-in on loopback; nothing here is timed
but the stand-in's own timeouts: each test holds the busy part until the answer came."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from alertbot.app import Runtime
from alertbot.store import StoreRunner
from testsupport.botapi import TOKEN, BotApi
from testsupport.bothost import news_site, running_bot, say
from testsupport.httpserver import LocalServer

ADMIN = 111
READER = 5
OTHER = 6
GROUP = -1002
HELD = 20.0  # seconds a busy part would stay busy if the test did not release it


@pytest.fixture
def api() -> Iterator[BotApi]:
    with BotApi() as server:
        yield server


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with news_site() as server:
        yield server


@pytest.fixture
async def bot(tmp_path: Path, api: BotApi, site: LocalServer, lemmatizer) -> AsyncIterator[Runtime]:
    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'database = "{tmp_path / "db.sqlite"}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api.url}"\nadmins = [{ADMIN}]\n'
        f"allowed_chats = [{READER}, {OTHER}, {GROUP}]\n"
        f'[[source]]\nname = "Loop"\nurl = "{site.url("/feed")}"\n'
        '[[watch]]\nname = "Naryshkin"\nquery = "ناريشكين OR Naryshkin"\n',
        encoding="utf-8",
    )
    async with running_bot(path, api, lemmatizer) as runtime:
        yield runtime


async def test_a_watch_is_answered_while_the_pipeline_worker_is_on_a_long_step(bot, api):
    scheduler = bot.scheduler
    release = threading.Event()
    step = asyncio.ensure_future(scheduler.in_pipeline(release.wait, HELD))
    try:
        assert "Watching Dabaa" in await say(api, READER, "/watch Dabaa: الضبعة")
        # and the pipeline has it for the next article it prepares
        assert [w.name for w in scheduler.pipeline.watchlists.chat_watches[READER]] == ["Dabaa"]
        assert not step.done()
    finally:
        release.set()
        await step


async def test_a_poll_is_recorded_and_the_chat_answered_while_its_backtest_waits(bot, api):
    scheduler = bot.scheduler
    release = threading.Event()
    reading = asyncio.ensure_future(scheduler.db.read(lambda store: release.wait(HELD)))
    try:
        answer = await say(api, READER, "/watch Dabaa: الضبعة")
        assert "Looking back over the last 7 days" in answer  # the backtest is still queued
        outcome = await asyncio.wait_for(scheduler.poll_source(scheduler.sources["loop"]), 10)
        assert outcome.error is None and outcome.counts.articles == 3
        # The chat's next command does not wait for the backtest either.
        assert "Dabaa" in await say(api, READER, "/list")
        assert api.edits(READER) == []
    finally:
        release.set()
        await reading
    [edit] = await api.until(lambda a: a.edits(READER), timeout=10)
    assert "would have matched" in edit.text and "of 3 stored" in edit.text


async def test_another_chats_command_is_answered_while_one_chats_waits(bot, api):
    # A group's /watch waits for Telegram to say who the group's administrators are.
    api.set_admins(GROUP, creator=222, administrators=[333])
    api.delay_next("getChatAdministrators", HELD)
    api.send_text(GROUP, "/watch غزة", user_id=333)
    await api.until(lambda a: a.calls_to("getChatAdministrators"), timeout=10)
    assert "Naryshkin" not in await say(api, OTHER, "/list")  # answered meanwhile
    assert api.sent(GROUP) == []


async def test_one_chats_commands_are_handled_in_the_order_sent(bot, api):
    api.send_text(READER, "/watch Dabaa: الضبعة")
    api.send_text(READER, "/unwatch Dabaa")
    await api.until(lambda a: len(a.sent(READER)) == 2, timeout=10)
    first, second = (m.text for m in api.sent(READER))
    assert "Watching Dabaa" in first and "Stopped watching Dabaa" in second
    assert bot.scheduler.store.chat_watches(READER) == []


async def test_a_command_goes_before_a_polls_calls_queued_ahead_of_it(tmp_path):
    runner = StoreRunner.open(tmp_path / "db.sqlite")
    order: list[str] = []
    started, release = threading.Event(), threading.Event()

    def long_record() -> None:
        started.set()
        release.wait(HELD)

    try:
        running = asyncio.ensure_future(runner.run_bulk(long_record))
        assert await asyncio.to_thread(started.wait, 10)
        queued = [
            asyncio.ensure_future(runner.run_bulk(order.append, f"poll {n}")) for n in range(3)
        ]
        command = asyncio.ensure_future(runner.run(order.append, "command"))
        await asyncio.sleep(0)  # every call above is queued
        release.set()
        await asyncio.gather(running, *queued, command)
    finally:
        release.set()
        runner.close()
    assert order == ["command", "poll 0", "poll 1", "poll 2"]
