"""The values the store hands out and takes in, and how times are written.

Times are stored as ISO 8601 text in UTC with microseconds
(`2025-01-02T03:04:05.000000+00:00`), so comparing the strings compares the instants.
Naive datetimes are refused: every time the store sees comes from an injected `now` or a
parsed, timezone-aware date.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from alertbot.errors import AlertbotError
from alertbot.sources.model import Article
from alertbot.stories import StoryId

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
    `topic` is the forum topic (message thread id) of a Telegram chat the alert goes to;
    each topic of a chat is a recipient of its own (None: the chat itself).
    """

    channel: str
    address: str
    watches: tuple[str, ...] = ()
    topic: int | None = None


@dataclass(frozen=True)
class NewItem:
    """An article to record, with what the pipeline found about it.

    `story_id` is the story the clustering placed it in, or None for a new one; `watches`
    are the names of the watches it matched, `snippet` the quote (a `Snippet` as JSON);
    `recipients` get one outbox row each unless they have one for the story already.
    """

    article: Article
    content_hash: str
    fingerprint: bytes | None
    story_id: StoryId | None
    watches: Sequence[str]
    snippet: str
    recipients: Sequence[Recipient]
    related_to: StoryId | None = None  # a new story's earlier story, when it is related
    # The story clustering's name terms (`ArticleTerms.names`), kept so that a start can
    # rebuild the clustering without the morphology; None: not known.
    names: Sequence[str] | None = None


@dataclass(frozen=True)
class ItemOutcome:
    """What recording one item did."""

    already_seen: bool
    seen_item_id: int | None = None
    story_id: StoryId | None = None
    new_story: bool = False
    outbox_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Outlet:
    """One outlet's article in a story."""

    source: str
    url: str
    title: str
    seen_at: datetime
    date_only: bool = False  # `seen_at` is a published day, its time of day unknown


@dataclass(frozen=True)
class Story:
    """Articles from one or more outlets about the same event; alerted once per recipient."""

    id: StoryId
    title: str
    url: str
    first_source: str
    first_seen: datetime
    published: datetime | None
    updated: datetime
    watches: tuple[str, ...]
    snippet: str
    outlets: tuple[Outlet, ...]
    related_to: StoryId | None = None  # the earlier story this one follows up
    published_date_only: bool = False  # `published` is a day, its time of day unknown


@dataclass(frozen=True)
class OutboxRow:
    """One alert to deliver: a story to one recipient through one channel."""

    id: int
    story_id: StoryId
    channel: str
    recipient: str
    watches: tuple[str, ...]
    snippet: str  # alertbot.watch.snippet.Snippet, stored as JSON
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
    topic: int | None = None  # the forum topic it goes to (`Recipient.topic`)


@dataclass(frozen=True)
class OutboxBacklog:
    """What waits for delivery through one channel: how many rows, and the oldest's
    `created` (None when nothing waits)."""

    channel: str
    pending: int
    oldest: datetime | None


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
class RecapDelivery:
    """One address a recap was sent to, and the server's refusal when it was not taken."""

    address: str
    error: str | None = None

    @property
    def sent(self) -> bool:
        """True when the server took the message."""
        return self.error is None

    @classmethod
    def from_stored(cls, entry: Any) -> RecapDelivery:
        """A stored entry: {"address", "error"}; or, as schema 3 wrote them, an address,
        "failed ADDRESS: reason" or "failed: reason" (the desk's addresses)."""
        if isinstance(entry, dict):
            return cls(str(entry.get("address", "")), entry.get("error"))
        text = str(entry)
        if text.startswith("failed "):
            address, _, reason = text[len("failed ") :].partition(": ")
            return cls(address, reason)
        if text.startswith("failed: "):
            return cls("", text[len("failed: ") :])
        return cls(text)


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


def parse_ts(text: str) -> datetime:
    """Stored text back to an aware datetime (UTC)."""
    return datetime.fromisoformat(text)


def parse_ts_or_none(text: str | None) -> datetime | None:
    """`parse_ts`, passing None through."""
    return None if text is None else datetime.fromisoformat(text)


# --- rows -------------------------------------------------------------------------------


def story_from_row(row: dict[str, Any], outlets: list[dict[str, Any]]) -> Story:
    """A `stories` row and its `story_sources` rows as a Story."""
    return Story(
        id=StoryId(row["id"]),
        title=row["title"],
        url=row["url"],
        first_source=row["first_source"],
        first_seen=parse_ts(row["first_seen"]),
        published=parse_ts_or_none(row["published"]),
        updated=parse_ts(row["updated"]),
        watches=tuple(json.loads(row["watches"])),
        snippet=row["snippet"],
        outlets=tuple(
            Outlet(o["source"], o["url"], o["title"], parse_ts(o["seen_at"])) for o in outlets
        ),
        published_date_only=row["published"] is not None and bool(row["published_date_only"]),
        related_to=StoryId(row["related_to"]) if row.get("related_to") is not None else None,
    )


def outbox_row_from(row: dict[str, Any]) -> OutboxRow:
    """An `outbox` row as an OutboxRow."""
    return OutboxRow(
        id=row["id"],
        story_id=StoryId(row["story_id"]),
        channel=row["channel"],
        recipient=row["recipient"],
        watches=tuple(json.loads(row["watches"])),
        snippet=row["snippet"],
        state=row["state"],
        attempts=row["attempts"],
        next_attempt=parse_ts(row["next_attempt"]),
        last_error=row["last_error"],
        created=parse_ts(row["created"]),
        finished=parse_ts_or_none(row["finished"]),
        message_ref=row["message_ref"],
        seen_item_id=row["seen_item_id"],
        muted=bool(row["muted"]),
        outlets_shown=row["outlets_shown"],
        topic=row["topic"] or None,
    )


def chat_from_row(row: dict[str, Any]) -> Chat:
    """A `chats` row as a Chat."""
    return Chat(
        chat_id=row["chat_id"],
        kind=row["kind"],
        title=row["title"],
        first_seen=parse_ts(row["first_seen"]),
        last_seen=parse_ts(row["last_seen"]),
        active=bool(row["active"]),
        allowed=bool(row["allowed"]),
        paused=bool(row["paused"]),
        muted_until=parse_ts_or_none(row["muted_until"]),
    )
