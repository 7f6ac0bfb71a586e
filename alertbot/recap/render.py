"""How a recap reads: plain text, one Telegram HTML message, and an email.

    recap_subject(recap)                 the email subject: the date and the counts
    recap_text(recap)                    plain text (the email's text part, --print)
    recap_telegram_html(recap)           one Telegram HTML message, cut to fit
    recapemail_message(recap, sender=, to=, now=)   the email (text and RTL HTML)

A plain-text recap reads like this:

    Recap 2025-03-01: 2 stories from 3 outlets, 2 watches
    2025-03-01 00:00 – 2025-03-02 00:00 (Africa/Cairo)

    == Naryshkin: 1 story ==

    السيسي يستقبل ناريشكين في القاهرة
    https://ahram.example/1
    Ahram, Youm7 · 14:05
    « استقبل الرئيس السيسي اليوم ناريشكين… »

The Telegram form follows the alert's conventions (`alertbot.notify.telegram_html`):
outside text escaped and isolated, an http(s) title linked, matches in bold; past its budget
the oldest stories of the largest sections give way to "… and N more". The email uses the
alert email's building blocks (`alertbot.notify.mail`), right to left throughout. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage

from alertbot.notify.layout import (
    ELLIPSIS,
    FSI,
    LRM,
    PDI,
    clean_snippet,
    clean_text,
    clip,
    direction_mark,
    esc,
    isolate,
    linkable,
    local_time,
    shorten,
    shorten_quote,
    shown_time,
)
from alertbot.notify.mail import (
    H1,
    H2,
    META,
    STORY,
    TITLE,
    P,
    bdi,
    document,
    email_message,
    ltr,
    names,
    nowrap,
    quote_html,
    rtl_text,
    title_html,
)
from alertbot.notify.telegram_html import RELATED, TELEGRAM_LIMIT, visible_length
from alertbot.recap.build import NO_WATCH, Recap, RecapSection, RecapStory

RECAP_CHARS = 3800

_TITLE_CHARS = 200
_QUOTE_CHARS = 300
_WATCH_CHARS = 48
_OUTLET_CHARS = 40
_OUTLETS_SHOWN = 3
_URL_TEXT_CHARS = 120
_NAME_CHARS = 60


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


def window_line(recap: Recap) -> str:
    """The recap's period in its local time."""
    start = local_time(recap.start, recap.timezone)
    return f"{start} – {local_time(recap.end, recap.timezone, zone=True)}"


def _nothing(recap: Recap) -> str:
    start = local_time(recap.start, recap.timezone)
    end = local_time(recap.end, recap.timezone, zone=True)
    return f"Nothing matched your watches between {start} and {end}."


def story_time(story: RecapStory, recap: Recap) -> str:
    """HH:MM in the recap's zone, with the date when it is not the recap's day; the date
    alone (YYYY-MM-DD) when the outlet gave no time of day."""
    if story.date_only:
        return shown_time(story.when, recap.timezone, date_only=True)
    local = story.when.astimezone(recap.timezone)
    same_day = local.date().isoformat() == recap.date_key
    return f"{local:%H:%M}" if same_day else f"{local:%Y-%m-%d %H:%M}"


def _section_heading(section: RecapSection) -> str:
    return f"{clean_text(section.watch)}: " + plural(section.count, "story", "stories")


SPARKS = "▁▂▃▅▇"


