"""Online story clustering: is a new article the same event as a recent story, related to
one, or new?

    clusterer.decide(article)  -> Decision(relation, story, score)   nothing changes
    clusterer.add(key, article, decision)                            the article is filed

The method follows online clustering with story centroids (Miranda et al. 2018,
"Multilingual Clustering of Streaming News"; EU JRC's EMM NewsBrief), with what alertbot
has for Arabic: clitic-stripped terms and the analyzer's proper-noun readings.

* Each article is a TF-IDF vector of its terms (`alertbot.stories.vectors`): document
  frequencies learned from the stream, title and name terms weighted up, the outlet's
  furniture left out.
* Each story keeps the sum of its articles' vectors: its centroid.
* Candidates are the stories active within `WINDOW` that share one of the article's
  heaviest terms (an inverted index, not a scan of every story).
* score = cosine(article, centroid) × time factor: 1 within `FRESH` of the story's latest
  article, falling linearly to `LATE_FACTOR` at the end of the window.
* score ≥ `JOIN`: the same event (joined); ≥ `RELATED`: a follow-up, reaction or update
  (related: a new story linked to that one); else a new story. A copy or a light rewrite
  (the MinHash fingerprint at `COPY` or more, against a candidate's latest articles) joins
  whatever its score.

The thresholds were chosen on hand-labelled pairs from the corpus (bench/stories_bench.py,
tests/fixtures/story-pairs*.toml): a wrong join hides an event from the reader, which is
worse than a repeat, so JOIN sits where almost no different-event pair reaches it, and
RELATED catches most of the same-event pairs below it without threading unrelated news.

Pure: the caller gives the times, and stores what it needs to rebuild the state.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Generic, TypeVar

import numpy as np

from alertbot.stories import WINDOW
from alertbot.stories.fingerprint import Fingerprint
from alertbot.stories.vectors import (
    ArticleTerms,
    DocumentFrequencies,
    Furniture,
    Vector,
    normalised,
)

JOIN = 0.55
RELATED = 0.3
COPY = 0.5  # MinHash similarity of copies and light rewrites
FRESH = timedelta(hours=6)
LATE_FACTOR = 0.5
CANDIDATE_TERMS = 12  # the article's heaviest terms that find candidate stories
ARTICLE_TERMS = 60  # an article's vector keeps its heaviest terms
CENTROID_TERMS = 80  # and a story's centroid its heaviest
PRINTS_KEPT = 4  # MinHashes a story keeps of its latest articles, to know their copies

K = TypeVar("K", bound=Hashable)


class Relation(Enum):
    """What a new article is to the stories already seen."""

    NEW = "new"
    JOINED = "joined"
    RELATED = "related"


@dataclass(frozen=True)
class Article:
    """An article as clustering needs it."""

    outlet: str
    published: datetime
    terms: ArticleTerms
    fingerprint: Fingerprint


@dataclass(frozen=True)
class Decision(Generic[K]):
    """The outcome for one article: the story it joins or relates to, and the score."""

    relation: Relation
    story: K | None  # joined: its story; related: the story it relates to; new: None
    score: float
    vector: Vector  # the article's vector (kept to file it without computing it again)
    counts: Counter[str] = field(default_factory=Counter)  # its terms, furniture left out


@dataclass
class _Story:
    """A story's centroid: the sum of its articles' vectors, cut to its heaviest terms."""

    centroid: dict[str, float]
    first: datetime
    last: datetime
    norm: float = 0.0
    size: int = 0
    prints: list[np.ndarray] = field(default_factory=list)  # its latest articles' MinHashes

    def copied_by(self, values: np.ndarray) -> bool:
        """True when a MinHash is a copy or light rewrite of one of the story's articles."""
        return any(float((values == p).mean()) >= COPY for p in self.prints)

    def absorb(self, vector: Vector) -> None:
        for term, weight in vector.items():
            self.centroid[term] = self.centroid.get(term, 0.0) + weight
        if len(self.centroid) > CENTROID_TERMS:
            kept = heapq.nlargest(CENTROID_TERMS, self.centroid.items(), key=_weight)
            self.centroid = dict(kept)
        self.norm = math.sqrt(sum(w * w for w in self.centroid.values()))
        self.size += 1

    def cosine(self, vector: Vector) -> float:
        if not self.norm:
            return 0.0
        centroid = self.centroid
        shared = vector.keys() & centroid.keys()  # set intersection runs in C
        return sum(vector[t] * centroid[t] for t in shared) / self.norm


