"""Clustering a stream of articles from a fresh state: `alertbot stories`, and its benchmark.

    cluster_stream(items, read)     -> one StreamResult per item, in order
    word_reader(lemmatizer)         -> read: an article's words and names, as the pipeline

The same `Clusterer` the pipeline uses, with every article filed (the pipeline files only
the articles that matter to someone: see `alertbot.pipeline`). Story ids count up from 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from alertbot.stories.cluster import WINDOW, Article, Clusterer, Relation
from alertbot.stories.fingerprint import fingerprint_of
from alertbot.stories.vectors import terms_of
from alertbot.text.lemmatize import Lemmatizer
from alertbot.text.tokenize import ArticleWords, article_words
from alertbot.watch.match import Matcher

FORGET_EVERY = 200  # items between two sweeps of stories too old to be joined

# Reads an article (title, text) into its words and names.
Reader = Callable[[str, str], ArticleWords]


def word_reader(lemmatizer: Lemmatizer) -> Reader:
    """The pipeline's reading pass (`Matcher.read`) with no watches: each article's words,
    and which are names (a word the morphology database reads as a proper noun or does
    not know at all; a Latin or Cyrillic word with a capital)."""
    matcher = Matcher((), lemmatizer)

    def read(title: str, text: str) -> ArticleWords:
        return matcher.read(title, text)[1]

    return read


@dataclass(frozen=True)
class StreamItem:
    """One input article."""

    id: str
    title: str
    text: str
    outlet: str
    published: datetime


@dataclass(frozen=True)
class StreamResult:
    """The outcome for one item: its story, and how it came to be there."""

    id: str
    story: int
    relation: Relation
    related_to: int | None
    score: float


def cluster_stream(
    items: Iterable[StreamItem], read: Reader | None = None
) -> Iterator[StreamResult]:
    """Each item's story, joined, related or new, in the order given; `read` finds the
    names (`word_reader`: without it no word is a name)."""
    return cluster_articles((item.id, article_of(item, read)) for item in items)


def article_of(item: StreamItem, read: Reader | None = None) -> Article:
    """An item as the clusterer reads it: its terms and fingerprint."""
    words = (
        read(item.title, item.text) if read is not None else article_words(item.title, item.text)
    )
    return Article(item.outlet, item.published, terms_of(words), fingerprint_of(words))


def cluster_articles(
    articles: Iterable[tuple[str, Article]], clusterer: Clusterer[int] | None = None
) -> Iterator[StreamResult]:
    """`cluster_stream` for articles already read (a benchmark reads them once)."""
    if clusterer is None:
        clusterer = Clusterer()
    next_story = 1
    latest: datetime | None = None
    for n, (item_id, article) in enumerate(articles, 1):
        decision = clusterer.decide(article)
        if decision.relation is Relation.JOINED and decision.story is not None:
            story = decision.story
        else:
            story, next_story = next_story, next_story + 1
        clusterer.add(story, article, decision)
        related_to = decision.story if decision.relation is Relation.RELATED else None
        yield StreamResult(item_id, story, decision.relation, related_to, decision.score)
        latest = article.published if latest is None else max(latest, article.published)
        if n % FORGET_EVERY == 0:
            clusterer.forget_before(latest - 2 * WINDOW)
