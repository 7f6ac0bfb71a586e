"""`Store`: opening the database, and sources and recaps.

Items and stories are in `alertbot.store.items`, the outbox in `alertbot.store.outbox`,
chats and their watches in `alertbot.store.chats`;
`Store` brings them together over one connection. Every method that needs the time takes
`now`; the store never reads the clock.

A database that cannot be opened is a StoreError that says which of three things is wrong,
because what to do differs (`unusable`): it is locked by another process (wait), it cannot
be written (fix the permissions), or it is not a database or is corrupt (only then move it
aside to start afresh).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from alertbot.config import SourceConfig
from alertbot.dburl import is_postgres_url, redact
from alertbot.runlock import unwritable
from alertbot.sources.health import SourceHealth
from alertbot.sources.model import Skipped, SkipReason, Validators
from alertbot.store import schema
from alertbot.store.base import SOURCES
from alertbot.store.chats import ChatsMixin
from alertbot.store.coordination import CoordinationMixin
from alertbot.store.engine import PostgresEngine, SqliteEngine
from alertbot.store.items import ItemsMixin
from alertbot.store.model import StoreError, parse_ts_or_none, ts, ts_or_none
from alertbot.store.outbox import OutboxMixin
from alertbot.store.postgres import applied_migrations as postgres_applied
from alertbot.store.recaps import RecapsMixin


class Store(ItemsMixin, OutboxMixin, ChatsMixin, RecapsMixin, CoordinationMixin):
    """alertbot's database: open it with `Store.open(target)` (an SQLite file's path, or a
    `postgresql://` URL), close it with `close()`."""

    @classmethod
    def open(cls, target: Path | str) -> Store:
        """Open and migrate the database: a PostgreSQL URL, or the SQLite file at `target`
        (created, with its directory, if needed)."""
        if isinstance(target, str) and is_postgres_url(target):
            return cls.open_postgres(target)
        path = Path(target)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            message = f"cannot create its folder {path.parent}: {exc.strerror}"
            raise StoreError(message, path=str(path)) from None
        try:
            db = Database(schema.connect(str(path)))
        except sqlite3.Error as exc:
            raise unusable(exc, path) from None
        return cls._start(db, str(path))

    @classmethod
    def open_postgres(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to the PostgreSQL database at `url` and (unless `migrate` is off: a
        second connection of a process that migrated already) apply pending migrations."""
        import psycopg

        from alertbot.store import postgres

        engine = PostgresEngine.connect(url)
        store = cls(engine, redact(url))
        if migrate:
            try:
                postgres.migrate(engine, store.path)
            except psycopg.Error as exc:
                engine.close()
                raise StoreError(f"cannot migrate: {exc}", path=store.path) from None
            except BaseException:
                engine.close()
                raise
        return store

    @classmethod
    def open_reader(cls, target: Path | str) -> Store:
        """A read-only Store over an existing, migrated database (no migrations run); on
        PostgreSQL, a second connection."""
        if isinstance(target, str) and is_postgres_url(target):
            return cls.open_postgres(target, migrate=False)
        try:
            db = Database(schema.connect_read_only(str(target)))
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the database to read: {exc}", path=str(target)) from None
        return cls(SqliteEngine(db), str(target))

    @classmethod
    def open_to_read(cls, target: Path | str) -> Store:
        """A Store for a command that only reads (`alertbot status`, `recap`): over an
        existing database at this alertbot's schema, a read-only connection
        (`open_reader`), so that a database this process may not write is still shown;
        otherwise `open`. (PostgreSQL: `open`, whose permissions are the server's.)

        `open` takes a write to probe that the database can be written (`_migrate`), and
        refuses one that cannot, which a reader does not need. It stays the way in for
        the rest: a missing database (created, empty), one at an older schema (the reads
        need the columns its pending migrations add, so it must be migrated first, which
        writes), and one the reader cannot vouch for (newer, unknown migrations, not a
        database), which `open` refuses saying what is wrong.
        """
        if isinstance(target, str) and is_postgres_url(target):
            return cls.open(target)
        path = Path(target)
        if path.is_file():
            try:
                reader = cls.open_reader(path)
            except StoreError:
                reader = None
            if reader is not None:
                if reader._is_current():
                    return reader
                reader.close()
        return cls.open(path)

    @classmethod
    def memory(cls) -> Store:
        """A migrated in-memory database, for tests."""
        return cls._start(Database(memory=True), ":memory:")

    @classmethod
    def _start(cls, db: Database, path: str) -> Store:
        store = cls(SqliteEngine(db), path)
        try:
            schema.apply_pragmas(db)
            store._migrate(db)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise unusable(exc, None if db.memory else Path(path)) from None
        except StoreError:
            db.close()
            raise
        return store

    @property
    def engine(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.db.kind

    def _migrate(self, database: Database) -> None:
        """Apply pending migrations, refusing a database written by a newer alertbot."""
        with self._write():
            version = database.execute("PRAGMA user_version").fetchone()[0]
            known = schema.known_migrations()
            applied = [m.name for m in schema.migrations.applied(database)]
            unknown = [name for name in applied if name not in known]
            if version > schema.SCHEMA_VERSION or unknown:
                found = max(version, len(applied))
                raise StoreError(
                    f"database is newer than this alertbot (schema {found} >"
                    f" {schema.SCHEMA_VERSION}): upgrade alertbot",
                    path=self.path,
                )
            # A write that changes nothing: SQLite opens a file it may not write read-only,
            # and without this the first real write (a poll's) would be what fails.
            database.execute(f"PRAGMA user_version = {int(version)}")
            schema.migrations.apply(database)

    def _is_current(self) -> bool:
        """Whether the database is at this alertbot's schema: the version, and exactly the
        migrations this code knows applied (read only; False if it cannot be read)."""
        db = self.db
        try:
            with self._lock:
                if isinstance(db, PostgresEngine):
                    applied = postgres_applied(db) or []
                    return applied == schema.known_migrations()
                version = db.execute("PRAGMA user_version").fetchone()[0]
                names = {m.name for m in schema.migrations.applied(db.database)}
        except sqlite3.Error:  # not a database, or one this process cannot read
            return False
        return version == schema.SCHEMA_VERSION and names == set(schema.known_migrations())

    def close(self) -> None:
        """Close the connection (a committed write is already on disk)."""
        with self._lock:
            self.db.close()

    def schema_version(self) -> int:
        """The schema version of the open database."""
        if isinstance(self.db, PostgresEngine):
            with self._lock:
                return len(postgres_applied(self.db) or [])
        return int(self._value("PRAGMA user_version"))

    # -- sources -----------------------------------------------------------------------

    def source_state(self, name: str) -> tuple[SourceHealth, Validators]:
        """A source's health and conditional-GET validators (empty for a new source)."""
        rows = self._rows("SELECT * FROM sources WHERE name = ?", (name,))
        if not rows:
            return SourceHealth(), Validators()
        r = rows[0]
        health = SourceHealth(
            last_success=parse_ts_or_none(r["last_success"]),
            last_attempt=parse_ts_or_none(r["last_attempt"]),
            last_error_kind=r["last_error_kind"],
            last_error=r["last_error"],
            consecutive_failures=r["consecutive_failures"],
            next_poll=parse_ts_or_none(r["next_poll"]),
            skipped=Skipped(**{reason: r[f"skipped_{reason}"] for reason in SkipReason}),
            waiting=r["waiting"],
            admins_told=bool(r["admins_told"]),
        )
        return health, Validators(etag=r["etag"], last_modified=r["last_modified"])

    def save_source_state(
        self, name: str, url: str, health: SourceHealth, validators: Validators
    ) -> None:
        """Store a source's health (with its last poll's counts) and validators after a poll."""
        counts = {f"skipped_{reason}": getattr(health.skipped, reason) for reason in SkipReason}
        columns = {
            "name": name,
            "url": url,
            "etag": validators.etag,
            "last_modified": validators.last_modified,
            "last_success": ts_or_none(health.last_success),
            "last_attempt": ts_or_none(health.last_attempt),
            "last_error_kind": health.last_error_kind,
            "last_error": health.last_error,
            "consecutive_failures": health.consecutive_failures,
            "next_poll": ts_or_none(health.next_poll),
            **counts,
            "waiting": health.waiting,
            "admins_told": int(health.admins_told),
        }
        updates = ", ".join(f"{column} = excluded.{column}" for column in list(columns)[1:])
        with self._write() as db:
            db.execute(
                f"INSERT INTO sources ({', '.join(columns)})"
                f" VALUES ({', '.join('?' for _ in columns)})"
                f" ON CONFLICT (name) DO UPDATE SET {updates}",
                tuple(columns.values()),
            )

    def add_runtime_source(self, source: SourceConfig, added_by: int | None, now: datetime) -> bool:
        """Remember a source added from Telegram; False if one of that name exists."""
        with self._write() as db:
            self.bump(SOURCES)
            cursor = db.execute(
                "INSERT INTO runtime_sources (name, name_key, url, type, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (source.name, source.name.casefold(), source.url, source.type, added_by, ts(now)),
            )
            return cursor.rowcount == 1

    def remove_runtime_source(self, name: str) -> SourceConfig | None:
        """Forget a source added from Telegram (any case of its name); None if there is none."""
        with self._write() as db:
            self.bump(SOURCES)
            rows = self._rows(
                "SELECT name, url, type FROM runtime_sources WHERE name_key = ?",
                (name.casefold(),),
            )
            if not rows:
                return None
            db.execute("DELETE FROM runtime_sources WHERE name_key = ?", (name.casefold(),))
            return SourceConfig(rows[0]["name"], rows[0]["url"], rows[0]["type"])

    def runtime_sources(self) -> list[SourceConfig]:
        """The sources added from Telegram, oldest first."""
        rows = self._rows("SELECT name, url, type FROM runtime_sources ORDER BY added_at, name")
        return [SourceConfig(r["name"], r["url"], r["type"]) for r in rows]

    def source_names(self) -> list[str]:
        """The sources that have state, by name."""
        return [r["name"] for r in self._rows("SELECT name FROM sources ORDER BY name")]


def unusable(exc: sqlite3.Error, path: Path | None) -> StoreError:
    """The StoreError for SQLite refusing to open or migrate the database at `path`
    (None: in memory), by what is wrong: locked, cannot be written, or not a database."""
    where = None if path is None else str(path)
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        seconds = schema.BUSY_TIMEOUT_MS / 1000
        return StoreError(
            f"locked by another process (still busy after {seconds:g} s): it holds a write"
            " transaction on the database; try again once it has finished",
            path=where,
        )
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        why = "" if path is None else f": {unwritable(path)}"
        return StoreError(f"cannot write the database ({exc}){why}", path=where)
    if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return StoreError(
            f"not a usable alertbot database ({exc}); move it aside to start afresh",
            path=where,
        )
    return StoreError(f"cannot use the database ({exc})", path=where)  # disk full, I/O error
