"""The persistent cache of word analyses: kept across restarts, emptied when the database or
the rules change, rebuilt when damaged, shared safely by two processes, never fatal."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from alertbot.text import analysis_cache
from alertbot.text.analysis_cache import BATCH, AnalysisCache
from alertbot.text.provenance import DatabaseFile

CODE = "rules v1"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A stand-in for the morphology database: the cache only stats and hashes it."""
    path = tmp_path / "morphology.db"
    path.write_bytes(b"calima " * 1000)
    return path


def _open(path: Path, database: Path, code: str = CODE) -> AnalysisCache:
    return AnalysisCache(path, DatabaseFile(database), code)


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM words").fetchone()[0])


def test_analyses_are_kept_across_a_restart(tmp_path: Path, database: Path) -> None:
    cache = _open(tmp_path / "cache.sqlite3", database)
    cache.add_word("بالقاهرة", {"القاهِرَة#name", "قاهِر#nominal"}, True)
    cache.add_word("ناريشكين", set(), False)
    cache.add_query_word("مصر", ["مِصْر#name"])
    assert cache.word("بالقاهرة") is None, "not written before its batch"
    cache.close()
    again = _open(tmp_path / "cache.sqlite3", database)
    assert again.word("بالقاهرة") == (["القاهِرَة#name", "قاهِر#nominal"], True)
    assert again.word("ناريشكين") == ([], False)
    assert again.query_word("مصر") == ["مِصْر#name"]
    assert again.word("غزة") is None
    again.close()


def test_rows_are_written_a_batch_at_a_time_or_after_a_while(
    tmp_path: Path, database: Path
) -> None:
    now = [0.0]
    cache = AnalysisCache(tmp_path / "c.sqlite3", DatabaseFile(database), CODE, lambda: now[0])
    for i in range(BATCH - 1):
        cache.add_word(f"كلمة{i}", {"x#nominal"}, True)
    assert _rows(tmp_path / "c.sqlite3") == 0
    cache.add_word("كلمة", {"x#nominal"}, True)
    assert _rows(tmp_path / "c.sqlite3") == BATCH
    cache.add_word("أخرى", {"x#nominal"}, True)
    now[0] += analysis_cache.FLUSH_EVERY
    cache.add_word("ثالثة", {"x#nominal"}, True)
    assert _rows(tmp_path / "c.sqlite3") == BATCH + 2
    cache.close()


def test_other_rules_empty_the_cache(tmp_path: Path, database: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = _open(path, database)
    cache.add_word("مصر", {"مِصْر#name"}, True)
    cache.close()
    newer = _open(path, database, code="rules v2")
    assert newer.word("مصر") is None
    newer.close()


def test_another_database_empties_the_cache_and_a_copy_of_the_same_does_not(
    tmp_path: Path, database: Path
) -> None:
    path = tmp_path / "c.sqlite3"
    cache = _open(path, database)
    cache.add_word("مصر", {"مِصْر#name"}, True)
    cache.close()
    # The same bytes copied again (a new modification time): still valid, and restamped.
    database.write_bytes(database.read_bytes())
    os.utime(database, ns=(1, 1))
    copied = _open(path, database)
    assert copied.word("مصر") == (["مِصْر#name"], True)
    copied.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT mtime_ns FROM provenance").fetchone() == (1,)
    # Other bytes: stale.
    database.write_bytes(b"calima r14 " * 1000)
    other = _open(path, database)
    assert other.word("مصر") is None
    other.close()


def test_a_damaged_file_is_logged_and_rebuilt(
    tmp_path: Path, database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a SQLite database, it is garbage " * 200)
    with caplog.at_level(logging.WARNING, "alertbot.text.analysis_cache"):
        cache = _open(path, database)
    assert "damaged" in caplog.text and "rebuilding" in caplog.text
    cache.add_word("مصر", {"مِصْر#name"}, True)
    cache.close()
    again = _open(path, database)
    assert again.word("مصر") == (["مِصْر#name"], True)
    again.close()


def test_a_folder_that_cannot_be_written_means_no_cache_not_a_crash(
    tmp_path: Path, database: Path, read_only, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    read_only(folder)
    with caplog.at_level(logging.WARNING, "alertbot.text.analysis_cache"):
        cache = _open(folder / "c.sqlite3", database)
        cache.add_word("مصر", {"مِصْر#name"}, True)
        assert cache.word("مصر") is None
        cache.close()
    assert "not used" in caplog.text


def test_a_busy_file_keeps_the_batch_for_later(tmp_path: Path, database: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = _open(path, database)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing
    cache.add_word("مصر", {"مِصْر#name"}, True)
    cache.flush()  # waits briefly, then leaves the row pending
    other.rollback()
    other.close()
    assert _rows(path) == 0
    cache.flush()
    assert _rows(path) == 1
    cache.close()


def test_a_cache_taken_over_by_another_version_is_not_written_to(
    tmp_path: Path, database: Path
) -> None:
    path = tmp_path / "c.sqlite3"
    older = _open(path, database)
    newer = _open(path, database, code="rules v2")  # empties the file, for its own rules
    older.add_word("مصر", {"old#nominal"}, True)
    older.close()
    assert newer.word("مصر") is None
    newer.close()


def test_two_processes_share_one_file(tmp_path: Path, database: Path) -> None:
    path = tmp_path / "c.sqlite3"
    _open(path, database).close()
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from alertbot.text.analysis_cache import AnalysisCache
        from alertbot.text.provenance import DatabaseFile
        cache = AnalysisCache(Path({str(path)!r}), DatabaseFile(Path({str(database)!r})), {CODE!r})
        for i in range(3 * {BATCH}):
            cache.add_word(f"child{{i}}", {{"x#nominal"}}, True)
        cache.close()
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    cache = _open(path, database)
    for i in range(3 * BATCH):
        cache.add_word(f"parent{i}", {"y#nominal"}, False)
    cache.close()
    assert child.wait(60) == 0
    assert _rows(path) == 6 * BATCH
    reader = _open(path, database)
    assert reader.word("child7") == (["x#nominal"], True)
    assert reader.word("parent7") == (["y#nominal"], False)
    reader.close()


def test_only_the_newest_forms_are_kept(
    tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis_cache, "MAX_WORDS", 3)
    cache = _open(tmp_path / "c.sqlite3", database)
    for word in ("أ", "ب", "ت", "ث", "ج"):
        cache.add_word(word, set(), False)
    cache.flush()
    assert [form for form, _, _ in cache.newest_words(10)] == ["ج", "ث", "ت"]
    cache.close()
