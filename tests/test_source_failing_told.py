"""A source that keeps failing is told to the Telegram admins once, with its name and last
error, and its recovery once; never at every poll, and not again after a restart. The
real app against the Bot API stand-in and a loopback source, polls called directly on
an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alertbot.app import open_app
from alertbot.config import load_config
from alertbot.scheduler import TELL_ADMINS_AFTER
from alertbot.text.lemmatize import Lemmatizer
from testsupport.botapi import TOKEN, BotApi
from testsupport.clocks import Clock
from testsupport.httpserver import LocalServer
from testsupport.sourcefixtures import news_items, rss

ADMINS = (111, 222)
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def api() -> Iterator[BotApi]:
    with BotApi() as server:
        yield server


def write_config(tmp_path: Path, api: BotApi, url: str) -> Path:
    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'database = "{tmp_path / "alertbot.db"}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api.url}"\n'
        f"admins = [{', '.join(map(str, ADMINS))}]\nalert_chats = []\n"
        f'[[source]]\nname = "Flaky outlet"\nurl = "{url}"\n'
        '[[watch]]\nname = "Naryshkin"\nquery = "ناريشكين"\n',
        encoding="utf-8",
    )
    return path


def told(api: BotApi) -> list[tuple[int | str, str]]:
    """What the admins were sent, in order."""
    return [(m.chat_id, m.text) for m in api.sent() if m.chat_id in ADMINS]


async def test_a_failing_source_is_told_once_and_its_recovery_once(
    tmp_path, api, lemmatizer: Lemmatizer
):
    """Regression: a source failing for days was only in the log and `alertbot status`."""
    assert TELL_ADMINS_AFTER == 3
    clock = Clock(START)
    with LocalServer() as site:
        site.route("/feed", b"gone", status=404)
        path = write_config(tmp_path, api, site.url("/feed"))

        async def poll(times: int) -> None:
            """Poll as the schedule would: each time once the backoff has passed."""
            runtime = await open_app(load_config(path), lemmatizer, clock=clock)
            async with runtime.stack:
                scheduler = runtime.scheduler
                for _ in range(times):
                    clock.now += timedelta(hours=7)  # past any backoff (at most 6 h)
                    outcome = await scheduler.poll_source(scheduler.sources["flaky outlet"])
                    assert not outcome.skipped
                await scheduler.shutdown()

        await poll(2)
        assert told(api) == []
        await poll(1)
        third = told(api)
        assert [chat for chat, _ in third] == list(ADMINS)
        for _, text in third:
            assert "'Flaky outlet' has failed 3 polls in a row" in text
            assert "http-status: HTTP 404" in text
        await poll(2)  # a restart in between: the notice is not repeated
        assert told(api) == third

        items = news_items(2, base_url=site.url(""), start=START)
        site.route("/feed", rss(items), headers={"Content-Type": "application/rss+xml"})
        await poll(2)
        recovered = told(api)[len(third) :]
        assert [chat for chat, _ in recovered] == list(ADMINS)
        assert all("'Flaky outlet' recovered after 5 failed polls" in t for _, t in recovered)
