"""The two seed articles (../shared/fixtures/seed-articles): each watch, with exact spans.

The expected spans were found by reading the articles: a plain search lists every word
that contains the watched letters (`_words_containing`), and each was judged by hand.
Article a is about the Sisi-Naryshkin meeting; article b is about the same meeting, with
the Dabaa nuclear plant. Its text repeats the title on its second line.
"""

from __future__ import annotations

import re

import pytest

from alertbot.watch.match import Matcher

A = "sisi-naryshkin-a.txt"
B = "sisi-naryshkin-b.txt"

# An Arabic word with its diacritics and tatweel: what a reader sees as one word.
_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u064b-\u0652\u0640]+")

# (field, start, end, surface), in the order the matcher reports spans: title first.
NARYSHKIN_A = [
    ("title", 34, 43, "وناريشكين"),  # السيسي وناريشكين يبحثان
    ("text", 131, 139, "ناريشكين"),  # السيسي “سيرجي ناريشكين”،
    ("text", 1355, 1363, "ناريشكين"),  # الرئيس السيسي لسيرجي ناريشكين في زيارة
]
NARYSHKIN_B = [
    ("text", 228, 236, "ناريشكين"),  # سيرجي ناريشكين، رئيس جهاز الاستخبارات
    ("text", 842, 850, "ناريشكين"),  # بدوره، نقل ناريشكين تحيات بوتين
    ("text", 1264, 1272, "ناريشكين"),  # حيث استمع ناريشكين إلى رؤية الرئيس
]
SISI_A = [
    ("title", 27, 33, "السيسي"),
    ("text", 117, 123, "السيسي"),
    ("text", 1341, 1347, "السيسي"),
]
SISI_B_TITLE = [("title", 7, 13, "السيسي")]
SISI_B_TEXT = [
    ("text", start, start + 6, "السيسي") for start in (19, 95, 198, 513, 627, 1289, 1344, 1636)
]
DABAA_B = [("text", 1085, 1091, "الضبعة")]  # مشروع إنشاء محطة الضبعة النووية
CEASEFIRE_A = [("text", 807, 822, "وقف إطلاق النار")]  # ضرورة وقف إطلاق النار فورًا
CEASEFIRE_B = [("text", 1373, 1388, "وقف إطلاق النار")]  # تثبيت اتفاق وقف إطلاق النار
# The غزة that follows the phrase: "... النار فورًا في قطاع غزة" (3 words between) in a,
# "... النار في قطاع غزة" (2 words between) in b. The other mentions of Gaza ("التحديات
# الراهنة في قطاع غزة", "الأزمة في غزة" in a; "لوقف الحرب في غزة" in b) are far from it.
GAZA_NEAR_CEASEFIRE_A = [("text", 837, 840, "غزة")]
GAZA_NEAR_CEASEFIRE_B = [("text", 1397, 1400, "غزة")]


def _fields(article: tuple[str, str]) -> dict[str, str]:
    title, text = article
    return {"title": title, "text": text}


def _words_containing(article: tuple[str, str], letters: str) -> list[tuple[str, int, int, str]]:
    """Every word of the article that contains `letters`: the candidates read by hand."""
    found = []
    for name, field in _fields(article).items():
        for m in _ARABIC_WORD.finditer(field):
            if letters in m.group():
                found.append((name, m.start(), m.end(), m.group()))
    return found


def _spans(matcher: Matcher, article: tuple[str, str]) -> list[tuple[str, int, int, str]] | None:
    """The spans of the one watch, or None when it does not match; each checked in place."""
    matches = matcher.match_article(*article)
    if not matches:
        return None
    [match] = matches
    fields = _fields(article)
    for span in match.spans:
        assert fields[span.field][span.start : span.end] == span.text, span
    return [(s.field, s.start, s.end, s.text) for s in match.spans]


@pytest.fixture(scope="module")
def articles(seed_articles) -> dict[str, tuple[str, str]]:
    assert set(seed_articles) == {A, B}
    return seed_articles


def test_expected_spans_point_at_their_words(articles):
    expected = {
        A: NARYSHKIN_A + SISI_A + CEASEFIRE_A + GAZA_NEAR_CEASEFIRE_A,
        B: NARYSHKIN_B + SISI_B_TITLE + SISI_B_TEXT + DABAA_B + CEASEFIRE_B + GAZA_NEAR_CEASEFIRE_B,
    }
    for name, spans in expected.items():
        fields = _fields(articles[name])
        for field, start, end, surface in spans:
            assert fields[field][start:end] == surface, (name, field, start, surface)