@dataclass
class Clusterer(Generic[K]):
    """Stories of the last `WINDOW`, their centroids, and what weighs terms."""

    join: float = JOIN
    related: float = RELATED
    frequencies: DocumentFrequencies = field(default_factory=DocumentFrequencies)
    furniture: Furniture = field(default_factory=Furniture)
    _stories: dict[K, _Story] = field(default_factory=dict)
    _postings: dict[str, set[K]] = field(default_factory=dict)
    _hashes: dict[bytes, K] = field(default_factory=dict)  # content hash -> its story

    def __len__(self) -> int:
        return len(self._stories)

    def decide(self, article: Article) -> Decision[K]:
        """How `article` relates to the stories seen so far (nothing is changed)."""
        counts = self.furniture.counted(article.outlet, article.terms, article.published)
        vector = self.frequencies.vector(counts, article.terms.title, article.terms.names)
        if len(vector) > ARTICLE_TERMS:
            vector = normalised(dict(heapq.nlargest(ARTICLE_TERMS, vector.items(), key=_weight)))
        same = self._hashes.get(article.fingerprint.content_hash)
        if same is not None and same in self._stories and self._gap(same, article) <= WINDOW:
            return Decision(Relation.JOINED, same, 1.0, vector, counts)
        best, score, copy = self._best(vector, article)
        if copy is not None:
            return Decision(Relation.JOINED, copy, 1.0, vector, counts)
        if best is not None and score >= self.join:
            return Decision(Relation.JOINED, best, score, vector, counts)
        if best is not None and score >= self.related:
            return Decision(Relation.RELATED, best, score, vector, counts)
        return Decision(Relation.NEW, None, score, vector, counts)

    def add(self, key: K, article: Article, decision: Decision[K]) -> None:
        """File the article under story `key` (the joined story, or a new one)."""
        story = self._stories.get(key)
        if story is None:
            story = self._stories[key] = _Story({}, article.published, article.published)
        before = set(story.centroid)
        story.absorb(decision.vector)
        for term in before - story.centroid.keys():
            self._unpost(term, key)
        for term in story.centroid.keys() - before:
            self._postings.setdefault(term, set()).add(key)
        story.first = min(story.first, article.published)
        story.last = max(story.last, article.published)
        story.prints = [*story.prints[-(PRINTS_KEPT - 1) :], _values(article.fingerprint)]
        self._hashes[article.fingerprint.content_hash] = key
        self.learn(article, decision.counts)

    def learn(self, article: Article, counts: Counter[str] | None = None) -> None:
        """Count an article's terms and lines without filing it (it starts no story);
        `counts` are its terms as `decide` counted them, when it did."""
        if counts is None:
            counts = self.furniture.counted(article.outlet, article.terms, article.published)
        self.frequencies.add(counts)
        self.furniture.remember(article.outlet, article.terms, article.published)

    def forget_before(self, cutoff: datetime) -> None:
        """Drop the stories whose latest article is older than `cutoff`."""
        gone = {k for k, s in self._stories.items() if s.last < cutoff}
        for key in gone:
            for term in self._stories.pop(key).centroid:
                self._unpost(term, key)
        self._hashes = {h: k for h, k in self._hashes.items() if k not in gone}
        self.furniture.forget_before(cutoff - WINDOW)

    def _gap(self, key: K, article: Article) -> timedelta:
        """How far the article is from story `key`'s articles in time (0 inside its span)."""
        story = self._stories[key]
        at = article.published
        return max(at - story.last, story.first - at, timedelta(0))

    def _unpost(self, term: str, key: K) -> None:
        keys = self._postings.get(term)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._postings[term]

    def _best(self, vector: Vector, article: Article) -> tuple[K | None, float, K | None]:
        """The best-scoring candidate and its score, and a candidate the article copies
        (a copy shares its heaviest terms, so it is among the candidates)."""
        heaviest = heapq.nlargest(CANDIDATE_TERMS, vector.items(), key=_weight)
        candidates: set[K] = set()
        for term, _ in heaviest:
            candidates |= self._postings.get(term, set())
        values = _values(article.fingerprint)
        best: K | None = None
        best_score = 0.0
        for key in candidates:
            story = self._stories[key]
            gap = self._gap(key, article)
            if gap > WINDOW:
                continue
            if story.copied_by(values):
                return key, 1.0, key
            score = story.cosine(vector) * _time_factor(gap)
            if score > best_score:
                best, best_score = key, score
        return best, best_score, None


def _values(fingerprint: Fingerprint) -> np.ndarray:
    return np.asarray(fingerprint.hashvalues, dtype=np.uint32)


def _weight(term_weight: tuple[str, float]) -> float:
    return term_weight[1]


def _time_factor(gap: timedelta) -> float:
    """1 within FRESH, then falling linearly to LATE_FACTOR at the end of the window."""
    if gap <= FRESH:
        return 1.0
    return 1.0 - (1.0 - LATE_FACTOR) * (gap - FRESH) / (WINDOW - FRESH)
