"""Shared pieces of the store tests: an article to record, and a reader in another process."""

from __future__ import annotations

import subprocess
import sys
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
