"""The two database engines the store runs on: SQLite (the default) and PostgreSQL.

    SqliteEngine(Database)          one file, one process (the run lock); BEGIN IMMEDIATE
    PostgresEngine.connect(url)     a server shared by several workers (autocommit; a write
                                    is one transaction, nested ones are savepoints)

The store's SQL is written once, in the dialect both engines share: `?` placeholders,
`coalesce`, `ON CONFLICT ... DO NOTHING`, `RETURNING id`, times as ISO text. Each engine
takes it as written; PostgreSQL's driver wants `%s` placeholders, which `_postgres_sql`
rewrites (once per statement text). Where the engines differ the store asks `kind`.

An engine is used by one thread at a time: `StoreBase` holds the lock around it.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlite_utils import Database

from alertbot.dburl import redact

if TYPE_CHECKING:
    import psycopg

Params = Sequence[Any] | dict[str, Any]


class Cursor(Protocol):
    """What the store reads off an executed statement (sqlite3's and psycopg's cursors)."""

    @property
    def rowcount(self) -> int: ...
    @property
    def description(self) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class SqliteEngine:
    """A sqlite-utils `Database` (its migrations run on it) over one connection."""

    kind: Literal["sqlite"] = "sqlite"

    def __init__(self, database: Database) -> None:
        self.database = database

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        return self.database.execute(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction, begun IMMEDIATE so a busy database is waited for up front.

        sqlite-utils' `db.atomic()` begins a deferred transaction: a transaction that reads
        first and writes later can then fail with SQLITE_BUSY at the write, without the
        busy timeout applying, when another process committed in between. Nested calls join
        the outer transaction through `db.atomic()`'s savepoints.
        """
        conn = self.database.conn
        if conn.in_transaction:
            with self.database.atomic():
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
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

    @property
    def in_transaction(self) -> bool:
        return bool(self.database.conn.in_transaction)

    def close(self) -> None:
        self.database.close()


class PostgresEngine:
    """One psycopg connection in autocommit mode: a statement outside `transaction()` is
    its own transaction; `transaction()` is one (a savepoint when nested)."""

    kind: Literal["postgresql"] = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any], url: str) -> None:
        self.conn = conn
        self.url = url
        self._closing = False

    @classmethod
    def connect(cls, url: str) -> PostgresEngine:
        """Connect to the database at `url` (a StoreError naming the server if it cannot)."""
        import psycopg

        from alertbot.store.model import StoreError

        try:
            conn = psycopg.connect(
                url, autocommit=True, connect_timeout=10, application_name="alertbot"
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect: {_first_line(exc)}", path=redact(url)) from None
        return cls(conn, url)

    def _usable(self) -> None:
        """Connect again if the connection was lost (the server restarted, the network
        failed), between transactions: the statement that found it lost failed, and the
        next one is tried on a new connection."""
        if (self.conn.broken or self.conn.closed) and not self._closing:
            fresh = PostgresEngine.connect(self.url)
            self.conn = fresh.conn

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        if not self.in_transaction:
            self._usable()
        if not params:  # no placeholders to fill: psycopg takes the text as it is
            return self.conn.execute(sql)
        return self.conn.execute(_postgres_sql(sql), params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if not self.in_transaction:
            self._usable()
        with self.conn.transaction():
            yield

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.conn.info.transaction_status not in (
            TransactionStatus.IDLE, TransactionStatus.UNKNOWN
        )  # fmt: skip

    def close(self) -> None:
        self._closing = True
        self.conn.close()


Engine = SqliteEngine | PostgresEngine


_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|%")


@lru_cache(maxsize=512)
def _postgres_sql(sql: str) -> str:
    """`sql` with `?` placeholders as psycopg's `%s`, and a literal `%` doubled (outside
    quoted strings; a `?` or `%` inside one is left alone)."""

    def swap(match: re.Match[str]) -> str:
        token = match.group()
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return token.replace("%", "%%")

    return _TOKENS.sub(swap, sql)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unavailable(exc: BaseException) -> str | None:
    """What is wrong when `exc` says the database cannot be used at the moment (SQLite
    locked by another process or its disk failing, PostgreSQL unreachable or restarting),
    in one line; None for any other error (a bug, to be shown whole)."""
    if isinstance(exc, sqlite3.OperationalError):
        return f"the database cannot be used right now ({_first_line(exc)})"
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return f"the PostgreSQL server cannot be used right now ({_first_line(exc)})"
    return None
