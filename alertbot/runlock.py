"""`unwritable(path)`: what keeps this process from writing a file, in words, for the
store's messages (a database it may not write is not "unusable": fix its permissions).
This module imports nothing heavy.
"""

from __future__ import annotations

import os
from pathlib import Path


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
