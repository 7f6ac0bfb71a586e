"""The file of parsed morphology tables: read back only when fresh and whole."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from alertbot.text import tables_file
from alertbot.text.provenance import DatabaseFile

CODE = "morphology_db v1"
TABLES = {"stem_hash": {"مصر": [("N", {"lex": "مِصْر", "pos": "noun_prop"})]}, "max": 4}


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "morphology.db"
    path.write_bytes(b"calima " * 1000)
    return path


def test_tables_come_back_as_written(tmp_path: Path, database: Path) -> None:
    path = tmp_path / "tables.bin"
    assert not tables_file.is_fresh(path, DatabaseFile(database), CODE)
    tables_file.write(path, DatabaseFile(database), CODE, TABLES)
    assert tables_file.is_fresh(path, DatabaseFile(database), CODE)
    assert tables_file.read(path, DatabaseFile(database), CODE) == TABLES


def test_other_code_or_another_database_makes_them_stale(tmp_path: Path, database: Path) -> None:
    path = tmp_path / "tables.bin"
    tables_file.write(path, DatabaseFile(database), CODE, TABLES)
    assert tables_file.read(path, DatabaseFile(database), "morphology_db v2") is None
    database.write_bytes(b"calima r14 " * 1000)
    assert not tables_file.is_fresh(path, DatabaseFile(database), CODE)
    assert tables_file.read(path, DatabaseFile(database), CODE) is None


def test_a_copy_of_the_same_database_is_restamped(tmp_path: Path, database: Path) -> None:
    path = tmp_path / "tables.bin"
    tables_file.write(path, DatabaseFile(database), CODE, TABLES)
    os.utime(database, ns=(1, 1))
    assert tables_file.read(path, DatabaseFile(database), CODE) == TABLES
    # Restamped: the next start recognises the file by its size and time, without hashing.
    assert tables_file.is_fresh(path, _never_hashed(database), CODE)


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "garbage", "empty"])
def test_a_damaged_file_is_logged_and_not_read(
    tmp_path: Path, database: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "tables.bin"
    tables_file.write(path, DatabaseFile(database), CODE, TABLES)
    data = bytearray(path.read_bytes())
    if damage == "flipped byte":
        data[-5] ^= 0xFF
    elif damage == "truncated":
        del data[-10:]
    elif damage == "garbage":
        data = bytearray(b"\x00garbage" * 50)
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, "alertbot.text.tables_file"):
        assert tables_file.read(path, DatabaseFile(database), CODE) is None
    assert "morphology tables" in caplog.text


def _never_hashed(database: Path) -> DatabaseFile:
    file = DatabaseFile(database)

    def refuse() -> str:
        raise AssertionError("hashed the database although its size and time matched")

    file.digest = refuse  # type: ignore[method-assign]
    return file
