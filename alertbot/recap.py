"""The recap: every story alerted in a period, grouped by watch, and how it reads.

    day_bounds(date_key, tz)             one local day as (start, end), DST-correct, in UTC
    build_recap(store, start, end, tz)   -> Recap: the stories, sections and counts
    recap_subject(recap)                 the email subject: the date and the counts
    recap_text(recap)                    plain text, for email
    recap_telegram_html(recap)           one Telegram HTML message, cut to fit

A story is in the recap when an outbox row for it was created in the period, whatever
became of the row: sent, pending, failed, or held for a muted chat (a muted chat's matches
go to the recap instead). A story under two watches is listed under both and counted once.
Building reads the store; rendering is pure, and sending is the caller's business.

A plain-text recap reads like this:

    Recap 2025-03-01: 2 stories from 3 outlets, 2 watches
    2025-03-01 00:00 – 2025-03-02 00:00 (Africa/Cairo)

    == Naryshkin: 1 story ==

    السيسي يستقبل ناريشكين في القاهرة
    https://ahram.example/1
    Ahram, Youm7 · 14:05
    « استقبل الرئيس السيسي اليوم ناريشكين… »

The Telegram form follows `alertbot.bot.format`: outside text escaped and isolated, an
http(s) title linked, matches in bold; past its budget the oldest stories of the largest
sections give way to "… and N more".
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

# The Telegram conventions live in bot.format; its text helpers are reused so a recap and
# an alert clean, isolate and cut outside text the same way.
from alertbot.bot.format import (
    ELLIPSIS,
    FSI,
    PDI,
    TELEGRAM_LIMIT,
    clean_snippet,
    clean_text,
    direction_mark,
    linkable,
    shorten,
    shorten_quote,
    visible_length,
)
from alertbot.snippet import Snippet

if TYPE_CHECKING:
    from alertbot.store import Store

RECAP_CHARS = 3800
NO_WATCH = "(no watch)"  # a row that names no watch (should not happen) is still listed

_TITLE_CHARS = 200
_QUOTE_CHARS = 300
_WATCH_CHARS = 48
_OUTLET_CHARS = 40
_OUTLETS_SHOWN = 3
_URL_TEXT_CHARS = 120


@dataclass(frozen=True)
class RecapStory:
    """One alerted story as the recap lists it."""

    story_id: int
    title: str
    url: str
    outlets: tuple[str, ...]  # outlet names, in the order they carried it
    first_seen: datetime
    published: datetime | None
    snippet: Snippet
    watches: tuple[str, ...]

    @property
    def when(self) -> datetime:
        """The time shown and sorted on: published, else first seen (as alerts show)."""
        return self.published or self.first_seen


@dataclass(frozen=True)
class RecapSection:
    """The stories of one watch, newest first."""

    watch: str
    stories: tuple[RecapStory, ...]


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
            )
        )
    by_watch: dict[str, list[RecapStory]] = defaultdict(list)
    for story in stories:
        for name in story.watches:
            by_watch[name].append(story)
    sections = [
        RecapSection(name, tuple(sorted(items, key=_newest_first)))
        for name, items in by_watch.items()
    ]
    sections.sort(key=lambda s: (-len(s.stories), s.watch.casefold(), s.watch))
    return Recap(
        date_key=date_key or start.astimezone(timezone).date().isoformat(),
        start=start,
        end=end,
        timezone=timezone,
        sections=tuple(sections),
        story_count=len(stories),
        outlet_count=len({o for s in stories for o in s.outlets}),
    )


def _newest_first(story: RecapStory) -> tuple[float, int]:
    return (-story.when.timestamp(), -story.story_id)


# --- words ---------------------------------------------------------------------------------


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """ "1 story", "2 stories": the count with the noun in the right number."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def counts_line(recap: Recap) -> str:
    """The counts at the top of a recap: stories, outlets, watches."""
    stories = plural(recap.story_count, "story", "stories")
    return f"{stories} from {plural(recap.outlet_count, 'outlet')}, " + plural(
        len(recap.sections), "watch", "watches"
    )


def recap_subject(recap: Recap) -> str:
    """The email subject: "alertbot recap 2025-03-01: 7 stories, 3 watches"."""
    if recap.empty:
        return f"alertbot recap {recap.date_key}: nothing matched"
    stories = plural(recap.story_count, "story", "stories")
    return f"alertbot recap {recap.date_key}: {stories}, " + plural(
        len(recap.sections), "watch", "watches"
    )


def _local(moment: datetime, timezone: ZoneInfo) -> str:
    return f"{moment.astimezone(timezone):%Y-%m-%d %H:%M}"


def window_line(recap: Recap) -> str:
    """The recap's period in its local time."""
    start, end = _local(recap.start, recap.timezone), _local(recap.end, recap.timezone)
    return f"{start} – {end} ({recap.timezone.key})"


def _nothing(recap: Recap) -> str:
    start, end = _local(recap.start, recap.timezone), _local(recap.end, recap.timezone)
    return f"Nothing matched your watches between {start} and {end} ({recap.timezone.key})."


def story_time(story: RecapStory, recap: Recap) -> str:
    """HH:MM in the recap's zone, with the date when it is not the recap's day."""
    local = story.when.astimezone(recap.timezone)
    same_day = local.date().isoformat() == recap.date_key
    return f"{local:%H:%M}" if same_day else f"{local:%Y-%m-%d %H:%M}"


def _section_heading(section: RecapSection) -> str:
    return f"{clean_text(section.watch)}: " + plural(len(section.stories), "story", "stories")


