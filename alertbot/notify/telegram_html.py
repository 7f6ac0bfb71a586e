"""How an alert reads in Telegram: HTML for parse mode "HTML", and a plain-text fallback.

    alert_html(alert, tz)     one alert: watches, linked title, outlet · time, quote, also
    alert_plain(alert, tz)    the same without markup, for when Telegram rejects the HTML
    also_line(outlets)        "also: A, B, C (+2)", for the edit that adds late outlets
    backlog_html(alerts, tz)  one grouped message for a chat with a backlog
    backlog_plain(alerts, tz) its fallback
    visible_length(html)      the length Telegram counts: UTF-16 units after entity parsing

A message looks like this (the bell and the watch names in bold, the title a link):

    🔔 Naryshkin · El-Dabaa nuclear plant
    السيسي يستقبل ناريشكين في القاهرة
    Ahram Online · 2025-03-12 14:05
    « استقبل الرئيس السيسي اليوم ناريشكين مدير جهاز المخابرات… »
    also: Al-Masry Al-Youm, Youm7, SIS (+2)

Everything that comes from outside (titles, outlets, watch names, quotes, URLs) is escaped
with `html.escape(..., quote=True)`; the only tags are ours: `<b>` and `<a href>`. Only an
http(s) URL becomes a link; anything else (`javascript:`, `tg:`...) is shown as text.
Lengths are budgeted on the plain text *before* escaping, so a cut never lands inside an
entity or a tag. A message aims under `max_chars` (700) visible characters by shortening
the quote first (at a word, with "…", keeping the first match), then the title, and is
never over Telegram's 4096 UTF-16 units: watch names, outlet names and shown URLs are
capped, and the quote and title give way to whatever is left.

Bidi. Telegram lays out each line (paragraph) by its first strong character, and neutral
characters between runs of different direction (" · ", ":", digits, "(+3)") take the
direction of the paragraph, which is how "Ahram Online · 2025-03-12" next to an Arabic
title comes out as "2025-03-12 · Ahram Online" or "(3+)". So:

* Every string from outside is wrapped in a first-strong isolate, FSI…PDI (U+2068/U+2069):
  it is laid out as one unit by its own first letter, and its neighbours see one neutral.
  Our own timestamp is isolated too (digits only: it resolves left to right), so date and
  time stay in order inside a right-to-left line.
* Every line we compose starts with a direction mark for the whole message, RLM (U+200F)
  when the title's first letter is right to left (Arabic), else LRM (U+200E). The isolates
  hide their content from the paragraph's direction search, so without a mark a line such
  as "⁨Ahram Online⁩ · ⁨time⁩" would fall back to the client's default; with it, all lines
  of an Arabic alert run right to left and line up on the right.
* English UI lines ("also: …", the backlog heading) start with a Latin letter and need no
  mark: they are left to right, and the isolated outlet names inside keep their own order.
* URLs stay inside the href, with no isolate (a control character there breaks the link);
  in the plain fallback the URL has a line of its own, bare, so Telegram can link it.
* Outside text loses its own embedding, override and isolate controls (U+202A-202E,
  U+2066-2069): an unpaired PDI or RLO in a title would otherwise close our isolate or
  reverse the rest of the line. Marks (LRM, RLM, ALM) are harmless and kept.

The isolates and marks are characters: each counts one unit toward the limits, and the
budget counts them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from alertbot.notify.alert import Alert
from alertbot.notify.layout import (
    BELL,
    ELLIPSIS,
    FSI,
    PDI,
    aware,
    clean_snippet,
    clean_text,
    clip,
    direction_mark,
    esc,
    isolate,
    linkable,
    shorten,
    shorten_quote,
    shown_time,
    u16,
)
from alertbot.watch.snippet import Snippet

TELEGRAM_LIMIT = 4096  # UTF-16 code units of message text, after entity parsing
BACKLOG_CHARS = 3500
RELATED = "↪️"  # leads an alert that follows up a story the chat was alerted about

_WATCH_CHARS = 48  # one watch name
_WATCHES_CHARS = 160  # the whole watch-name line, before "(+N)"
_OUTLET_CHARS = 60
_ALSO_CHARS = 40  # one outlet name in the "also" line
_URL_TEXT_CHARS = 120  # a URL shown as text in HTML (not linkable)
_PLAIN_URL_CHARS = 1000  # the URL line of the plain fallback
_MIN_TITLE = 60  # the title is cut below this only to stay under Telegram's limit
_QUOTE_CONTEXT = 60  # words kept around the first match when the quote is cut for room
_BACKLOG_TITLE = 120
_BACKLOG_WATCHES = 60
_BACKLOG_OUTLET = 40
_BACKLOG_URL = 300

_TAG = re.compile(r"<[^>]*>")


def visible_length(html_text: str) -> int:
    """UTF-16 code units of the text Telegram shows: tags stripped, entities decoded."""
    return u16(html.unescape(_TAG.sub("", html_text)))


def also_line(outlets: Sequence[str], shown: int = 3) -> str:
    """ "also: A, B, C (+N)" for the other outlets (plain, unescaped, names isolated);
    "" when there are none."""
    names = [clip(n, _ALSO_CHARS) for n in outlets]
    names = [n for n in names if n]
    if not names:
        return ""
    shown = max(1, shown)
    text = "also: " + ", ".join(isolate(n) for n in names[:shown])
    if len(names) > shown:
        text += f" (+{len(names) - shown})"
    return text


def alert_html(alert: Alert, timezone: ZoneInfo, *, max_chars: int = 700) -> str:
    """The alert as Telegram HTML, aimed under `max_chars` visible characters."""
    return _fit_alert(_Parts.of(alert, timezone), max_chars, html_mode=True)


def alert_plain(alert: Alert, timezone: ZoneInfo, *, max_chars: int = 700) -> str:
    """The alert as plain text (no parse mode): the fallback when the HTML is refused."""
    return _fit_alert(_Parts.of(alert, timezone), max_chars, html_mode=False)


def backlog_html(
    alerts: Sequence[Alert], timezone: ZoneInfo, *, max_chars: int = BACKLOG_CHARS
) -> str:
    """One Telegram HTML message for many pending alerts: newest last, earliest dropped
    (and counted) past `max_chars`."""
    return _backlog(alerts, timezone, max_chars, html_mode=True)


def backlog_plain(
    alerts: Sequence[Alert], timezone: ZoneInfo, *, max_chars: int = BACKLOG_CHARS
) -> str:
    """The backlog message as plain text, the fallback of `backlog_html`."""
    return _backlog(alerts, timezone, max_chars, html_mode=False)


# --- one alert ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parts:
    """An alert's fields cleaned to one line each, the short ones capped."""

    mark: str  # RLM or LRM: the direction of every line we compose
    watches: str  # isolated names joined by " · "
    title: str
    url: str
    linkable: bool
    outlet: str
    time: str
    quote: Snippet
    also: str
    lead: str  # the first line's sign: the bell, or the follow-up arrow of a related alert

    @classmethod
    def of(cls, alert: Alert, timezone: ZoneInfo) -> _Parts:
        title = clean_text(alert.title) or "(no title)"
        quote = clean_snippet(alert.snippet)
        url = clean_text(alert.url)
        return cls(
            mark=direction_mark(title, quote.text),
            watches=_watch_names(alert.watches, _WATCH_CHARS, _WATCHES_CHARS),
            title=title,
            url=url,
            linkable=linkable(url),
            outlet=clip(alert.outlet, _OUTLET_CHARS),
            time=shown_time(alert.published, timezone, date_only=alert.date_only),
            quote=quote,
            also=also_line(alert.also),
            lead=RELATED if alert.related_to is not None else BELL,
        )


