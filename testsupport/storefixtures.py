"""Shared pieces of the store tests: an article to record, a reader and a writer in another
process, and files made read-only for real."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from alertbot.sources.model import Article

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def article(
    url: str = "https://ahram.example/1",
    source: str = "Ahram",
    guid: str | None = None,
    text: str = "السيسي يستقبل ناريشكين",
    *,
    title: str = "السيسي يستقبل ناريشكين",
    fetched: datetime = NOW,
    published: datetime | None = None,
    language: str = "ar",
) -> Article:
    """An article as the sources layer gives it (canonical URL = URL)."""
    return Article(
        source=source,
        url=url,
        canonical_url=url,
        title=title,
        text=text,
        summary=None,
        published=published,
        language=language,
        fetched=fetched,
        guid=guid,
    )


def read_in_another_process(path: Path, sql: str) -> str:
    """The first row of `sql` as another process sees the database file, printed."""
    code = f"import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute({sql!r}).fetchone())"
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@contextlib.contextmanager
def write_lock_in_another_process(path: Path) -> Iterator[None]:
    """Another process holds a write transaction (BEGIN IMMEDIATE) on the database at
    `path` for the block."""
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
        " c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.stdin.close()  # it reads to the end, then exits (and the lock goes with it)
        holder.wait(timeout=10)
        holder.stdout.close()


class ReadOnly:
    """Makes files and folders read-only for this process, and writable again on `undo()`.

    For a user, by taking away the write bits. Root ignores those, and tests run as root in
    CI, so for root by the immutable attribute (`chattr +i`), which root must obey too.
    """

    def __init__(self) -> None:
        self._made: list[Path] = []

    def __call__(self, *paths: Path) -> None:
        """Make each path read-only."""
        for path in paths:
            if os.geteuid() == 0:
                done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
                if done.returncode != 0:
                    raise AssertionError(
                        f"chattr +i {path}: {done.stderr.strip()}: as root, a read-only file"
                        " needs a file system with the immutable attribute (ext4, xfs, tmpfs)"
                    )
            else:
                path.chmod(path.stat().st_mode & ~0o222)
            self._made.append(path)
            assert not os.access(path, os.W_OK), path

    def undo(self) -> None:
        """Make everything writable again (so that the test's folder can be removed)."""
        while self._made:
            path = self._made.pop()
            if os.geteuid() == 0:
                subprocess.run(["chattr", "-i", str(path)], check=True)
            else:
                path.chmod(path.stat().st_mode | 0o200)
