"""Clustering a stream of articles from a fresh state: `alertbot stories`, and its benchmark.

    cluster_stream(items, is_name)  -> one StreamResult per item, in order

The same `Clusterer` the pipeline uses, with every article filed (the pipeline files only
the articles that matter to someone: see `alertbot.pipeline`). Story ids count up from 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from alertbot.stories.cluster import WINDOW, Article, Clusterer, Relation
from alertbot.stories.fingerprint import fingerprint
from alertbot.stories.vectors import terms_of
from alertbot.text.lemmatize import Lemmatizer, lemma_is_name
from alertbot.text.tokenize import is_arabic

FORGET_EVERY = 200  # items between two sweeps of stories too old to be joined
NAME_CACHE = 200_000  # word forms whose name-ness is remembered


def name_test(lemmatizer: Lemmatizer) -> Callable[[str], bool]:
    """Whether a word, as written, is a name: an Arabic word the morphology database reads
    as a proper noun or does not know at all; a Latin or Cyrillic word with a capital."""
    known: dict[str, bool] = {}

    def is_name(surface: str) -> bool:
        found = known.get(surface)
        if found is None:
            if not is_arabic(surface):
                found = surface[:1].isupper()
            else:
                analysis = lemmatizer.analyze(surface)
                found = not analysis.known or any(lemma_is_name(k) for k in analysis.lemmas)
            if len(known) >= NAME_CACHE:
                known.clear()
            known[surface] = found
        return found

    return is_name


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
    items: Iterable[StreamItem], is_name: Callable[[str], bool] | None = None
) -> Iterator[StreamResult]:
    """Each item's story, joined, related or new, in the order given."""
    return cluster_articles((item.id, article_of(item, is_name)) for item in items)


def article_of(item: StreamItem, is_name: Callable[[str], bool] | None = None) -> Article:
    """An item as the clusterer reads it: its terms and fingerprint."""
    return Article(
        item.outlet,
        item.published,
        terms_of(item.title, item.text, is_name),
        fingerprint(item.title, item.text),
    )


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
