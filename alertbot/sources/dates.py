"""Dates as sources write them, read into timezone-aware UTC datetimes.

Feeds, sitemaps, Telegram and article metadata use ISO 8601 / RFC 3339 / W3C datetime
(`2018-02-16T22:08:10+04:00`, `2018-02-16`) or RFC 822 (`Fri, 16 Feb 2018 22:08:10 +0400`).
A value without a zone is taken as UTC; a value that cannot be read is None, never a guess.

Publication dates (`parse_published`) also say whether the source gave a time of day. A
bare date ("2018-02-16", "16 Feb 2018"), or midnight exactly (as CMSs write a date they
store without a time), is *date only*: it is kept as that day at 00:00 UTC, the day as
written (not moved by the value's UTC offset), and shown as the date alone, never with a
time of day nobody stated.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# W3C datetime allows a bare year or year-month; fromisoformat does not.
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")
# A time of day is written with a colon (14:05) or as ISO's basic format (T1405).
_TIME_OF_DAY = re.compile(r"\d:\d|T\d{2}", re.IGNORECASE)


def parse_datetime(value: str | None) -> datetime | None:
    """An ISO 8601 or RFC 822 date string as an aware UTC datetime, or None."""
    parsed = _parse_as_written(value)
    return None if parsed is None else _utc(parsed)


def parse_published(value: str | None) -> tuple[datetime | None, bool]:
    """A publication date as (aware UTC datetime, date only), or (None, False).

    Date only: the value gives a day but no time of day, or midnight exactly; the
    datetime is then that day, as written, at 00:00 UTC.
    """
    parsed = _parse_as_written(value)
    if parsed is None:
        return None, False
    assert value is not None
    if not gives_time_of_day(value) or (parsed.hour, parsed.minute, parsed.second) == (0, 0, 0):
        return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC), True
    return _utc(parsed), False


def gives_time_of_day(value: str) -> bool:
    """True when a date string has a time of day in it ("14:05", "T1405")."""
    return _TIME_OF_DAY.search(value) is not None


def published_from(
    value: str | None, parsed: time.struct_time | None
) -> tuple[datetime | None, bool]:
    """A feed item's publication date from feedparser's raw string and its parse (which
    reads more formats): (aware UTC datetime, date only), as `parse_published`."""
    when, date_only = parse_published(value)
    if date_only:
        return when, True
    from_feedparser = from_struct_time(parsed)
    if from_feedparser is None:
        return when, False
    if value and not gives_time_of_day(value):  # a format only feedparser reads, no time
        return from_feedparser, True
    return from_feedparser, False


def _parse_as_written(value: str | None) -> datetime | None:
    """The datetime a string states, in its own offset (naive when it has none)."""
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    parsed = _parse_iso(text)
    if parsed is None:
        parsed = _parse_rfc822(text)
    return parsed


def _utc(parsed: datetime) -> datetime | None:
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
