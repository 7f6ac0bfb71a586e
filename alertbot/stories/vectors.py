"""An article as story clustering reads it: weighted terms, with the outlet's furniture left out.

    terms_of(title, text, names)    -> ArticleTerms: title terms, body lines of terms
    Furniture                       which lines an outlet repeats across its articles
    DocumentFrequencies             how many articles carried each term (learned from the
                                    stream), and the vector of an article under them

Terms are the content words of `alertbot.stories.fingerprint` (normalised, function words
dropped, one leading clitic group stripped, at least three letters), so بالضبعة and الضبعة
are one term. A term the morphology database reads as a proper noun, or does not know at
all (ناريشكين, غوتيريش), is a name: names carry most of an event's identity and weigh more.

Furniture. An outlet repeats text across its articles: an app promotion, a disclaimer, a
block of briefs, the background paragraph of a running story. Such a line makes two
different stories of the outlet look alike, so a line already seen in `FURNITURE_SEEN`
other articles of the same outlet in the last `FURNITURE_DAYS` is left out of clustering.
One earlier copy is not furniture: an outlet's own update of a story repeats its lines.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from alertbot.stories.fingerprint import content_term
from alertbot.text.normalize import normalize_word
from alertbot.text.tokenize import words

FURNITURE_SEEN = 2  # earlier articles of the same outlet carrying a line
FURNITURE_DAYS = timedelta(days=30)
FURNITURE_MIN_TERMS = 4  # shorter lines are not tracked (too common to say anything)
TITLE_WEIGHT = 2.0
NAME_WEIGHT = 2.0

Vector = dict[str, float]


@dataclass(frozen=True)
class ArticleTerms:
    """The terms of an article: its title's, and its body's line by line."""

    title: tuple[str, ...]
    lines: tuple[tuple[bytes, tuple[str, ...]], ...]  # (line digest, terms)
    names: frozenset[str]  # the terms that are names


def terms_of(title: str, text: str, is_name: Callable[[str], bool] | None = None) -> ArticleTerms:
    """The article's terms; `is_name(word)`, asked of each word as written, says which
    are names (none without it)."""
    names: set[str] = set()

    def terms(line: str) -> tuple[str, ...]:
        out = []
        for _, _, surface in words(line):
            term = content_term(normalize_word(surface))
            if term is None:
                continue
            out.append(term)
            if is_name is not None and term not in names and is_name(surface):
                names.add(term)
        return tuple(out)

    title_terms = terms(title)
    lines = []
    for line in text.split("\n"):
        line_terms = terms(line)
        if line_terms:
            digest = hashlib.blake2b(" ".join(line_terms).encode("utf-8"), digest_size=8)
            lines.append((digest.digest(), line_terms))
    return ArticleTerms(title_terms, tuple(lines), frozenset(names))


@dataclass
class Furniture:
    """Per outlet, the lines seen and when: which of an article's lines are furniture."""

    seen: dict[str, dict[bytes, list[datetime]]] = field(default_factory=lambda: defaultdict(dict))

    def counted(self, outlet: str, terms: ArticleTerms, at: datetime) -> Counter[str]:
        """The article's term counts without the outlet's furniture (title included)."""
        lines = self.seen[outlet]
        counts: Counter[str] = Counter(terms.title)
        for digest, line_terms in terms.lines:
            times = lines.get(digest)
            if (
                len(line_terms) >= FURNITURE_MIN_TERMS
                and times is not None
                and sum(1 for t in times if abs(at - t) <= FURNITURE_DAYS) >= FURNITURE_SEEN
            ):
                continue
            counts.update(line_terms)
        return counts

    def remember(self, outlet: str, terms: ArticleTerms, at: datetime) -> None:
        """Count the article's lines for its outlet (once per article)."""
        lines = self.seen[outlet]
        for digest in {d for d, t in terms.lines if len(t) >= FURNITURE_MIN_TERMS}:
            lines.setdefault(digest, []).append(at)

    def forget_before(self, cutoff: datetime) -> None:
        """Drop sightings older than `cutoff`."""
        for outlet, lines in self.seen.items():
            self.seen[outlet] = {
                d: kept for d, times in lines.items() if (kept := [t for t in times if t >= cutoff])
            }


@dataclass
class DocumentFrequencies:
    """How many articles carried each term: the inverse-document-frequency weights."""

    docs: int = 0
    df: Counter[str] = field(default_factory=Counter)

    def add(self, terms: Iterable[str]) -> None:
        """Count one article's distinct terms."""
        self.docs += 1
        self.df.update(set(terms))

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency: rare terms weigh more."""
        return math.log((self.docs + 1) / (self.df.get(term, 0) + 1)) + 1.0

    def vector(
        self, counts: Mapping[str, float], title: Iterable[str], names: frozenset[str]
    ) -> Vector:
        """Sublinear tf × idf, title and name terms weighted up, L2-normalised."""
        in_title = set(title)
        weights: Vector = {}
        log_docs = math.log(self.docs + 1) + 1.0
        df = self.df
        for term, count in counts.items():
            if count <= 0:
                continue
            idf = log_docs - _log1(df.get(term, 0))
            weight = idf if count == 1 else (1.0 + math.log(count)) * idf
            if term in in_title:
                weight *= TITLE_WEIGHT
            if term in names:
                weight *= NAME_WEIGHT
            weights[term] = weight
        return normalised(weights)


@lru_cache(maxsize=4096)
def _log1(n: int) -> float:
    """log(n + 1), remembered: document frequencies are small integers that repeat."""
    return math.log(n + 1)


def normalised(vector: Mapping[str, float]) -> Vector:
    """The vector scaled to length 1 (empty stays empty)."""
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {t: w / norm for t, w in vector.items()} if norm else {}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """The cosine of two normalised vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())
