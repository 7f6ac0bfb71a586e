"""Transliteration variants of foreign names in Arabic: ترامب and ترمب, بوتين and بوتن.

    skeleton(norm)            -> the key two spellings of one name share (an index key)
    is_variant(name, other)   -> True when `other` spells `name` under the rules below

Outlets transliterate a foreign name each in their own way: one writes a long vowel that
another leaves out (ترامب / ترمب, نتنياهو / نتانياهو, زيلينسكي / زيلنسكي), or picks
another letter for a sound Arabic lacks (g: غ ج ك; v: ف ڤ; a final sh/s: غوتيريش /
غوتيريس). The rules are the table `ALTERNATIONS` and the set `LONG_VOWELS`; the words
compared are normalised (`alertbot.text.normalize`: hamza on alef, final ى and ة folded
already) and stripped of proclitics by the caller.

What counts as a variant, precisely:

* The first letter is the same (or of one alternation class allowed there): a name is not
  recognised from its middle.
* Inside the word (not its first or last letter), a long vowel ا و ي may be written in one
  spelling and left out in the other (a doubled ي is one ي left out). A long vowel never
  turns into another (بوتين is not بوتان), and the last letter is never added or dropped:
  it carries the grammar (the nisba ي, a plural's ون).
* A letter may be swapped for another of its alternation class, where the table allows it
  (ش/س/ز only as the last letter, ك for g only after the first).
* At most one such change in a name of up to five letters, two in a longer one; names of
  fewer than `MIN_LETTERS` letters take no variants (كيم, شي: too many words look alike).

Whether a word of a text may be read as a name at all (camel-tools must not know it as
something else: ترام is a tram) is the matcher's side: see `alertbot.watch.match`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Alternation:
    """Letters that transliterate one foreign sound, and where in a word they alternate:
    "anywhere", "inside" (not the first letter) or "last" (the last letter only)."""

    letters: str
    where: str
    why: str


# The rules, as data. Each row is one class of letters outlets use for one sound; a letter
# is in at most one class at each place of a word.
ALTERNATIONS: tuple[Alternation, ...] = (
    Alternation("غج", "anywhere", "g: غوتيريش / جوتيريش, غراهام / جراهام"),
    # ك is k far more often than g: it alternates with غ ج only after the first letter
    # (كيري is Kerry, never جيري).
    Alternation("غجك", "inside", "g: ستولتنبرغ / ستولتنبرج, بيغ / بيك"),
    Alternation("فڤ", "anywhere", "v: فلاديمير / ڤلاديمير"),
    Alternation("تط", "anywhere", "t: تاتشر / طاتشر, بيتر / بيطر"),
    Alternation("سص", "anywhere", "s: سالفيني / صالفيني"),
    Alternation("زذ", "anywhere", "z: زيلينسكي / ذيلينسكي"),
    Alternation("شسز", "last", "a final sh, s or z: غوتيريش / غوتيريس / غوتيريز, شولتس / شولتز"),
)
LONG_VOWELS = frozenset("اوي")
MIN_LETTERS = 4  # shorter names take no variants
SHORT_NAME = 5  # up to this many letters, one change; beyond it, two
_CHANGES_SHORT, _CHANGES_LONG = 1, 2

# Per place in a word (first letter, inside, last letter): each letter's class.
_FIRST, _INSIDE, _LAST = 0, 1, 2
_CLASSES: tuple[dict[str, str], dict[str, str], dict[str, str]] = ({}, {}, {})
_PLACES = {"anywhere": (_FIRST, _INSIDE, _LAST), "inside": (_INSIDE, _LAST), "last": (_LAST,)}
for _row in ALTERNATIONS:
    for _at in _PLACES[_row.where]:
        for _letter in _row.letters:
            _CLASSES[_at][_letter] = _row.letters[0]


def _letter_class(letter: str, place: int) -> str:
    return _CLASSES[place].get(letter, letter)


def _place(i: int, length: int) -> int:
    return _FIRST if i == 0 else _LAST if i == length - 1 else _INSIDE


@lru_cache(maxsize=1 << 14)
def skeleton(norm: str) -> str:
    """The key every variant of `norm` shares: its first letter and its consonants, each
    as its class (`ALTERNATIONS`), the long vowels inside it left out. "" for a word too
    short to take variants."""
    if len(norm) < MIN_LETTERS:
        return ""
    last = len(norm) - 1
    out = [_letter_class(norm[0], _FIRST)]
    for i in range(1, last):
        if norm[i] not in LONG_VOWELS:
            out.append(_letter_class(norm[i], _INSIDE))
    out.append(_letter_class(norm[last], _LAST))
    return "".join(out)


def is_variant(name: str, other: str) -> bool:
    """True when `other` is `name` spelled under the rules (the module docstring), or is
    `name` itself. Both normalised, without proclitics."""
    if name == other:
        return True
    if len(name) < MIN_LETTERS or len(other) < MIN_LETTERS:
        return False
    if skeleton(name) != skeleton(other):
        return False
    budget = _CHANGES_SHORT if min(len(name), len(other)) <= SHORT_NAME else _CHANGES_LONG
    return _changes(name, other, budget) <= budget


def _changes(a: str, b: str, budget: int) -> int:
    """The fewest changes (a long vowel inside the word written or left out, a letter for
    another of its class) from `a` to `b`; more than `budget` when none is within it."""
    la, lb = len(a), len(b)
    if abs(la - lb) > budget:
        return budget + 1
    over = budget + 1
    # cost[i][j]: changes to align a[:i] with b[:j]; the first letters align with each other.
    cost = [[over] * (lb + 1) for _ in range(la + 1)]
    cost[0][0] = 0
    for i in range(la + 1):
        for j in range(lb + 1):
            here = cost[i][j]
            if here > budget:
                continue
            if i < la and j < lb:
                place = _place(i, la)
                if a[i] == b[j]:
                    step = 0
                elif place == _place(j, lb) and (
                    _letter_class(a[i], place) == _letter_class(b[j], place)
                ):
                    step = 1
                else:
                    step = over
                if here + step < cost[i + 1][j + 1]:
                    cost[i + 1][j + 1] = here + step
            # A long vowel inside the word, in one spelling only: never the first letter,
            # never the last.
            if 0 < i < la - 1 and a[i] in LONG_VOWELS and j > 0 and here + 1 < cost[i + 1][j]:
                cost[i + 1][j] = here + 1
            if 0 < j < lb - 1 and b[j] in LONG_VOWELS and i > 0 and here + 1 < cost[i][j + 1]:
                cost[i][j + 1] = here + 1
    return cost[la][lb]
