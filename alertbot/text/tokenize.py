"""Tokenisation that keeps offsets into the original text.

A token is a run of letters and digits (any script) with the diacritics, tatweel and
invisible joiners inside it. Punctuation of every kind separates tokens, so «ناريشكين»،
and (الضبعة) give the bare words, and a hashtag such as #عاصي_الحلاني gives two words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from alertbot.text.normalize import normalize_word

_JOINERS = (
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u061c"
)
_ARABIC_LETTERS = (
    "\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff"
    "\ufb50-\ufd3d\ufd40-\ufdff\ufe70-\ufefc"
)
# A word is a run of Arabic letters, or a run of other letters and digits: "اتفاق2015" is
# two words. Latin combining accents stay inside the second kind.
_WORD_RE = re.compile(
    rf"[{_ARABIC_LETTERS}](?:[{_ARABIC_LETTERS}{_JOINERS}])*"
    rf"|[^\W_{_ARABIC_LETTERS}](?:[^\W_{_ARABIC_LETTERS}]|[\u0300-\u036f{_JOINERS}])*"
)
_TRAILING_CONTROLS = (
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff\u061c"
)
# These end a sentence or a line: phrases do not run across them, and an alert quotes the
# sentence they bound. A full stop counts when a space follows it (after any closing quote
# or bracket), unless it ends a one-letter Latin word: "U.S. envoy" and "E. Naryshkin" run on.
_BREAK_RE = re.compile(r"[\n\r!?؟؛…۔]|\.[\"'»”’)\]]*(?=\s)")
_ARABIC_RE = re.compile(f"[{_ARABIC_LETTERS}]")


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: where it is in the original, and its normalised form."""

    start: int
    end: int
    surface: str
    norm: str
    arabic: bool
    # A sentence or line boundary lies between this token and the one before it.
    breaks_before: bool


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens with their original offsets and normalised forms."""
    tokens: list[Token] = []
    prev_end = 0
    for start, end, surface in words(text):
        norm = normalize_word(surface)
        if not norm:
            continue
        breaks = bool(tokens) and breaks_between(text, prev_end, start)
        tokens.append(Token(start, end, surface, norm, _ARABIC_RE.search(norm) is not None, breaks))
        prev_end = end
    return tokens


def sentence_breaks(text: str, start: int = 0, end: int | None = None) -> Iterator[re.Match[str]]:
    """Each place in text[start:end] that ends a sentence or a line, in order: the one rule
    for phrases (which do not run across them) and for the sentence an alert quotes."""
    for m in _BREAK_RE.finditer(text, start, len(text) if end is None else end):
        if m.group()[0] == "." and _after_initial(text, m.start()):
            continue
        yield m


def _after_initial(text: str, at: int) -> bool:
    """True when text[at] follows a one-letter Latin word ("U" of "U.S.", "E. Naryshkin")."""
    if at == 0 or not text[at - 1].isalpha() or is_arabic(text[at - 1]):
        return False
    return at == 1 or not text[at - 2].isalnum()


def breaks_between(text: str, gap_start: int, gap_end: int) -> bool:
    """True when text[gap_start:gap_end], the gap between two words, ends a sentence or line."""
    return next(sentence_breaks(text, gap_start, gap_end), None) is not None


def words(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, surface) of each word, as `tokenize` finds them, without normalising.

    The fast path of matching: it looks each surface up in a cache and builds nothing for
    the words that match no watch. Trailing invisible controls are trimmed from the end.
    """
    for m in _WORD_RE.finditer(text):
        surface = m.group()
        if surface[-1] in _TRAILING_CONTROLS:
            surface = surface.rstrip(_TRAILING_CONTROLS)
        start = m.start()
        yield start, start + len(surface), surface


def is_arabic(word: str) -> bool:
    """True when `word` contains an Arabic-script character."""
    return _ARABIC_RE.search(word) is not None


@dataclass(frozen=True, slots=True)
class ArticleWords:
    """Every word of an article, normalised, the text's line by line, and which are names:
    what an article's fingerprint and its story clustering read."""

    title: tuple[str, ...]
    lines: tuple[tuple[str, ...], ...]  # the text's lines that have words
    names: frozenset[str]  # the normalised words that were written as a name

    def all(self) -> list[str]:
        """Title and text words, in order."""
        return [*self.title, *(w for line in self.lines for w in line)]


def article_words(
    title: str, text: str, is_name: Callable[[str], bool] | None = None
) -> ArticleWords:
    """The article's words; `is_name(surface)` says which words are names (none without
    it). `alertbot.watch.match.Matcher.read` gives the same in the pass that matches."""
    names: set[str] = set()

    def normalised(line: str) -> tuple[str, ...]:
        out = []
        for _, _, surface in words(line):
            norm = normalize_word(surface)
            if norm:
                out.append(norm)
                if is_name is not None and is_name(surface):
                    names.add(norm)
        return tuple(out)

    lines = tuple(found for line in text.split("\n") if (found := normalised(line)))
    return ArticleWords(normalised(title), lines, frozenset(names))