def sparkline(counts: Sequence[int]) -> str:
    """Stories per day as blocks, the lowest for none and the highest for the busiest day."""
    top = max(counts, default=0)
    if top == 0:
        return SPARKS[0] * len(counts)
    steps = len(SPARKS) - 1
    return "".join(SPARKS[0] if n == 0 else SPARKS[max(1, -(-n * steps // top))] for n in counts)


def trend_line(recap: Recap, section: RecapSection) -> str:
    """ "▁▁▂▁▇▅ 23 in 14 days" for a watch ("" when the recap has no trend for it)."""
    days = recap.trends.get(section.watch)
    if not days:
        return ""
    return f"{sparkline(days)} {sum(days)} in {len(days)} days"


# --- plain text ----------------------------------------------------------------------------


def recap_text(recap: Recap) -> str:
    """The recap as plain text: counts, the period, then each watch and its stories."""
    if recap.empty:
        return _nothing(recap)
    blocks = [f"Recap {recap.date_key}: {counts_line(recap)}\n{window_line(recap)}"]
    for section in recap.sections:
        heading = f"== {_section_heading(section)} =="
        if trend := trend_line(recap, section):
            heading += f"\n{trend}"
        blocks.append(heading)
        blocks.extend(_text_entry(story, recap) for story in section.stories)
    return "\n\n".join(blocks) + "\n"


def _text_entry(story: RecapStory, recap: Recap, depth: int = 0) -> str:
    lead = "  " * depth + ("↳ related: " if depth else "")
    lines = [lead + (clean_text(story.title) or "(no title)")]
    if url := clean_text(story.url):
        lines.append(url)
    outlets = ", ".join(o for o in (clean_text(o) for o in story.outlets) if o)
    lines.append(f"{outlets} · {story_time(story, recap)}" if outlets else story_time(story, recap))
    if quote := clean_text(story.snippet.text):
        lines.append(f"« {quote} »")
    indent = "  " * depth
    entry = "\n".join([lines[0], *(indent + line for line in lines[1:])])
    below = (_text_entry(f, recap, depth + 1) for f in story.follow_ups)
    return "\n".join([entry, *below])


# --- Telegram ------------------------------------------------------------------------------


def recap_telegram_html(recap: Recap, *, max_chars: int = RECAP_CHARS) -> str:
    """The recap as one Telegram HTML message of at most `max_chars` visible characters
    (never over Telegram's 4096): past it, the oldest stories of the largest sections are
    dropped and counted ("… and N more"), then, if need be, the last sections."""
    if recap.empty:
        return esc(_nothing(recap))
    limit = min(max_chars, TELEGRAM_LIMIT)
    heading = f"<b>{esc(f'Recap {recap.date_key}: {counts_line(recap)}')}</b>"
    heads = [_html_heading_with_trend(s, recap) for s in recap.sections]
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
            blocks.append(esc(_more(len(entries[i]) - kept[i])))
    if shown < len(heads):
        blocks.append(esc(_more_watches(len(heads) - shown)))
    return "\n\n".join(blocks)


def _more(count: int) -> str:
    return f"{ELLIPSIS} and {count} more"


def _more_watches(count: int) -> str:
    return f"{ELLIPSIS} and {plural(count, 'more watch', 'more watches')}"


def _html_heading(section: RecapSection) -> str:
    # The name is isolated; the English count after it sets the line left to right.
    name = clip(section.watch, _WATCH_CHARS) or NO_WATCH
    stories = plural(section.count, "story", "stories")
    return f"<b>{esc(isolate(name))}</b> — {stories}"


def _html_heading_with_trend(section: RecapSection, recap: Recap) -> str:
    # The blocks run left to right as the days do: isolated, after a left-to-right mark.
    trend = trend_line(recap, section)
    heading = _html_heading(section)
    return f"{heading}\n{LRM}{esc(isolate(trend))}" if trend else heading


def _html_entry(story: RecapStory, recap: Recap, depth: int = 0) -> str:
    """Linked title, outlets · time, quote with the matches in bold: one line each; the
    story's follow-ups after it, each led by an arrow."""
    title = clip(story.title, _TITLE_CHARS) or "(no title)"
    if depth:
        title = f"{RELATED} {title}"
    quote = shorten_quote(clean_snippet(story.snippet), _QUOTE_CHARS)
    m = direction_mark(title, quote.text)
    url = clean_text(story.url)
    if linkable(url):
        lines = [f'{m}<a href="{esc(url)}">{esc(isolate(title))}</a>']
    else:
        lines = [f"{m}{esc(isolate(title))}"]
        if url:
            lines.append(f"{m}{esc(isolate(shorten(url, _URL_TEXT_CHARS)))}")
    lines.append(f"{m}{esc(_outlets(story.outlets))}{isolate(story_time(story, recap))}")
    if quote.text:
        body = quote.render(lambda s: f"<b>{esc(s)}</b>", esc)
        lines.append(f"{m}{FSI}« {body} »{PDI}")
    below = (_html_entry(f, recap, depth + 1) for f in story.follow_ups)
    return "\n".join(["\n".join(lines), *below])


def _outlets(outlets: Sequence[str]) -> str:
    """ "A, B, C (+N) · " with the names isolated; "" when there are none."""
    shown = [n for n in (clip(o, _OUTLET_CHARS) for o in outlets) if n]
    if not shown:
        return ""
    text = ", ".join(isolate(n) for n in shown[:_OUTLETS_SHOWN])
    if len(shown) > _OUTLETS_SHOWN:
        text += f" (+{len(shown) - _OUTLETS_SHOWN})"
    return text + " · "


# --- email -------------------------------------------------------------------------------


def recap_message(recap: Recap, *, sender: str, to: str, now: datetime) -> EmailMessage:
    """The recap as an email: the date and counts in the subject, a note when empty."""
    subject = recap_subject(recap)
    return email_message(
        subject,
        rtl_text(recap_text(recap)),
        _recap_html(recap, subject),
        sender=sender,
        to=to,
        now=now,
    )


def _recap_html(recap: Recap, subject: str) -> str:
    """Counts and period on top, then one section per watch, newest story first."""
    if recap.empty:
        return document(subject, [f'<p style="{P}">{bdi(recap_text(recap).strip())}</p>'])
    blocks = [
        f'<h1 style="{H1}">{bdi(f"Recap {recap.date_key}: {counts_line(recap)}")}</h1>',
        f'<p style="{META}">{ltr(window_line(recap))}</p>',
    ]
    for section in recap.sections:
        name = clip(section.watch, _NAME_CHARS) or NO_WATCH
        count = plural(section.count, "story", "stories")
        blocks.append(f'<h2 style="{H2}">{bdi(name)} — {bdi(count)}</h2>')
        if trend := trend_line(recap, section):
            blocks.append(f'<p style="{META}">{ltr(trend)}</p>')
        blocks.extend(_recap_story(story, recap) for story in section.stories)
    return document(subject, blocks)


def _recap_story(story: RecapStory, recap: Recap, depth: int = 0) -> str:
    title = f"{RELATED} {story.title}" if depth else story.title
    blocks = title_html(title, story.url, TITLE)
    outlets = " · ".join(nowrap(n) for n in names(story.outlets))
    when = ltr(story_time(story, recap))
    blocks.append(f'<p style="{META}">{f"{outlets} · {when}" if outlets else when}</p>')
    blocks += quote_html(story.snippet)
    blocks += [_recap_story(f, recap, depth + 1) for f in story.follow_ups]
    # A follow-up is indented under its story, on the reading side (right).
    style = f"{STORY};margin-right:{24 if depth else 0}px"
    return f'<div style="{style}">\n' + "\n".join(blocks) + "\n</div>"
