"""`Alert`: everything one message about a story says, built from an outbox row.

Alert.build(row, story, item)   from the rows
alert_for(store, row)           read from the store (on its thread); None once the
                                story is gone
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alertbot.store import OutboxRow, Outlet, Store, Story
from alertbot.stories import StoryId
from alertbot.watch.snippet import Snippet


@dataclass(frozen=True)
class Alert:
    """One story for one recipient: the watches it matched, where it was read, the quote."""

    outbox_id: int
    story_id: StoryId
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
    date_only: bool = False  # `published` is a day: the outlet gave no time of day
    related_to: StoryId | None = None  # the earlier story this one follows up
    related_title: str | None = None  # that story's title
    topic: int | None = None  # the forum topic (message thread id) of the chat it goes to

    @classmethod
    def build(
        cls, row: OutboxRow, story: Story, item: Outlet | None, earlier: Story | None = None
    ) -> Alert:
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
            date_only=item.date_only,
            related_to=story.related_to,
            related_title=earlier.title if earlier is not None else None,
            topic=row.topic,
        )


def alert_for(store: Store, row: OutboxRow) -> Alert | None:
    """The alert an outbox row stands for, or None once its story is gone."""
    story = store.story(row.story_id)
    if story is None:
        return None
    item = store.item_outlet(row.seen_item_id) if row.seen_item_id else None
    earlier = store.story(story.related_to) if story.related_to is not None else None
    return Alert.build(row, story, item, earlier)
