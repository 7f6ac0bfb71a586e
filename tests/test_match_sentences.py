"""Real news sentences, read by hand: which words a watch must match, and which it must not.

The cases live in tests/fixtures/sentences.toml; each names the corpus item its sentence
was copied from, and the corpus check below keeps them honest.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from alertbot.watch.match import Matcher
from testsupport.shared import corpus

TESTS = Path(__file__).resolve().parent
CASES_FILE = TESTS / "fixtures" / "sentences.toml"
CONSTRUCTED = "constructed"


def _load_cases() -> list[dict[str, Any]]:
    with CASES_FILE.open("rb") as f:
        return tomllib.load(f)["case"]


CASES = _load_cases()


def _param(case: dict[str, Any]) -> Any:
    marks = []
    if case.get("xfail"):
        marks.append(pytest.mark.xfail(reason=case["xfail"], strict=True))
    return pytest.param(case, id=case["id"], marks=marks)


@cache
def _corpus() -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in corpus()}


def test_cases_are_well_formed():
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len([c for c in CASES if c["source"] != CONSTRUCTED]) >= 40
    for case in CASES:
        assert set(case) <= {"id", "source", "sentence", "watch", "expect", "why", "xfail"}, case
        assert case["sentence"].strip() and case["watch"].strip() and case["why"].strip(), case
        assert isinstance(case["expect"], list), case
        # Expected surfaces are words of the sentence, in order, none invented.
        pos = 0
        for surface in case["expect"]:
            found = case["sentence"].find(surface, pos)
            assert found >= 0, (case["id"], surface)
            pos = found + len(surface)


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c["id"]) for c in CASES if c["source"] != CONSTRUCTED]
)
def test_sentence_occurs_in_its_corpus_item(case):
    item = _corpus().get(case["source"])
    assert item is not None, f"no corpus item {case['source']}"
    fields = [item.get("title") or "", item.get("text") or ""]
    assert any(case["sentence"] in field for field in fields), (
        f"{case['id']}: sentence not found verbatim in {case['source']}"
    )


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_watch_matches_expected_words(make_matcher, case):
    matcher: Matcher = make_matcher(w=case["watch"])
    sentence = case["sentence"]
    matches = matcher.match_article(None, sentence)
    if not case["expect"]:
        assert matches == [], [s.text for m in matches for s in m.spans]
        return
    [match] = matches
    assert [s.text for s in match.spans] == case["expect"]
    for span in match.spans:
        assert span.field == "text"
        assert sentence[span.start : span.end] == span.text
