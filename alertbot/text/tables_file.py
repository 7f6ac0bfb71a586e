"""The file that keeps camel-tools' parsed morphology tables between starts.

Parsing calima-msa-r13's text takes a few seconds; reading its parsed tables back from this
file takes a fraction of that (`alertbot.text.morphology_db` fills and reads it). Layout:

    MAGIC | header length (4 bytes) | header (marshal) | tables (marshal)

The header records the code and database the tables were parsed by and from
(`alertbot.text.provenance`), and the CRC-32 of the tables: a stale file is ignored, a
damaged one is logged and ignored (and then rewritten), never read half-way. marshal is
Python's own fast format for plain data; its format may change between Python versions, so
the version is part of the provenance. Writing is atomic (a temporary file renamed over the
old one), so two processes writing at once leave one whole file.
"""

from __future__ import annotations

import logging
import marshal
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

from alertbot.text.provenance import DatabaseFile, Stamp

log = logging.getLogger(__name__)

_MAGIC = b"alertbot morphology tables\n"
_LENGTH = struct.Struct(">I")
_PYTHON = f"marshal {marshal.version}, Python {sys.version}"


def is_fresh(path: Path, database: DatabaseFile, code: str) -> bool:
    """True when `path` holds tables parsed from `database` by `code`."""
    try:
        with path.open("rb") as f:
            head = f.read(len(_MAGIC) + _LENGTH.size)
            header = _header(f.read(_header_length(head)))
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:
        log.warning("morphology tables %s unreadable (%s): parsing the database", path, exc)
        return False
    return _matches(header, database, code)


def read(path: Path, database: DatabaseFile, code: str) -> dict[str, Any] | None:
    """The tables in `path`, or None when it is missing, stale or damaged."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("morphology tables %s unreadable (%s): parsing the database", path, exc)
        return None
    try:
        length = _header_length(data)
        start = len(_MAGIC) + _LENGTH.size
        header = _header(data[start : start + length])
        if not _matches(header, database, code):
            return None
        payload = memoryview(data)[start + length :]
        if zlib.crc32(payload) != header.get("crc32"):
            raise ValueError("checksum mismatch")
        tables = marshal.loads(payload)
        if not isinstance(tables, dict):
            raise ValueError("not a table of tables")
    except (ValueError, EOFError, TypeError) as exc:
        log.warning("morphology tables %s damaged (%s): parsing the database", path, exc)
        return None
    if header["mtime_ns"] != database.mtime_ns:
        write(path, database, code, tables)  # the same database copied again: restamped
    return tables


def write(path: Path, database: DatabaseFile, code: str, tables: dict[str, Any]) -> None:
    """Write `tables` to `path` atomically; a failure is logged (the next start parses)."""
    payload = marshal.dumps(tables)
    stamp = database.stamp()
    header = marshal.dumps(
        {
            "code": code,
            "python": _PYTHON,
            "size": stamp.size,
            "mtime_ns": stamp.mtime_ns,
            "digest": stamp.digest,
            "crc32": zlib.crc32(payload),
        }
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + _LENGTH.pack(len(header)) + header)
                f.write(payload)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        log.warning("morphology tables %s not written (%s): the next start parses again", path, exc)


def _header_length(head: bytes) -> int:
    if not head.startswith(_MAGIC):
        raise ValueError("not a morphology tables file")
    try:
        (length,) = _LENGTH.unpack_from(head, len(_MAGIC))
    except struct.error as exc:
        raise ValueError("truncated") from exc
    return int(length)


def _header(raw: bytes) -> dict[str, Any]:
    try:
        header = marshal.loads(raw)
    except (EOFError, ValueError, TypeError) as exc:
        raise ValueError(f"bad header ({exc})") from exc
    if not isinstance(header, dict):
        raise ValueError("bad header")
    return header


def _matches(header: dict[str, Any], database: DatabaseFile, code: str) -> bool:
    try:
        stamp = Stamp(int(header["size"]), int(header["mtime_ns"]), str(header["digest"]))
    except (KeyError, TypeError, ValueError):
        return False
    same_code = header.get("code") == code and header.get("python") == _PYTHON
    return same_code and database.is_source_of(stamp)
