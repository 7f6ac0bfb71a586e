"""The values the store hands out and takes in, and how times are written.

Times are stored as ISO 8601 text in UTC with microseconds
(`2025-01-02T03:04:05.000000+00:00`), so comparing the strings compares the instants.
Naive datetimes are refused: every time the store sees comes from an injected `now` or a
parsed, timezone-aware date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from alertbot.errors import AlertbotError

CHANNELS = ("telegram", "email", "console")


class StoreError(AlertbotError):
    """The database cannot be used: unreadable, corrupt, or newer than this alertbot."""

    def __init__(self, message: str, *, path: str | None = None):
        self.path = path
        self.detail = message
        super().__init__(f"{path}: {message}" if path else message)


@dataclass(frozen=True)
class Recipient:
    """Who gets an alert, through which channel: a Telegram chat id, an email address.

    `watches` names the matched watches this recipient follows; empty means all of them.
    """

    channel: str
    address: str
    watches: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemOutcome:
    """What recording one item did."""

    already_seen: bool
    seen_item_id: int | None = None
    story_id: int | None = None
    new_story: bool = False
    outbox_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Outlet:
    """One outlet's article in a story."""

    source: str
    url: str
    title: str
    seen_at: datetime


@dataclass(frozen=True)
class Story:
    """Articles from one or more outlets about the same event; alerted once per recipient."""

    id: int
    title: str
    url: str
    first_source: str
    first_seen: datetime
    published: datetime | None
    updated: datetime
    watches: tuple[str, ...]
    snippet: str
    outlets: tuple[Outlet, ...]


@dataclass(frozen=True)
class OutboxRow:
    """One alert to deliver: a story to one recipient through one channel."""

    id: int
    story_id: int
    channel: str
    recipient: str
    watches: tuple[str, ...]
    snippet: str  # alertbot.snippet.Snippet, stored as JSON
    state: str  # pending | sent | failed
    attempts: int
    next_attempt: datetime
    last_error: str | None
    created: datetime
    finished: datetime | None
    message_ref: str | None
    seen_item_id: int | None = None  # the article that queued it (None once pruned)
    muted: bool = False  # the reader muted the story: no more edits
    outlets_shown: int = 1  # how many outlets the sent message names


@dataclass(frozen=True)
class Chat:
    """A Telegram chat the bot has talked to."""

    chat_id: int
    kind: str
    title: str | None
    first_seen: datetime
    last_seen: datetime
    active: bool = True  # False once it blocked or removed the bot
    allowed: bool = False  # allowed by an admin (/allow)
    paused: bool = False
    muted_until: datetime | None = None

    def muted(self, now: datetime) -> bool:
        """True while /mute is in force."""
        return self.muted_until is not None and now < self.muted_until


@dataclass(frozen=True)
class PruneCounts:
    """How many rows one prune removed, per table."""

    seen_items: int = 0
    outbox: int = 0
    stories: int = 0
    delivery_log: int = 0


def ts(when: datetime) -> str:
    """A timezone-aware datetime as stored text."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when!r}: the store needs timezone-aware times")
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def ts_or_none(when: datetime | None) -> str | None:
    """`ts`, passing None through."""
    return None if when is None else ts(when)


def parse_ts(text: str | None) -> datetime | None:
    """Stored text back to an aware datetime (UTC)."""
    return None if text is None else datetime.fromisoformat(text)
