"""The controls analysts ask for: exclusions, watches limited to sources, forum topics.

From the config to the outbox rows (who is alerted, in which topic, who is silenced), the
recap that follows the rows, and Telegram delivery into topics at the Bot API stand-in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from alertbot.bot.service import UsageError, parse_watch_args
from alertbot.config import TelegramConfig, load_config, validate_config
from alertbot.notify import Dispatcher
from alertbot.notify.pacing import Pacer
from alertbot.notify.telegram import TelegramNotifier
from alertbot.pipeline import Pipeline, Watchlists
from alertbot.recap.build import build_recap
from alertbot.store import NewItem, Recipient, Store, StoreRunner
from alertbot.watch.match import Watch
from testsupport.botapi import TOKEN, BotApi
from testsupport.clocks import Clock
from testsupport.storefixtures import article

pytestmark = pytest.mark.both_engines

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CAIRO = ZoneInfo("Africa/Cairo")
DESK = "-100"


# -- config -----------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alertbot.toml"
    path.write_text(
        '[[source]]\nname = "BBC Arabic"\nurl = "https://bbc.example/rss"\n'
        '[[source]]\nname = "France 24 Arabic"\nurl = "https://f24.example/rss"\n' + text,
        encoding="utf-8",
    )
    return path


def test_config_watches_take_sources_and_a_topic_and_exclusions_a_query(tmp_path):
    config = load_config(
        _write(
            tmp_path,
            '[[watch]]\nname = "Gaza"\nquery = "غزة"\nsources = ["bbc arabic", "France 24 Arabic"]'
            "\ntopic = 12\n"
            '[[exclude]]\nquery = "كرة القدم"\n'
            '[[exclude]]\nname = "Horoscopes"\nquery = "الأبراج"\n',
        )
    )
    (watch,) = config.watches
    assert (watch.sources, watch.topic) == (("BBC Arabic", "France 24 Arabic"), 12)
    assert [(x.name, x.query, x.excludes) for x in config.exclusions] == [
        ("كرة القدم", "كرة القدم", True),
        ("Horoscopes", "الأبراج", True),
    ]


def test_config_errors_name_the_key_and_the_watch(tmp_path):
    path = _write(
        tmp_path,
        '[[watch]]\nname = "Gaza"\nquery = "غزة"\nsources = ["BBC Arabic", "Sky News"]\ntopic = 0\n'
        '[[watch]]\nname = "Egypt"\nquery = "مصر"\nsources = "BBC Arabic"\ntopic = "general"\n'
        '[[watch]]\nname = "Sudan"\nquery = "السودان"\nsources = []\n'
        '[[exclude]]\nquery = "كرة"\nsection = "sport"\n'
        '[[exclude]]\nquery = "رياضة OR"\n[[exclude]]\nname = 3\nquery = "رياضة"\n',
    )
    problems = [str(p).split(": ", 1)[1] for p in validate_config(path)]
    assert problems == [
        "watch[0].sources[1]: no source named 'Sky News' (watch 'Gaza'); the sources are:"
        " 'BBC Arabic', 'France 24 Arabic'",
        "watch[0].topic: must be a positive message thread id, got 0",
        "watch[1].sources: expected an array, got a string",
        "watch[1].topic: expected an integer, got a string",
        "watch[2].sources: lists no source (watch 'Sudan'): leave the key out for every source",
        "exclude[0].section: unknown key",
        "exclude[1].query: nothing after OR at column 9",  # the parser's own words
        "exclude[2].name: expected a string, got an integer",
    ]


@pytest.mark.parametrize(
    ("text", "name", "query", "sources"),
    [
        ("غزة in: BBC Arabic, France 24 Arabic", "غزة", "غزة", ("BBC Arabic", "France 24 Arabic")),
        ("Gaza: غزة OR هدنة IN: BBC Arabic", "Gaza", "غزة OR هدنة", ("BBC Arabic",)),
        ("غزة in: بي بي سي، فرانس 24", "غزة", "غزة", ("بي بي سي", "فرانس 24")),
        ('"made in: Egypt"', '"made in: Egypt"', '"made in: Egypt"', ()),  # inside quotes
        ("Login: password", "Login", "password", ()),  # "in:" inside a word is no limit
    ],
)
def test_watch_arguments_may_end_with_the_sources(text, name, query, sources):
    assert parse_watch_args(text) == Watch(name, query, sources=sources)


def test_watch_arguments_with_an_empty_source_list_are_refused():
    with pytest.raises(UsageError, match="after in: name the sources"):
        parse_watch_args("غزة in: ")
    with pytest.raises(UsageError, match="empty source name"):
        parse_watch_args("غزة in: BBC Arabic,, RT")


# -- who is alerted -----------------------------------------------------------------------


def _article(n: int, text: str, source: str = "Ahram"):
    url = f"https://{source.lower().replace(' ', '')}.example/{n}"
    return article(url, source, text=text, title=text, fetched=NOW, published=NOW)


def _rows(store: Store) -> set[tuple[str, str, int | None, str]]:
    rows = store._rows("SELECT id FROM outbox")
    out = set()
    for r in rows:
        row = store.outbox_row(r["id"])
        out.add((row.channel, row.recipient, row.topic, ",".join(row.watches)))
    return out


def test_sources_topics_and_exclusions_decide_the_outbox_rows_and_the_recap(store, lemmatizer):
    lists = Watchlists(
        (
            Watch("Naryshkin", "ناريشكين", topic=12),
            Watch("Dabaa", "الضبعة", sources=("Sky News Arabia",)),
        ),
        (Recipient("telegram", DESK), Recipient("email", "desk@example.org")),
        {42: [Watch("Gaza", "غزة", topic=7)], 43: [Watch("N", "ناريشكين")]},
        (Watch("Football", "كرة القدم", excludes=True),),
        {43: [Watch("Dabaa too", "الضبعة", excludes=True)]},
    )
    pipeline = Pipeline(lemmatizer, lists)
    visit = _article(1, "السيسي يستقبل ناريشكين ويبحثان محطة الضبعة")  # Ahram: not Dabaa's
    counts = pipeline.process(store, [visit], NOW)
    assert (counts.matched, counts.excluded) == (1, 1)
    assert _rows(store) == {
        ("telegram", DESK, 12, "Naryshkin"),  # the config watch's topic, in the alert chat
        ("email", "desk@example.org", None, "Naryshkin"),  # email has no topics
    }  # chat 43 excluded الضبعة: nothing for it, though its watch N matched

    match = _article(2, "مباراة كرة القدم في الضبعة", "sky news arabia")  # any case
    gaza = _article(3, "وقف إطلاق النار في غزة")
    counts = pipeline.process(store, [match, gaza], NOW)
    assert (counts.matched, counts.excluded, counts.queued) == (2, 1, 1)
    assert _rows(store) - {("telegram", DESK, 12, "Naryshkin"), ("email", "desk@example.org",
                                                                    None, "Naryshkin")} == {
        ("telegram", "42", 7, "Gaza"),
    }  # fmt: skip
    # The football article is stored and started a story (it matched Dabaa), unalerted.
    filed = store._rows("SELECT story_id FROM seen_items WHERE url LIKE '%skynewsarabia%'")
    assert filed[0]["story_id"] is not None

    day_start, day_end = NOW - timedelta(hours=12), NOW + timedelta(hours=1)
    desk = build_recap(store, day_start, day_end, CAIRO)
    assert {s.title for section in desk.sections for s in section.stories} == {
        visit.title,
        gaza.title,
    }
    assert build_recap(store, day_start, day_end, CAIRO, recipient=("telegram", "43")).empty


def test_the_same_story_reaches_each_topic_of_a_chat_once(store):
    item = NewItem(
        _article(1, "السيسي يستقبل ناريشكين"), "h1", None, None, ["A", "B"], "",
        [Recipient("telegram", DESK, ("A",), 7), Recipient("telegram", DESK, ("B",)),
         Recipient("telegram", DESK, ("A",), 7)],
    )  # fmt: skip
    assert len(store.record_item(item, NOW).outbox_ids) == 2


# -- Telegram topics -----------------------------------------------------------------------


@pytest.fixture
def api() -> Iterator[BotApi]:
    with BotApi() as server:
        yield server


@pytest.fixture
async def bot(api: BotApi) -> AsyncIterator[Bot]:
    request = HTTPXRequest(read_timeout=1.0, connect_timeout=1.0)
    async with Bot(TOKEN, base_url=api.url, request=request) as b:
        yield b


class _Instant:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _dispatcher(store: Store, bot: Bot) -> tuple[Dispatcher, TelegramNotifier]:
    db = StoreRunner(store)
    instant = _Instant()
    notifier = TelegramNotifier(
        bot, db, TelegramConfig(token=TOKEN), CAIRO, Clock(NOW),
        pacer=Pacer(clock=instant.clock, sleep=instant.sleep),
    )  # fmt: skip
    return Dispatcher(db, {"telegram": notifier}, Clock(NOW)), notifier


async def test_alerts_go_to_their_topic_follow_ups_reply_there_and_a_gone_topic_falls_back(
    store, bot, api
):
    chat = int(DESK)
    russia = api.create_topic(chat, "Russia")
    first = store.record_item(
        NewItem(_article(1, "السيسي يستقبل ناريشكين"), "h1", None, None, ["N"], "",
                [Recipient("telegram", DESK, topic=russia), Recipient("telegram", DESK)]),
        NOW,
    )  # fmt: skip
    dispatcher, notifier = _dispatcher(store, bot)
    assert (await dispatcher.dispatch()).sent == 2
    in_topic, in_chat = api.sent(chat)
    assert (in_topic.topic, in_chat.topic) == (russia, None)
    assert api.message(chat, in_topic.message_id)["is_topic_message"] is True

    # A follow-up replies to the alert of its own topic, silently.
    store.record_item(
        NewItem(_article(2, "ناريشكين يزور الضبعة"), "h2", None, None, ["N"], "",
                [Recipient("telegram", DESK, topic=russia)], related_to=first.story_id),
        NOW,
    )  # fmt: skip
    await dispatcher.dispatch()
    reply = api.sent(chat)[-1]
    assert (reply.topic, reply.reply_to, reply.silent) == (russia, in_topic.message_id, True)

    # Another outlet joins the first story: both messages are edited, in place.
    store.record_item(
        NewItem(_article(3, "ناريشكين في القاهرة", "Sky"), "h3", None, first.story_id, ["N"],
                "", [Recipient("telegram", DESK, topic=russia)]),
        NOW,
    )  # fmt: skip
    assert await notifier.story_grew(first.story_id) == 2
    assert {e.message_id for e in api.edits(chat)} == {in_topic.message_id, in_chat.message_id}

    # A topic that is gone (deleted, or a wrong id in the config): the chat itself gets it.
    (row_id,) = store.record_item(
        NewItem(_article(4, "ناريشكين"), "h4", None, None, ["N"], "",
                [Recipient("telegram", DESK, topic=999)]),
        NOW,
    ).outbox_ids  # fmt: skip
    assert (await dispatcher.dispatch()).sent == 1
    assert [c.status for c in api.calls_to("sendMessage")][-2:] == [400, 200]
    assert api.sent(chat)[-1].topic is None
    assert store.outbox_row(row_id).state == "sent"


# -- the commands ----------------------------------------------------------------------------


async def test_watch_in_a_topic_with_sources_exclude_list_and_unexclude(tmp_path, api, lemmatizer):
    from testsupport.bothost import news_site, running_bot, say

    desk = -1001
    with news_site() as site:
        path = tmp_path / "alertbot.toml"
        path.write_text(
            f'database = "{tmp_path / "db.sqlite"}"\n'
            f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api.url}"\nadmins = [111]\n'
            f"alert_chats = [{desk}]\n"
            f'[[source]]\nname = "Loop"\nurl = "{site.url("/feed")}"\n'
            '[[watch]]\nname = "Naryshkin"\nquery = "ناريشكين"\n'
            '[[exclude]]\nname = "Horoscopes"\nquery = "الأبراج"\n',
            encoding="utf-8",
        )
        async with running_bot(path, api, lemmatizer) as runtime:
            gaza = api.create_topic(desk, "Gaza")
            text = await say(api, desk, "/watch Gaza: غزة OR هدنة in: loop", thread_id=gaza)
            answer = api.sent(desk)[-1]
            assert answer.topic == gaza  # the answer, too, is in the topic
            assert "Only from: Loop" in text and "Alerts go to this topic." in text
            store = runtime.scheduler.store
            (kept,) = store.chat_watches(desk)
            assert (kept.sources, kept.topic) == (("Loop",), gaza)
            assert runtime.scheduler.pipeline.watchlists.chat_watches[desk][0].topic == gaza

            refused = await say(api, desk, "/watch Egypt: مصر in: Loop, BBC")
            assert refused == "no source named BBC. The sources are: Loop"
            assert [w.name for w in store.chat_watches(desk)] == ["Gaza"]

            now = datetime.now(UTC)
            for n, words in enumerate(["ناريشكين يحضر مباراة كرة القدم", "نتائج الدوري"], 1):
                item = article(f"https://loop.example/{n}", "Loop", text=words, title=words)
                new = NewItem(item, f"c{n}", None, None, [], "", [])
                await runtime.scheduler.db.run(store.record_item, new, now)
            text = await say(api, desk, "/exclude Sport: كرة القدم OR الدوري")
            assert text.startswith("⛔ Excluding Sport: كرة القدم OR الدوري")
            asked = api.sent(desk)[-1].message_id
            await api.until(lambda a: a.edits(desk, asked), timeout=10)
            assert "it matches 2 articles of 2 stored; it would have silenced 1 of them" in (
                api.edits(desk, asked)[-1].text
            )  # the one that names Naryshkin, a config watch this alert chat gets
            exclusions = runtime.scheduler.pipeline.watchlists.chat_exclusions[desk]
            assert [x.name for x in exclusions] == ["Sport"]

            listed = await say(api, desk, "/list")
            assert f"Gaza: غزة OR هدنة — Only from: Loop Alerts go to topic {gaza}." in listed
            assert "1. Sport: كرة القدم OR الدوري" in listed
            assert "Horoscopes (config, over the config's watches): الأبراج" in listed

            assert await say(api, desk, "/unexclude 2") == (
                "This chat has no exclusion 2. /list shows them."
            )
            assert await say(api, desk, "/unexclude sport") == "No longer excluding Sport."
            assert store.chat_exclusions(desk) == []
            assert runtime.scheduler.pipeline.watchlists.chat_exclusions == {}
