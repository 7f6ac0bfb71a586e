"""What a recap lists: every story alerted in a period, grouped by watch.

    day_bounds(date_key, tz)             one local day as (start, end), DST-correct, in UTC
    build_recap(store, start, end, tz)   -> Recap: the stories, sections and counts

A story is in the recap when an outbox row for it was created in the period, whatever
became of the row: sent, pending, failed, or held for a muted chat (a muted chat's matches
go to the recap instead). A story under two watches is listed under both and counted once.
Building reads the store (`Store.alerted_stories`); rendering is `alertbot.recap.render`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from alertbot.stories import StoryId
from alertbot.watch.snippet import Snippet

if TYPE_CHECKING:
    from alertbot.store import Store

NO_WATCH = "(no watch)"  # a row that names no watch (should not happen) is still listed
TREND_DAYS = 14


@dataclass(frozen=True)
class RecapStory:
    """One alerted story as the recap lists it."""

    story_id: StoryId
    title: str
    url: str
    outlets: tuple[str, ...]  # outlet names, in the order they carried it
    first_seen: datetime
    published: datetime | None
    snippet: Snippet
    watches: tuple[str, ...]
    published_date_only: bool = False  # `published` is a day, its time of day unknown
    related_to: StoryId | None = None  # the earlier story it follows up
    follow_ups: tuple[RecapStory, ...] = ()  # related stories listed under it, oldest first

    @property
    def when(self) -> datetime:
        """The time shown and sorted on: published, else first seen (as alerts show)."""
        return self.published or self.first_seen

    @property
    def date_only(self) -> bool:
        """True when `when` is a day whose time of day the outlet did not give."""
        return self.published is not None and self.published_date_only


@dataclass(frozen=True)
class RecapSection:
    """The stories of one watch, newest first."""

    watch: str
    stories: tuple[RecapStory, ...]

    @property
    def count(self) -> int:
        """Its stories, the follow-ups listed under them included."""
        return sum(_size(s) for s in self.stories)


@dataclass(frozen=True)
class Recap:
    """Every story alerted in `[start, end)`, grouped by watch.

    `sections` go from the watch with most stories to the fewest, ties by name.
    """

    date_key: str  # the local date (YYYY-MM-DD) the recap is for
    start: datetime
    end: datetime
    timezone: ZoneInfo
    sections: tuple[RecapSection, ...]
    story_count: int  # distinct stories
    outlet_count: int  # distinct outlets
    # Each watch's stories per local day over the last TREND_DAYS days, oldest first, the
    # recap's own day last: a surge shows at a glance.
    trends: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when nothing matched in the period."""
        return self.story_count == 0


def day_bounds(date_key: str, timezone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of `date_key` to the next local midnight, as UTC datetimes.

    A day is 23 or 25 hours long when the clocks change. The ends are returned in UTC
    because subtracting two datetimes that share a zoneinfo ignores the change.
    """
    day = date.fromisoformat(date_key)
    start = datetime.combine(day, time(), tzinfo=timezone)
    end = datetime.combine(date.fromordinal(day.toordinal() + 1), time(), tzinfo=timezone)
    return start.astimezone(UTC), end.astimezone(UTC)


def build_recap(
    store: Store,
    start: datetime,
    end: datetime,
    timezone: ZoneInfo,
    *,
    recipient: tuple[str, str] | None = None,
    date_key: str | None = None,
) -> Recap:
    """The stories alerted in `[start, end)`, to anyone or to `recipient` = (channel,
    address) only; `date_key` defaults to the local date of `start`."""
    stories: list[RecapStory] = []
    for story, rows in store.alerted_stories(start, end, recipient):
        names = dict.fromkeys(n for row in rows for n in row.watches) or dict.fromkeys(
            story.watches
        )
        quotes = (Snippet.from_json(row.snippet) for row in rows)
        snippet = next((q for q in quotes if q.text), None) or Snippet.from_json(story.snippet)
        stories.append(
            RecapStory(
                story_id=story.id,
                title=story.title,
                url=story.url,
                outlets=tuple(dict.fromkeys(o.source for o in story.outlets)),
                first_seen=story.first_seen,
                published=story.published,
                snippet=snippet,
                watches=tuple(names) or (NO_WATCH,),
                published_date_only=story.published_date_only,
                related_to=story.related_to,
            )
        )
    by_watch: dict[str, list[RecapStory]] = defaultdict(list)
    for listed in _threaded(stories):
        for name in listed.watches:
            by_watch[name].append(listed)
    sections = [
        RecapSection(name, tuple(sorted(items, key=_newest_first)))
        for name, items in by_watch.items()
    ]
    sections.sort(key=lambda s: (-s.count, s.watch.casefold(), s.watch))
    return Recap(
        date_key=date_key or start.astimezone(timezone).date().isoformat(),
        start=start,
        end=end,
        timezone=timezone,
        sections=tuple(sections),
        story_count=len(stories),
        outlet_count=len({o for s in stories for o in s.outlets}),
        trends=_trends(store, end, timezone, recipient),
    )


def _threaded(stories: list[RecapStory]) -> list[RecapStory]:
    """The stories with each follow-up listed under the story it relates to (when that one
    is in the recap too), rather than on its own."""
    ids = {s.story_id for s in stories}
    children: dict[StoryId, list[RecapStory]] = defaultdict(list)
    for story in stories:
        if story.related_to is not None and story.related_to in ids:
            children[story.related_to].append(story)

    def with_follow_ups(story: RecapStory, depth: int = 0) -> RecapStory:
        below = sorted(children.get(story.story_id, ()), key=lambda s: s.when)
        if depth >= 10:  # a chain of follow-ups is shown ten deep at most
            below = []
        return replace(story, follow_ups=tuple(with_follow_ups(c, depth + 1) for c in below))

    return [with_follow_ups(s) for s in stories if s.related_to not in ids]


def _trends(
    store: Store, end: datetime, timezone: ZoneInfo, recipient: tuple[str, str] | None
) -> dict[str, tuple[int, ...]]:
    """Stories per local day and watch, for the TREND_DAYS days ending with `end`'s day."""
    last_day = (end - timedelta(microseconds=1)).astimezone(timezone).date()
    first_day = last_day - timedelta(days=TREND_DAYS - 1)
    start = datetime.combine(first_day, time(), tzinfo=timezone).astimezone(UTC)
    counts: dict[str, list[int]] = {}
    for story, rows in store.alerted_stories(start, end, recipient):
        names = dict.fromkeys(n for row in rows for n in row.watches) or dict.fromkeys(
            story.watches
        )
        first = min(row.created for row in rows).astimezone(timezone).date()
        index = (first - first_day).days
        if not 0 <= index < TREND_DAYS:
            continue
        for name in names or (NO_WATCH,):
            counts.setdefault(name, [0] * TREND_DAYS)[index] += 1
    return {name: tuple(days) for name, days in counts.items()}


def _size(story: RecapStory) -> int:
    return 1 + sum(_size(f) for f in story.follow_ups)


def _newest_first(story: RecapStory) -> tuple[float, int]:
    return (-story.when.timestamp(), -story.story_id)
