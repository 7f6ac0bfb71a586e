"""The MinHash is datasketch 2.0's, value for value: stored fingerprints stay comparable.

tests/fixtures/minhash-golden.json was made with datasketch 2.0.0's
`MinHash(num_perm=128, seed=1, scheme="affine32")` before alertbot dropped the package; its
"about" field says how. A value that differs here makes every stored fingerprint a stranger
to the new ones.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from alertbot.stories.fingerprint import _permutations, minhash_values
from testsupport.shared import corpus

GOLDEN = json.loads(
    (Path(__file__).parent / "fixtures" / "minhash-golden.json").read_text(encoding="utf-8")
)


def _items(title: str, text: str) -> set[str]:
    """The golden file's items: the 2-word runs of the whitespace-split title and text."""
    tokens = f"{title} {text}".split()
    return {" ".join(tokens[i : i + 2]) for i in range(len(tokens) - 1)}


def test_permutations_are_datasketch_s() -> None:
    a, b = _permutations()
    assert a.tolist() == GOLDEN["permutations"]["a"]
    assert b.tolist() == GOLDEN["permutations"]["b"]


def test_small_sets_give_datasketch_s_values() -> None:
    for name, case in GOLDEN["vectors"].items():
        assert list(minhash_values(set(case["items"]))) == case["values"], name
    assert GOLDEN["vectors"]["empty"]["values"] == [2**32 - 1] * 128


def test_corpus_articles_give_datasketch_s_values() -> None:
    rows = {row["id"]: row for row in corpus()}
    assert len(GOLDEN["articles"]) == 50
    for expected in GOLDEN["articles"]:
        row = rows[expected["id"]]
        items = _items(row["title"], row["text"])
        assert len(items) == expected["items"], expected["id"]
        values = np.asarray(minhash_values(items), dtype="<u4").tobytes()
        assert hashlib.sha256(values).hexdigest() == expected["sha256"], expected["id"]
