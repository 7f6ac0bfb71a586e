"""The connection the store's parts share, and its write transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database


class StoreBase:
    """A sqlite-utils `Database` and a lock; every write goes through `_write()`."""

    def __init__(self, db: Database, path: str):
        self.db = db
        self.path = path
        # One connection may be used from the event loop and from worker threads; the lock
        # keeps one thread's transaction from swallowing another thread's statements.
        self._lock = threading.RLock()

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """One write transaction, begun IMMEDIATE so a busy database is waited for up front.

        sqlite-utils' `db.atomic()` begins a deferred transaction: a transaction that reads
        first and writes later can then fail with SQLITE_BUSY at the write, without the
        busy timeout applying, when another process committed in between. Nested calls join
        the outer transaction through `db.atomic()`'s savepoints.
        """
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

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
