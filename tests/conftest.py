"""Shared fixtures: the real camel-tools database, and matchers built on it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from alertbot import camel_data
from alertbot.errors import CamelDataError
from alertbot.text.lemmatize import Lemmatizer, load_lemmatizer
from alertbot.watch.match import Matcher, Watch
from testsupport import shared

# python-telegram-bot 22 warns (an error under filterwarnings=error) whenever it builds a
# RetryAfter unless durations are timedeltas; alertbot's main() sets the same.
os.environ.setdefault("PTB_TIMEDELTA", "true")

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _camel_data() -> camel_data.CamelData:
    """The morphology database, or a failure saying how to get it (never a skip)."""
    try:
        return camel_data.require_installed(camel_data.camel_data_dir())
    except CamelDataError as exc:
        pytest.fail(
            f'{exc}\nIn development: export CAMELTOOLS_DATA="$(cd ../shared/camel-data && pwd)"',
            pytrace=False,
        )


@pytest.fixture(scope="session")
def morphology_database() -> Path:
    """The calima-msa-r13 database file (never downloaded in tests)."""
    return _camel_data().database


@pytest.fixture(scope="session")
def lemmatizer() -> Lemmatizer:
    """The analyzer over the real calima-msa-r13 database (never downloaded in tests)."""
    return load_lemmatizer(str(_camel_data().database))


@pytest.fixture
def child_env() -> dict[str, str]:
    """The environment for an `alertbot` child process: the morphology database, and no
    $ALERTBOT_CONFIG from the developer's shell."""
    env = dict(os.environ)
    env["CAMELTOOLS_DATA"] = str(_camel_data().root)
    env.pop("ALERTBOT_CONFIG", None)
    return env


@pytest.fixture(scope="session")
def make_matcher(lemmatizer: Lemmatizer) -> Callable[..., Matcher]:
    """Build a Matcher from `name=query` keyword arguments or (name, query) pairs."""

    def build(*pairs: tuple[str, str], **named: str) -> Matcher:
        watches = [Watch(n, q) for n, q in pairs] + [Watch(n, q) for n, q in named.items()]
        return Matcher(watches, lemmatizer)

    return build


@pytest.fixture(scope="session")
def seed_articles() -> dict[str, tuple[str, str]]:
    """The two seed articles as {file name: (title, text)}."""
    return shared.seed_articles()


@pytest.fixture
def store(tmp_path):
    """A store on a real SQLite file, migrated."""
    from alertbot.store import Store

    opened = Store.open(tmp_path / "alertbot.db")
    yield opened
    opened.close()


@pytest.fixture
def read_only():
    """`read_only(path, ...)` makes files and folders read-only for real, even for root
    (testsupport.storefixtures.ReadOnly); they are writable again after the test."""
    from testsupport.storefixtures import ReadOnly

    made = ReadOnly()
    yield made
    made.undo()
