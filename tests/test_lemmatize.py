"""How query words and text words are read: citation lemmas, names, pruned readings."""

import threading

import pytest

from alertbot.text.analysis_cache import AnalysisCache
from alertbot.text.lemmatize import DeferredAnalyzer, Lemmatizer, analyzer_form, clitic_stems
from alertbot.text.provenance import DatabaseFile

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
        ("Naryshkin", ["Naryshkins", "Naryshkin's"]),  # as written, with its plural
    ]


def test_analyzer_form_keeps_plain_letters_and_harakat_as_they_are():
    # analyzer_form skips its letter-by-letter pass for words made only of these, so each
    # must be one that pass keeps unchanged; with a tatweel, a word takes the pass.
    for code in [*range(0x0621, 0x063B), *range(0x0641, 0x0653)]:
        assert analyzer_form(chr(code) + "\u0640") == chr(code), hex(code)
    assert analyzer_form("مصـر") == "مصر"  # tatweel is not among them
    assert analyzer_form("\u200fمصر") == "مصر"


class _Camel:
    """A stand-in analyzer that counts its calls: every word is the name مصر."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def analyze(self, word: str) -> list[dict]:
        self.calls.append(word)
        reading = {"lex": "مِصْر", "pos": "noun_prop", "source": "lex", "diac": "مِصْر",
                   "prc0": "0", "prc1": "0", "prc2": "0", "prc3": "0", "enc0": "0",
                   "pos_lex_logprob": -3.0}  # fmt: skip
        return [reading]


def test_a_word_and_its_analyzer_form_share_one_analysis():
    camel = _Camel()
    lemmatizer = Lemmatizer(camel)
    plain = lemmatizer.analyze("مصر")
    assert lemmatizer.analyze("مصـر") is plain  # tatweel: another surface, the same form
    assert lemmatizer.analyze("مصر") is plain
    assert camel.calls == ["مصر"]
    assert plain.stems == clitic_stems("مصر")


def test_a_restarted_lemmatizer_reads_the_persistent_cache_not_camel(tmp_path):
    database = tmp_path / "morphology.db"
    database.write_bytes(b"calima")
    camel = _Camel()
    first = Lemmatizer(camel, persistent=AnalysisCache(tmp_path / "c", DatabaseFile(database), "v"))
    expected = first.analyze("بمصر")
    query = first.analyze_query_word("مصر")
    first.close()

    def no_camel() -> _Camel:
        raise AssertionError("camel-tools loaded for a cached word")

    again = Lemmatizer(
        DeferredAnalyzer(no_camel),
        persistent=AnalysisCache(tmp_path / "c", DatabaseFile(database), "v"),
    )
    assert again.analyze("بمصر") == expected
    assert again.analyze_query_word("مصر") == query
    again.close()
    warmed = Lemmatizer(
        DeferredAnalyzer(no_camel),
        persistent=AnalysisCache(tmp_path / "c", DatabaseFile(database), "v"),
    )
    warmed.warm_up()
    assert warmed._cache == {"بمصر": expected}
    warmed.close()


def test_deferred_analyzer_loads_once_for_every_thread():
    loads = []

    def load() -> _Camel:
        loads.append(1)
        return _Camel()

    deferred = DeferredAnalyzer(load)
    assert not deferred.is_loaded
    threads = [threading.Thread(target=deferred.analyze, args=("مصر",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == [1] and deferred.is_loaded


def test_deferred_analyzer_that_failed_to_load_fails_the_same_way_again():
    loads = []

    def load() -> _Camel:
        loads.append(1)
        raise OSError("morphology.db: unreadable")

    deferred = DeferredAnalyzer(load)
    for _ in range(2):
        with pytest.raises(OSError, match="unreadable"):
            deferred.analyze("مصر")
    assert loads == [1]
