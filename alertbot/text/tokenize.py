"""Tokenisation that keeps offsets into the original text.

A token is a run of letters and digits (any script) with the diacritics, tatweel and
invisible joiners inside it. Punctuation of every kind separates tokens, so «ناريشكين»،
and (الضبعة) give the bare words, and a hashtag such as #عاصي_الحلاني gives two words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alertbot.text.normalize import normalize_word

_JOINERS = (
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u061c"
)
_WORD_RE = re.compile(rf"[^\W_](?:[^\W_]|[{_JOINERS}])*")
_TRAILING_CONTROLS = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff\u061c"
# Between two words, these end a sentence or a line: phrases do not run across them.
_BREAK_RE = re.compile(r"[\n\r!?؟؛…]|\.(?=\s)")
_ARABIC_RE = re.compile("[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc]")


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
    for m in _WORD_RE.finditer(text):
        start, end = m.span()
        surface = m.group()
        if surface[-1] in _TRAILING_CONTROLS:
            surface = surface.rstrip(_TRAILING_CONTROLS)
            end = start + len(surface)
        norm = normalize_word(surface)
        if not norm:
            continue
        breaks = bool(tokens) and _BREAK_RE.search(text, prev_end, start) is not None
        tokens.append(
            Token(start, end, surface, norm, _ARABIC_RE.search(norm) is not None, breaks)
        )
        prev_end = end
    return tokens


def is_arabic(word: str) -> bool:
    """True when `word` contains an Arabic-script character."""
    return _ARABIC_RE.search(word) is not None
