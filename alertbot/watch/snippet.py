"""The sentence an alert quotes: where a watch matched, with the match marked.

    snippet_for(title, text, matches)  -> Snippet(text, marks)   pure
    Snippet.to_json() / Snippet.from_json()                     stored in the outbox
    Snippet.render(mark)                                        for a notifier

The quoted sentence comes from the body when a watch matched there (the title is shown
anyway), else from the title. It is the sentence around the first match, cut to about
`MAX_CHARS` around the matches at word boundaries, with an ellipsis where it was cut.
Every span of every watch inside it is marked, so a reader sees exactly what matched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from alertbot.text.tokenize import sentence_breaks
from alertbot.watch.match import Span, WatchMatch

MAX_CHARS = 280
ELLIPSIS = "…"


@dataclass(frozen=True)
class Snippet:
    """A short quote and the (start, end) character ranges in it that matched."""

    text: str
    marks: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> str:
        """The stored form."""
        return json.dumps({"text": self.text, "marks": self.marks}, ensure_ascii=False)

    @classmethod
    def from_json(cls, stored: str) -> Snippet:
        """Read the stored form; plain text (not JSON) is a quote with no marks."""
        try:
            data = json.loads(stored)
        except json.JSONDecodeError:
            return cls(stored)
        if not isinstance(data, dict):
            return cls(stored)
        marks = tuple((int(s), int(e)) for s, e in data.get("marks", ()))
        return cls(str(data.get("text", "")), marks)

    def render(self, mark: Callable[[str], str], plain: Callable[[str], str] = lambda s: s) -> str:
        """The quote with each marked range passed through `mark`, the rest through `plain`
        (an HTML notifier escapes with `plain` and bolds with `mark`)."""
        out, at = [], 0
        for start, end in self.marks:
            out.append(plain(self.text[at:start]))
            out.append(mark(self.text[start:end]))
            at = end
        out.append(plain(self.text[at:]))
        return "".join(out)


def snippet_for(title: str, text: str, matches: Sequence[WatchMatch]) -> Snippet:
    """The quote for an alert: the sentence around the first match, matches marked."""
    spans = [s for m in matches for s in m.spans]
    body = sorted((s for s in spans if s.field == "text"), key=lambda s: s.start)
    if body:
        return _quote(text, body)
    heading = sorted((s for s in spans if s.field == "title"), key=lambda s: s.start)
    if heading:
        return _quote(title, heading)
    return Snippet(_cut(text, 0, 0)[0]) if text else Snippet(title)


def _quote(field: str, spans: list[Span]) -> Snippet:
    first = spans[0]
    start, end = _sentence(field, first.start, first.end)
    inside = [(s.start, s.end) for s in spans if s.start >= start and s.end <= end]
    # The quote reaches as far as the last match that fits, then is cut to MAX_CHARS.
    last = max(e for s, e in inside if e - first.start <= MAX_CHARS)
    quote, offset = _cut(field[start:end], first.start - start, last - start)
    marks = _merge(
        (s - start - offset, e - start - offset)
        for s, e in inside
        if s - start - offset >= 0 and e - start - offset <= len(quote)
    )
    return Snippet(quote, marks)


def _sentence(field: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence holding field[start:end], whitespace trimmed."""
    begin = 0
    for m in sentence_breaks(field, 0, start):
        begin = m.end()
    stop = len(field)
    found = next(sentence_breaks(field, end), None)
    if found:
        stop = found.end() if field[found.start()] not in "\r\n" else found.start()
    while begin < start and field[begin].isspace():
        begin += 1
    while stop > end and field[stop - 1].isspace():
        stop -= 1
    return begin, stop


def _cut(sentence: str, first: int, last: int) -> tuple[str, int]:
    """`sentence` cut to about MAX_CHARS keeping [first, last), at word boundaries.

    Returns the quote (with ellipses where cut) and how many characters of the sentence
    were removed before the quote's own text begins, minus the leading ellipsis.
    """
    if len(sentence) <= MAX_CHARS:
        return sentence, 0
    room = max(0, MAX_CHARS - (last - first))
    lo = max(0, first - room // 3)
    hi = min(len(sentence), max(last, lo + MAX_CHARS))
    if lo > 0:
        space = sentence.find(" ", lo, first)
        lo = space + 1 if space != -1 else lo
    if hi < len(sentence):
        space = sentence.rfind(" ", last, hi)
        hi = space if space != -1 else hi
    quote = sentence[lo:hi].strip()
    lead = len(sentence[lo:hi]) - len(sentence[lo:hi].lstrip())
    prefix = ELLIPSIS if lo > 0 else ""
    suffix = ELLIPSIS if hi < len(sentence) else ""
    return prefix + quote + suffix, lo + lead - len(prefix)


def _merge(marks: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, non-overlapping ranges."""
    out: list[list[int]] = []
    for start, end in sorted(marks):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((s, e) for s, e in out)
