"""What a recap reads: the stories alerted in a period, with the outbox rows that alerted them.

A story counts as alerted in `[start, end)` when at least one outbox row for it was created
then, whatever became of the row (pending, sent, failed, or held for a muted chat): the
story matched, which is what a recap reports.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from alertbot.store.base import StoreBase
from alertbot.store.items import _story
from alertbot.store.model import OutboxRow, Story, ts
from alertbot.store.outbox import _outbox_row


class RecapsMixin(StoreBase):
    """The stories a recap lists."""

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
            rows_of[row["story_id"]].append(_outbox_row(row))
        return [(_story(s, by_story[s["id"]]), tuple(rows_of[s["id"]])) for s in stories]
