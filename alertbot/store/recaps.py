"""What a recap reads (the stories alerted in a period, with the outbox rows that alerted
them), and the history of recaps sent, one row per local day.

A story counts as alerted in `[start, end)` when at least one outbox row for it was created
then, whatever became of the row (pending, sent, failed, or held for a muted chat): the
story matched, which is what a recap reports.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from alertbot.store.base import StoreBase
from alertbot.store.model import (
    OutboxRow,
    RecapDelivery,
    Story,
    outbox_row_from,
    parse_ts,
    story_from_row,
    ts,
)


class RecapsMixin(StoreBase):
    """The stories a recap lists, and the recaps sent."""

    def alerted_stories(
        self, start: datetime, end: datetime, recipient: tuple[str, str] | None = None
    ) -> list[tuple[Story, tuple[OutboxRow, ...]]]:
        """Stories with an outbox row created in `[start, end)`, each with those rows (oldest
        first); only the rows of `recipient` = (channel, address) when given.

        A story's outlets are those seen before `end`, so a recap built later for a past
        day names the outlets known that day. Stories come in id order.
        """
        where = "created >= ? AND created < ?"
        params: list[Any] = [ts(start), ts(end)]
        if recipient is not None:
            where += " AND channel = ? AND recipient = ?"
            params += list(recipient)
        with self._lock:
            rows = self._rows(f"SELECT * FROM outbox WHERE {where} ORDER BY id", params)
            wanted = f"(SELECT story_id FROM outbox WHERE {where})"
            stories = self._rows(f"SELECT * FROM stories WHERE id IN {wanted} ORDER BY id", params)
            outlets = self._rows(
                f"SELECT * FROM story_sources WHERE story_id IN {wanted} AND seen_at < ?"
                " ORDER BY story_id, seen_at, rowid",
                [*params, ts(end)],
            )
        by_story: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for outlet in outlets:
            by_story[outlet["story_id"]].append(outlet)
        rows_of: dict[int, list[OutboxRow]] = defaultdict(list)
        for row in rows:
            rows_of[row["story_id"]].append(outbox_row_from(row))
        return [(story_from_row(s, by_story[s["id"]]), tuple(rows_of[s["id"]])) for s in stories]

    # -- recaps ------------------------------------------------------------------------

    def recap_sent(self, date_key: str) -> bool:
        """True if the recap for this local date (YYYY-MM-DD) was sent."""
        return bool(self._value("SELECT 1 FROM recaps WHERE date_key = ?", (date_key,)))

    def record_recap(
        self, date_key: str, now: datetime, deliveries: Sequence[RecapDelivery]
    ) -> None:
        """Record that the recap for `date_key` was sent, and what became of each address."""
        stored = [{"address": d.address, "error": d.error} for d in deliveries]
        with self._write() as db:
            db.execute(
                "INSERT INTO recaps (date_key, sent_at, recipients) VALUES (?, ?, ?)"
                " ON CONFLICT (date_key) DO UPDATE SET sent_at = excluded.sent_at,"
                " recipients = excluded.recipients",
                (date_key, ts(now), json.dumps(stored, ensure_ascii=False)),
            )

    def recap_deliveries(self, date_key: str) -> list[RecapDelivery]:
        """Who the recap of `date_key` went to, and the refusals."""
        value = self._value("SELECT recipients FROM recaps WHERE date_key = ?", (date_key,))
        return [RecapDelivery.from_stored(entry) for entry in json.loads(value)] if value else []

    def last_recap(self) -> tuple[str, datetime] | None:
        """The date key and send time of the latest recap, for `alertbot status`."""
        rows = self._rows("SELECT date_key, sent_at FROM recaps ORDER BY date_key DESC LIMIT 1")
        return (rows[0]["date_key"], parse_ts(rows[0]["sent_at"])) if rows else None
