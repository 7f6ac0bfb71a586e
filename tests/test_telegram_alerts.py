"""Telegram alerts through python-telegram-bot, against the Bot API stand-in over loopback."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from alertbot.app import describe_start, open_app
from alertbot.config import TelegramConfig, load_config
from alertbot.notify import Dispatcher
from alertbot.notify.pacing import Pacer
from alertbot.notify.telegram import HELD, TIMED_OUT, TelegramNotifier
from alertbot.sources.model import Article
from alertbot.store import NewItem, Recipient, Store, StoreRunner
from alertbot.watch.snippet import Snippet
from testsupport.botapi import TOKEN, BotApi
from testsupport.clocks import Clock
from testsupport.httpserver import LocalServer
from testsupport.sourcefixtures import news_items, rss
from testsupport.storefixtures import article

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CAIRO = ZoneInfo("Africa/Cairo")
QUOTE = "استقبل الرئيس السيسي سيرجي ناريشكين مدير الاستخبارات الخارجية الروسية"


class FakeTime:
    """A monotonic clock that sleeping moves forward at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _fast_pacer() -> Pacer:
    """Telegram's pacing, on a clock that does not make the tests wait."""
    fake = FakeTime()
    return Pacer(clock=fake.clock, sleep=fake.sleep)


@pytest.fixture
def api() -> Iterator[BotApi]:
    with BotApi() as server:
        yield server


@pytest.fixture
async def bot(api: BotApi) -> AsyncIterator[Bot]:
    request = HTTPXRequest(read_timeout=1.0, connect_timeout=1.0)
    async with Bot(TOKEN, base_url=api.url, request=request) as b:
        yield b


def _article(n: int, title: str = "السيسي يستقبل ناريشكين", source: str = "Ahram") -> Article:
    url = f"https://{source.lower()}.example/{n}"
    return article(url, source, text=f"{QUOTE} {n}", title=title, published=NOW)


def _queue(store: Store, n: int, chats: list[int], **kw) -> list[int]:
    start = QUOTE.index("ناريشكين")
    snippet = Snippet(QUOTE, ((start, start + len("ناريشكين")),)).to_json()
    recipients = [Recipient("telegram", str(c)) for c in chats]
    outcome = store.record_item(
        NewItem(_article(n, **kw), f"h{n}-{kw}", None, None, ["Naryshkin"], snippet, recipients),
        NOW,
    )
    return list(outcome.outbox_ids)


def _dispatcher(store: Store, bot: Bot, clock: Clock, pacer: Pacer | None = None, **config):
    db = StoreRunner(store)
    notifier = TelegramNotifier(
        bot, db, TelegramConfig(token=TOKEN, **config), CAIRO, clock,
        pacer=pacer or _fast_pacer(),
    )  # fmt: skip
    dispatcher = Dispatcher(db, {"telegram": notifier}, clock)
    return dispatcher, notifier


async def test_alerts_reach_several_chats_as_escaped_html_with_the_match_in_bold(store, bot, api):
    hostile = "عاجل <script>alert(1)</script> & <b>تحذير"
    _queue(store, 1, [5, -1001], title=hostile)
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW))
    assert (await dispatcher.dispatch()).sent == 2
    for chat in (5, -1001):
        (message,) = api.sent(chat)
        assert "<script>" in message.text and "&" in message.text  # shown, as text
        assert "&lt;script&gt;" in message.html and "&amp;" in message.html
        assert "<b>ناريشكين</b>" in message.html
        assert message.params["parse_mode"] == "HTML"
        assert {e["type"] for e in message.entities} >= {"bold", "text_link"}
    row = store.outbox_row(1)
    assert row.state == "sent" and row.message_ref == f"5:{api.sent(5)[0].message_id}"


async def test_link_previews_follow_the_config(store, bot, api):
    _queue(store, 1, [5])
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW), link_preview=True)
    await dispatcher.dispatch()
    assert api.sent(5)[0].params["link_preview_options"] == {"is_disabled": False}


async def test_a_429_waits_retry_after_and_resends_the_same_row(store, bot, api):
    (row_id,) = _queue(store, 1, [5])
    api.fail_next("sendMessage", 429, parameters={"retry_after": 7})
    clock = Clock(NOW)
    dispatcher, _ = _dispatcher(store, bot, clock)
    assert (await dispatcher.dispatch()).retried == 1
    row = store.outbox_row(row_id)
    assert row.state == "pending" and row.next_attempt >= NOW + timedelta(seconds=7)
    assert "retry after 7" in row.last_error
    clock.now = row.next_attempt
    assert (await dispatcher.dispatch()).sent == 1
    assert len(api.sent(5)) == 1
    assert store.outbox_row(row_id).state == "sent"


