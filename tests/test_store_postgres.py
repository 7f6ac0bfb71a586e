"""The store on PostgreSQL: the same migrations as on SQLite, several workers migrating
at once, a newer database refused, and a server that cannot be reached said so."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import psycopg
import pytest

from alertbot.store import SCHEMA_VERSION, NewItem, Recipient, Store, StoreError, schema
from alertbot.store import postgres as pg_schema
from testsupport.storefixtures import NOW, article

THEN = "2025-02-01T12:00:00.000000+00:00"


@pytest.fixture
def url(postgres_server) -> str:
    return postgres_server.fresh_database()


def test_the_same_migrations_as_on_sqlite(url, tmp_path):
    store = Store.open(url)
    try:
        assert store.engine == "postgresql"
        assert store.schema_version() == SCHEMA_VERSION
        assert store._is_current()
    finally:
        store.close()
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM alertbot_migrations ORDER BY name")]
    assert names == schema.known_migrations()
    # The same tables with the same columns as SQLite's (plus the outlets' insertion order).
    lite = Store.open(tmp_path / "a.db")
    tables = [r[0] for r in lite.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'"
        " AND name NOT LIKE 'sqlite%'")]  # fmt: skip
    with psycopg.connect(url) as conn:
        for table in tables:
            lite_columns = [r[1] for r in lite.db.execute(f"PRAGMA table_info({table})")]
            pg_columns = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
                " ORDER BY ordinal_position", (table,))]  # fmt: skip
            assert [c for c in pg_columns if c != "rowid"] == lite_columns, table
    lite.close()


def test_workers_starting_together_migrate_once(url):
    opened: list[Store] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(Store.open(url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(opened) == 3
    assert {s.schema_version() for s in opened} == {SCHEMA_VERSION}
    for s in opened:
        s.close()


def test_a_database_written_by_a_newer_alertbot_is_refused(url):
    Store.open(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO alertbot_migrations VALUES ('0099_future', 'x')")
    with pytest.raises(StoreError) as info:
        Store.open(url)
    assert "newer than this alertbot" in str(info.value) and "0099_future" in str(info.value)


def test_an_older_database_is_migrated_and_the_rebuilt_outbox_counts_on(url):
    """0008 rebuilds the outbox with its old ids: the next alert gets a new id."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        conn.execute(
            'CREATE TABLE alertbot_migrations (name TEXT COLLATE "C" PRIMARY KEY,'
            " applied_at TEXT NOT NULL)"
        )
        for name in schema.known_migrations()[:7]:
            for statement in pg_schema.postgres_statements(name):
                conn.execute(statement)
            conn.execute("INSERT INTO alertbot_migrations VALUES (%s, 'then')", (name,))
        conn.execute(
            "INSERT INTO stories (id, title, url, first_source, first_seen, updated)"
            " VALUES (7, 't', 'https://x.example/7', 'Ahram', 'then', 'then')"
        )
        conn.execute(
            "INSERT INTO outbox (id, story_id, channel, recipient, next_attempt, created)"
            " VALUES (5, 7, 'telegram', '42', %s, %s)",
            (THEN, THEN),
        )
    store = Store.open(url)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        outcome = store.record_item(
            NewItem(article(), "h1", None, None, ["Naryshkin"], "", [Recipient("telegram", "42")]),
            NOW,
        )
        assert outcome.outbox_ids and outcome.outbox_ids[0] > 5
        assert store.outbox_row(5) is not None
    finally:
        store.close()


def test_times_and_names_compare_byte_by_byte_whatever_the_locale(url):
    store = Store.open(url)
    try:
        for name in ("b", "B", "a", "_z"):
            store.save_source_state(name, "https://x.example/", *store.source_state(name))
        assert store.source_names() == sorted(["b", "B", "a", "_z"])  # Python's (byte) order
    finally:
        store.close()


def test_a_server_that_cannot_be_reached_is_a_store_error_without_the_password():
    with pytest.raises(StoreError) as info:
        Store.open("postgresql://alertbot:s3cret@127.0.0.1:1/alerts?connect_timeout=2")
    message = str(info.value)
    assert "cannot connect" in message and "127.0.0.1:1" in message
    assert "s3cret" not in message


def test_a_chat_id_beyond_32_bits_is_kept(url):
    store = Store.open(url)
    try:
        chat = -1001234567890
        store.upsert_chat(chat, "supergroup", "Desk", datetime(2025, 1, 1, tzinfo=UTC))
        store.add_watch(chat, "Naryshkin", "ناريشكين", NOW)
        assert store.chat(chat) is not None
        assert [w.name for w in store.all_chat_watches()[chat]] == ["Naryshkin"]
    finally:
        store.close()


def test_a_lost_connection_fails_one_call_and_the_next_connects_again(url):
    """The server restarted or dropped the worker's connection: the call that finds out
    fails (and is retried by its caller: a poll, a dispatch); the store goes on."""
    store = Store.open(url)
    try:
        backend = store._value("SELECT pg_backend_pid()")
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        with pytest.raises(psycopg.OperationalError):
            store.pending_count()
        assert store.pending_count() == 0
        assert store._value("SELECT pg_backend_pid()") != backend
    finally:
        store.close()
