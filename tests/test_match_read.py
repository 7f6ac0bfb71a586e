"""One pass over an article: `Matcher.read` matches as `match_article` does and gives the
words the fingerprint and story clustering read, as `article_words` does on its own."""

from __future__ import annotations

from alertbot.stories.fingerprint import fingerprint, fingerprint_of
from alertbot.text.lemmatize import Lemmatizer, lemma_is_name
from alertbot.text.tokenize import ArticleWords, article_words, is_arabic
from alertbot.watch.match import Matcher, Watch
from testsupport.shared import corpus

WATCHES = [Watch("gaza", "غزة"), Watch("truce", '"وقف إطلاق النار"'), Watch("un", "UN OR غوتيريش")]


def _names(lemmatizer: Lemmatizer):
    """The rule written out on its own: an Arabic word the database reads as a proper noun
    or does not know; another word with a capital."""

    def is_name(surface: str) -> bool:
        if not is_arabic(surface):
            return surface[:1].isupper()
        analysis = lemmatizer.analyze(surface)
        return not analysis.known or any(lemma_is_name(k) for k in analysis.lemmas)

    return is_name


def test_the_pass_that_matches_reads_every_word_as_article_words(lemmatizer: Lemmatizer) -> None:
    matcher = Matcher(WATCHES, lemmatizer)
    is_name = _names(lemmatizer)
    rows = corpus()[:300]
    matched = 0
    for row in rows:
        title, text = row["title"] or "", row["text"]
        matches, words = matcher.read(title, text)
        assert matches == matcher.match_article(title, text), row["id"]
        assert words == article_words(title, text, is_name), row["id"]
        matched += bool(matches)
    assert matched >= 10  # the matching half is exercised, not only the reading


def test_lines_names_and_the_fingerprint_of_a_small_article(lemmatizer: Lemmatizer) -> None:
    title, text = "ناريشكين في القاهرة", "التقى ناريشكين\n\nبالوزير في غزة\nUN envoy ـ"
    _, words = Matcher(WATCHES, lemmatizer).read(title, text)
    assert words.title == ("ناريشكين", "في", "القاهره")
    assert words.lines == (("التقي", "ناريشكين"), ("بالوزير", "في", "غزه"), ("un", "envoy"))
    assert {"ناريشكين", "القاهره", "un"} <= words.names
    assert "envoy" not in words.names and "بالوزير" not in words.names
    assert fingerprint_of(words) == fingerprint(title, text)


def test_a_title_less_article_has_no_title_words(lemmatizer: Lemmatizer) -> None:
    _, words = Matcher([], lemmatizer).read(None, "سطر واحد")
    assert words == ArticleWords((), (("سطر", "واحد"),), words.names)
