"""The outbox: alerts waiting to be delivered, and the log of what happened to them.

A dispatcher takes `due(now)` rows, sends each through its channel's notifier, and records
the result at once in its own transaction: `mark_sent`, or `mark_retry` with a later
`next_attempt`, or, when the attempts run out, `mark_failed` with the reason. A row is
never deleted while pending. Each mark also writes a `delivery_log` line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from alertbot.store.base import StoreBase
from alertbot.store.model import (
    CHANNELS,
    OutboxBacklog,
    OutboxRow,
    outbox_row_from,
    parse_ts_or_none,
    ts,
)
from alertbot.stories import StoryId


class OutboxMixin(StoreBase):
    """Pending alerts and their delivery."""

    def due(
        self, now: datetime, limit: int = 100, channels: Sequence[str] | None = None
    ) -> list[OutboxRow]:
        """Pending rows whose next attempt is at or before `now`, oldest first; only those
        of `channels` when given."""
        wanted = list(CHANNELS if channels is None else channels)
        marks = ", ".join("?" * len(wanted))
        rows = self._rows(
            "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt <= ?"
            f" AND channel IN ({marks}) ORDER BY next_attempt, id LIMIT ?",
            (ts(now), *wanted, limit),
        )
        return [outbox_row_from(r) for r in rows]

    def outbox_row(self, row_id: int) -> OutboxRow | None:
        """One outbox row, whatever its state."""
        rows = self._rows("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return outbox_row_from(rows[0]) if rows else None

    def mark_sent(self, row_id: int, now: datetime, message_ref: str | None = None) -> bool:
        """Record a delivery, in its own transaction; False if the row was not pending."""
        return self._transition(
            row_id,
            "state = 'sent', finished = ?, message_ref = ?, last_error = NULL",
            (ts(now), message_ref),
            "sent",
            now,
            message_ref=message_ref,
        )

    def mark_retry(self, row_id: int, error: str, now: datetime, next_attempt: datetime) -> bool:
        """Record a failed attempt and when to try again; False if the row was not pending."""
        return self._transition(
            row_id, "last_error = ?, next_attempt = ?", (error, ts(next_attempt)), "retry", now,
            error=error,
        )  # fmt: skip

    def mark_failed(self, row_id: int, error: str, now: datetime) -> bool:
        """Give up on a row, keeping the reason; False if the row was not pending."""
        return self._transition(
            row_id, "state = 'failed', last_error = ?, finished = ?", (error, ts(now)), "failed",
            now, error=error,
        )  # fmt: skip

    def _transition(
        self,
        row_id: int,
        assignments: str,
        values: tuple[Any, ...],
        event: str,
        now: datetime,
        **log: str | None,
    ) -> bool:
        """Count an attempt on a pending row, apply `assignments`, log `event`; one transaction."""
        with self._write() as db:
            changed = db.execute(
                f"UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL, {assignments}"
                " WHERE id = ? AND state = 'pending'",
                (*values, row_id),
            ).rowcount
            if changed:
                self._log(row_id, event, now, **log)
        return bool(changed)

    def pending_rows(
        self, channel: str, recipient: str, topic: int | None = None
    ) -> list[OutboxRow]:
        """One recipient's pending rows in one topic (None: the chat itself), oldest first
        (a backlog to group)."""
        rows = self._rows(
            "SELECT * FROM outbox WHERE state = 'pending' AND channel = ? AND recipient = ?"
            " AND topic = ? ORDER BY created, id",
            (channel, recipient, topic or 0),
        )
        return [outbox_row_from(r) for r in rows]

    def editable_rows(self, story_id: StoryId, channel: str, since: datetime) -> list[OutboxRow]:
        """Sent, unmuted rows of a story with a message to edit, sent since `since`."""
        rows = self._rows(
            "SELECT * FROM outbox WHERE story_id = ? AND channel = ? AND state = 'sent'"
            " AND muted = 0 AND message_ref IS NOT NULL AND finished >= ? ORDER BY id",
            (story_id, channel, ts(since)),
        )
        return [outbox_row_from(r) for r in rows]

    def set_outlets_shown(self, row_id: int, count: int) -> None:
        """Record how many outlets the sent message of a row now names."""
        with self._write() as db:
            db.execute("UPDATE outbox SET outlets_shown = ? WHERE id = ?", (count, row_id))

    def mute_row(self, row_id: int) -> bool:
        """Stop editing a sent alert (the reader muted its story); False if no such row."""
        with self._write() as db:
            return bool(db.execute("UPDATE outbox SET muted = 1 WHERE id = ?", (row_id,)).rowcount)

    def pending_count(self, channel: str | None = None) -> int:
        """How many rows wait for delivery (through `channel`, when given)."""
        if channel is None:
            return self._value("SELECT count(*) FROM outbox WHERE state = 'pending'")
        return self._value(
            "SELECT count(*) FROM outbox WHERE state = 'pending' AND channel = ?", (channel,)
        )

    def backlog(self) -> list[OutboxBacklog]:
        """What waits for delivery, per channel (each of `CHANNELS`, nothing waiting
        included): the count and the oldest row's creation time, for /metrics."""
        rows = self._rows(
            "SELECT channel, count(*) AS pending, min(created) AS oldest FROM outbox"
            " WHERE state = 'pending' GROUP BY channel"
        )
        found = {r["channel"]: r for r in rows}
        channels = [*CHANNELS, *sorted(set(found) - set(CHANNELS))]
        return [
            OutboxBacklog(c, found[c]["pending"], parse_ts_or_none(found[c]["oldest"]))
            if c in found
            else OutboxBacklog(c, 0, None)
            for c in channels
        ]

    def failed_rows(self, limit: int = 100) -> list[OutboxRow]:
        """Rows given up on, most recent first, for `alertbot status`."""
        rows = self._rows(
            "SELECT * FROM outbox WHERE state = 'failed' ORDER BY finished DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [outbox_row_from(r) for r in rows]

    def delivery_log(self, outbox_id: int) -> list[dict[str, Any]]:
        """The log lines of one outbox row, oldest first."""
        return self._rows(
            "SELECT event, at, message_ref, error FROM delivery_log WHERE outbox_id = ?"
            " ORDER BY id",
            (outbox_id,),
        )

    def _log(
        self,
        row_id: int,
        event: str,
        now: datetime,
        *,
        message_ref: str | None = None,
        error: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO delivery_log (outbox_id, story_id, channel, recipient, event, at,"
            " message_ref, error) SELECT id, story_id, channel, recipient, ?, ?, ?, ?"
            " FROM outbox WHERE id = ?",
            (event, ts(now), message_ref, error, row_id),
        )
