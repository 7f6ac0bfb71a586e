"""The text toolkit every channel shares: cleaning, shortening, bidi, lengths, links, times.

    clean_text(text)            outside text on one line: whitespace and controls collapsed,
                                bidi embeddings, overrides and isolates removed
    clean_snippet(snippet)      the same for a quote, its marks moved along
    shorten(text, n)            cut at a word to at most n UTF-16 units, "…" where cut
    shorten_quote(snippet, n)   the same for a quote, keeping its first match
    clip(text, n)               clean_text, then shorten
    isolate(text)               FSI…PDI: laid out as one unit by its own first letter
    direction_mark(*texts)      RLM or LRM for the first strong letter found
    u16(text)                   length in UTF-16 units, as Telegram counts
    linkable(url)               an http(s) URL that is safe in an href
    esc(text)                   HTML-escaped, quotes included
    local_time(moment, tz)      "YYYY-MM-DD HH:MM" in `tz` (a naive time is UTC)
    shown_time(moment, tz, date_only=)  the same, or "YYYY-MM-DD" for a day without a time

The console, Telegram, email and the recap all format through these, so an outside string
is cleaned, cut and isolated the same way wherever it is shown. Pure functions.
"""

from __future__ import annotations

import html
import unicodedata
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit

from alertbot.watch.snippet import Snippet

ELLIPSIS = "…"
FSI, PDI = "\u2068", "\u2069"
LRM, RLM = "\u200e", "\u200f"
BELL = "🔔"

_LINK_URL_CHARS = 2048  # longer URLs are not linked
# Embedding, override and isolate controls: outside text must not open or close levels.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters a cut must not leave at the start of what follows: they attach to the
# previous character (harakat, variation selectors, zero-width joiner).
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")


def esc(text: str) -> str:
    """`text` escaped for HTML (Telegram's and email's), quotes included."""
    return html.escape(text, quote=True)


def isolate(text: str) -> str:
    """Text laid out as one unit, by its own first strong character."""
    return f"{FSI}{text}{PDI}"


def u16(text: str) -> int:
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


def local_time(moment: datetime, timezone: tzinfo, *, zone: bool = False) -> str:
    """`moment` as "YYYY-MM-DD HH:MM" in `timezone`, with the zone's name when `zone`."""
    text = f"{aware(moment).astimezone(timezone):%Y-%m-%d %H:%M}"
    return f"{text} ({_zone_name(timezone)})" if zone else text


def shown_time(
    moment: datetime, timezone: tzinfo, *, date_only: bool = False, zone: bool = False
) -> str:
    """A published time as `local_time` shows it; for a date only (the source gave a day,
    no time of day) the day alone, "YYYY-MM-DD", as the source gave it: a day is not moved
    into `timezone`, and no time of day is invented."""
    if date_only:
        return f"{aware(moment).astimezone(UTC):%Y-%m-%d}"
    return local_time(moment, timezone, zone=zone)


def _zone_name(timezone: tzinfo) -> str:
    return getattr(timezone, "key", None) or str(timezone)


def aware(moment: datetime) -> datetime:
    """A naive time is UTC (what the store writes), not the host's local time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def clip(text: str, limit: int) -> str:
    """Outside text cleaned to one line and cut to `limit` UTF-16 units."""
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
    if u16(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS if limit == 1 else ""
    n = _word_end(text, _fit(text, limit - 1))
    return text[:n].rstrip() + ELLIPSIS


def shorten_quote(quote: Snippet, limit: int) -> Snippet:
    """The quote cut to at most `limit` UTF-16 units at words, with "…" where cut,
    keeping the first marked range (whole if it fits); marks moved along."""
    text = quote.text
    if u16(text) <= limit:
        return quote
    if limit <= 2:
        return Snippet("")
    first_start, first_end = quote.marks[0] if quote.marks else (0, 0)
    lo = 0
    if u16(text[:first_end]) > limit - 1:
        # The match is too far in for a cut at the end alone: start shortly before it,
        # a third of the spare room ahead of it.
        spare = max(0, limit - 2 - u16(text[first_start:first_end]))
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
    if u16(rest) <= room:
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