async def test_a_500_is_retried_with_backoff(store, bot, api):
    (row_id,) = _queue(store, 1, [5])
    api.fail_next("sendMessage", 500)
    clock = Clock(NOW)
    dispatcher, _ = _dispatcher(store, bot, clock)
    await dispatcher.dispatch()
    row = store.outbox_row(row_id)
    assert row.state == "pending" and "network error" in row.last_error
    clock.now = row.next_attempt
    assert (await dispatcher.dispatch()).sent == 1


async def test_forbidden_fails_the_row_and_deactivates_the_chat(store, bot, api):
    store.upsert_chat(7, "private", "reader", NOW)
    ids = _queue(store, 1, [7]) + _queue(store, 2, [7])
    api.fail_next("sendMessage", 403)
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW))
    counts = await dispatcher.dispatch()
    assert counts.failed == 2 and counts.sent == 0
    assert not store.chat(7).active
    assert "blocked" in store.outbox_row(ids[0]).last_error
    assert "blocked or removed" in store.outbox_row(ids[1]).last_error  # not even tried
    assert len(api.calls_to("sendMessage")) == 1


async def test_a_migrated_group_gets_the_alert_at_its_new_id_and_keeps_its_watches(store, bot, api):
    store.upsert_chat(-200, "group", "Desk", NOW)
    store.add_watch(-200, "Dabaa", "الضبعة", NOW)
    _queue(store, 1, [-200])
    api.fail_next("sendMessage", 400, parameters={"migrate_to_chat_id": -100200}, chat_id=-200)
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW))
    assert (await dispatcher.dispatch()).sent == 1
    assert len(api.sent(-100200)) == 1
    assert store.chat(-200) is None and store.chat(-100200) is not None
    assert [w.name for w in store.chat_watches(-100200)] == ["Dabaa"]


async def test_too_long_or_unparsable_html_falls_back_to_plain_text(store, bot, api):
    _queue(store, 1, [5, 6])
    api.fail_next("sendMessage", 400, "Bad Request: message is too long", chat_id=5)
    api.fail_next("sendMessage", 400, "Bad Request: can't parse entities: oops", chat_id=6)
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW))
    assert (await dispatcher.dispatch()).sent == 2
    for chat in (5, 6):
        (message,) = api.sent(chat)
        assert "parse_mode" not in message.params
        assert "https://ahram.example/1" in message.text


async def test_another_bad_request_fails_the_row_with_telegrams_reason(store, bot, api):
    (row_id,) = _queue(store, 1, [5])
    api.fail_next("sendMessage", 400, "Bad Request: chat not found")
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW))
    assert (await dispatcher.dispatch()).failed == 1
    assert "chat not found" in store.outbox_row(row_id).last_error.lower()


async def test_a_timeout_after_sending_is_retried_once_then_given_up(store, bot, api):
    (row_id,) = _queue(store, 1, [5])
    api.delay_next("sendMessage", 2.5, times=2)
    clock = Clock(NOW)
    dispatcher, _ = _dispatcher(store, bot, clock)
    await dispatcher.dispatch()
    row = store.outbox_row(row_id)
    assert row.state == "pending" and row.last_error == TIMED_OUT
    clock.now = row.next_attempt
    await dispatcher.dispatch()
    row = store.outbox_row(row_id)
    assert row.state == "failed" and "twice" in row.last_error
    assert len(api.sent(5)) == 2  # the server got both: one duplicate, no third


async def test_a_story_that_gains_outlets_edits_the_sent_message(store, bot, api):
    _queue(store, 1, [5])
    dispatcher, notifier = _dispatcher(store, bot, Clock(NOW))
    await dispatcher.dispatch()
    story_id = store.outbox_row(1).story_id
    for n, outlet in enumerate(["Sky", "RT", "BBC", "DW"], start=2):
        store.record_item(
            NewItem(
                _article(n, source=outlet),
                f"x{n}",
                None,
                story_id,
                ["Naryshkin"],
                "",
                [Recipient("telegram", "5")],
            ),
            NOW,
        )
    assert await notifier.story_grew(story_id) == 1
    (edit,) = api.edits(5)
    assert "also: " in edit.text and "(+1)" in edit.text
    assert "Sky" in edit.text and "DW" not in edit.text
    assert len(api.sent(5)) == 1  # edited, not sent again
    assert await notifier.story_grew(story_id) == 0  # nothing new to show


