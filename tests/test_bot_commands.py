"""The bot's commands through python-telegram-bot, against the Bot API stand-in on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alertbot.app import Runtime
from alertbot.sources.health import SourceHealth
from alertbot.sources.model import Validators
from alertbot.store import NewItem, Recipient
from testsupport.botapi import TOKEN, BotApi
from testsupport.bothost import news_site, running_bot, say
from testsupport.httpserver import LocalServer
from testsupport.sourcefixtures import news_items, rss
from testsupport.storefixtures import article

ADMIN = 111  # also the stand-in's default group creator
READER = 5  # an allowed private chat
DESK = -1001  # an allowed group that receives the config watches
STRANGER = 9


@pytest.fixture
def api() -> Iterator[BotApi]:
    with BotApi() as server:
        yield server


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with news_site() as server:
        yield server


def write_config(tmp_path, api: BotApi, site: LocalServer, extra: str = "", top: str = "") -> Path:
    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'{top}database = "{tmp_path / "db.sqlite"}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api.url}"\nadmins = [{ADMIN}]\n'
        f"alert_chats = [{DESK}]\nallowed_chats = [{READER}]\n{extra}"
        f'[[source]]\nname = "Loop"\nurl = "{site.url("/feed")}"\n'
        '[[watch]]\nname = "Naryshkin"\nquery = "ناريشكين OR Naryshkin"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def bot(tmp_path, api, site, lemmatizer) -> AsyncIterator[Runtime]:
    async with running_bot(write_config(tmp_path, api, site), api, lemmatizer) as runtime:
        yield runtime


async def test_commands_are_registered_in_english_and_arabic_and_admins_see_theirs(bot, api):
    await api.until(lambda a: a.commands("ar"), timeout=10)
    english = {c["command"]: c["description"] for c in api.commands()}
    arabic = {c["command"]: c["description"] for c in api.commands("ar")}
    assert {"watch", "unwatch", "list", "test", "mute", "recap", "sources"} <= set(english)
    assert "addsource" not in english
    assert arabic["watch"].startswith("متابعة")
    await api.until(lambda a: a.commands(scope={"type": "chat", "chat_id": ADMIN}), timeout=10)


async def test_start_registers_the_chat_and_shows_help(bot, api):
    text = await say(api, READER, "/start")
    assert "/watch" in text and "/addsource" not in text
    assert bot.scheduler.store.chat(READER) is not None
    assert "/addsource" in await say(api, ADMIN, "/help")


async def test_a_stranger_is_refused_once_with_their_chat_id_and_nothing_happens(bot, api):
    text = await say(api, STRANGER, "/watch غزة")
    assert str(STRANGER) in text and "/allow" in text
    api.send_text(STRANGER, "/list")
    api.send_text(READER, "/list")  # a later reply elsewhere shows the stranger was skipped
    await api.until(lambda a: len(a.sent(READER)) == 1, timeout=10)
    assert len(api.sent(STRANGER)) == 1
    assert bot.scheduler.store.chat(STRANGER) is None
    assert bot.scheduler.store.chat_watches(STRANGER) == []


async def test_watch_answers_how_it_was_understood_and_a_backtest(bot, api):
    store = bot.scheduler.store
    now = datetime.now(UTC)
    text = "استقبل الرئيس عبد الفتاح السيسي وناريشكين في القاهرة لبحث مفاوضات السلام"
    for n in range(2):
        url = f"https://news.example/{n}"
        item = article(url, text=text, title=f"خبر {n}", fetched=now, published=now)
        store.record_item(NewItem(item, f"h{n}", None, None, [], "", []), now)
    reply = await say(api, READER, "/watch مفاوضات: مفاوضات OR ناريشكين")
    assert "Watching مفاوضات" in reply
    assert "مفاوضة" in reply  # the lemma it was understood as
    assert "Looking back over the last 7 days" in reply
    assert [w.name for w in store.chat_watches(READER)] == ["مفاوضات"]  # stored by then
    # The backtest is edited into the answer.
    [answer] = api.sent(READER)
    [edit] = await api.until(lambda a: a.edits(READER, answer.message_id), timeout=10)
    assert "Watching مفاوضات" in edit.text and "مفاوضة" in edit.text
    assert "would have matched 2 stories (2 articles of 2 stored)" in edit.text
    assert "Looking back" not in edit.text
    reply = await say(api, READER, "/list")
    assert "مفاوضات" in reply


async def test_a_watch_added_or_removed_in_a_chat_changes_what_the_pipeline_alerts(bot, api):
    await say(api, READER, "/watch Dabaa: الضبعة")
    pipeline = bot.scheduler.pipeline
    assert [w.name for w in pipeline.watchlists.chat_watches[READER]] == ["Dabaa"]
    now = datetime.now(UTC)
    item = article("https://news.example/d", text="بدء العمل في محطة بالضبعة", title="خبر",
                   fetched=now, published=now)  # fmt: skip
    (prepared,) = pipeline.prepare([item], now)
    assert Recipient("telegram", str(READER), ("Dabaa",)) in prepared.recipients
    await say(api, READER, "/unwatch Dabaa")
    (prepared,) = pipeline.prepare([item], now)
    assert all(r.address != str(READER) for r in prepared.recipients)


async def test_a_bad_query_gets_the_parsers_message_and_nothing_is_stored(bot, api):
    reply = await say(api, READER, "/watch غزة AND")
    assert "does not parse" in reply and "column" in reply
    assert bot.scheduler.store.chat_watches(READER) == []


async def test_a_query_nested_hundreds_deep_or_with_a_lower_case_or_gets_one_answer(bot, api):
    deep = "(" * 240 + "غزة" + ")" * 240  # within /watch's 500 characters
    reply = await say(api, READER, f"/watch {deep}")
    assert reply.startswith(
        "That query does not parse: too deeply nested: at most 20 levels of parentheses"
        " at column 21\n"
    )
    reply = await say(api, READER, "/watch غزة or مصر")
    assert reply.startswith("That query does not parse: operators are upper-case: 'or' must be OR")
    assert "at column 5" in reply
    reply = await say(api, READER, "/watch غزة NEAR/-1 مصر")
    assert "a distance cannot be negative (NEAR/0 is adjacent words) at column 5" in reply
    assert bot.scheduler.store.chat_watches(READER) == []
    assert "Watching" in await say(api, READER, "/watch غزة OR مصر")  # the bot still answers


async def test_commands_addressed_to_the_bot_by_name_work(bot, api):
    reply = await say(api, READER, "/watch@alertbot_test_bot Rosatom")
    assert "Watching Rosatom" in reply


async def test_commands_for_another_bot_are_ignored_entirely(bot, api):
    """Regression: in a group with several bots, `/list@otherbot` and `/watch@otherbot …`
    were answered "I don't know that command"."""
    api.send_text(DESK, "/list@otherbot", user_id=444)
    api.send_text(DESK, "/watch@OtherBot غزة", user_id=ADMIN)
    api.send_text(DESK, "/frobnicate@otherbot", user_id=444)
    api.send_text(STRANGER, "/help@otherbot")  # not even the stranger's refusal
    # Updates are handled in order: once /list@ourbot is answered, the others were seen.
    reply = await say(api, DESK, "/list@alertbot_test_bot", user_id=444)
    assert "Naryshkin" in reply
    assert [m.text for m in api.sent(DESK)] == [reply]
    assert api.sent(STRANGER) == []
    assert bot.scheduler.store.chat_watches(DESK) == []
    assert "/help" in await say(api, DESK, "/frobnicate@alertbot_test_bot", user_id=444)


async def test_unwatch_list_and_usage_lines(bot, api):
    await say(api, READER, "/watch الضبعة")
    assert "Stopped watching" in await say(api, READER, "/unwatch الضبعة")
    assert "no watch named" in await say(api, READER, "/unwatch الضبعة")
    assert "usage: /unwatch NAME" in await say(api, READER, "/unwatch")
    assert "No watches yet" in await say(api, READER, "/list")
    assert "/help" in await say(api, READER, "/frobnicate")


async def test_test_highlights_what_the_watches_match(bot, api):
    await say(api, READER, "/watch Naryshkin: ناريشكين")
    await say(api, READER, "/test استقبل السيسي وناريشكين اليوم")
    (message,) = [m for m in api.sent(READER) if "«" in m.text]
    assert "<b>وناريشكين</b>" in message.html
    assert "None of" in await say(api, READER, "/test خبر عن الطقس")


async def test_mute_unmute_pause_resume(bot, api):
    store = bot.scheduler.store
    assert "Muted until" in await say(api, READER, "/mute 2h")
    assert store.chat(READER).muted(datetime.now(UTC))
    assert "usage: /mute" in await say(api, READER, "/mute soon")
    await say(api, READER, "/unmute")
    assert not store.chat(READER).muted(datetime.now(UTC))
    await say(api, READER, "/pause")
    assert store.chat(READER).paused
    await say(api, READER, "/resume")
    assert not store.chat(READER).paused


async def test_in_a_group_only_admins_change_watches(bot, api):
    api.set_admins(DESK, creator=222, administrators=[333])
    refused = await say(api, DESK, "/watch غزة", user_id=444)
    assert "administrators" in refused
    assert "Watching" in await say(api, DESK, "/watch غزة", user_id=333)
    assert "Naryshkin" in await say(api, DESK, "/list", user_id=444)  # reading is for all


async def test_admin_commands_are_refused_to_others(bot, api):
    assert "admins" in await say(api, READER, "/status")
    assert "Sources" in await say(api, ADMIN, "/status")


async def test_allow_and_deny_let_a_chat_in_and_out(bot, api):
    assert "allowed" in await say(api, ADMIN, f"/allow {STRANGER}")
    assert "/watch" in await say(api, STRANGER, "/help")
    await say(api, ADMIN, f"/deny {STRANGER}")
    assert not bot.scheduler.store.chat(STRANGER).allowed
    assert "usage: /allow" in await say(api, ADMIN, "/allow someone")


async def test_addsource_checks_the_url_and_refuses_loopback(bot, api):
    reply = await say(api, ADMIN, "/addsource ftp://example.org/feed")
    assert "cannot add" in reply
    reply = await say(api, ADMIN, f"/addsource {api.url.replace('/bot', '/feed')}")
    assert "Not added" in reply and "unsafe" in reply  # 127.0.0.1 is not public
    assert bot.scheduler.store.runtime_sources() == []
    assert "config file" in await say(api, ADMIN, "/removesource Loop")


async def test_sources_shows_times_in_the_configs_zone_and_names_it(
    tmp_path, api, site, lemmatizer
):
    """/sources: each source's health with its times in `timezone`, the zone named."""
    path = write_config(tmp_path, api, site, top='timezone = "Africa/Cairo"\n')
    async with running_bot(path, api, lemmatizer) as runtime:
        at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)  # 14:00 in Cairo
        failing = SourceHealth(
            last_success=at - timedelta(hours=3),
            last_attempt=at,
            last_error_kind="http-status",
            last_error="HTTP 404",
            consecutive_failures=2,
            next_poll=at + timedelta(minutes=40),
        )
        runtime.scheduler.store.save_source_state("Loop", site.url("/feed"), failing, Validators())
        reply = await say(api, READER, "/sources")
    assert "Loop [feed]: failing ×2: http-status: HTTP 404" in reply
    assert "(next try 2025-03-01 14:40 (Africa/Cairo))" in reply


