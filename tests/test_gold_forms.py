"""Regression: the matcher's decision on every hand-judged corpus spelling of 16 watch words.

The fixture lists, for each word, the spellings found in the corpus that a watch on it must
match and those it must not (tests/fixtures/gold-forms.toml says how they were judged).
"""

import tomllib

import pytest
from conftest import FIXTURES

GOLD = tomllib.loads((FIXTURES / "gold-forms.toml").read_text(encoding="utf-8"))["term"]


@pytest.mark.parametrize("term", GOLD, ids=[t["word"] for t in GOLD])
def test_matcher_agrees_with_hand_judged_spellings(make_matcher, term):
    matcher = make_matcher(w=term["word"])
    forms = term["match"] + term["no_match"]
    matched = {form for form in forms if matcher.match_article(None, form)}
    missed = [form for form in term["match"] if form not in matched]
    wrong = [form for form in term["no_match"] if form in matched]
    assert (missed, wrong) == ([], []), f"missed {missed}, wrongly matched {wrong}"


def test_gold_covers_the_negatives_a_substring_matcher_gets_wrong():
    negatives = {form for term in GOLD for form in term["no_match"]}
    assert {"مصرف", "مصرع", "المصري", "منارة", "دينار", "سيسي", "وضبعة"} <= negatives
