"""Dates as sources write them, read into timezone-aware UTC datetimes.

Feeds, sitemaps, Telegram and article metadata use ISO 8601 / RFC 3339 / W3C datetime
(`2018-02-16T22:08:10+04:00`, `2018-02-16`) or RFC 822 (`Fri, 16 Feb 2018 22:08:10 +0400`).
A value without a zone is taken as UTC; a value that cannot be read is None, never a guess.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# W3C datetime allows a bare year or year-month; fromisoformat does not.
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")


def parse_datetime(value: str | None) -> datetime | None:
    """An ISO 8601 or RFC 822 date string as an aware UTC datetime, or None."""
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    parsed = _parse_iso(text)
    if parsed is None:
        parsed = _parse_rfc822(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, as broken CMSs write
        return None


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """A UTC `time.struct_time` (as feedparser gives) as an aware UTC datetime, or None."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parse_iso(text: str) -> datetime | None:
    match = _YEAR_MONTH.fullmatch(text)
    if match:
        try:
            return datetime(int(match[1]), int(match[2] or 1), 1)
        except ValueError:
            return None
    candidate = text
    if candidate[-1:] in "zZ":
        candidate = candidate[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _parse_rfc822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
