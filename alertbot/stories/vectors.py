"""An article as story clustering reads it: weighted terms, with the outlet's furniture left out.

    terms_of(words)                 -> ArticleTerms: title terms, body lines of terms
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat

import numpy as np

from alertbot.stories.fingerprint import content_term
from alertbot.text.tokenize import ArticleWords

FURNITURE_SEEN = 2  # earlier articles of the same outlet carrying a line
FURNITURE_DAYS = timedelta(days=30)
FURNITURE_SWEEP = timedelta(days=1)
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


def terms_of(words: ArticleWords) -> ArticleTerms:
    """The article's terms, from its words (`alertbot.text.tokenize.article_words`, or the
    matcher's pass: `Matcher.read`)."""
    lines = []
    for line in words.lines:
        line_terms = _terms(line)
        if line_terms:
            digest = hashlib.blake2b(" ".join(line_terms).encode("utf-8"), digest_size=8)
            lines.append((digest.digest(), line_terms))
    names = frozenset(term for w in words.names if (term := content_term(w)) is not None)
    return ArticleTerms(_terms(words.title), tuple(lines), names)


def _terms(normalised: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(term for term in map(content_term, normalised) if term is not None)


# When an outlet carried a line: the POSIX second of its one sighting (most lines are seen
# once; an int is a fifth of a list of datetimes), or a list of them.
Sightings = int | list[int]


@dataclass
class Furniture:
    """Per outlet, the lines seen and when: which of an article's lines are furniture."""

    seen: dict[str, dict[bytes, Sightings]] = field(default_factory=lambda: defaultdict(dict))
    swept: datetime | None = None  # the cutoff of the last sweep

    def counted(self, outlet: str, terms: ArticleTerms, at: datetime) -> Counter[str]:
        """The article's term counts without the outlet's furniture (title included)."""
        lines = self.seen[outlet]
        second = _second(at)
        kept = list(terms.title)
        for digest, line_terms in terms.lines:
            times = lines.get(digest)
            if (
                isinstance(times, list)  # one sighting is never furniture (FURNITURE_SEEN)
                and len(line_terms) >= FURNITURE_MIN_TERMS
                and sum(1 for t in times if abs(second - t) <= _FURNITURE_SECONDS) >= FURNITURE_SEEN
            ):
                continue
            kept.extend(line_terms)
        return Counter(kept)

    def remember(self, outlet: str, terms: ArticleTerms, at: datetime) -> None:
        """Count the article's lines for its outlet (once per article)."""
        lines = self.seen[outlet]
        second = _second(at)
        for digest in {d for d, t in terms.lines if len(t) >= FURNITURE_MIN_TERMS}:
            times = lines.get(digest)
            if times is None:
                lines[digest] = second
            elif isinstance(times, int):
                lines[digest] = [times, second]
            else:
                times.append(second)

    def forget_before(self, cutoff: datetime) -> None:
        """Drop sightings older than `cutoff` (a sighting that old no longer counts: the
        sweep only bounds memory, so it runs once per `FURNITURE_SWEEP` of cutoff)."""
        if self.swept is not None and cutoff - self.swept < FURNITURE_SWEEP:
            return
        self.swept = cutoff
        oldest = _second(cutoff)
        for outlet, lines in self.seen.items():
            kept: dict[bytes, Sightings] = {}
            for digest, times in lines.items():
                if isinstance(times, int):
                    if times >= oldest:
                        kept[digest] = times
                elif recent := [t for t in times if t >= oldest]:
                    kept[digest] = recent if len(recent) > 1 else recent[0]
            self.seen[outlet] = kept


_FURNITURE_SECONDS = FURNITURE_DAYS.total_seconds()


def _second(at: datetime) -> int:
    return int(at.timestamp())


@dataclass
class DocumentFrequencies:
    """How many articles carried each term: the inverse-document-frequency weights."""

    docs: int = 0
    df: Counter[str] = field(default_factory=Counter)

    def add(self, terms: Iterable[str]) -> None:
        """Count one article's distinct terms."""
        self.docs += 1
        self.df.update(set(terms))

    def vector(
        self,
        counts: Mapping[str, float],
        title: Iterable[str],
        names: frozenset[str],
        keep: int | None = None,
    ) -> Vector:
        """Sublinear tf × idf of the (positive) `counts`, title and name terms weighted up,
        cut to the `keep` heaviest terms (all without it), L2-normalised. Computed over
        arrays: a Python loop per term cost more than the rest of clustering."""
        if not counts:
            return {}
        terms = list(counts)
        n = len(terms)
        df = np.fromiter(map(self.df.get, terms, repeat(0)), dtype=np.float64, count=n)
        tf = np.fromiter(counts.values(), dtype=np.float64, count=n)
        weights = (1.0 + np.log(tf)) * (math.log(self.docs + 1) + 1.0 - np.log1p(df))
        in_title = set(title)
        boosted = in_title | names
        if boosted:
            index = dict(zip(terms, range(n), strict=True))
            for term in boosted.intersection(index):
                boost = TITLE_WEIGHT if term in in_title else 1.0
                weights[index[term]] *= boost * NAME_WEIGHT if term in names else boost
        if keep is not None and n > keep:
            top = np.argpartition(weights, n - keep)[n - keep :]
            terms = [terms[i] for i in top.tolist()]
            weights = weights[top]
        norm = math.sqrt(float(weights @ weights))
        return dict(zip(terms, (weights / norm).tolist(), strict=True)) if norm else {}


def heaviest(weights: Mapping[str, float], n: int) -> Vector:
    """The `n` heaviest entries of `weights`."""
    return {t: weights[t] for t in sorted(weights, key=weights.__getitem__, reverse=True)[:n]}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """The cosine of two normalised vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())
