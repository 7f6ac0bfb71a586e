"""Shared fixtures: the real camel-tools database, and matchers built on it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
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


ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test of a module marked `both_engines` that takes `store` (or `database`) runs
    once on each engine."""
    if metafunc.definition.get_closest_marker("both_engines") is None:
        return
    for name in ("store", "database"):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, ENGINES, indirect=True)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A PostgreSQL server of this session (started on first use, as `postgres` when the
    tests run as root); never skipped: without the package the tests fail saying so."""
    from testsupport.postgres import PostgresServer

    try:
        server = PostgresServer.start(tmp_path_factory.mktemp("postgres"))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def database(request, tmp_path):
    """Where a store lives: an SQLite file's path, or (parametrised `postgresql`) a fresh
    database's URL on the session's PostgreSQL server."""
    engine = getattr(request, "param", "sqlite")
    if engine == "postgresql":
        return request.getfixturevalue("postgres_server").fresh_database()
    return tmp_path / "alertbot.db"


@pytest.fixture
def store(request, tmp_path):
    """A store, migrated: on a real SQLite file, or (parametrised, in modules marked
    `both_engines`) on a fresh PostgreSQL database."""
    from alertbot.store import Store

    engine = getattr(request, "param", "sqlite")
    if engine == "postgresql":
        target: object = request.getfixturevalue("postgres_server").fresh_database()
    else:
        target = tmp_path / "alertbot.db"
    opened = Store.open(target)  # type: ignore[arg-type]
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


# The loggers `alertbot run` sets the levels of (alertbot.cli.setup_logging).
CLI_LOGGERS = ("httpx", "httpcore", "apscheduler", "telegram", "hpack")


@pytest.fixture
def cli_in_process(monkeypatch, lemmatizer) -> Iterator[None]:
    """`alertbot run` in-process on the shared analyzer; the logger levels the CLI sets are
    put back afterwards."""
    monkeypatch.setattr("alertbot.cli.open_lemmatizer", lambda *args, **kwargs: lemmatizer)
    monkeypatch.delenv("ALERTBOT_CONFIG", raising=False)
    levels = {name: logging.getLogger(name).level for name in CLI_LOGGERS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