def test_plain_search_finds_only_the_words_judged(articles):
    # Every word containing these letters is a real mention: no partial-word traps here.
    assert _words_containing(articles[A], "ناريشكين") == NARYSHKIN_A
    assert _words_containing(articles[B], "ناريشكين") == NARYSHKIN_B
    assert _words_containing(articles[A], "سيسي") == SISI_A
    assert _words_containing(articles[B], "سيسي") == SISI_B_TITLE + SISI_B_TEXT
    assert _words_containing(articles[A], "ضبع") == []
    assert _words_containing(articles[B], "ضبع") == DABAA_B
    # نار also occurs inside ناريشكين: only النار of the ceasefire is fire.
    assert [w for w in _words_containing(articles[A], "نار") if "ناريشكين" not in w[3]] == [
        ("text", 817, 822, "النار")
    ]


def test_naryshkin_with_conjunction_in_title_and_bare_in_text(make_matcher, articles):
    matcher = make_matcher(naryshkin="ناريشكين")
    assert _spans(matcher, articles[A]) == NARYSHKIN_A
    assert _spans(matcher, articles[B]) == NARYSHKIN_B


def test_dabaa_only_in_b(make_matcher, articles):
    matcher = make_matcher(dabaa="الضبعة")
    assert _spans(matcher, articles[A]) is None
    assert _spans(matcher, articles[B]) == DABAA_B


def test_ceasefire_phrase_in_both(make_matcher, articles):
    matcher = make_matcher(ceasefire='"وقف إطلاق النار"')
    assert _spans(matcher, articles[A]) == CEASEFIRE_A
    assert _spans(matcher, articles[B]) == CEASEFIRE_B


def test_ceasefire_near_gaza(make_matcher, articles):
    matcher = make_matcher(ceasefire_gaza='"وقف إطلاق النار" NEAR/5 غزة')
    assert _spans(matcher, articles[A]) == CEASEFIRE_A + GAZA_NEAR_CEASEFIRE_A
    assert _spans(matcher, articles[B]) == CEASEFIRE_B + GAZA_NEAR_CEASEFIRE_B


def test_ceasefire_near_gaza_tighter_than_the_gap(make_matcher, articles):
    # Three words between the phrase and غزة in a, two in b.
    matcher = make_matcher(ceasefire_gaza='"وقف إطلاق النار" NEAR/2 غزة')
    assert _spans(matcher, articles[A]) is None
    assert _spans(matcher, articles[B]) == CEASEFIRE_B + GAZA_NEAR_CEASEFIRE_B


def test_sisi_and_naryshkin_reports_both_sides(make_matcher, articles):
    matcher = make_matcher(meeting="السيسي AND ناريشكين")
    assert _spans(matcher, articles[A]) == sorted(SISI_A + NARYSHKIN_A, key=_order)
    assert _spans(matcher, articles[B]) == sorted(
        SISI_B_TITLE + SISI_B_TEXT + NARYSHKIN_B, key=_order
    )


def test_naryshkin_not_dabaa_excludes_b(make_matcher, articles):
    matcher = make_matcher(naryshkin_only="ناريشكين NOT الضبعة")
    assert _spans(matcher, articles[A]) == NARYSHKIN_A
    assert _spans(matcher, articles[B]) is None


def test_latin_alias_with_or(make_matcher, articles):
    matcher = make_matcher(naryshkin="Naryshkin OR ناريشكين")
    assert _spans(matcher, articles[A]) == NARYSHKIN_A
    assert _spans(matcher, articles[B]) == NARYSHKIN_B


def test_latin_alias_in_a_latin_title(make_matcher, articles):
    _, text = articles[A]
    title = "Sisi receives Russian intelligence chief NARYSHKIN"
    matcher = make_matcher(naryshkin="Naryshkin OR ناريشكين")
    assert _spans(matcher, (title, text)) == [("title", 41, 50, "NARYSHKIN"), *NARYSHKIN_A[1:]]


def _order(span: tuple[str, int, int, str]) -> tuple[int, int]:
    return (0 if span[0] == "title" else 1, span[1])
