"""What camel-tools made of each word form, kept across restarts in a SQLite file.

A first-time analysis costs about a third of a millisecond; looking it up here costs a few
microseconds. So after a restart the bot reads words at its warm rate from the first poll,
and `alertbot match` need not load camel-tools at all when it has seen the words before.

    words        form -> lemma keys, known      (Lemmatizer.analyze)
    query_words  form -> lemma keys             (Lemmatizer.analyze_query_word)
    provenance   the code and database the rows were computed with

Rows are valid for one database file and one version of the rules that read its analyses
(`alertbot.text.provenance`); when either changes the tables are emptied on open. New rows
are written in batches (every `BATCH` new forms or `FLUSH_EVERY` seconds, and on `close`),
on the thread that analysed them, without waiting for another process: the file is in WAL
mode, so `alertbot match` can read and write it while `alertbot run` does, and a batch that
finds the file busy is simply written with the next one. Only the newest `MAX_WORDS` forms
are kept.

It is a cache: a damaged file is logged and rebuilt, a file that cannot be written is
logged and the bot goes on without it. Nothing here ever stops a caller.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from alertbot.text.provenance import DatabaseFile, Stamp

log = logging.getLogger(__name__)

BATCH = 500
FLUSH_EVERY = 60.0  # seconds
MAX_WORDS = 300_000
# Pending rows kept while the file is busy; beyond this the oldest are not written.
_MAX_PENDING = 20 * BATCH
_BUSY_TIMEOUT = 0.1  # seconds a write waits for another process's write to end
_SEPARATOR = "\n"  # between lemma keys: they hold no newline

_SCHEMA = (
    "CREATE TABLE provenance (code TEXT NOT NULL, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL)",
    "CREATE TABLE words (form TEXT PRIMARY KEY, lemmas TEXT NOT NULL, known INTEGER NOT NULL)",
    "CREATE TABLE query_words (form TEXT PRIMARY KEY, lemmas TEXT NOT NULL)",
)
_TABLES = ("provenance", "words", "query_words")


class AnalysisCache:
    """The persistent analyses of word forms in one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        database: DatabaseFile,
        code: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._database = database
        self._code = code
        self._clock = clock
        self._lock = threading.RLock()
        self._words: list[tuple[str, str, int]] = []
        self._queries: list[tuple[str, str]] = []
        self._flushed_at = clock()
        self._provenance: tuple[str, int, int, str] | None = None
        self._conn: sqlite3.Connection | None = self._open()

    # -- reading -----------------------------------------------------------------------

    def word(self, form: str) -> tuple[list[str], bool] | None:
        """The lemma keys and `known` flag stored for a text's word form, or None."""
        row = self._fetch("SELECT lemmas, known FROM words WHERE form = ?", form)
        return None if row is None else (_lemmas(row[0]), bool(row[1]))

    def query_word(self, form: str) -> list[str] | None:
        """The lemma keys stored for a query's word form, or None."""
        row = self._fetch("SELECT lemmas FROM query_words WHERE form = ?", form)
        return None if row is None else _lemmas(row[0])

    def newest_words(self, limit: int) -> list[tuple[str, frozenset[str], bool]]:
        """The `limit` text word forms stored last, with their lemma keys and `known`.

        Forms with the same lemmas share one set (most of the cost of reading thousands).
        """
        with self._lock:
            if self._conn is None:
                return []
            try:
                rows = self._conn.execute(
                    "SELECT form, lemmas, known FROM words ORDER BY rowid DESC LIMIT ?", (limit,)
                ).fetchall()
            except sqlite3.Error as exc:
                self._failed(exc)
                return []
        sets: dict[str, frozenset[str]] = {}
        out = []
        for form, joined, known in rows:
            lemmas = sets.get(joined)
            if lemmas is None:
                lemmas = sets[joined] = frozenset(_lemmas(joined))
            out.append((form, lemmas, bool(known)))
        return out

    def _fetch(self, sql: str, form: str) -> tuple[str, int] | None:
        with self._lock:
            if self._conn is None:
                return None
            try:
                row: tuple[str, int] | None = self._conn.execute(sql, (form,)).fetchone()
                return row
            except sqlite3.Error as exc:
                self._failed(exc)
                return None

    # -- writing -----------------------------------------------------------------------

    def add_word(self, form: str, lemmas: Iterable[str], known: bool) -> None:
        """Remember a text word's analysis (written with the next batch)."""
        with self._lock:
            self._words.append((form, _SEPARATOR.join(sorted(lemmas)), int(known)))
            self._maybe_flush()

    def add_query_word(self, form: str, lemmas: Iterable[str]) -> None:
        """Remember a query word's analysis (written with the next batch)."""
        with self._lock:
            self._queries.append((form, _SEPARATOR.join(sorted(lemmas))))
            self._maybe_flush()

    def _maybe_flush(self) -> None:
        pending = len(self._words) + len(self._queries)
        if pending >= BATCH or self._clock() - self._flushed_at >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write the pending rows now, unless another process is writing (then: later)."""
        with self._lock:
            self._flushed_at = self._clock()
            if self._conn is None or not (self._words or self._queries):
                return
            try:
                self._write(self._conn)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    self._failed(exc)
                    return
                del self._words[:-_MAX_PENDING]
                del self._queries[:-_MAX_PENDING]
                return
            except sqlite3.Error as exc:
                self._failed(exc)
                return
            self._words.clear()
            self._queries.clear()

    def _write(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _provenance(conn) != self._provenance:
                # A process with another database or another version of alertbot has
                # taken the file over: its rows are not ours to add to.
                log.info("analysis cache %s now belongs to another version: not written", self.path)
                conn.rollback()
                self._close()
                return
            conn.executemany("INSERT OR REPLACE INTO words VALUES (?, ?, ?)", self._words)
            conn.executemany("INSERT OR REPLACE INTO query_words VALUES (?, ?)", self._queries)
            conn.execute(
                "DELETE FROM words WHERE rowid <= (SELECT max(rowid) FROM words) - ?",
                (MAX_WORDS,),
            )
            conn.commit()
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise

    def close(self) -> None:
        """Write what is pending and close the file."""
        with self._lock:
            self.flush()
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- opening, and what goes wrong --------------------------------------------------

    def _open(self) -> sqlite3.Connection | None:
        """The connection, with tables valid for this database and code; None without."""
        try:
            return self._connect()
        except sqlite3.Error as exc:
            if not _is_damage(exc):
                log.warning("analysis cache %s not used (%s)", self.path, exc)
                return None
            log.warning("analysis cache %s is damaged (%s): rebuilding it", self.path, exc)
        try:
            self._remove_files()
            return self._connect()
        except (sqlite3.Error, OSError) as exc:
            log.warning("analysis cache %s not used (%s)", self.path, exc)
            return None

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise sqlite3.OperationalError(f"cannot create {self.path.parent}: {exc}") from exc
        conn = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            current = self._current_provenance(conn)
            if current is None:
                self._reset(conn)
            return conn
        except BaseException:
            conn.close()
            raise

    def _current_provenance(self, conn: sqlite3.Connection) -> tuple[str, int, int, str] | None:
        """The stored provenance if the rows are valid for this code and database, else None."""
        try:
            stored = _provenance(conn)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
        if stored is None:
            return None
        code, size, mtime_ns, digest = stored
        if code != self._code or not self._database.is_source_of(Stamp(size, mtime_ns, digest)):
            return None
        if mtime_ns != self._database.mtime_ns:
            self._reset(conn, keep_rows=True)  # the same file, copied again: restamped
        else:
            self._provenance = stored
        return self._provenance

    def _reset(self, conn: sqlite3.Connection, keep_rows: bool = False) -> None:
        """Write this code's and database's provenance, emptying the tables unless told."""
        stamp = self._database.stamp()
        provenance = (self._code, stamp.size, stamp.mtime_ns, stamp.digest)
        conn.execute("BEGIN IMMEDIATE")
        try:
            if keep_rows:
                conn.execute("DELETE FROM provenance")
            else:
                for table in _TABLES:
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in _SCHEMA:
                    conn.execute(statement)
            conn.execute("INSERT INTO provenance VALUES (?, ?, ?, ?)", provenance)
            conn.commit()
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        self._provenance = provenance

    def _failed(self, exc: sqlite3.Error) -> None:
        """A read or write failed: rebuild a damaged file, else go on without the cache."""
        self._close()
        self._words.clear()
        self._queries.clear()
        if _is_damage(exc):
            log.warning("analysis cache %s is damaged (%s): rebuilding it", self.path, exc)
            try:
                self._remove_files()
                self._conn = self._connect()
            except (sqlite3.Error, OSError) as again:
                log.warning("analysis cache %s not used (%s)", self.path, again)
        else:
            log.warning("analysis cache %s no longer used (%s)", self.path, exc)

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)


def _provenance(conn: sqlite3.Connection) -> tuple[str, int, int, str] | None:
    rows = conn.execute("SELECT code, size, mtime_ns, digest FROM provenance").fetchall()
    return rows[0] if len(rows) == 1 else None


def _lemmas(joined: str) -> list[str]:
    return joined.split(_SEPARATOR) if joined else []


def _is_damage(exc: sqlite3.Error) -> bool:
    """True for a file that is not a SQLite database or is corrupt (not busy, not read-only)."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED") or (
        "locked" in str(exc)
    )
