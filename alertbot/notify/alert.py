"""`Alert`: everything one message about a story says, built from an outbox row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alertbot.snippet import Snippet
from alertbot.store.model import OutboxRow, Outlet, Story


@dataclass(frozen=True)
class Alert:
    """One story for one recipient: the watches it matched, where it was read, the quote."""

    outbox_id: int
    story_id: int
    channel: str
    recipient: str
    watches: tuple[str, ...]
    title: str
    url: str
    outlet: str
    published: datetime  # when the outlet published it (or when alertbot first saw it)
    snippet: Snippet
    also: tuple[str, ...]  # other outlets that carried the story, in order
    attempts: int  # delivery attempts made before this one
    last_error: str | None = None  # why the last attempt failed

    @classmethod
    def build(cls, row: OutboxRow, story: Story, item: Outlet | None) -> Alert:
        """The alert for an outbox row; `item` is the article that queued it (None once
        pruned: the story's first outlet stands in)."""
        item = item or (story.outlets[0] if story.outlets else None)
        if item is None:
            item = Outlet(story.first_source, story.url, story.title, story.first_seen)
        others = tuple(dict.fromkeys(o.source for o in story.outlets if o.source != item.source))
        return cls(
            outbox_id=row.id,
            story_id=row.story_id,
            channel=row.channel,
            recipient=row.recipient,
            watches=row.watches or story.watches,
            title=item.title,
            url=item.url,
            outlet=item.source,
            published=item.seen_at,
            snippet=Snippet.from_json(row.snippet),
            also=others,
            attempts=row.attempts,
            last_error=row.last_error,
        )
