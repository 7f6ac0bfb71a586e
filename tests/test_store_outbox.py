"""The outbox lifecycle: due, sent, retried, failed; and durability of sent marks."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from alertbot.store import NewItem, Recipient, Store
from testsupport.storefixtures import NOW, article, read_in_another_process

pytestmark = pytest.mark.both_engines

DESK = Recipient("telegram", "-1001234567890")
MAIL = Recipient("email", "desk@example.org")


def queue(store: Store, url: str = "https://ahram.example/1", recipients=(DESK,)) -> list[int]:
    outcome = store.record_item(
        NewItem(article(url), url, None, None, ["Naryshkin"], "يستقبل ناريشكين", list(recipients)),
        NOW,
    )
    return list(outcome.outbox_ids)


def test_a_new_row_is_due_at_once(store):
    [row_id] = queue(store)
    [row] = store.due(NOW)
    assert row.id == row_id and row.state == "pending" and row.attempts == 0
    assert row.channel == "telegram" and row.recipient == DESK.address
    assert store.due(NOW - timedelta(seconds=1)) == []
    assert store.pending_count() == 1


def test_mark_sent_is_final_and_logged(store):
    [row_id] = queue(store)
    assert store.mark_sent(row_id, NOW, message_ref="tg:77")
    assert not store.mark_sent(row_id, NOW)  # a second mark changes nothing
    row = store.outbox_row(row_id)
    assert (row.state, row.attempts, row.finished, row.message_ref) == ("sent", 1, NOW, "tg:77")
    assert store.due(NOW + timedelta(days=1)) == []
    assert store.pending_count() == 0
    assert [e["event"] for e in store.delivery_log(row_id)] == ["sent"]


def test_retry_waits_for_next_attempt_then_failed_keeps_the_reason(store):
    [row_id] = queue(store)
    later = NOW + timedelta(minutes=2)
    assert store.mark_retry(row_id, "429 Too Many Requests", NOW, later)
    assert store.due(NOW + timedelta(minutes=1)) == []
    [row] = store.due(later)
    assert row.attempts == 1 and row.last_error == "429 Too Many Requests"

    assert store.mark_failed(row_id, "403 Forbidden: bot was kicked", later)
    row = store.outbox_row(row_id)
    assert row.state == "failed" and row.attempts == 2
    assert row.last_error == "403 Forbidden: bot was kicked"
    assert store.due(later + timedelta(days=1)) == []
    assert [r.id for r in store.failed_rows()] == [row_id]
    assert [e["event"] for e in store.delivery_log(row_id)] == ["retry", "failed"]
    assert not store.mark_retry(row_id, "late", later, later)  # failed stays failed


def test_due_is_oldest_first_and_limited(store):
    ids = queue(store, recipients=(DESK, MAIL))
    store.mark_retry(ids[0], "timeout", NOW, NOW + timedelta(seconds=30))
    assert [r.id for r in store.due(NOW + timedelta(minutes=1))] == [ids[1], ids[0]]
    assert len(store.due(NOW + timedelta(minutes=1), limit=1)) == 1


def test_a_sent_mark_is_visible_to_a_second_connection_and_process(tmp_path):
    path = tmp_path / "alertbot.db"
    store = Store.open(path)
    [row_id] = queue(store)
    store.mark_sent(row_id, NOW, "tg:1")

    other = sqlite3.connect(path)
    assert other.execute("SELECT state FROM outbox WHERE id = ?", (row_id,)).fetchone() == ("sent",)
    other.close()
    assert read_in_another_process(path, "SELECT state, message_ref FROM outbox") == (
        "('sent', 'tg:1')"
    )
    store.close()


def test_a_reopened_store_still_has_the_sent_mark(tmp_path):
    path = tmp_path / "alertbot.db"
    store = Store.open(path)
    [row_id] = queue(store)
    store.mark_sent(row_id, NOW)
    store.close()
    again = Store.open(path)
    assert again.outbox_row(row_id).state == "sent"
    assert again.pending_count() == 0
    again.close()


def test_backlog_counts_pending_rows_per_channel_with_the_oldest(store):
    """Pins `Store.backlog` (/metrics' outbox gauges): pending rows per channel and the
    oldest one's creation time; every channel listed, an empty one as 0 and None."""
    assert [(b.channel, b.pending, b.oldest) for b in store.backlog()] == [
        ("telegram", 0, None), ("email", 0, None), ("console", 0, None),
    ]  # fmt: skip
    to_desk, to_mail = queue(store, recipients=(DESK, MAIL))
    later = NOW + timedelta(minutes=5)
    store.record_item(
        NewItem(article("https://ahram.example/2"), "h2", None, None, ["Naryshkin"], "", [DESK]),
        later,
    )
    by_channel = {b.channel: (b.pending, b.oldest) for b in store.backlog()}
    assert by_channel == {"telegram": (2, NOW), "email": (1, NOW), "console": (0, None)}

    store.mark_sent(to_desk, later)
    store.mark_retry(to_mail, "timeout", later, later + timedelta(minutes=1))  # still pending
    by_channel = {b.channel: (b.pending, b.oldest) for b in store.backlog()}
    assert by_channel == {"telegram": (1, later), "email": (1, NOW), "console": (0, None)}
