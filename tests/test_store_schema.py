"""The store's schema: migrations, refusing a newer database, pragmas, durability."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlite_utils import Database

from alertbot.sources.health import SourceHealth
from alertbot.sources.model import Skipped, Validators
from alertbot.store import SCHEMA_VERSION, RecapDelivery, Store, StoreError
from alertbot.store.schema import known_migrations, migrations
from alertbot.stories import StoryId
from alertbot.watch.match import Watch
from testsupport.storefixtures import read_in_another_process

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_migrates_an_empty_file_and_reopens_idempotently(tmp_path):
    path = tmp_path / "state" / "alertbot.db"
    store = Store.open(path)
    assert store.schema_version() == SCHEMA_VERSION
    store.upsert_chat(-100, "group", "Desk", NOW)
    store.close()

    again = Store.open(path)
    assert again.schema_version() == SCHEMA_VERSION
    assert [c.chat_id for c in again.chats()] == [-100]
    names = [r[0] for r in again.db.execute("SELECT name FROM _sqlite_migrations")]
    assert names == known_migrations()
    again.close()


def test_a_version_1_database_is_upgraded_keeping_its_rows(tmp_path):
    """Regression guard for 0002: columns are added with defaults, nothing is rebuilt."""
    path = tmp_path / "alertbot.db"
    db = Database(str(path))
    migrations.apply(db, stop_before="0002_telegram")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.execute(
        "INSERT INTO chats (chat_id, kind, title, first_seen, last_seen)"
        " VALUES (-100, 'group', 'Desk', '2025-03-01', '2025-03-01')"
    )
    db.conn.commit()
    db.close()
    store = Store.open(path)
    assert store.schema_version() == SCHEMA_VERSION
    row = store._rows("SELECT chat_id, active, allowed, paused FROM chats")
    assert row == [{"chat_id": -100, "active": 1, "allowed": 0, "paused": 0}]
    store.close()


def test_a_version_3_database_is_upgraded_and_its_bare_dates_are_marked_date_only(tmp_path):
    """Regression guard for 0004: schema 3 stored a date without a time as midnight UTC;
    those rows become date only, a stated time stays a time, a missing one stays missing."""
    path = tmp_path / "alertbot.db"
    db = Database(str(path))
    migrations.apply(db, stop_before="0004_published_date_only")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    at = "2025-03-12T14:05:00.000000+00:00"
    for story_id, published in enumerate(
        ["2025-03-12T00:00:00.000000+00:00", "2025-03-12T09:30:00.000000+00:00", None], 1
    ):
        db.execute(
            "INSERT INTO stories (id, title, url, first_source, first_seen, published, updated)"
            " VALUES (?, 't', 'https://a.example/', 'A', ?, ?, ?)",
            (story_id, at, published, at),
        )
        db.execute(
            "INSERT INTO seen_items (canonical_url, url, content_hash, source, story_id, title,"
            " published, first_seen) VALUES (?, ?, ?, 'A', ?, 't', ?, ?)",
            (f"https://a.example/{story_id}",) * 2 + (f"h{story_id}", story_id, published, at),
        )
    db.conn.commit()
    db.close()
    store = Store.open(path)
    assert store.schema_version() == SCHEMA_VERSION == 9
    assert [store.story(StoryId(n)).published_date_only for n in (1, 2, 3)] == [
        True,
        False,
        False,
    ]
    ids = [r["id"] for r in store._rows("SELECT id FROM seen_items ORDER BY id")]
    assert [store.item_outlet(i).date_only for i in ids] == [True, False, False]
    assert store.item_outlet(ids[2]).seen_at == datetime(2025, 3, 12, 14, 5, tzinfo=UTC)
    store.close()


def test_a_version_4_database_is_upgraded_in_place_keeping_source_state(tmp_path):
    """0005 adds the last poll's counts and the admins' notice to `sources`, with defaults."""
    path = tmp_path / "alertbot.db"
    db = Database(str(path))
    migrations.apply(db, stop_before="0005_source_counts")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    db.execute(
        "INSERT INTO sources (name, url, etag, last_attempt, last_error_kind, last_error,"
        " consecutive_failures) VALUES ('Outlet', 'https://example.org/rss', '\"v1\"',"
        " '2025-03-01T12:00:00.000000+00:00', 'timeout', 'slow', 4)"
    )
    db.conn.commit()
    db.close()
    store = Store.open(path)
    assert store.schema_version() == SCHEMA_VERSION
    health, validators = store.source_state("Outlet")
    assert (health.consecutive_failures, health.last_error, validators.etag) == (4, "slow", '"v1"')
    assert (health.skipped, health.waiting, health.admins_told) == (Skipped(), 0, False)
    told = replace(health, skipped=Skipped(no_link=3, cut=1), waiting=9500, admins_told=True)
    store.save_source_state("Outlet", "https://example.org/rss", told, validators)
    store.close()
    assert Store.open(path).source_state("Outlet") == (told, validators)


def test_a_version_7_database_keeps_its_outbox_and_watches_and_gains_topics(tmp_path):
    """0008 rebuilds the outbox (its UNIQUE gains the topic): every row and its state
    survive, a chat's alert in a topic is a row of its own, watches gain sources and topic."""
    path = tmp_path / "alertbot.db"
    db = Database(str(path))
    migrations.apply(db, stop_before="0008_controls")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 7
    at = "2025-03-12T14:05:00.000000+00:00"
    db.execute(
        "INSERT INTO stories (id, title, url, first_source, first_seen, updated)"
        " VALUES (1, 't', 'https://a.example/', 'A', ?, ?)",
        (at, at),
    )
    db.execute(
        "INSERT INTO outbox (id, story_id, channel, recipient, watches, state, attempts,"
        " next_attempt, created, finished, message_ref, muted, outlets_shown)"
        " VALUES (5, 1, 'telegram', '-100', '[\"Gaza\"]', 'sent', 1, ?, ?, ?, '-100:9', 1, 2)",
        (at, at, at),
    )
    db.execute(
        "INSERT INTO watches (chat_id, name, name_key, query, created)"
        " VALUES (-100, 'Gaza', 'gaza', 'غزة', ?)",
        (at,),
    )
    db.conn.commit()
    db.close()
    store = Store.open(path)
    assert store.schema_version() == SCHEMA_VERSION == 9
    row = store.outbox_row(5)
    assert row is not None
    assert (row.state, row.watches, row.message_ref, row.muted, row.outlets_shown, row.topic) == (
        "sent", ("Gaza",), "-100:9", True, 2, None,
    )  # fmt: skip
    assert store.sent_message_ref(StoryId(1), "telegram", "-100") == "-100:9"
    assert store.sent_message_ref(StoryId(1), "telegram", "-100", 7) is None
    assert store.chat_watches(-100) == [Watch("Gaza", "غزة")]
    # The same story to the same chat in a topic is another row; twice in one place is not.
    queued = [
        store.db.execute(
            "INSERT INTO outbox (story_id, channel, recipient, topic, next_attempt, created)"
            " VALUES (1, 'telegram', '-100', ?, ?, ?)"
            " ON CONFLICT (story_id, recipient, channel, topic) DO NOTHING",
            (topic, at, at),
        ).rowcount
        for topic in (7, 7, 0)
    ]
    assert queued == [1, 0, 0]
    store.close()


