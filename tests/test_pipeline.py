"""From articles to outbox rows: repeats, stories, recipients and old news."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from alertbot.pipeline import Pipeline, Watchlists
from alertbot.sources.model import Article
from alertbot.store import Recipient
from alertbot.watch.match import Watch
from testsupport.storefixtures import article

pytestmark = pytest.mark.both_engines

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CONSOLE = (Recipient("console", "stdout"),)
WATCHES = (
    Watch("Naryshkin", "ناريشكين OR Naryshkin"),
    Watch("El-Dabaa", "الضبعة"),
    Watch("Mars", "المريخ"),
)


def _article(title: str, text: str, url: str, source: str = "Ahram", **kw) -> Article:
    kw.setdefault("published", NOW - timedelta(hours=1))
    return article(url, source, text=text, title=title, fetched=NOW, **kw)


@pytest.fixture
def pipeline(store, lemmatizer) -> Pipeline:
    return Pipeline(lemmatizer, Watchlists(WATCHES, CONSOLE))


@pytest.fixture
def seeds(seed_articles) -> list[tuple[str, str]]:
    return [seed_articles[name] for name in sorted(seed_articles)]


def _rows(store) -> list[dict]:
    return store._rows("SELECT story_id, channel, recipient, watches FROM outbox ORDER BY id")


def test_an_article_matching_two_watches_gives_one_alert_naming_both(pipeline, store, seeds):
    title, text = seeds[1]  # the one that names El-Dabaa
    counts = pipeline.process(store, [_article(title, text, "https://a.example/1")], NOW)
    assert (counts.matched, counts.new_stories, counts.queued) == (1, 1, 1)
    (row,) = _rows(store)
    assert row["channel"] == "console"
    assert row["watches"] == '["Naryshkin", "El-Dabaa"]'


def test_the_two_seed_articles_months_apart_stay_two_stories(pipeline, store, seeds):
    (t1, x1), (t2, x2) = seeds
    pipeline.process(store, [_article(t1, x1, "https://a.example/1")], NOW)
    later = NOW + timedelta(days=120)
    pipeline.process(
        store, [_article(t2, x2, "https://b.example/2", "Sky", published=later)], later
    )
    assert len({r["story_id"] for r in _rows(store)}) == 2


def test_a_repeat_by_url_guid_or_content_is_not_new(pipeline, store, seeds):
    title, text = seeds[0]
    first = _article(title, text, "https://a.example/1", guid="https://a.example/?p=1")
    pipeline.process(store, [first], NOW)
    edited = replace(first, text=text + "\nتحديث: أضيفت فقرة.")  # same URL, edited in place
    same_guid = replace(
        first, url="https://a.example/amp/1", canonical_url="https://a.example/amp/1"
    )
    same_text = _article(title, text, "https://mirror.example/x", source="Mirror")
    counts = pipeline.process(store, [edited, same_guid, same_text], NOW)
    assert counts.seen == 3 and counts.queued == 0
    assert len(_rows(store)) == 1


def test_a_near_duplicate_from_another_outlet_joins_the_story_without_a_second_alert(
    pipeline, store, seeds
):
    title, text = seeds[0]
    pipeline.process(store, [_article(title, text, "https://a.example/1")], NOW)
    paragraphs = text.split("\n")
    rewrite = "\n".join(paragraphs[:-1]) + "\nوأضاف المصدر أن الزيارة تستمر يومين."
    other = _article(title, rewrite, "https://other.example/9", source="Other")
    counts = pipeline.process(store, [other], NOW + timedelta(minutes=30))
    assert (counts.joined, counts.queued) == (1, 0)
    (row,) = _rows(store)
    story = store.story(row["story_id"])
    assert [o.source for o in story.outlets] == ["Ahram", "Other"]


def test_the_story_index_is_rebuilt_from_the_store_after_a_restart(store, lemmatizer, seeds):
    title, text = seeds[0]
    Pipeline(lemmatizer, Watchlists(WATCHES, CONSOLE)).process(
        store, [_article(title, text, "https://a.example/1")], NOW
    )
    restarted = Pipeline(lemmatizer, Watchlists(WATCHES, CONSOLE))
    assert restarted.load_index(store, NOW) == 1
    copy = _article(title, text + "\nسطر إضافي.", "https://other.example/9", source="Other")
    assert restarted.process(store, [copy], NOW).joined == 1
    assert len(_rows(store)) == 1


@pytest.mark.parametrize("names_stored", [True, False], ids=["names stored", "older rows"])
def test_a_restart_rebuilds_the_same_centroids_with_or_without_stored_names(
    store, lemmatizer, seeds, names_stored
):
    """The names an item was clustered with are stored with it, so a start reads the texts
    by letters alone; an item recorded before that (names NULL) is read with the
    morphology again. Either way the rebuilt story weighs its names as the first run did."""
    first = Pipeline(lemmatizer, Watchlists(WATCHES, CONSOLE))
    for n, (title, text) in enumerate(seeds):
        first.process(store, [_article(title, text, f"https://a.example/{n}")], NOW)
    stored = store._rows("SELECT names FROM seen_items ORDER BY id")
    assert all(r["names"] for r in stored)
    assert "ناريشكين" in stored[0]["names"].split()
    if not names_stored:
        store.db.execute("UPDATE seen_items SET names = NULL")
    restarted = Pipeline(lemmatizer, Watchlists(WATCHES, CONSOLE))
    assert restarted.load_index(store, NOW) == len(first.clusterer) == 2
    before, after = first.clusterer._stories, restarted.clusterer._stories
    assert before.keys() == after.keys()
    for key in before:
        assert after[key].centroid == pytest.approx(before[key].centroid)


def test_chat_watches_alert_their_chat_and_config_watches_the_config_recipients(
    store, lemmatizer, seeds
):
    lists = Watchlists(
        WATCHES,
        (Recipient("telegram", "-100"),),
        {42: [Watch("Dabaa plant", "الضبعة")], 7: [Watch("Mars", "المريخ")]},
    )
    title, text = seeds[1]  # the one that names El-Dabaa
    Pipeline(lemmatizer, lists).process(store, [_article(title, text, "https://a.example/1")], NOW)
    rows = {(r["recipient"], r["watches"]) for r in _rows(store)}
    assert rows == {("-100", '["Naryshkin", "El-Dabaa"]'), ("42", '["Dabaa plant"]')}


def test_a_stored_chat_query_the_parser_now_refuses_is_skipped_not_fatal(
    store, lemmatizer, seeds, caplog
):
    """An older alertbot took `الضبعة and Dabaa` as a phrase; this one refuses lower-case
    operators. The chat's other watches, and everyone else's, still run."""
    lists = Watchlists(
        WATCHES,
        (Recipient("telegram", "-100"),),
        {42: [Watch("old", "الضبعة and Dabaa"), Watch("Dabaa plant", "الضبعة")]},
    )
    pipeline = Pipeline(lemmatizer, lists)
    assert "chat 42: watch 'old' skipped, its query no longer parses" in caplog.text
    title, text = seeds[1]  # the one that names El-Dabaa
    pipeline.process(store, [_article(title, text, "https://a.example/1")], NOW)
    rows = {(r["recipient"], r["watches"]) for r in _rows(store)}
    assert rows == {("-100", '["Naryshkin", "El-Dabaa"]'), ("42", '["Dabaa plant"]')}


def test_a_chat_that_is_also_an_alert_chat_gets_one_row_naming_all_its_watches(
    store, lemmatizer, seeds
):
    lists = Watchlists(
        WATCHES, (Recipient("telegram", "42"),), {42: [Watch("Dabaa plant", "الضبعة")]}
    )
    title, text = seeds[1]  # the one that names El-Dabaa
    Pipeline(lemmatizer, lists).process(store, [_article(title, text, "https://a.example/1")], NOW)
    (row,) = _rows(store)
    assert row["watches"] == '["Naryshkin", "El-Dabaa", "Dabaa plant"]'


def test_old_news_is_recorded_but_not_alerted(pipeline, store, seeds):
    title, text = seeds[0]
    old = _article(title, text, "https://a.example/1", published=NOW - timedelta(days=30))
    counts = pipeline.process(store, [old], NOW)
    assert (counts.matched, counts.too_old, counts.queued) == (1, 1, 0)
    assert store.is_seen_entry("https://a.example/1", None, "Ahram")


def test_an_article_matching_nothing_is_only_marked_seen(pipeline, store):
    counts = pipeline.process(
        store, [_article("عنوان", "نص عن الطقس.", "https://a.example/1")], NOW
    )
    assert (counts.matched, counts.new_stories, counts.queued) == (0, 0, 0)
    assert store.is_seen_entry("https://a.example/1", None, "Ahram")


def test_a_date_in_the_future_counts_as_now(pipeline, store, seeds):
    title, text = seeds[0]
    future = _article(title, text, "https://a.example/1", published=NOW + timedelta(days=400))
    assert pipeline.process(store, [future], NOW).queued == 1
