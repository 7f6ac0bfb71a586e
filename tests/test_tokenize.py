"""Tokenisation: words with their offsets into the original text."""

import pytest

from alertbot.text.normalize import normalize_word
from alertbot.text.tokenize import is_arabic, tokenize


def surfaces(text: str) -> list[str]:
    return [t.surface for t in tokenize(text)]


def test_offsets_point_into_the_original_text(seed_articles):
    for title, text in seed_articles.values():
        for field in (title, text):
            tokens = tokenize(field)
            assert tokens
            for t in tokens:
                assert field[t.start : t.end] == t.surface
                assert t.norm == normalize_word(t.surface)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("«ناريشكين»،", ["ناريشكين"]),
        ("(الضبعة)", ["الضبعة"]),
        ('"غزة."', ["غزة"]),
        ("محطة الضبعة؛ وقال:", ["محطة", "الضبعة", "وقال"]),
    ],
)
def test_punctuation_glued_to_words_is_split_off(text, expected):
    assert surfaces(text) == expected


def test_hashtag_gives_its_two_words():
    tokens = tokenize("#عاصي_الحلاني")
    assert [t.surface for t in tokens] == ["عاصي", "الحلاني"]
    assert [(t.start, t.end) for t in tokens] == [(1, 5), (6, 13)]


def test_diacritics_stay_inside_the_token_and_its_span():
    text = "قطاع غَزَّةُ اليوم"
    [_, gaza, _] = tokenize(text)
    assert gaza.surface == "غَزَّةُ"
    assert text[gaza.start : gaza.end] == "غَزَّةُ"
    assert gaza.norm == "غزه"


def test_tatweel_stays_inside_the_token():
    [token] = tokenize("غــزة")
    assert token.surface == "غــزة"
    assert token.norm == "غزه"


def test_trailing_bidi_marks_are_not_in_the_span():
    text = "غزة\u200f\u202c اليوم"
    gaza = tokenize(text)[0]
    assert (gaza.start, gaza.end) == (0, 3)
    assert gaza.surface == "غزة"


def test_leading_bidi_mark_is_not_in_the_span():
    text = "\u200fغزة"
    [gaza] = tokenize(text)
    assert (gaza.start, gaza.end) == (1, 4)


def test_zero_width_non_joiner_inside_a_word_keeps_one_token():
    [token] = tokenize("می\u200cخواهم")
    assert token.surface == "می\u200cخواهم"


@pytest.mark.parametrize(
    "text",
    ["غزة. مصر", "غزة.\nمصر", "غزة\nمصر", "غزة\r\nمصر", "غزة؟ مصر", "غزة! مصر", "غزة؛ مصر"],
)
def test_breaks_before_is_set_after_a_sentence_end_or_newline(text):
    first, second = tokenize(text)
    assert not first.breaks_before
    assert second.breaks_before


@pytest.mark.parametrize("text", ["غزة مصر", "غزة، مصر", "غزة: مصر", "«غزة» مصر", "3.5 مليون"])
def test_no_break_inside_a_sentence(text):
    assert not any(t.breaks_before for t in tokenize(text))


def test_no_break_inside_us():
    tokens = tokenize("U.S.")
    assert [t.surface for t in tokens] == ["U", "S"]
    assert not any(t.breaks_before for t in tokens)


def test_no_break_after_us_before_the_next_word():
    tokens = tokenize("the U.S. envoy arrived")
    assert [t.surface for t in tokens] == ["the", "U", "S", "envoy", "arrived"]
    assert not any(t.breaks_before for t in tokens)


def test_break_after_a_sentence_end_inside_closing_quotes():
    for text in ("«انتهت الحرب.» ثم غادر", 'He said "the war ended." Then he left'):
        tokens = {t.surface: t for t in tokenize(text)}
        after = tokens.get("ثم") or tokens["Then"]
        assert after.breaks_before, text


def test_latin_and_cyrillic_tokens_are_not_arabic():
    tokens = tokenize("Naryshkin Нарышкин ناريشكين")
    assert [(t.norm, t.arabic) for t in tokens] == [
        ("naryshkin", False),
        ("нарышкин", False),
        ("ناريشكين", True),
    ]


def test_arabic_indic_digits_normalise_to_ascii_and_are_not_arabic():
    [year] = tokenize("٢٠٢٤")
    assert year.surface == "٢٠٢٤"
    assert year.norm == "2024"
    assert not year.arabic
    [persian] = tokenize("۱۴۰۳")
    assert persian.norm == "1403"
    assert not persian.arabic


def test_is_arabic():
    assert is_arabic("غزة")
    assert is_arabic("x\ufefb")
    assert not is_arabic("Gaza")
    assert not is_arabic("٢٠٢٤")


def test_text_without_words_gives_no_tokens():
    assert tokenize("") == []
    assert tokenize(" «» ، ... \u200f\n") == []
