"""One `alertbot run` per database: an advisory lock on a file beside it.

    with hold_run_lock(Path("state/alertbot.db")):    # state/alertbot.db.lock
        ...                                            # or RunLockError: in use by pid 1234

Two runs on one database would poll every source twice and could send one pending alert
twice (each dispatcher reads it as due). The lock is `fcntl.flock` on `<database>.lock`:
the OS releases it when its holder exits, however it exits (kill -9 included), so there is
never a stale lock to clear by hand. The file holds the holder's pid as text, only to name
it in the refusal; it stays in place after the run (removing it would let a third run
lock a new file while a second still holds the old one).

Short-lived commands (`alertbot status`, `check`, `recap`) do not take it: SQLite lets
them read, and write briefly, beside a running worker.

Also `unwritable(path)`: what keeps this process from writing a file (the database, its
lock), in words; the store's messages use it too. This module imports nothing heavy, so
that a second run is refused before the slow imports.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alertbot.errors import RunLockError


def lock_path(database: Path) -> Path:
    """The lock file of a database: `alertbot.db` -> `alertbot.db.lock`."""
    return database.with_name(database.name + ".lock")


@contextmanager
def hold_run_lock(database: Path) -> Iterator[None]:
    """Hold the database's run lock for the block; RunLockError if another process holds it
    (naming its pid) or the lock file cannot be made."""
    path = lock_path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise RunLockError(
            f"cannot create the lock file {path.name} beside the database ({exc.strerror}):"
            f" {unwritable(path, sqlite=False)}",
            path=str(database),
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                message = f"cannot lock {path.name}: {exc.strerror}"
                raise RunLockError(message, path=str(database)) from None
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise RunLockError(
                f"in use by another alertbot run (pid {holder}): one run per database",
                path=str(database),
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def unwritable(path: Path, *, sqlite: bool = True) -> str:
    """In words: what keeps this process from writing the file at `path` (with `sqlite`,
    also its `-wal` and `-shm`) or from creating files in its folder."""
    if path.is_dir():
        return f"{path} is a folder, not a file"
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"its folder {folder} is on a read-only file system"
    except OSError:
        pass  # the folder is not there to look at: the checks below say what they can
    who = f"this user (uid {os.geteuid()})"
    files = [path]
    if sqlite:
        files += [path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    problems = []
    read_only = [f.name for f in files if f.exists() and not os.access(f, os.W_OK)]
    if read_only:
        names = " and ".join(
            [", ".join(read_only[:-1]), read_only[-1]] if read_only[1:] else read_only
        )
        verb = "is" if len(read_only) == 1 else "are"
        problems.append(f"{names} {verb} read-only for {who}")
    if not os.access(folder, os.W_OK | os.X_OK):
        then = (
            f"SQLite must create {path.name}-wal and {path.name}-shm there"
            if sqlite
            else f"{path.name} must be created there"
        )
        problems.append(f"its folder {folder} is read-only for {who}, and {then}")
    if not problems:
        return "the system refused the write"
    return "; ".join(problems)
