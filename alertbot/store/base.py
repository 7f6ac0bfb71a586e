"""The connection the store's parts share (an `alertbot.store.engine`), and its write
transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from alertbot.store.engine import Engine

WATCHLIST = "watchlist"  # the version of every chat's watches and exclusions
SOURCES = "sources"  # the version of the sources added from Telegram


class StoreBase:
    """An engine (SQLite or PostgreSQL) and a lock; every write goes through `_write()`.

    `path` says where the database is in messages: the SQLite file, or the PostgreSQL URL
    without its password."""

    def __init__(self, db: Engine, path: str):
        self.db = db
        self.path = path
        # One connection may be used from the event loop and from worker threads; the lock
        # keeps one thread's transaction from swallowing another thread's statements.
        self._lock = threading.RLock()

    @contextmanager
    def _write(self) -> Iterator[Engine]:
        """One write transaction (nested calls join the outer one through a savepoint):
        SQLite begins it IMMEDIATE, PostgreSQL in autocommit mode begins it explicitly
        (`alertbot.store.engine`)."""
        with self._lock, self.db.transaction():
            yield self.db

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group several writes into one transaction (one sync to disk): all or nothing."""
        with self._write():
            yield

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """All rows of a read, as dicts."""
        with self._lock:
            cursor = self.db.execute(sql, params)
            keys = [d[0] for d in cursor.description]
            return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def _value(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        """The first column of the first row of a read, or None."""
        with self._lock:
            row = self.db.execute(sql, params).fetchone()
            return None if row is None else row[0]

    # -- versions ----------------------------------------------------------------------

    def bump(self, name: str = WATCHLIST) -> None:
        """Count a change of `name` (in the caller's transaction, when there is one)."""
        with self._write() as db:
            db.execute("UPDATE versions SET value = value + 1 WHERE name = ?", (name,))

    def version(self, name: str = WATCHLIST) -> int:
        """How many changes of `name` there have been."""
        return int(self._value("SELECT value FROM versions WHERE name = ?", (name,)) or 0)
