"""Retention: old seen items and finished alerts go, whatever a pending row needs stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alertbot.store import NewItem, PruneCounts, Recipient, Store
from testsupport import storefixtures

pytestmark = pytest.mark.both_engines

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def article(url: str):
    return storefixtures.article(url, text="text", fetched=T0)


RETENTION = timedelta(days=30)
DESK = Recipient("telegram", "-100")


def record(store: Store, url: str, now: datetime, watches=("W",), story_id=None):
    return store.record_item(
        NewItem(article(url), url, b"fp", story_id, list(watches), "s", [DESK]), now
    )


def test_old_delivered_items_and_their_story_are_pruned(store):
    outcome = record(store, "https://a.example/1", T0)
    store.mark_sent(outcome.outbox_ids[0], T0)
    store.record_item(NewItem(article("https://a.example/2"), "h2", None, None, [], "", []), T0)

    counts = store.prune(T0 + RETENTION + timedelta(seconds=1), RETENTION)
    assert counts == PruneCounts(seen_items=2, outbox=1, stories=1, delivery_log=1)
    assert not store.is_seen("https://a.example/1", None, "https://a.example/1")
    assert store.story(outcome.story_id) is None


def test_nothing_younger_than_retention_is_pruned(store):
    outcome = record(store, "https://a.example/1", T0)
    store.mark_sent(outcome.outbox_ids[0], T0 + timedelta(days=20))
    counts = store.prune(T0 + RETENTION - timedelta(seconds=1), RETENTION)
    assert counts == PruneCounts()
    assert store.is_seen("https://a.example/1", None, "x")


def test_a_pending_row_keeps_its_item_and_story(store):
    outcome = record(store, "https://a.example/1", T0)
    [row_id] = outcome.outbox_ids
    store.mark_retry(row_id, "telegram down", T0, T0 + timedelta(days=40))

    counts = store.prune(T0 + timedelta(days=60), RETENTION)
    assert counts.seen_items == 0 and counts.stories == 0 and counts.outbox == 0
    assert store.is_seen("https://a.example/1", None, "x")
    assert store.story(outcome.story_id) is not None
    [due] = store.due(T0 + timedelta(days=60))
    assert due.id == row_id


def test_a_pending_row_keeps_the_whole_story(store):
    first = record(store, "https://a.example/1", T0)
    store.mark_sent(first.outbox_ids[0], T0)
    # A later outlet brings a new recipient, still pending after the first item aged out.
    joined = store.record_item(
        NewItem(
            article("https://b.example/1"),
            "hb",
            None,
            first.story_id,
            ["W"],
            "s",
            [Recipient("email", "desk@example.org")],
        ),
        T0 + timedelta(days=1),
    )
    assert joined.outbox_ids
    store.prune(T0 + timedelta(days=32), RETENTION)
    story = store.story(first.story_id)
    assert story is not None and len(story.outlets) == 2
    assert store.is_seen("https://a.example/1", None, "x")


def test_a_failed_row_is_kept_for_retention_then_pruned(store):
    outcome = record(store, "https://a.example/1", T0)
    store.mark_failed(outcome.outbox_ids[0], "chat not found", T0 + timedelta(days=2))
    assert store.prune(T0 + timedelta(days=31), RETENTION).outbox == 0
    assert store.failed_rows()
    assert store.prune(T0 + timedelta(days=33), RETENTION).outbox == 1
