"""Store.open tells apart what is wrong with a database it cannot use (issue 11): one it may
not write (fix the permissions), one another process has locked (wait), and one that is not
a database (only then move it aside: the advice that, followed for a healthy database that
was merely read-only, threw it away)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alertbot.store import Store, StoreError, schema
from testsupport.storefixtures import write_lock_in_another_process


def a_database(path: Path) -> Path:
    """A migrated database file at `path`, closed (no -wal or -shm left beside it)."""
    Store.open(path).close()
    assert not path.with_name(path.name + "-wal").exists()
    return path


def open_error(path: Path) -> str:
    with pytest.raises(StoreError) as info:
        Store.open(path)
    return str(info.value)


def test_a_read_only_file_cannot_be_written_and_says_so_at_open(tmp_path, read_only):
    """It opened, and the first write (syncing the config's watches) raised a raw
    sqlite3.OperationalError."""
    path = a_database(tmp_path / "alertbot.db")
    read_only(path)
    message = open_error(path)
    assert message.startswith(f"{path}: cannot write the database (")
    # (for a user, SQLite makes its -wal and -shm as read-only as the file, and says so)
    assert message.split("): ", 1)[1].startswith("alertbot.db")
    assert f"read-only for this user (uid {os.geteuid()})" in message
    assert "move" not in message


def test_a_read_only_file_in_a_read_only_folder_is_not_called_unusable(tmp_path, read_only):
    """It was "not a usable alertbot database ...; move it aside to start afresh"."""
    folder = tmp_path / "state"
    folder.mkdir()
    path = a_database(folder / "alertbot.db")
    read_only(path, folder)
    message = open_error(path)
    assert message.startswith(f"{path}: cannot write the database (")
    assert f"its folder {folder} is read-only for this user" in message
    assert "alertbot.db-wal" in message  # why the folder matters
    assert "move" not in message and "not a usable" not in message


def test_a_database_locked_by_another_process_says_so(tmp_path, monkeypatch):
    """It was "not a usable alertbot database (database is locked); move it aside"."""
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 200)
    path = a_database(tmp_path / "alertbot.db")
    with write_lock_in_another_process(path):
        message = open_error(path)
    assert message == (
        f"{path}: locked by another process (still busy after 0.2 s): it holds a write"
        " transaction on the database; try again once it has finished"
    )
    Store.open(path).close()  # and it opens once the other process is done


@pytest.mark.parametrize(
    "content", [b"this is not sqlite" * 100, b"SQLite format 3\x00" + b"\xff" * 4000]
)
def test_only_a_file_that_is_not_a_database_is_to_be_moved_aside(tmp_path, content):
    path = tmp_path / "alertbot.db"
    path.write_bytes(content)
    message = open_error(path)
    assert message.startswith(f"{path}: not a usable alertbot database (")
    assert message.endswith("; move it aside to start afresh")
