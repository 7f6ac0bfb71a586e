"""The bot's commands without Telegram: /watch arguments and backtest, /unwatch, /test, /mute."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alertbot.bot.service import (
    MUTE_USAGE,
    TEST_USAGE,
    UNWATCH_USAGE,
    WATCH_USAGE,
    Backtest,
    UsageError,
    WatchService,
    parse_duration_arg,
    parse_watch_args,
)
from alertbot.errors import QuerySyntaxError
from alertbot.store import NewItem
from alertbot.watch.match import Watch
from testsupport.storefixtures import NOW, article

pytestmark = pytest.mark.both_engines

# -- parse_watch_args ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "query"),
    [
        ("الضبعة: محطة NEAR/5 نووية", "الضبعة", "محطة NEAR/5 نووية"),
        ("Naryshkin: ناريشكين OR Нарышкин", "Naryshkin", "ناريشكين OR Нарышкин"),
        ("  محطة Rosatom ： روساتوم OR Rosatom  ", "محطة Rosatom", "روساتوم OR Rosatom"),
        ("ناريشكين", "ناريشكين", "ناريشكين"),
        ("محطة NEAR/5 نووية", "محطة NEAR/5 نووية", "محطة NEAR/5 نووية"),
        # The colon is inside a quoted phrase: the whole text is the query.
        ('"الرئيس: لا تفاوض" OR هدنة', '"الرئيس: لا تفاوض" OR هدنة', '"الرئيس: لا تفاوض" OR هدنة'),
        ("(غزة OR رفح): هدنة", "(غزة OR رفح): هدنة", "(غزة OR رفح): هدنة"),
        # Nothing after the colon: not a name.
        ("هدنة:", "هدنة:", "هدنة:"),
    ],
)
def test_parse_watch_args(text, name, query):
    assert parse_watch_args(text) == Watch(name, query)


def test_a_long_query_names_itself_cut_at_a_word():
    query = "وقف إطلاق النار في غزة OR هدنة إنسانية في رفح OR مفاوضات القاهرة"
    watch = parse_watch_args(query)
    assert watch.query == query
    assert watch.name == "وقف إطلاق النار في غزة OR هدنة إنسانية"
    assert len(watch.name) <= 40 and query.startswith(watch.name + " ")


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_watch_args_get_usage(text):
    with pytest.raises(UsageError) as caught:
        parse_watch_args(text)
    assert str(caught.value) == WATCH_USAGE


def test_too_long_name_or_query_is_refused():
    with pytest.raises(UsageError, match="at most 40"):
        parse_watch_args("ا" * 41 + ": هدنة")
    with pytest.raises(UsageError, match="at most 500"):
        parse_watch_args(" OR ".join(["هدنة"] * 101))


# -- parse_duration_arg --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("30m", timedelta(minutes=30)),
        ("1d", timedelta(days=1)),
        ("90s", timedelta(seconds=90)),
        ("2h30m", timedelta(hours=2, minutes=30)),
        (" 2H 30m ", timedelta(hours=2, minutes=30)),
        ("٢h", timedelta(hours=2)),
        ("۱۵m", timedelta(minutes=15)),
        ("1m", timedelta(minutes=1)),
        ("30d", timedelta(days=30)),
    ],
)
def test_parse_duration_arg(text, expected):
    assert parse_duration_arg(text) == expected


@pytest.mark.parametrize(
    "text", ["", "0m", "59s", "31d", "30d1s", "abc", "2", "h2", "2x", "-2h", "99999999999999d"]
)
def test_bad_durations_get_usage(text):
    with pytest.raises(UsageError) as caught:
        parse_duration_arg(text)
    assert str(caught.value) == MUTE_USAGE


# -- WatchService --------------------------------------------------------------------------


@pytest.fixture
def service(store, lemmatizer):
    """The service bound to the test's store, as the bot's threads each call it."""
    watches = WatchService(lemmatizer, lambda: NOW)

    class OnStore:
        def add(self, chat_id, text):
            return watches.add(store, chat_id, text)

        def backtest(self, chat_id, text):
            return watches.backtest(store, self.add(chat_id, text).watch)

        def remove(self, chat_id, name):
            return watches.remove(store, chat_id, name)

        def test(self, chat_id, text, config=()):
            return watches.test([*store.chat_watches(chat_id), *config], text)

    return OnStore()


def record(store, n, text, *, days_ago, published=None):
    seen = NOW - timedelta(days=days_ago)
    item = article(f"https://ahram.example/{n}", text=text, fetched=seen, published=published)
    store.record_item(NewItem(item, f"hash{n}", None, None, [], "", []), seen)


def test_add_stores_the_watch_and_explains_it(service, store):
    added = service.add(42, "Naryshkin: ناريشكين OR مفاوضات OR Rosatom")
    assert added.watch == Watch("Naryshkin", "ناريشكين OR مفاوضات OR Rosatom")
    assert added.new is True
    assert added.understood == (
        ("ناريشكين", ()),  # a name the database does not know: matched by its letters
        ("مفاوضات", ("مفاوضة",)),
        ("Rosatom", ("Rosatoms", "Rosatom's")),
    )
    assert store.chat_watches(42) == [added.watch]
    assert service.backtest(43, "Rosatom") == Backtest(days=7, scanned=0, count=0, examples=())
    assert store.chat_watches(None) == []


def test_understood_gives_the_lemma_of_each_word(service):
    added = service.add(1, '"وقف إطلاق النار" NEAR/5 الانتخابات')
    assert added.understood == (
        ("وقف", ("وقف",)),
        ("إطلاق", ("إطلاق",)),
        ("النار", ("نار",)),
        ("الانتخابات", ("انتخاب",)),
    )


def test_a_bad_query_raises_with_its_column_and_stores_nothing(service, store):
    with pytest.raises(QuerySyntaxError) as caught:
        service.add(42, "هدنة: غزة OR")
    assert caught.value.column == 7  # in the query, after "NAME: "
    assert str(caught.value) == "nothing after OR at column 7"
    assert store.chat_watches(42) == []


def test_backtest_counts_recent_matches_newest_first(service, store):
    record(store, 1, "بدء العمل في محطة الضبعة النووية", days_ago=1)
    record(store, 2, "روسيا تسلم معدات لمحطة بالضبعة", days_ago=2)
    record(store, 3, "الرئيس يتفقد المشروع في الضبعة", days_ago=3)
    record(store, 4, "وفد روسي يزور الضبعة", days_ago=6)
    record(store, 5, "أمطار غزيرة على القاهرة", days_ago=1)
    record(store, 6, "الضبعة: توقيع العقد", days_ago=8)  # older than the backtest
    bt = service.backtest(42, "الضبعة")
    assert (bt.days, bt.scanned, bt.count) == (7, 5, 4)
    assert [e.url for e in bt.examples] == [
        "https://ahram.example/1",
        "https://ahram.example/2",
        "https://ahram.example/3",
    ]
    first = bt.examples[0]
    assert (first.title, first.source, first.at) == (
        "السيسي يستقبل ناريشكين",
        "Ahram",
        NOW - timedelta(days=1),
    )


def test_backtest_example_time_is_the_published_time(service, store):
    published = NOW - timedelta(days=1, hours=5)
    record(store, 1, "وفد روسي يزور الضبعة", days_ago=1, published=published)
    assert service.backtest(42, "الضبعة").examples[0].at == published


def test_replacing_a_watch_of_the_same_name(service, store):
    assert service.add(42, "Dabaa: الضبعة").new is True
    again = service.add(42, "dabaa: الضبعة OR روساتوم")
    assert again.new is False
    assert store.chat_watches(42) == [Watch("dabaa", "الضبعة OR روساتوم")]


def test_chats_and_config_have_separate_names(service, store):
    store.add_watch(None, "الضبعة", "الضبعة", NOW)
    assert service.add(42, "الضبعة").new is True
    assert service.add(43, "الضبعة").new is True
    assert store.chat_watches(42) == [Watch("الضبعة", "الضبعة")]


def test_remove(service, store):
    service.add(42, "Dabaa: الضبعة")
    assert service.remove(43, "Dabaa") is False
    assert service.remove(42, " DABAA ") is True
    assert service.remove(42, "Dabaa") is False
    assert store.chat_watches(42) == []
    with pytest.raises(UsageError) as caught:
        service.remove(42, "  ")
    assert str(caught.value) == UNWATCH_USAGE


def test_a_chat_has_at_most_50_watches(service, store):
    for n in range(50):
        store.add_watch(42, f"w{n}", "الضبعة", NOW)
    with pytest.raises(UsageError, match="50 watches"):
        service.add(42, "one more: ناريشكين")
    assert len(store.chat_watches(42)) == 50
    # Replacing one of the fifty is still allowed, as is another chat's first.
    assert service.add(42, "W7: ناريشكين").new is False
    assert service.add(43, "ناريشكين").new is True


def test_test_highlights_what_each_watch_matched(service):
    service.add(42, "Naryshkin: ناريشكين")
    service.add(42, "Gaza: غزة")
    text = "استقبل الرئيس السيسي وناريشكين في القاهرة. وبحثا محطة الضبعة."
    hits = service.test(42, text, [Watch("Dabaa", "الضبعة"), Watch("Rain", "أمطار")])
    assert [(h.watch, h.field) for h in hits] == [("Naryshkin", "text"), ("Dabaa", "text")]
    naryshkin, dabaa = hits
    assert naryshkin.snippet.text == "استقبل الرئيس السيسي وناريشكين في القاهرة."
    assert [naryshkin.snippet.text[s:e] for s, e in naryshkin.snippet.marks] == ["وناريشكين"]
    assert dabaa.snippet.text == "وبحثا محطة الضبعة."
    assert [dabaa.snippet.text[s:e] for s, e in dabaa.snippet.marks] == ["الضبعة"]


def test_test_only_tries_this_chats_watches(service):
    service.add(43, "ناريشكين")
    assert service.test(42, "استقبل الرئيس وناريشكين") == []
    with pytest.raises(UsageError) as caught:
        service.test(42, "  ")
    assert str(caught.value) == TEST_USAGE


def test_test_skips_a_stored_query_that_no_longer_parses(service, store):
    store.add_watch(42, "broken", "غزة OR", NOW)
    service.add(42, "ناريشكين")
    hits = service.test(42, "استقبل الرئيس وناريشكين")
    assert [h.watch for h in hits] == ["ناريشكين"]


def test_backtest_counts_stories_not_raw_items_when_outlets_carried_one_event(service, store):
    seen = NOW - timedelta(hours=5)
    first = article("https://ahram.example/1", text="بدء العمل في محطة الضبعة النووية",
                    fetched=seen)  # fmt: skip
    story = store.record_item(NewItem(first, "h1", None, None, ["Dabaa"], "", []), seen).story_id
    again = article("https://sky.example/1", "Sky", text="بدء العمل في محطة بالضبعة اليوم",
                    fetched=seen + timedelta(hours=1))  # fmt: skip
    store.record_item(NewItem(again, "h2", None, story, [], "", []), seen + timedelta(hours=1))
    record(store, 3, "وفد روسي يزور الضبعة", days_ago=2)
    bt = service.backtest(42, "الضبعة")
    assert (bt.count, bt.stories) == (3, 2)
    assert [e.url for e in bt.examples] == ["https://sky.example/1", "https://ahram.example/3"]


def test_backtest_tells_the_other_spellings_of_a_name_and_how_often(service, store):
    record(store, 1, "التقى ترمب نظيره في البيت الأبيض", days_ago=1)
    record(store, 2, "وقال ترمب إن الاتفاق قريب، ووصف لترمب مستشاروه الخطة", days_ago=2)
    record(store, 3, "قال ترامب إن المحادثات مستمرة", days_ago=2)
    record(store, 4, "وصل الترام إلى المحطة", days_ago=2)  # a tram: no spelling of the name
    bt = service.backtest(42, "Trump: ترامب")
    assert bt.count == 3
    assert bt.spellings == (("ترامب", (("ترمب", 2),)),)
    assert service.backtest(42, "Trump exact: =ترامب").count == 1
