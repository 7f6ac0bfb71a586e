"""Two workers on one PostgreSQL store receiving the same story from two outlets at the
same moment: one story, one alert (recording is serialised, and each worker's story
clustering catches up with what the other filed before it files anything)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from alertbot.pipeline import Pipeline, Watchlists
from alertbot.store import Recipient, Store
from alertbot.watch.match import Watch
from testsupport.storefixtures import NOW, article

WATCHES = (Watch("Naryshkin", "ناريشكين OR Naryshkin"),)
DESK = (Recipient("telegram", "-1001234567890"),)


@pytest.fixture
def url(postgres_server) -> str:
    return postgres_server.fresh_database()


def _two_outlets(seed_articles) -> list:
    title, text = seed_articles[sorted(seed_articles)[0]]
    paragraphs = text.split("\n")
    rewrite = "\n".join(paragraphs[:-1]) + "\nوأضاف المصدر أن الزيارة تستمر يومين."
    published = NOW - timedelta(hours=1)
    return [
        article("https://ahram.example/1", "Ahram", text=text, title=title, published=published),
        article("https://sky.example/9", "Sky", text=rewrite, title=title, published=published),
    ]


def _record_at_once(url: str, lemmatizer, articles) -> list[Store]:
    stores = [Store.open(url) for _ in articles]
    pipelines = [Pipeline(lemmatizer, Watchlists(WATCHES, DESK)) for _ in articles]
    for pipeline, store in zip(pipelines, stores, strict=True):
        pipeline.load_index(store, NOW)
    prepared = [p.prepare([a], NOW) for p, a in zip(pipelines, articles, strict=True)]
    start = threading.Barrier(len(articles))
    errors: list[BaseException] = []

    def record(i: int) -> None:
        start.wait()
        try:
            pipelines[i].record(stores[i], prepared[i], NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(i,)) for i in range(len(articles))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return stores


def test_the_same_story_from_two_workers_at_once_is_one_story_and_one_alert(
    url, lemmatizer, seed_articles
):
    stores = _record_at_once(url, lemmatizer, _two_outlets(seed_articles))
    try:
        rows = stores[0]._rows("SELECT story_id, recipient FROM outbox")
        assert len(rows) == 1
        story = stores[0].story(rows[0]["story_id"])
        assert story is not None
        assert sorted(o.source for o in story.outlets) == ["Ahram", "Sky"]
        assert stores[0]._value("SELECT count(*) FROM stories") == 1
    finally:
        for s in stores:
            s.close()


def test_without_catching_up_each_worker_would_start_its_own_story(
    url, lemmatizer, seed_articles, monkeypatch
):
    """What the catch-up prevents: a worker whose clustering misses the other's story."""
    monkeypatch.setattr(Pipeline, "catch_up", lambda self, store, now: 0)
    stores = _record_at_once(url, lemmatizer, _two_outlets(seed_articles))
    try:
        assert stores[0]._value("SELECT count(*) FROM stories") == 2
    finally:
        for s in stores:
            s.close()