def _fit_alert(parts: _Parts, max_chars: int, *, html_mode: bool) -> str:
    """The alert with the quote, then the title, shortened to the budget."""
    compose = _alert_html if html_mode else _alert_plain

    def over(title: str, quote: Snippet, limit: int) -> int:
        text = compose(parts, title, quote)
        return (visible_length(text) if html_mode else u16(text)) - limit

    title, quote = parts.title, parts.quote
    aim = min(max_chars, TELEGRAM_LIMIT)
    # Aim: the quote keeps its first match with some context, the title a readable head.
    if (excess := over(title, quote, aim)) > 0:
        floor = _quote_floor(quote)
        quote = shorten_quote(quote, max(u16(quote.text) - excess, floor))
    if (excess := over(title, quote, aim)) > 0:
        title = shorten(title, max(u16(title) - excess, _MIN_TITLE))
    # Never over Telegram's limit: the quote, then the title, give way entirely.
    if (excess := over(title, quote, TELEGRAM_LIMIT)) > 0:
        quote = shorten_quote(quote, max(u16(quote.text) - excess, 0))
    if (excess := over(title, quote, TELEGRAM_LIMIT)) > 0:
        title = shorten(title, max(u16(title) - excess, 1))
    return compose(parts, title, quote)


def _alert_html(parts: _Parts, title: str, quote: Snippet) -> str:
    m = parts.mark
    lines = [f"{m}<b>{f'{parts.lead} {esc(parts.watches)}'.rstrip()}</b>{_related(parts)}"]
    if parts.linkable:
        lines.append(f'{m}<a href="{esc(parts.url)}">{esc(isolate(title))}</a>')
    else:
        lines.append(f"{m}{esc(isolate(title))}")
        if parts.url:
            lines.append(f"{m}{esc(isolate(shorten(parts.url, _URL_TEXT_CHARS)))}")
    lines.append(f"{m}{esc(isolate(parts.outlet))} · {isolate(parts.time)}")
    if quote.text:
        body = quote.render(lambda s: f"<b>{esc(s)}</b>", esc)
        lines.append(f"{m}{FSI}« {body} »{PDI}")
    if parts.also:
        lines.append(esc(parts.also))
    return "\n".join(lines)


