"""Seen items, stories, and `record_item`'s single transaction."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from functools import partial

import psycopg
import pytest

from alertbot.sources.model import Article
from alertbot.store import NewItem, Recipient, Store
from alertbot.store import items as items_module
from testsupport import storefixtures
from testsupport.storefixtures import NOW

pytestmark = pytest.mark.both_engines

# Published an hour before it is recorded.
article = partial(storefixtures.article, published=NOW - timedelta(hours=1))
DESK = Recipient("telegram", "-1001234567890")
MAIL = Recipient("email", "desk@example.org")


def counts(store: Store) -> dict[str, int]:
    return {
        t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("seen_items", "stories", "story_sources", "outbox")
    }


def record(store: Store, a: Article, content_hash: str, story_id=None, recipients=(DESK,)):
    return store.record_item(
        NewItem(
            a,
            content_hash,
            b"\x01" * 16,
            story_id,
            ["Naryshkin"],
            "يستقبل ناريشكين",
            list(recipients),
        ),
        NOW,
    )


def test_seen_by_url_guid_or_content_hash_from_any_source(store):
    record(store, article(guid="https://ahram.example/?p=1"), "h1")
    assert store.is_seen("https://ahram.example/1", None, "other")
    assert store.is_seen("https://elsewhere.example/x", "https://ahram.example/?p=1", "other")
    assert store.is_seen("https://elsewhere.example/x", None, "h1")
    assert not store.is_seen("https://elsewhere.example/x", "other-guid", "h2")


def test_regression_a_bare_numeric_guid_does_not_hide_another_outlets_item(store):
    # Two outlets' feeds can both number their items "123": across sources that guid
    # would mark the second outlet's news as seen and drop it.
    record(store, article(guid="123"), "h1")
    assert store.is_seen("https://ahram.example/other", "123", "h2", source="Ahram")
    assert not store.is_seen("https://masrawy.example/9", "123", "h3", source="Masrawy")
    outcome = record(store, article("https://masrawy.example/9", "Masrawy", "123", "نص آخر"), "h3")
    assert not outcome.already_seen


def test_an_article_updated_in_place_is_seen_and_does_not_alert_again(store):
    first = record(store, article(), "h1")
    assert first.outbox_ids
    edited = article(text="السيسي يستقبل ناريشكين ويبحث وقف إطلاق النار")
    assert store.is_seen(edited.canonical_url, edited.guid, "h1-edited")
    again = record(store, edited, "h1-edited")
    assert again.already_seen
    assert counts(store)["outbox"] == 1


def test_a_new_item_creates_a_story_and_one_row_per_recipient(store):
    outcome = record(store, article(), "h1", recipients=(DESK, MAIL))
    assert outcome.new_story and not outcome.already_seen
    assert len(outcome.outbox_ids) == 2
    story = store.story(outcome.story_id)
    assert story.title == "السيسي يستقبل ناريشكين"
    assert story.first_source == "Ahram"
    assert story.watches == ("Naryshkin",)
    assert story.snippet == "يستقبل ناريشكين"
    assert [o.source for o in story.outlets] == ["Ahram"]


def test_a_second_outlet_joins_the_story_without_a_second_alert(store):
    first = record(store, article(), "h1")
    second = store.record_item(
        NewItem(
            article("https://masrawy.example/9", source="Masrawy"),
            "h2",
            b"\x02" * 16,
            first.story_id,
            ["Naryshkin", "Gaza ceasefire"],
            "وقف إطلاق النار",
            [DESK, MAIL],
        ),
        NOW + timedelta(minutes=5),
    )
    assert second.story_id == first.story_id and not second.new_story
    # DESK already had its alert; only MAIL, new to this story, gets a row.
    rows = store.db.execute("SELECT channel FROM outbox ORDER BY id").fetchall()
    assert rows == [("telegram",), ("email",)]
    assert len(second.outbox_ids) == 1
    story = store.story(first.story_id)
    assert [o.source for o in story.outlets] == ["Ahram", "Masrawy"]
    assert story.watches == ("Naryshkin", "Gaza ceasefire")
    assert story.updated == NOW + timedelta(minutes=5)


def test_one_alert_names_every_watch_matched(store):
    outcome = store.record_item(
        NewItem(article(), "h1", None, None, ["Naryshkin", "Dabaa"], "s", [DESK]), NOW
    )
    row = store.outbox_row(outcome.outbox_ids[0])
    assert row.watches == ("Naryshkin", "Dabaa")
    assert counts(store)["outbox"] == 1


def test_a_recipient_gets_only_the_watches_it_follows(store):
    chat = Recipient("telegram", "42", watches=("Dabaa",))
    outcome = store.record_item(
        NewItem(article(), "h1", None, None, ["Naryshkin", "Dabaa"], "s", [chat]), NOW
    )
    assert store.outbox_row(outcome.outbox_ids[0]).watches == ("Dabaa",)


def test_an_item_with_no_match_is_only_marked_seen(store):
    outcome = store.record_item(NewItem(article(), "h1", b"\x00", None, [], "", [DESK]), NOW)
    assert outcome.story_id is None and not outcome.outbox_ids
    assert counts(store) == {"seen_items": 1, "stories": 0, "story_sources": 0, "outbox": 0}


def test_record_item_writes_nothing_when_an_outbox_row_fails(store):
    bad = Recipient("carrier-pigeon", "coop")  # violates the channel CHECK constraint
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        record(store, article(), "h1", recipients=(DESK, bad))
    assert counts(store) == {"seen_items": 0, "stories": 0, "story_sources": 0, "outbox": 0}
    assert not store.is_seen("https://ahram.example/1", None, "h1")
    # The item is processed again after the failure, as it would be after a crash.
    assert record(store, article(), "h1").outbox_ids


def test_record_item_writes_nothing_when_interrupted_mid_transaction(store, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(items_module.ItemsMixin, "_queue", crash)
    with pytest.raises(RuntimeError):
        record(store, article(), "h1")
    assert counts(store) == {"seen_items": 0, "stories": 0, "story_sources": 0, "outbox": 0}


def test_a_crash_leaves_nothing_on_disk_for_another_connection(tmp_path, monkeypatch):
    path = tmp_path / "alertbot.db"
    store = Store.open(path)
    monkeypatch.setattr(items_module.ItemsMixin, "_queue", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        record(store, article(), "h1")
    other = sqlite3.connect(path)
    assert other.execute("SELECT count(*) FROM seen_items").fetchone()[0] == 0
    other.close()
    store.close()


def test_recent_story_fingerprints_rebuild_the_index(store):
    first = record(store, article(), "h1")
    store.record_item(NewItem(article("https://x.example/2"), "h2", None, None, [], "", []), NOW)
    found = store.recent_story_fingerprints(NOW - timedelta(days=1))
    assert found == [(first.story_id, b"\x01" * 16, NOW - timedelta(hours=1))]
    assert store.recent_story_fingerprints(NOW + timedelta(seconds=1)) == []


def test_a_pruned_story_id_starts_a_new_story(store):
    outcome = record(store, article(), "h1", story_id=999)
    assert outcome.new_story and outcome.story_id != 999
