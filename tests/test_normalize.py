"""Normalisation: what is folded, and the offset map back to the original text."""

import itertools

import pytest

from alertbot.text.normalize import is_control, is_mark, normalize, normalize_word
from testsupport.shared import corpus


@pytest.fixture(scope="module")
def corpus_fields() -> list[str]:
    """Titles and texts of the first 200 articles of the shared corpus."""
    items = corpus()[:200]
    return [field for item in items for field in (item.get("title") or "", item["text"]) if field]


# --- what is dropped ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("غَزَّةُ", "غزه"),  # fatha, shadda, damma
        ("مُحَمَّدٌ", "محمد"),  # dammatan
        ("كِتَاباً", "كتابا"),  # fathatan
        ("قْ", "ق"),  # sukun
        ("رحمٰن", "رحمن"),  # dagger alef U+0670
        ("غــــزة", "غزه"),  # tatweel
    ],
)
def test_diacritics_and_tatweel_are_dropped(text, expected):
    assert normalize(text).text == expected
    assert normalize_word(text) == expected


@pytest.mark.parametrize(
    "control",
    [
        "\u200e",
        "\u200f",
        "\u061c",
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200b",
        "\u200c",
        "\u200d",
        "\u2060",
        "\ufeff",
    ],
)
def test_bidi_and_zero_width_controls_are_dropped(control):
    assert is_control(control)
    assert normalize(f"غزة{control}اليوم").text == "غزهاليوم"
    assert normalize_word(f"{control}Gaza{control}") == "gaza"


def test_marks_and_controls_are_told_apart():
    assert is_mark("\u064e") and is_mark("\u0670") and is_mark("\u0640")
    assert not is_mark("\u200f") and not is_control("\u064e")
    assert not is_mark("ا") and not is_control(" ")


# --- what is folded ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("أحمد", "احمد"),
        ("إطلاق", "اطلاق"),
        ("آمال", "امال"),
        ("ٱلله", "الله"),  # alef wasla
        ("غزة", "غزه"),  # ta marbuta
        ("مستشفى", "مستشفي"),  # alef maqsura
        ("ایران", "ايران"),  # Persian yeh
        ("کتاب", "كتاب"),  # keheh
    ],
)
def test_arabic_spelling_variants_fold(text, expected):
    assert normalize(text).text == expected


def test_arabic_indic_and_persian_digits_become_ascii():
    assert normalize("٠١٢٣٤٥٦٧٨٩").text == "0123456789"
    assert normalize("۰۱۲۳۴۵۶۷۸۹").text == "0123456789"
    assert normalize_word("٢٠٢٤") == "2024"


def test_nfkc_lam_alef_ligature_expands_to_two_letters():
    assert normalize("\ufefb").text == "لا"
    # The presentation form of lam-alef with hamza above folds on, through أ to ا.
    assert normalize("\ufef7").text == "لا"


def test_nfkc_presentation_forms_of_letters():
    # ﻏﺰﺓ: isolated/medial/final presentation forms, as old PDFs and web pages carry.
    assert normalize("\ufecf\ufeb0\ufe93").text == "غزه"


def test_nfkc_full_width_latin_and_digits():
    assert normalize("ＧＡＺＡ ２０２４").text == "gaza 2024"


def test_latin_and_cyrillic_fold_case():
    assert normalize("Naryshkin NARYSHKIN").text == "naryshkin naryshkin"
    assert normalize("НАРЫШКИН Нарышкин").text == "нарышкин нарышкин"


def test_cyrillic_yo_folds_to_ye():
    assert normalize("ёлка Ёлка елка").text == "елка елка елка"


def test_isolated_presentation_form_of_a_diacritic_is_dropped_not_a_space():
    assert normalize_word("شكرا\ufe70") == "شكرا"
    assert normalize_word("غزة\ufe76") == "غزه"


# --- the offset map ----------------------------------------------------------------------


def test_every_output_char_maps_to_the_original_char_it_came_from():
    text = "أ «Gaza» ٢"
    n = normalize(text)
    assert n.text == "ا «gaza» 2"
    for i, ch in enumerate(n.text):
        assert normalize_word(text[n.starts[i] : n.ends[i]]) == ch


def test_ligature_maps_both_letters_to_the_one_original_char():
    n = normalize("x\ufefby")
    assert n.text == "xلاy"
    assert n.starts == (0, 1, 1, 2)
    assert n.ends == (1, 2, 2, 3)


def test_diacritics_extend_the_range_of_the_letter_they_sit_on():
    n = normalize("غَزَّةُ")
    assert n.text == "غزه"
    assert list(zip(n.starts, n.ends, strict=True)) == [(0, 2), (2, 5), (5, 7)]


def test_tatweel_extends_the_letter_before_it():
    n = normalize("غــزة")
    assert list(zip(n.starts, n.ends, strict=True)) == [(0, 3), (3, 4), (4, 5)]


def test_a_diacritic_on_a_ligature_extends_both_of_its_letters():
    n = normalize("\ufefbَ")
    assert n.text == "لا"
    assert n.ends == (2, 2)


def test_span_of_a_word_covers_its_trailing_harakat():
    text = "قال غزةَ اليوم"
    n = normalize(text)
    i = n.text.index("غزه")
    start, end = n.span(i, i + 3)
    assert text[start:end] == "غزةَ"


def test_span_of_a_word_leaves_out_a_trailing_bidi_mark():
    text = "غزة\u200f اليوم"
    n = normalize(text)
    start, end = n.span(0, 3)
    assert text[start:end] == "غزة"


def test_empty_span_is_an_error():
    n = normalize("غزة")
    with pytest.raises(ValueError, match="empty span"):
        n.span(1, 1)


def test_offset_map_is_consistent_over_real_news_text(corpus_fields):
    for text in corpus_fields:
        n = normalize(text)
        assert len(n.text) == len(n.starts) == len(n.ends)
        assert n.text == normalize_word(text)
        assert list(n.starts) == sorted(n.starts)
        assert list(n.ends) == sorted(n.ends)
        for i, ch in enumerate(n.text):
            assert n.starts[i] < n.ends[i]
            assert ch in normalize_word(text[n.starts[i] : n.ends[i]])
        # Output characters sharing one source range are exactly that range, normalised;
        # whatever no range covers is a dropped mark or control.
        covered = set()
        for (start, end), group in itertools.groupby(
            zip(n.starts, n.ends, n.text, strict=True), key=lambda t: (t[0], t[1])
        ):
            assert "".join(ch for _, _, ch in group) == normalize_word(text[start:end])
            covered.update(range(start, end))
        for j, ch in enumerate(text):
            if j not in covered:
                assert normalize_word(ch) == "", (text[max(0, j - 10) : j + 10], ch)
