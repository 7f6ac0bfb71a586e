"""How query words and text words are read: citation lemmas, names, pruned readings."""

import pytest

from alertbot.text.lemmatize import clitic_stems

_HARAKAT = {c: None for c in range(0x064B, 0x0653)}


@pytest.mark.parametrize(
    ("word", "lemmas"),
    [
        ("مصر", ["مصر#name"]),  # Egypt, not مُصِرّ (insistent), a less likely citation reading
        ("روسيا", ["روسيا#name"]),  # the name, not the adjective روسيّ read with tanween
        ("مفاوضات", ["مفاوضة#nominal"]),  # no citation reading: the inflected noun's lemma
        ("وقف", ["وقف#nominal", "وقف#verb"]),  # the noun and the verb are both citation forms
        ("القاهرة", ["قاهرة#name+al"]),  # a name with its article
    ],
)
def test_query_word_reads_as_its_citation_form(lemmatizer, word, lemmas):
    found = lemmatizer.analyze_query_word(word).lemmas
    assert sorted(lemma.translate(_HARAKAT) for lemma in found) == lemmas


def test_vowelled_query_word_picks_the_insistent_reading(lemmatizer):
    assert lemmatizer.analyze_query_word("مُصِرّ").lemmas == {"مُصِرّ#nominal"}
    assert lemmatizer.analyze_query_word("مصر").lemmas == {"مِصْر#name"}


def test_regression_unknown_name_that_parses_as_a_verb_is_a_name(lemmatizer):
    # أستانا (Astana) was read as the verb استاء "to be upset", so the watch fired on استاء.
    analysis = lemmatizer.analyze_query_word("أستانا")
    assert analysis.is_name


def test_unknown_names_have_no_lemma_and_keep_a_typed_article(lemmatizer):
    assert lemmatizer.analyze_query_word("ناريشكين").is_name
    dabaa = lemmatizer.analyze_query_word("الضبعة")
    assert dabaa.is_name and dabaa.stem == "الضبعه"


def test_proper_noun_identity_includes_the_article(lemmatizer):
    cairo = lemmatizer.analyze_query_word("القاهرة").lemmas
    assert cairo & lemmatizer.analyze("بالقاهرة").lemmas
    assert not lemmatizer.analyze_query_word("سوريا").lemmas & lemmatizer.analyze("السورية").lemmas


def test_possessive_readings_of_names_are_dropped(lemmatizer):
    # "إسرائيلي" is Israeli, not "my Israel".
    israel = lemmatizer.analyze_query_word("إسرائيل").lemmas
    assert not israel & lemmatizer.analyze("إسرائيلي").lemmas


def test_text_diacritics_rule_out_readings(lemmatizer):
    egypt = lemmatizer.analyze_query_word("مصر").lemmas
    assert egypt & lemmatizer.analyze("مصر").lemmas
    assert not egypt & lemmatizer.analyze("مُصر").lemmas


def test_clitic_stems_cover_conjunction_preposition_and_article():
    assert {"بالضبعه", "الضبعه", "ضبعه"} <= clitic_stems("وبالضبعه")
    assert {"الضبعه", "ضبعه"} <= clitic_stems("للضبعه")
    assert "ناريشكين" in clitic_stems("وناريشكين")
    assert clitic_stems("مصرف") == {"مصرف"}


def test_matcher_explains_how_each_word_was_understood(make_matcher):
    matcher = make_matcher(w="مفاوضات OR ناريشكين OR Naryshkin")
    [watch] = matcher.watches
    assert matcher.understood(watch) == [
        ("مفاوضات", ["مفاوضة"]),
        ("ناريشكين", []),  # a name the database does not know: matched by its letters
        ("naryshkin", []),
    ]
