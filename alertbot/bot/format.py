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
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from alertbot.notify.alert import Alert
from alertbot.snippet import Snippet

TELEGRAM_LIMIT = 4096  # UTF-16 code units of message text, after entity parsing
BACKLOG_CHARS = 3500
ELLIPSIS = "…"
FSI, PDI = "\u2068", "\u2069"
LRM, RLM = "\u200e", "\u200f"
BELL = "🔔"

_WATCH_CHARS = 48  # one watch name
_WATCHES_CHARS = 160  # the whole watch-name line, before "(+N)"
_OUTLET_CHARS = 60
_ALSO_CHARS = 40  # one outlet name in the "also" line
_URL_TEXT_CHARS = 120  # a URL shown as text in HTML (not linkable)
_PLAIN_URL_CHARS = 1000  # the URL line of the plain fallback
_LINK_URL_CHARS = 2048  # longer URLs are not linked
_MIN_TITLE = 60  # the title is cut below this only to stay under Telegram's limit
_QUOTE_CONTEXT = 60  # words kept around the first match when the quote is cut for room
_BACKLOG_TITLE = 120
_BACKLOG_WATCHES = 60
_BACKLOG_OUTLET = 40
_BACKLOG_URL = 300

# Embedding, override and isolate controls: outside text must not open or close levels.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters a cut must not leave at the start of what follows: they attach to the
# previous character (harakat, variation selectors, zero-width joiner).
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")
_TAG = re.compile(r"<[^>]*>")


def visible_length(html_text: str) -> int:
    """UTF-16 code units of the text Telegram shows: tags stripped, entities decoded."""
    return _u16(html.unescape(_TAG.sub("", html_text)))


def also_line(outlets: Sequence[str], shown: int = 3) -> str:
    """ "also: A, B, C (+N)" for the other outlets (plain, unescaped, names isolated);
    "" when there are none."""
    names = [_clip(n, _ALSO_CHARS) for n in outlets]
    names = [n for n in names if n]
    if not names:
        return ""
    shown = max(1, shown)
    text = "also: " + ", ".join(_isolate(n) for n in names[:shown])
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
            outlet=_clip(alert.outlet, _OUTLET_CHARS),
            time=_local_time(alert.published, timezone),
            quote=quote,
            also=also_line(alert.also),
        )


def _fit_alert(parts: _Parts, max_chars: int, *, html_mode: bool) -> str:
    """The alert with the quote, then the title, shortened to the budget."""
    compose = _alert_html if html_mode else _alert_plain

    def over(title: str, quote: Snippet, limit: int) -> int:
        text = compose(parts, title, quote)
        return (visible_length(text) if html_mode else _u16(text)) - limit

    title, quote = parts.title, parts.quote
    aim = min(max_chars, TELEGRAM_LIMIT)
    # Aim: the quote keeps its first match with some context, the title a readable head.
    if (excess := over(title, quote, aim)) > 0:
        floor = _quote_floor(quote)
        quote = shorten_quote(quote, max(_u16(quote.text) - excess, floor))
    if (excess := over(title, quote, aim)) > 0:
        title = shorten(title, max(_u16(title) - excess, _MIN_TITLE))
    # Never over Telegram's limit: the quote, then the title, give way entirely.
    if (excess := over(title, quote, TELEGRAM_LIMIT)) > 0:
        quote = shorten_quote(quote, max(_u16(quote.text) - excess, 0))
    if (excess := over(title, quote, TELEGRAM_LIMIT)) > 0:
        title = shorten(title, max(_u16(title) - excess, 1))
    return compose(parts, title, quote)


def _alert_html(parts: _Parts, title: str, quote: Snippet) -> str:
    m = parts.mark
    lines = [f"{m}<b>{f'{BELL} {_esc(parts.watches)}'.rstrip()}</b>"]
    if parts.linkable:
        lines.append(f'{m}<a href="{_esc(parts.url)}">{_esc(_isolate(title))}</a>')
    else:
        lines.append(f"{m}{_esc(_isolate(title))}")
        if parts.url:
            lines.append(f"{m}{_esc(_isolate(shorten(parts.url, _URL_TEXT_CHARS)))}")
    lines.append(f"{m}{_esc(_isolate(parts.outlet))} · {_isolate(parts.time)}")
    if quote.text:
        body = quote.render(lambda s: f"<b>{_esc(s)}</b>", _esc)
        lines.append(f"{m}{FSI}« {body} »{PDI}")
    if parts.also:
        lines.append(_esc(parts.also))
    return "\n".join(lines)


