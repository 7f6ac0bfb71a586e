"""`alertbot status` and `alertbot recap --print` only read: a database this process may not
write is still shown, as long as it is up to date (Store.open_to_read). Regression of issue
11's write probe in Store.open, which made both refuse it with "cannot write the database".
What must be written first still goes through Store.open: a missing database, one at an
older schema, one that is newer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from alertbot.cli import cli
from alertbot.store import SCHEMA_VERSION, Store, StoreError
from alertbot.store.schema import migrations
from testsupport.storefixtures import NOW


def write_config(tmp_path: Path, database: Path) -> Path:
    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'database = "{database}"\n'
        '[[source]]\nname = "Loop"\nurl = "http://127.0.0.1:9/rss"\n'
        '[[watch]]\nname = "Naryshkin"\nquery = "ناريشكين"\n',
        encoding="utf-8",
    )
    return path


def a_database(path: Path) -> Path:
    """A migrated database at `path` with a chat in it, closed."""
    store = Store.open(path)
    store.upsert_chat(-100, "group", "Desk", NOW)
    store.close()
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_status_shows_a_read_only_database(tmp_path, read_only):
    database = a_database(tmp_path / "alertbot.db")
    config = write_config(tmp_path, database)
    read_only(database)
    with pytest.raises(StoreError, match="cannot write the database"):
        Store.open(database)  # what `status` opened, and refused

    result = invoke("status", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert f"database: {database} (schema {SCHEMA_VERSION})" in result.output
    assert "Loop [feed] http://127.0.0.1:9/rss" in result.output
    assert "-100 group Desk" in result.output
    assert "cannot write" not in result.output


def test_recap_print_reads_a_read_only_database(tmp_path, read_only):
    database = a_database(tmp_path / "alertbot.db")
    config = write_config(tmp_path, database)
    read_only(database)

    result = invoke("recap", "--config", str(config), "--print", "--date", "2025-03-01")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Nothing matched your watches between 2025-03-01 00:00")


def test_status_still_creates_a_missing_database(tmp_path):
    database = tmp_path / "state" / "alertbot.db"
    result = invoke("status", "--config", str(write_config(tmp_path, database)))
    assert result.exit_code == 0, result.output
    assert f"(schema {SCHEMA_VERSION})" in result.output
    assert database.is_file()


def test_status_still_migrates_an_older_database(tmp_path):
    """Its reads need the columns the pending migrations add: migrated, as before."""
    database = tmp_path / "alertbot.db"
    db = Database(str(database))
    migrations.apply(db, stop_before="0005_source_counts")
    db.close()

    result = invoke("status", "--config", str(write_config(tmp_path, database)))
    assert result.exit_code == 0, result.output
    assert f"(schema {SCHEMA_VERSION})" in result.output
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_an_older_read_only_database_is_refused_as_cannot_write(tmp_path, read_only):
    """It must be migrated before it can be read, and that needs writing: Store.open's
    message says so, rather than a raw "no such column" from the reader."""
    database = tmp_path / "alertbot.db"
    db = Database(str(database))
    migrations.apply(db, stop_before="0005_source_counts")
    db.close()
    config = write_config(tmp_path, database)
    read_only(database)

    result = invoke("status", "--config", str(config))
    assert result.exit_code == 2
    assert result.output.startswith(f"alertbot: {database}: cannot write the database (")


def test_status_still_refuses_a_newer_database(tmp_path):
    database = a_database(tmp_path / "alertbot.db")
    conn = sqlite3.connect(database)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    result = invoke("status", "--config", str(write_config(tmp_path, database)))
    assert result.exit_code == 2
    assert f"schema {SCHEMA_VERSION + 1} > {SCHEMA_VERSION}): upgrade alertbot" in result.output


def test_status_still_refuses_a_file_that_is_not_a_database(tmp_path):
    database = tmp_path / "alertbot.db"
    database.write_bytes(b"this is not sqlite" * 100)

    result = invoke("status", "--config", str(write_config(tmp_path, database)))
    assert result.exit_code == 2
    assert "not a usable alertbot database" in result.output


def test_status_still_refuses_a_database_with_an_unknown_migration(tmp_path):
    """At this schema's version, but written by another alertbot: Store.open refuses it."""
    database = a_database(tmp_path / "alertbot.db")
    conn = sqlite3.connect(database)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('alertbot', '0006_from_the_future', 'x')"
        )
    conn.close()

    result = invoke("status", "--config", str(write_config(tmp_path, database)))
    assert result.exit_code == 2
    assert "newer than this alertbot" in result.output
