"""Normalisation for matching, with a map from every output character to the original.

What it folds, and why:

- Arabic diacritics (harakat, tanween, shadda, sukun, dagger alef, Quranic marks) and
  tatweel are dropped: news text carries them irregularly.
- Bidi controls, zero-width characters and the BOM are dropped: they are invisible and
  split words for a naive matcher.
- Alef forms أ إ آ ٱ → ا, ta marbuta ة → ه, alef maqsura ى → ي, Persian yeh and keheh
  (ی ک) → ي ك: the spelling variants outlets use for the same word.
- Arabic-Indic and Persian digits → ASCII digits.
- NFKC (presentation forms, full-width Latin, ligatures such as ﻻ → لا).
- Case folding for Latin and Cyrillic (and ё → е, which Russian text writes either way).

`normalize()` keeps, for each character of the result, the half-open range of the
original string it came from, so a match found in normalised text can be reported as a
span of the original. Diacritics and tatweel are attached to the letter before them, so a
span of "غزةَ" covers its final fatha.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Dropped and attached to the preceding kept character (they belong to the word).
_MARKS = frozenset(
    [chr(c) for c in range(0x0610, 0x061B)]  # Quranic honorifics and small letters
    + [chr(c) for c in range(0x064B, 0x0660)]  # harakat, tanween, shadda, sukun, ...
    + ["\u0670"]  # dagger alef
    + [chr(c) for c in range(0x06D6, 0x06DD)]
    + [chr(c) for c in range(0x06DF, 0x06E5)]
    + [chr(c) for c in range(0x06E7, 0x06E9)]
    + [chr(c) for c in range(0x06EA, 0x06EE)]
    + ["\u0640"]  # tatweel
)

# Dropped and attached to nothing: invisible controls.
_CONTROLS = frozenset(
    ["\u061c", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)

_FOLD = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ة": "ه",
    "ى": "ي",
    "ی": "ي",
    "ک": "ك",
    "ۀ": "ه",
    "ە": "ه",
    "ё": "е",
    "Ё": "е",
}
_FOLD.update({chr(0x0660 + d): str(d) for d in range(10)})
_FOLD.update({chr(0x06F0 + d): str(d) for d in range(10)})


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """The normalised form of one character: '' when it is dropped, else 1+ characters."""
    if ch in _MARKS or ch in _CONTROLS:
        return ""
    folded = _FOLD.get(ch)
    if folded is not None:
        return folded
    if ch.isascii():
        return ch.lower()
    out = unicodedata.normalize("NFKC", ch)
    if out != ch:
        if " " in out and any(c in _MARKS for c in out):
            # Isolated presentation forms of harakat decompose to a space and the mark.
            out = out.replace(" ", "")
        # NFKC can yield characters that fold further (presentation forms of أ, digits...).
        return "".join(fold_char(c) if c != ch else c.casefold() for c in out)
    return ch.casefold()


def is_mark(ch: str) -> bool:
    """True for the diacritics and tatweel that normalisation drops from inside words."""
    return ch in _MARKS


def has_harakat(word: str) -> bool:
    """True when `word` carries diacritics (tatweel does not count)."""
    return any(ch in _MARKS and ch != "\u0640" for ch in word)


def is_control(ch: str) -> bool:
    """True for the invisible bidi and zero-width controls that normalisation drops."""
    return ch in _CONTROLS


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised string and, per character, where it came from in the original."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) range covered by normalised characters [start, end)."""
        if start >= end:
            raise ValueError(f"empty span {start}:{end}")
        return self.starts[start], self.ends[end - 1]


def normalize(text: str) -> Normalized:
    """Normalise `text` for matching, keeping an offset map back to `text`."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        folded = fold_char(ch)
        if folded:
            for c in folded:
                out.append(c)
                starts.append(i)
                ends.append(i + 1)
        elif ch in _MARKS and ends and ends[-1] == i:
            # A diacritic belongs to the letter it sits on: extend that letter's range.
            for j in range(len(ends) - 1, -1, -1):
                if ends[j] != i:
                    break
                ends[j] = i + 1
    return Normalized("".join(out), tuple(starts), tuple(ends))


@lru_cache(maxsize=1 << 14)
def normalize_word(word: str) -> str:
    """The normalised form of a short string (a token), without the offset map."""
    return "".join(fold_char(ch) for ch in word)
