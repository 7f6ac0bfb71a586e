"""A `database` value that is a PostgreSQL URL, and how messages show one (no password).

Kept apart from `alertbot.store` so that reading the config imports no database code."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def is_postgres_url(value: str) -> bool:
    """Whether a `database` value names a PostgreSQL server (a `postgresql://` or
    `postgres://` URL) rather than an SQLite file."""
    return value.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """A database URL without its password, for messages and `alertbot status`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))