def _alert_plain(parts: _Parts, title: str, quote: Snippet) -> str:
    m = parts.mark
    lines = [f"{m}{BELL} {parts.watches}".rstrip(), f"{m}{_isolate(title)}"]
    if parts.url:
        lines.append(shorten(parts.url, _PLAIN_URL_CHARS))
    lines.append(f"{m}{_isolate(parts.outlet)} · {_isolate(parts.time)}")
    if quote.text:
        lines.append(f"{m}{_isolate(f'« {quote.text} »')}")
    if parts.also:
        lines.append(parts.also)
    return "\n".join(lines)


# --- the backlog -------------------------------------------------------------------------


def _backlog(
    alerts: Sequence[Alert], timezone: ZoneInfo, max_chars: int, *, html_mode: bool
) -> str:
    """Heading, "… and N more earlier" when some did not fit, then entries, newest last."""
    size = visible_length if html_mode else _u16
    limit = min(max_chars, TELEGRAM_LIMIT)
    ordered = sorted(alerts, key=lambda a: _aware(a.published))
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
    outlet = _clip(alert.outlet, _BACKLOG_OUTLET)
    time = _local_time(alert.published, timezone)
    url = clean_text(alert.url)
    if not html_mode:
        lead = f"{names} — " if names else ""
        lines = [f"{m}{lead}{_isolate(title)}", f"{m}{_isolate(outlet)} · {_isolate(time)}"]
        if url:
            lines.append(shorten(url, _BACKLOG_URL))
        return "\n".join(lines)
    if linkable(url):
        linked = f'<a href="{_esc(url)}">{_esc(_isolate(title))}</a>'
    else:
        linked = _esc(_isolate(title))
    lead = f"<b>{_esc(names)}</b> — " if names else ""
    return f"{m}{lead}{linked}\n{m}{_esc(_isolate(outlet))} · {_isolate(time)}"


# --- text --------------------------------------------------------------------------------


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _isolate(text: str) -> str:
    """Text laid out as one unit, by its own first strong character."""
    return f"{FSI}{text}{PDI}"