async def test_sources_and_recap(bot, api):
    await bot.scheduler.run_once()
    assert "Loop" in await say(api, READER, "/sources")
    store = bot.scheduler.store
    now = datetime.now(UTC)
    url = "https://news.example/r"
    item = article(url, text="نص", title="ناريشكين في القاهرة", fetched=now, published=now)
    to_reader = [Recipient("telegram", str(READER))]
    store.record_item(NewItem(item, "r", None, None, ["Naryshkin"], "", to_reader), now)
    reply = await say(api, READER, "/recap")
    assert "ناريشكين في القاهرة" in reply


async def test_buttons_mute_a_story_and_unwatch_after_confirming(bot, api):
    await say(api, READER, "/watch Rosatom: روساتوم OR Rosatom")
    store = bot.scheduler.store
    now = datetime.now(UTC)
    url = "https://news.example/b"
    item = article(url, text="Rosatom said", title="Rosatom at El-Dabaa", fetched=now,
                   published=now, language="en")  # fmt: skip
    to_reader = [Recipient("telegram", str(READER))]
    outcome = store.record_item(NewItem(item, "b", None, None, ["Rosatom"], "", to_reader), now)
    await bot.scheduler.dispatcher.dispatch()
    alert = api.sent(READER)[-1]
    buttons = [b for row in alert.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == [
        f"mute:{outcome.outbox_ids[0]}",
        f"unwatch:{outcome.outbox_ids[0]}:0",
    ]
    api.press_button(READER, alert.message_id, buttons[0]["callback_data"])
    await api.until(lambda a: a.answers(), timeout=10)
    assert store.outbox_row(outcome.outbox_ids[0]).muted
    before = len(api.sent(READER))
    api.press_button(READER, alert.message_id, buttons[1]["callback_data"])
    await api.until(lambda a: len(a.sent(READER)) > before, timeout=10)
    confirm = api.sent(READER)[-1]
    assert "Stop watching" in confirm.text
    yes = confirm.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    api.press_button(READER, confirm.message_id, yes)
    await api.until(lambda a: a.edits(READER, confirm.message_id), timeout=10)
    assert store.chat_watches(READER) == []


async def test_addsource_adds_polls_and_schedules_a_source_and_removesource_drops_it(
    tmp_path, api, site, lemmatizer
):
    """With private addresses allowed (a lab setup), a loopback feed can be added."""
    other = news_items(2, base_url=site.url(""), start=datetime.now(UTC), offset=10)
    site.route("/other", rss(other, base_url=site.url(""), full_text=True),
               headers={"Content-Type": "application/rss+xml"})  # fmt: skip
    path = write_config(tmp_path, api, site, "[polling]\nallow_private_addresses = true\n")
    async with running_bot(path, api, lemmatizer) as runtime:
        reply = await say(api, ADMIN, f"/addsource {site.url('/other')} feed")
        assert "Added 127.0.0.1" in reply and "2 entries" in reply
        assert [s.url for s in runtime.scheduler.store.runtime_sources()] == [site.url("/other")]
        assert "127.0.0.1" in await say(api, READER, "/sources")
        assert "exists" in await say(api, ADMIN, f"/addsource {site.url('/other')}")
        assert "Removed" in await say(api, ADMIN, "/removesource 127.0.0.1")
        assert runtime.scheduler.store.runtime_sources() == []


async def test_a_refused_addsource_leaves_no_trace(tmp_path, api, site, lemmatizer):
    """Regression: a refused /addsource (its poll failed) left a "(not in config) failing ×1"
    row in /status and `alertbot status`."""
    site.route("/missing", b"not here", status=404)
    path = write_config(tmp_path, api, site, "[polling]\nallow_private_addresses = true\n")
    async with running_bot(path, api, lemmatizer) as runtime:
        scheduler = runtime.scheduler
        reply = await say(api, ADMIN, f"/addsource {site.url('/missing')}")
        assert "Not added" in reply and "404" in reply
        status = await say(api, ADMIN, "/status")
        assert "not in config" not in status and "Sources (1)" in status
        assert scheduler.store.source_names() == []
        assert scheduler.store.runtime_sources() == []
        assert "127.0.0.1" not in scheduler.sources
        # The same address can be added once it works.
        site.route(
            "/missing",
            rss(news_items(1, base_url=site.url(""))),
            headers={"Content-Type": "application/rss+xml"},
        )
        assert "Added 127.0.0.1" in await say(api, ADMIN, f"/addsource {site.url('/missing')}")
