"""Story clustering: the same event joins across outlets, follow-ups relate, furniture and
months apart keep stories apart; and the labelled corpus pairs stay where they were tuned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alertbot.stories.cluster import Article, Clusterer, Relation
from alertbot.stories.fingerprint import fingerprint
from alertbot.stories.stream import StreamItem, cluster_stream, word_reader
from alertbot.stories.vectors import Furniture, terms_of
from alertbot.text.tokenize import article_words
from testsupport.shared import corpus, seed_articles
from testsupport.storypairs import figures, labelled_pairs, stream_items

T0 = datetime(2018, 6, 1, 12, 0, tzinfo=UTC)
PROMO = (
    "يمكنكم استلام إشعارات بأهم الموضوعات بعد تحميل أحدث نسخة من تطبيق بي بي سي عربي"
    " على هاتفكم المحمول."
)


def _rows() -> dict[str, dict]:
    return {r["id"]: r for r in corpus()}


def _item(row: dict, at: datetime, outlet: str | None = None, text: str | None = None):
    return StreamItem(row["id"], row["title"], text or row["text"], outlet or row["outlet"], at)


def test_the_seed_articles_months_apart_are_two_stories_not_related(lemmatizer):
    (t1, x1), (t2, x2) = seed_articles().values()
    items = [
        StreamItem("a", t1, x1, "Ahram", T0),
        StreamItem("b", t2, x2, "Sky News Arabia", T0 + timedelta(days=120)),
    ]
    a, b = cluster_stream(items, word_reader(lemmatizer))
    assert (a.relation, b.relation) == (Relation.NEW, Relation.NEW)
    assert a.story != b.story and b.related_to is None


def test_a_copy_from_another_outlet_joins_whatever_its_centroid_score(lemmatizer):
    row = _rows()["ant-360"]
    items = [_item(row, T0), StreamItem("copy", row["title"], row["text"], "Other", T0)]
    first, copy = cluster_stream(items, word_reader(lemmatizer))
    assert copy.relation is Relation.JOINED and copy.story == first.story


def test_independent_reports_of_one_event_join_and_a_different_event_stays_apart(lemmatizer):
    """Labelled pairs from tests/fixtures/story-pairs*.toml: Twitter banning Kaspersky's
    ads (Al Arabiya, Sky News Arabia), and the Taliban's Eid-truce answer."""
    rows = _rows()
    items = [
        _item(rows["ant-360"], T0),
        _item(rows["ant-159"], T0 + timedelta(hours=1)),
        _item(rows["ant-1971"], T0 + timedelta(hours=3)),
    ]
    kaspersky, taliban, again = cluster_stream(items, word_reader(lemmatizer))
    assert again.relation is Relation.JOINED and again.story == kaspersky.story
    assert taliban.story != kaspersky.story and taliban.related_to is None


def test_an_outlets_repeated_promotion_and_background_stop_counting_after_two_sightings():
    furniture = Furniture()
    promo_terms = terms_of(article_words("عنوان", PROMO))
    counted = [furniture.counted("BBC", promo_terms, T0)]
    for n in range(3):
        furniture.remember("BBC", promo_terms, T0 + timedelta(hours=n))
        counted.append(furniture.counted("BBC", promo_terms, T0 + timedelta(hours=n + 1)))
    body = sum(counted[0].values()) - 1  # the title's one term
    assert [sum(c.values()) - 1 for c in counted] == [body, body, 0, 0]
    # Another outlet's same line is not this outlet's furniture.
    assert sum(furniture.counted("CNN", promo_terms, T0).values()) - 1 == body


def test_two_stories_of_one_outlet_sharing_its_furniture_stay_apart():
    """Regression: page furniture repeated inside one outlet's articles (a promotion, a
    background paragraph) made different stories of that outlet look alike."""
    rows = _rows()
    background = rows["ant-520"]["text"]  # a whole article of background and briefs
    clusterer: Clusterer[int] = Clusterer()
    # Document frequencies of a real stream (other outlets): the shared block is rare there.
    for row in [r for r in corpus() if r["outlet"] != "BBC Arabic"][:600]:
        terms = terms_of(article_words(row["title"], row["text"]))
        clusterer.learn(Article(row["outlet"], T0 - timedelta(days=10), terms, fingerprint("", "")))
    earlier = [rows[k] for k in ("ant-1", "ant-5", "ant-9")]
    for n, row in enumerate(earlier):  # the outlet's earlier articles carry the same lines
        text = f"{row['text']}\n{background}\n{PROMO}"
        art = Article("BBC", T0 + timedelta(hours=n), terms_of(article_words(row["title"], text)),
                      fingerprint(row["title"], text))  # fmt: skip
        clusterer.add(n, art, clusterer.decide(art))
    one, other = rows["ant-360"], rows["ant-159"]

    def with_furniture(row: dict, at: datetime) -> Article:
        words = article_words(row["title"], f"{row['text']}\n{background}\n{PROMO}")
        return Article("BBC", at, terms_of(words), fingerprint(row["title"], row["text"]))

    first = with_furniture(one, T0 + timedelta(hours=4))
    clusterer.add(10, first, clusterer.decide(first))
    second = with_furniture(other, T0 + timedelta(hours=5))
    decision = clusterer.decide(second)
    assert decision.relation is Relation.NEW, decision.score  # without furniture: related


@pytest.mark.parametrize("relation", list(Relation))
def test_relations_are_the_contracts_words(relation):
    assert relation.value in ("new", "joined", "related")


def test_the_labelled_corpus_pairs_score_as_tuned(lemmatizer):
    """The whole corpus streamed in publication order, as `alertbot stories` and
    bench/stories_bench.py do, scored on the hand-labelled pairs: a regression guard
    on the figures the thresholds were tuned for (the bench prints them), held to the
    issue's targets."""
    results = {r.id: r for r in cluster_stream(stream_items(), word_reader(lemmatizer))}
    got = figures(results, labelled_pairs())
    assert got["same pairs"] >= 100 and got["different pairs"] >= 200
    assert got["events hidden"] <= 0.05
    assert got["same-outlet hidden"] <= 0.10
    assert got["related"] <= 0.25
    assert got["repeats quieted"] >= 0.75


def test_a_story_is_found_among_hundreds_on_a_common_term():
    """A busy window: 200 stories on Gaza, each with words of its own; a report of one of
    them joins it, though only the `MAX_CANDIDATES` sharing most terms are scored."""
    from alertbot.stories.cluster import MAX_CANDIDATES

    rows = [r for r in corpus() if r["outlet"] == "BBC Arabic"][:200]
    assert len(rows) > MAX_CANDIDATES
    clusterer: Clusterer[int] = Clusterer()

    def article(row: dict, at: datetime, outlet: str = "BBC", print_of: str = "") -> Article:
        words = article_words(f"غزة {row['title']}", f"غزة غزة غزة\n{row['text']}")
        # (the fingerprint of another text: the join must come from the terms alone)
        return Article(outlet, at, terms_of(words), fingerprint(print_of, row["id"]))

    for n, row in enumerate(rows):
        a = article(row, T0 + timedelta(minutes=n))
        clusterer.add(n, a, clusterer.decide(a))
    target = 150
    again = article(rows[target], T0 + timedelta(hours=4), outlet="Sky", print_of="another")
    decision = clusterer.decide(again)
    assert (decision.relation, decision.story) == (Relation.JOINED, target)
