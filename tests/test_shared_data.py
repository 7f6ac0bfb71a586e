"""The tests' shared data: a clone without ../shared says what to do, not a bare error."""

import pytest

from testsupport import shared


def test_a_missing_shared_file_says_how_to_get_it():
    """Regression: reading ../shared at import failed collection with a bare
    FileNotFoundError naming only a path."""
    with pytest.raises(shared.MissingSharedData) as caught:
        shared.shared_path("corpus", "no-such-file.jsonl")
    message = str(caught.value)
    assert "no-such-file.jsonl does not exist" in message
    assert "put a copy of shared/ next to the clone" in message


def test_the_corpus_and_seed_articles_are_read_through_it():
    assert len(shared.corpus()) == 3381
    assert sorted(shared.seed_articles()) == ["sisi-naryshkin-a.txt", "sisi-naryshkin-b.txt"]