def _u16(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts: astral characters are two."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def direction_mark(*texts: str) -> str:
    """RLM when the first strong character of the first text that has one is RTL."""
    for text in texts:
        for c in text:
            kind = unicodedata.bidirectional(c)
            if kind in ("R", "AL"):
                return RLM
            if kind == "L":
                return LRM
    return LRM


def linkable(url: str) -> bool:
    """An http(s) URL with a host, of a length Telegram takes: safe to put in an href."""
    if not url or len(url) > _LINK_URL_CHARS or " " in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _local_time(published: datetime, timezone: ZoneInfo) -> str:
    return f"{_aware(published).astimezone(timezone):%Y-%m-%d %H:%M}"


def _aware(moment: datetime) -> datetime:
    """A naive time is UTC (what the store writes), not the host's local time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _watch_names(watches: Sequence[str], each: int, total: int) -> str:
    """Isolated names joined by " · ", as many as fit in `total`, then "(+N)"."""
    names = [n for n in (_clip(w, each) for w in watches) if n]
    shown: list[str] = []
    used = 0
    for name in names:
        cost = _u16(name) + 2 + (3 if shown else 0)
        if shown and used + cost > total:
            break
        shown.append(_isolate(name))
        used += cost
    text = " · ".join(shown)
    if len(shown) < len(names):
        text += f" (+{len(names) - len(shown)})"
    return text


def _clip(text: str, limit: int) -> str:
    return shorten(clean_text(text), limit)


def clean_text(text: str) -> str:
    """Outside text on one line: whitespace and controls collapsed, bidi overrides removed."""
    return _clean_mapped(text)[0]


def _clean_mapped(text: str) -> tuple[str, list[int]]:
    """`text` on one line, whitespace collapsed, bidi controls removed, lone surrogates
    replaced; and where each original index (and the end) lands in the result."""
    out: list[str] = []
    at: list[int] = []
    for c in text:
        at.append(len(out))
        if c in _BIDI_CONTROLS:
            continue
        if c.isspace() or unicodedata.category(c) == "Cc":
            if out and out[-1] != " ":
                out.append(" ")
            continue
        out.append("\ufffd" if "\ud800" <= c <= "\udfff" else c)
    if out and out[-1] == " ":
        out.pop()
    at.append(len(out))
    return "".join(out), [min(i, len(out)) for i in at]


def clean_snippet(snippet: Snippet) -> Snippet:
    """The quote cleaned like any outside text, its marks moved along, sorted and merged
    (stored marks are not trusted to be in range or in order)."""
    text, at = _clean_mapped(snippet.text)
    end = len(snippet.text)
    marks: list[tuple[int, int]] = []
    for start, stop in sorted(
        (at[max(0, min(s, end))], at[max(0, min(e, end))]) for s, e in snippet.marks
    ):
        if stop <= start:
            continue
        if marks and start <= marks[-1][1]:
            marks[-1] = (marks[-1][0], max(marks[-1][1], stop))
        else:
            marks.append((start, stop))
    return Snippet(text, tuple(marks))


def _fit(text: str, limit: int) -> int:
    """The longest prefix of `text`, in characters, that is at most `limit` UTF-16 units,
    not ending just before a combining character."""
    used = 0
    n = 0
    for c in text:
        used += 2 if ord(c) > 0xFFFF else 1
        if used > limit:
            break
        n += 1
    while 0 < n < len(text) and _attaches(text[n]):
        n -= 1
    return n


def _attaches(c: str) -> bool:
    return c in _JOINERS or unicodedata.combining(c) != 0


def _word_end(text: str, n: int, keep: int = 0) -> int:
    """`n` moved back to the space before the word it cuts, unless that loses too much
    (more than a third, or goes below `keep`)."""
    if n >= len(text) or text[n] == " ":
        return n
    space = text.rfind(" ", keep, n)
    return space if space != -1 and space >= n - max(20, n // 3) else n


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word to at most `limit` UTF-16 units, "…" where it was cut."""
    if _u16(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS if limit == 1 else ""
    n = _word_end(text, _fit(text, limit - 1))
    return text[:n].rstrip() + ELLIPSIS


def _quote_floor(quote: Snippet) -> int:
    """How short the quote may get while aiming: its first match and some context."""
    if not quote.marks:
        return min(_u16(quote.text), _QUOTE_CONTEXT)
    start, end = quote.marks[0]
    return min(_u16(quote.text), _u16(quote.text[start:end]) + 2 + _QUOTE_CONTEXT)


def shorten_quote(quote: Snippet, limit: int) -> Snippet:
    """The quote cut to at most `limit` UTF-16 units at words, with "…" where cut,
    keeping the first marked range (whole if it fits); marks moved along."""
    text = quote.text
    if _u16(text) <= limit:
        return quote
    if limit <= 2:
        return Snippet("")
    first_start, first_end = quote.marks[0] if quote.marks else (0, 0)
    lo = 0
    if _u16(text[:first_end]) > limit - 1:
        # The match is too far in for a cut at the end alone: start shortly before it,
        # a third of the spare room ahead of it.
        spare = max(0, limit - 2 - _u16(text[first_start:first_end]))
        lo = first_start - _fit(text[:first_start][::-1], spare // 3)
        if lo > 0 and text[lo - 1] != " ":
            space = text.find(" ", lo, first_start)
            lo = space + 1 if space != -1 else lo
        while lo < first_start and text[lo] == " ":
            lo += 1
        while lo < len(text) and _attaches(text[lo]):
            lo += 1
    prefix = ELLIPSIS if lo > 0 else ""
    rest = text[lo:]
    room = limit - len(prefix)
    if _u16(rest) <= room:
        kept, suffix = len(rest), ""
    else:
        n = _word_end(rest, _fit(rest, room - 1), keep=max(0, first_end - lo))
        kept, suffix = len(rest[:n].rstrip()), ELLIPSIS
    body = rest[:kept] + suffix
    shift = len(prefix) - lo
    marks = tuple(
        (max(s, lo) + shift, min(e, lo + kept) + shift)
        for s, e in quote.marks
        if e > lo and s < lo + kept
    )
    return Snippet(prefix + body, marks)
