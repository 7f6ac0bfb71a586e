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
  heaviest terms (an inverted index, not a scan of every story); in a busy window, the
  `MAX_CANDIDATES` sharing most of them.
* score = cosine(article, centroid) × time factor: 1 within `FRESH` of the story's latest
  article, then decaying exponentially (by e every `DECAY`) to no less than `LATE_FACTOR`.
  The gap says much: on the labelled pairs, same-event pairs are a median 3.7 hours apart,
  different events on the same topic 19; the decay keeps yesterday's story on the topic
  from taking today's news, and keeps a day-old thread from collecting the next event.
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

import math
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Generic, TypeVar

import numpy as np

from alertbot.stories import WINDOW
from alertbot.stories.fingerprint import NUM_PERM, Fingerprint
from alertbot.stories.vectors import (
    ArticleTerms,
    DocumentFrequencies,
    Furniture,
    Vector,
    heaviest,
)

JOIN = 0.55
RELATED = 0.25
COPY = 0.5  # MinHash similarity of copies and light rewrites
FRESH = timedelta(hours=2)
DECAY = timedelta(hours=48)
LATE_FACTOR = 0.3
CANDIDATE_TERMS = 12  # the article's heaviest terms that find candidate stories
MAX_CANDIDATES = 64  # stories scored per article, those sharing most of those terms
ARTICLE_TERMS = 60  # an article's vector keeps its heaviest terms
CENTROID_TERMS = 80  # and a story's centroid its heaviest
PRINTS_KEPT = 4  # MinHashes a story keeps of its latest articles, to know their copies
COPY_COSINE = 0.2  # a copy's cosine to the story it copies is far above this

_ZERO = timedelta(0)
_NO_PRINTS = np.empty((0, NUM_PERM), dtype=np.uint32)

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
    prints: np.ndarray = field(default_factory=lambda: _NO_PRINTS)  # latest MinHashes, rows

    def copied_by(self, values: np.ndarray) -> bool:
        """True when a MinHash is a copy or light rewrite of one of the story's articles."""
        return bool(len(self.prints)) and float((self.prints == values).mean(axis=1).max()) >= COPY

    def absorb(self, vector: Vector) -> None:
        centroid = self.centroid
        for term, weight in vector.items():
            centroid[term] = centroid.get(term, 0.0) + weight
        if len(centroid) > CENTROID_TERMS:
            centroid = self.centroid = heaviest(centroid, CENTROID_TERMS)
        self.norm = math.sqrt(sum(w * w for w in centroid.values()))
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
    # term -> the stories whose centroid carries it. Tuples, not sets: most terms are in a
    # few stories, and a small set is four times the size of a small tuple (12 MB of a
    # window's 2,500 stories).
    _postings: dict[str, tuple[K, ...]] = field(default_factory=dict)
    _hashes: dict[bytes, K] = field(default_factory=dict)  # content hash -> its story

    def __len__(self) -> int:
        return len(self._stories)

    def decide(self, article: Article) -> Decision[K]:
        """How `article` relates to the stories seen so far (nothing is changed)."""
        counts = self.furniture.counted(article.outlet, article.terms, article.published)
        terms = article.terms
        vector = self.frequencies.vector(counts, terms.title, terms.names, keep=ARTICLE_TERMS)
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
        after = story.centroid.keys()
        self._unpost(before - after, key)
        postings = self._postings
        for term in after - before:
            postings[term] = (*postings.get(term, ()), key)
        story.first = min(story.first, article.published)
        story.last = max(story.last, article.published)
        story.prints = np.vstack((story.prints[-(PRINTS_KEPT - 1) :], _values(article.fingerprint)))
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
            self._unpost(self._stories.pop(key).centroid, key)
        if gone:
            self._hashes = {h: k for h, k in self._hashes.items() if k not in gone}
        self.furniture.forget_before(cutoff - WINDOW)

    def _gap(self, key: K, article: Article) -> timedelta:
        """How far the article is from story `key`'s articles in time (0 inside its span)."""
        story = self._stories[key]
        at = article.published
        return max(at - story.last, story.first - at, timedelta(0))

    def _unpost(self, terms: Iterable[str], key: K) -> None:
        """Story `key` no longer carries `terms`."""
        postings = self._postings
        for term in terms:
            keys = postings.get(term)
            if keys is not None:
                rest = tuple(k for k in keys if k != key)
                if rest:
                    postings[term] = rest
                else:
                    del postings[term]

    def _best(self, vector: Vector, article: Article) -> tuple[K | None, float, K | None]:
        """The best-scoring candidate and its score, and a candidate the article copies.

        A copy or light rewrite shares most of its terms with the story it copies, so it is
        among the candidates and its cosine reaches `COPY_COSINE`: only those candidates
        have their MinHashes compared."""
        postings = self._postings
        shared: Counter[K] = Counter()
        for term in sorted(vector, key=vector.__getitem__, reverse=True)[:CANDIDATE_TERMS]:
            found = postings.get(term)
            if found:
                shared.update(found)
        # A busy window has thousands of stories on a common term: the ones sharing most
        # of the article's heaviest terms are scored, a bounded number.
        candidates = [k for k, _ in shared.most_common(MAX_CANDIDATES)]
        at = article.published
        values: np.ndarray | None = None
        best: K | None = None
        best_score = 0.0
        for key in candidates:
            story = self._stories[key]
            gap = max(at - story.last, story.first - at, _ZERO)
            if gap > WINDOW:
                continue
            cosine = story.cosine(vector)
            if cosine >= COPY_COSINE:
                if values is None:
                    values = _values(article.fingerprint)
                if story.copied_by(values):
                    return key, 1.0, key
            score = cosine * _time_factor(gap)
            if score > best_score:
                best, best_score = key, score
        return best, best_score, None


def _values(fingerprint: Fingerprint) -> np.ndarray:
    return np.asarray(fingerprint.hashvalues, dtype=np.uint32)


def _time_factor(gap: timedelta) -> float:
    """1 within FRESH, then exp(-(gap - FRESH) / DECAY), never below LATE_FACTOR."""
    if gap <= FRESH:
        return 1.0
    return max(LATE_FACTOR, math.exp(-(gap - FRESH) / DECAY))