# --- plain text ----------------------------------------------------------------------------


def recap_text(recap: Recap) -> str:
    """The recap as plain text: counts, the period, then each watch and its stories."""
    if recap.empty:
        return _nothing(recap)
    blocks = [f"Recap {recap.date_key}: {counts_line(recap)}\n{window_line(recap)}"]
    for section in recap.sections:
        blocks.append(f"== {_section_heading(section)} ==")
        blocks.extend(_text_entry(story, recap) for story in section.stories)
    return "\n\n".join(blocks) + "\n"


def _text_entry(story: RecapStory, recap: Recap) -> str:
    lines = [clean_text(story.title) or "(no title)"]
    if url := clean_text(story.url):
        lines.append(url)
    outlets = ", ".join(o for o in (clean_text(o) for o in story.outlets) if o)
    lines.append(f"{outlets} · {story_time(story, recap)}" if outlets else story_time(story, recap))
    if quote := clean_text(story.snippet.text):
        lines.append(f"« {quote} »")
    return "\n".join(lines)


# --- Telegram ------------------------------------------------------------------------------


def recap_telegram_html(recap: Recap, *, max_chars: int = RECAP_CHARS) -> str:
    """The recap as one Telegram HTML message of at most `max_chars` visible characters
    (never over Telegram's 4096): past it, the oldest stories of the largest sections are
    dropped and counted ("… and N more"), then, if need be, the last sections."""
    if recap.empty:
        return _esc(_nothing(recap))
    limit = min(max_chars, TELEGRAM_LIMIT)
    heading = f"<b>{_esc(f'Recap {recap.date_key}: {counts_line(recap)}')}</b>"
    heads = [_html_heading(s) for s in recap.sections]
    entries = [[_html_entry(story, recap) for story in s.stories] for s in recap.sections]
    sizes = [[visible_length(e) for e in section] for section in entries]
    kept = [len(section) for section in entries]
    kept_size = [sum(section) for section in sizes]
    head_sizes = [visible_length(h) for h in heads]
    shown = len(heads)

    def total() -> int:
        blocks = [visible_length(heading)]
        for i in range(shown):
            blocks.append(head_sizes[i])
            blocks.extend([kept_size[i]] if kept[i] else [])
            if kept[i] < len(entries[i]):
                blocks.append(len(_more(len(entries[i]) - kept[i])))
        if shown < len(heads):
            blocks.append(len(_more_watches(len(heads) - shown)))
        separators = 2 * (len(blocks) - 1 + sum(max(0, k - 1) for k in kept[:shown]))
        return sum(blocks) + separators

    while total() > limit:
        fullest = [i for i in range(shown) if kept[i]]
        if fullest:
            # The largest section gives up its oldest story; among equals, the later one.
            i = max(fullest, key=lambda i: (kept[i], i))
            kept[i] -= 1
            kept_size[i] -= sizes[i][kept[i]]
        elif shown:
            shown -= 1
        else:
            break
    blocks = [heading]
    for i in range(shown):
        blocks.append(heads[i])
        blocks.extend(entries[i][: kept[i]])
        if kept[i] < len(entries[i]):
            blocks.append(_esc(_more(len(entries[i]) - kept[i])))
    if shown < len(heads):
        blocks.append(_esc(_more_watches(len(heads) - shown)))
    return "\n\n".join(blocks)


def _more(count: int) -> str:
    return f"{ELLIPSIS} and {count} more"


def _more_watches(count: int) -> str:
    return f"{ELLIPSIS} and {plural(count, 'more watch', 'more watches')}"


def _html_heading(section: RecapSection) -> str:
    # The name is isolated; the English count after it sets the line left to right.
    name = shorten(clean_text(section.watch), _WATCH_CHARS) or NO_WATCH
    stories = plural(len(section.stories), "story", "stories")
    return f"<b>{_esc(_isolate(name))}</b> — {stories}"


def _html_entry(story: RecapStory, recap: Recap) -> str:
    """Linked title, outlets · time, quote with the matches in bold: one line each."""
    title = shorten(clean_text(story.title), _TITLE_CHARS) or "(no title)"
    quote = shorten_quote(clean_snippet(story.snippet), _QUOTE_CHARS)
    m = direction_mark(title, quote.text)
    url = clean_text(story.url)
    if linkable(url):
        lines = [f'{m}<a href="{_esc(url)}">{_esc(_isolate(title))}</a>']
    else:
        lines = [f"{m}{_esc(_isolate(title))}"]
        if url:
            lines.append(f"{m}{_esc(_isolate(shorten(url, _URL_TEXT_CHARS)))}")
    lines.append(f"{m}{_esc(_outlets(story.outlets))}{_isolate(story_time(story, recap))}")
    if quote.text:
        body = quote.render(lambda s: f"<b>{_esc(s)}</b>", _esc)
        lines.append(f"{m}{FSI}« {body} »{PDI}")
    return "\n".join(lines)


def _outlets(outlets: Sequence[str]) -> str:
    """ "A, B, C (+N) · " with the names isolated; "" when there are none."""
    names = [n for n in (shorten(clean_text(o), _OUTLET_CHARS) for o in outlets) if n]
    if not names:
        return ""
    text = ", ".join(_isolate(n) for n in names[:_OUTLETS_SHOWN])
    if len(names) > _OUTLETS_SHOWN:
        text += f" (+{len(names) - _OUTLETS_SHOWN})"
    return text + " · "


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _isolate(text: str) -> str:
    return f"{FSI}{text}{PDI}"
