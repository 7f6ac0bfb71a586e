"""The shared data the tests read: `../shared` beside the repository.

    shared_path("corpus", "arabic-news.jsonl")   the path, or MissingSharedData saying
                                                 what is missing and how to get it
    corpus()                                     every corpus row, in file order

Reading goes through here so that a clone without `../shared` fails with one sentence that
says what to do (as a missing morphology database does), not a bare FileNotFoundError at
collection time.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

HOW_TO = (
    "The tests and benchmarks read the project's shared data (the corpus, the seed articles,"
    " the camel-tools database) from ../shared beside the repository: put a copy of shared/"
    " next to the clone, as .ci/run expects."
)


class MissingSharedData(FileNotFoundError):
    """A file of ../shared is not there; the message says what to do."""


def shared_path(*parts: str) -> Path:
    """The path of a file (or folder) under ../shared; MissingSharedData if absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        raise MissingSharedData(f"{path} does not exist. {HOW_TO}")
    return path


@cache
def corpus() -> tuple[dict[str, Any], ...]:
    """Every row of ../shared/corpus/arabic-news.jsonl, in file order."""
    path = shared_path("corpus", "arabic-news.jsonl")
    with path.open(encoding="utf-8") as lines:
        return tuple(json.loads(line) for line in lines if line.strip())


def seed_articles() -> dict[str, tuple[str, str]]:
    """The two seed articles as {file name: (title, text)}."""
    folder = shared_path("fixtures", "seed-articles")
    out = {}
    for path in sorted(folder.glob("*.txt")):
        title, _, text = path.read_text(encoding="utf-8").partition("\n")
        out[path.name] = (title, text)
    if not out:
        raise MissingSharedData(f"no seed articles (*.txt) in {folder}. {HOW_TO}")
    return out