async def test_a_muted_story_is_not_edited(store, bot, api):
    _queue(store, 1, [5])
    dispatcher, notifier = _dispatcher(store, bot, Clock(NOW))
    await dispatcher.dispatch()
    store.mute_row(1)
    story_id = store.outbox_row(1).story_id
    store.record_item(
        NewItem(_article(2, source="Sky"), "x2", None, story_id, ["Naryshkin"], "", []), NOW
    )
    assert await notifier.story_grew(story_id) == 0
    assert api.edits() == []


async def test_pacing_keeps_a_private_chat_to_one_message_a_second(store, bot, api):
    for n in range(3):
        _queue(store, n, [5])
    fake = FakeTime()  # the pacer and the stand-in read one clock: no wall-clock margins
    api.clock = fake.clock
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW), pacer=pacer)
    await dispatcher.dispatch()
    times = [m.time for m in api.sent(5)]
    assert len(times) == 3
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))


async def test_a_backlog_of_more_than_five_goes_out_as_one_message(store, bot, api):
    for n in range(8):
        _queue(store, n, [5])
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW))
    counts = await dispatcher.dispatch()
    (message,) = api.sent(5)
    assert "8 alerts" in message.text
    assert counts.sent == 1 and store.pending_count() == 0


async def test_a_paused_chat_gets_nothing_and_its_alerts_are_held_for_the_recap(store, bot, api):
    store.set_chat_flag(5, "paused", True, NOW)
    (row_id,) = _queue(store, 1, [5])
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW))
    await dispatcher.dispatch()
    assert api.sent(5) == []
    assert store.outbox_row(row_id).message_ref == HELD


async def test_pending_rows_are_sent_after_a_restart(tmp_path, bot, api):
    path = tmp_path / "alertbot.db"
    first = Store.open(path)
    _queue(first, 1, [5, 6])
    first.close()
    again = Store.open(path)
    try:
        dispatcher, _ = _dispatcher(again, bot, Clock(NOW))
        assert (await dispatcher.dispatch()).sent == 2
        assert len(api.sent(5)) == len(api.sent(6)) == 1
    finally:
        again.close()


async def test_alertbot_with_a_token_delivers_the_config_watches_to_the_alert_chats(
    tmp_path, api, lemmatizer
):
    """`open_app` wires Telegram in: a poll's matches reach telegram.alert_chats."""
    with LocalServer() as site:
        items = news_items(6, base_url=site.url(""), start=datetime.now(UTC) - timedelta(hours=1))
        feed = rss(items, base_url=site.url(""), full_text=True)
        site.route("/feed", feed, headers={"Content-Type": "application/rss+xml"})
        path = tmp_path / "alertbot.toml"
        path.write_text(
            f'database = "{tmp_path / "db.sqlite"}"\n'
            f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api.url}"\nalert_chats = [-1001, 5]\n'
            f'[[source]]\nname = "Loop"\nurl = "{site.url("/feed")}"\n'
            '[[watch]]\nname = "Any"\nquery = "في"\n',
            encoding="utf-8",
        )
        config = load_config(path)
        runtime = await open_app(config, lemmatizer)
        async with runtime.stack:
            assert "notifiers: telegram (2 alert chats)" in describe_start(config, runtime)
            outcomes, sent = await runtime.scheduler.run_once()
            await runtime.scheduler.shutdown()
    assert outcomes[0].error is None
    assert sent.sent >= 2
    assert len(api.sent(-1001)) == len(api.sent(5)) >= 1


async def test_a_related_story_goes_as_a_silent_reply_to_the_chats_earlier_alert(store, bot, api):
    """The phone buzzes once per event: a follow-up is threaded under the alert this chat
    got about the earlier story; a chat that got none gets a normal alert."""
    (first,) = _queue(store, 1, [5])
    dispatcher, _ = _dispatcher(store, bot, Clock(NOW))
    await dispatcher.dispatch()
    earlier = store.outbox_row(first)
    (alerted,) = api.sent(5)
    recipients = [Recipient("telegram", "5"), Recipient("telegram", "7")]
    item = _article(2, title="ناريشكين يغادر القاهرة", source="Sky")
    store.record_item(
        NewItem(item, "h2", None, None, ["Naryshkin"], "", recipients, related_to=earlier.story_id),
        NOW,
    )
    await dispatcher.dispatch()
    threaded = api.sent(5)[-1]
    assert threaded.reply_to == alerted.message_id and threaded.silent
    assert "related" in threaded.text.split("\n")[0]
    (fresh,) = api.sent(7)
    assert fresh.reply_to is None and not fresh.silent
    assert store.story(store.outbox_row(first + 1).story_id).related_to == earlier.story_id