def _alert_plain(parts: _Parts, title: str, quote: Snippet) -> str:
    m = parts.mark
    lines = [f"{m}{parts.lead} {parts.watches}".rstrip() + _related(parts), f"{m}{isolate(title)}"]
    if parts.url:
        lines.append(shorten(parts.url, _PLAIN_URL_CHARS))
    lines.append(f"{m}{isolate(parts.outlet)} · {isolate(parts.time)}")
    if quote.text:
        lines.append(f"{m}{isolate(f'« {quote.text} »')}")
    if parts.also:
        lines.append(parts.also)
    return "\n".join(lines)


# --- the backlog -------------------------------------------------------------------------


def _backlog(
    alerts: Sequence[Alert], timezone: ZoneInfo, max_chars: int, *, html_mode: bool
) -> str:
    """Heading, "… and N more earlier" when some did not fit, then entries, newest last."""
    size = visible_length if html_mode else u16
    limit = min(max_chars, TELEGRAM_LIMIT)
    ordered = sorted(alerts, key=lambda a: aware(a.published))
    noun = "alert" if len(ordered) == 1 else "alerts"
    heading = f"{BELL} {len(ordered)} {noun} while you were away"
    heading = f"<b>{heading}</b>" if html_mode else heading
    # Room for the longest "more" line it could need, so adding it never breaks the limit.
    room = limit - size(heading) - size(_more_line(len(ordered))) - 2
    kept: list[str] = []
    for alert in reversed(ordered):
        entry = _backlog_entry(alert, timezone, html_mode=html_mode)
        cost = size(entry) + 2  # the blank line before it
        if cost > room:
            break
        kept.append(entry)
        room -= cost
    blocks = [heading]
    if len(kept) < len(ordered):
        blocks.append(_more_line(len(ordered) - len(kept)))
    blocks.extend(reversed(kept))
    return "\n\n".join(blocks)


def _more_line(count: int) -> str:
    return f"{ELLIPSIS} and {count} more earlier"


def _backlog_entry(alert: Alert, timezone: ZoneInfo, *, html_mode: bool) -> str:
    title = shorten(clean_text(alert.title) or "(no title)", _BACKLOG_TITLE)
    m = direction_mark(title, "")
    names = _watch_names(alert.watches, _BACKLOG_WATCHES, _BACKLOG_WATCHES)
    outlet = clip(alert.outlet, _BACKLOG_OUTLET)
    time = shown_time(alert.published, timezone, date_only=alert.date_only)
    url = clean_text(alert.url)
    if not html_mode:
        lead = f"{names} — " if names else ""
        lines = [f"{m}{lead}{isolate(title)}", f"{m}{isolate(outlet)} · {isolate(time)}"]
        if url:
            lines.append(shorten(url, _BACKLOG_URL))
        return "\n".join(lines)
    if linkable(url):
        linked = f'<a href="{esc(url)}">{esc(isolate(title))}</a>'
    else:
        linked = esc(isolate(title))
    lead = f"<b>{esc(names)}</b> — " if names else ""
    return f"{m}{lead}{linked}\n{m}{esc(isolate(outlet))} · {isolate(time)}"


# --- helpers ------------------------------------------------------------------------------


def _related(parts: _Parts) -> str:
    """ " · related" on the first line of an alert that follows up an earlier story."""
    return " · related" if parts.lead == RELATED else ""


def _watch_names(watches: Sequence[str], each: int, total: int) -> str:
    """Isolated names joined by " · ", as many as fit in `total`, then "(+N)"."""
    names = [n for n in (clip(w, each) for w in watches) if n]
    shown: list[str] = []
    used = 0
    for name in names:
        cost = u16(name) + 2 + (3 if shown else 0)
        if shown and used + cost > total:
            break
        shown.append(isolate(name))
        used += cost
    text = " · ".join(shown)
    if len(shown) < len(names):
        text += f" (+{len(names) - len(shown)})"
    return text


def _quote_floor(quote: Snippet) -> int:
    """How short the quote may get while aiming: its first match and some context."""
    if not quote.marks:
        return min(u16(quote.text), _QUOTE_CONTEXT)
    start, end = quote.marks[0]
    return min(u16(quote.text), u16(quote.text[start:end]) + 2 + _QUOTE_CONTEXT)