def test_a_newer_database_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "alertbot.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    with pytest.raises(StoreError) as info:
        Store.open(path)
    message = str(info.value)
    assert str(path) in message
    assert f"schema {SCHEMA_VERSION + 1} > {SCHEMA_VERSION}" in message
    assert "upgrade alertbot" in message


def test_an_unknown_migration_is_refused(tmp_path):
    path = tmp_path / "alertbot.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('alertbot', '0002_from_the_future', 'x')"
        )
    conn.close()
    with pytest.raises(StoreError, match="newer than this alertbot"):
        Store.open(path)


def test_a_file_that_is_not_a_database_names_its_path(tmp_path):
    path = tmp_path / "alertbot.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(path) in str(info.value)


def test_pragmas_are_wal_full_and_a_busy_timeout(tmp_path):
    store = Store.open(tmp_path / "alertbot.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()


def test_source_state_round_trips(tmp_path):
    store = Store.open(tmp_path / "alertbot.db")
    assert store.source_state("Outlet") == (SourceHealth(), Validators())
    health = SourceHealth(
        last_success=NOW,
        last_attempt=NOW,
        consecutive_failures=0,
        next_poll=NOW.replace(hour=13),
    )
    validators = Validators(etag='"abc"', last_modified="Sat, 01 Mar 2025 11:00:00 GMT")
    store.save_source_state("Outlet", "https://example.org/rss", health, validators)
    assert store.source_state("Outlet") == (health, validators)


def test_watches_per_chat_and_from_config(tmp_path):
    store = Store.open(tmp_path / "alertbot.db")
    assert store.add_watch(42, "Dabaa", "الضبعة", NOW) is True
    assert store.add_watch(42, "dabaa", "الضبعة OR Dabaa", NOW) is False
    assert store.chat_watches(42) == [Watch("dabaa", "الضبعة OR Dabaa")]
    store.sync_config_watches([Watch("Naryshkin", "ناريشكين"), Watch("Gaza", "غزة")], NOW)
    store.sync_config_watches([Watch("Naryshkin", "ناريشكين OR Naryshkin")], NOW)
    assert store.chat_watches(None) == [Watch("Naryshkin", "ناريشكين OR Naryshkin")]
    assert store.all_chat_watches() == {42: [Watch("dabaa", "الضبعة OR Dabaa")]}
    assert store.remove_watch(42, "DABAA") is True
    assert store.remove_watch(42, "DABAA") is False


def test_recaps(tmp_path):
    store = Store.open(tmp_path / "alertbot.db")
    assert not store.recap_sent("2025-03-01")
    deliveries = [RecapDelivery("desk@example.org"), RecapDelivery("x@example.org", "550 no")]
    store.record_recap("2025-03-01", NOW, deliveries)
    assert store.recap_sent("2025-03-01")
    assert store.last_recap() == ("2025-03-01", NOW)
    assert store.recap_deliveries("2025-03-01") == deliveries
    assert [d.sent for d in deliveries] == [True, False]


def test_recap_deliveries_written_by_schema_3_as_strings_are_read():
    assert RecapDelivery.from_stored("desk@example.org") == RecapDelivery("desk@example.org")
    assert RecapDelivery.from_stored("failed a@b.org: 550 unknown") == RecapDelivery(
        "a@b.org", "550 unknown"
    )
    assert RecapDelivery.from_stored("failed: 554 refused") == RecapDelivery("", "554 refused")


def test_naive_times_are_refused(tmp_path):
    store = Store.open(tmp_path / "alertbot.db")
    with pytest.raises(ValueError, match="naive"):
        store.upsert_chat(1, "private", None, datetime(2025, 3, 1))


def test_another_process_sees_a_committed_write(tmp_path):
    path = tmp_path / "alertbot.db"
    store = Store.open(path)
    store.record_recap("2025-03-01", NOW, [])
    # The store stays open: the other process reads through the WAL, not a checkpoint.
    assert read_in_another_process(path, "SELECT date_key FROM recaps") == "('2025-03-01',)"
    store.close()
