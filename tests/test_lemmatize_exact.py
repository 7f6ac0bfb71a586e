"""The compact database, its tables file and the persistent cache change no analysis.

alertbot loads camel-tools' database keeping only the features it reads
(alertbot.text.morphology_db), reads it back from a tables file on later starts, and keeps
the analyses of word forms in a file across restarts. Each must give exactly what the
unmodified camel-tools analyzer gives: here, for 20,000 distinct word forms of the corpus,
the lemmas, stems and `known` flag are compared with a Lemmatizer over camel-tools' stock
MorphologyDB, loaded once for this module (about 350 MB, a few seconds) and released after.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from alertbot.text.lemmatize import (
    ANALYSIS_CACHE,
    TABLES_FILE,
    DeferredAnalyzer,
    Lemmatizer,
    analyzer_form,
    load_lemmatizer,
)
from alertbot.text.tokenize import is_arabic, words
from testsupport import shared

FORMS = 20_000
QUERY_WORDS = [
    "مصر",
    "ناريشكين",
    "الضبعة",
    "مفاوضات",
    "أستانا",
    "وقف",
    "إطلاق",
    "النار",
    "قطار",
    "حماس",
    "روسيا",
    "مُصر",
]


@pytest.fixture(scope="module")
def corpus_forms() -> list[str]:
    """The first FORMS distinct analyzer forms of the corpus's Arabic words, in order."""
    forms: dict[str, None] = {}
    for row in shared.corpus():
        for field in (row.get("title") or "", row["text"]):
            for _, _, surface in words(field):
                if is_arabic(surface):
                    forms.setdefault(analyzer_form(surface))
                    if len(forms) == FORMS:
                        return list(forms)
    raise AssertionError(f"the corpus has fewer than {FORMS} distinct Arabic word forms")


@pytest.fixture(scope="module")
def stock_lemmatizer(morphology_database: Path) -> Lemmatizer:
    """alertbot's rules over unmodified camel-tools: the stock MorphologyDB, every feature."""
    from camel_tools.morphology.analyzer import Analyzer
    from camel_tools.morphology.database import MorphologyDB

    db = MorphologyDB(str(morphology_database), "a")
    return Lemmatizer(Analyzer(db, backoff="NOAN_PROP"))


@pytest.fixture(scope="module")
def first_start(
    tmp_path_factory: pytest.TempPathFactory, morphology_database: Path
) -> tuple[Path, dict[str, Any]]:
    """A state folder after a first start (the database parsed, keeping only what is read,
    and its tables file written; no analysis cached yet), and the parsed tables."""
    state = tmp_path_factory.mktemp("state")
    lemmatizer = load_lemmatizer(morphology_database, state=state)
    assert not isinstance(lemmatizer._analyzer, DeferredAnalyzer), "no tables yet: parsed now"
    parsed = dict(vars(lemmatizer._analyzer._db))
    lemmatizer.close()
    assert (state / TABLES_FILE).is_file()
    (state / ANALYSIS_CACHE).unlink()
    return state, parsed


def test_tables_file_gives_back_the_parsed_database(
    first_start: tuple[Path, dict[str, Any]], morphology_database: Path
) -> None:
    state, parsed = first_start
    lemmatizer = load_lemmatizer(morphology_database, state=state)
    lemmatizer.analyze("مصر")  # loads the analyzer, from the tables file
    assert vars(lemmatizer._analyzer._loaded()._db) == parsed
    lemmatizer.close()


def _analyses(lemmatizer: Lemmatizer, forms: list[str]) -> dict[str, tuple]:
    out = {}
    for form in forms:
        analysis = lemmatizer.analyze(form)
        out[form] = (analysis.lemmas, analysis.stems, analysis.known)
    return out


def _camel_loaded(lemmatizer: Lemmatizer) -> bool:
    analyzer = lemmatizer._analyzer
    return not isinstance(analyzer, DeferredAnalyzer) or analyzer.is_loaded


def test_compact_tables_and_cache_give_stock_analyses(
    tmp_path: Path,
    first_start: tuple[Path, dict[str, Any]],
    morphology_database: Path,
    corpus_forms: list[str],
    stock_lemmatizer: Lemmatizer,
) -> None:
    stock = _analyses(stock_lemmatizer, corpus_forms)
    shutil.copy(first_start[0] / TABLES_FILE, tmp_path)
    # The next start reads the tables back and analyses every form, filling the cache.
    from_tables = load_lemmatizer(morphology_database, state=tmp_path)
    assert _analyses(from_tables, corpus_forms) == stock
    assert _camel_loaded(from_tables)
    from_tables.close()
    # After a restart every analysis comes from the cache: camel-tools is never loaded.
    restarted = load_lemmatizer(morphology_database, state=tmp_path)
    assert _analyses(restarted, corpus_forms) == stock
    assert not _camel_loaded(restarted), "a cached form was analysed again"
    restarted.close()


def test_query_words_compact_and_cached_equal_stock(
    tmp_path: Path,
    first_start: tuple[Path, dict[str, Any]],
    morphology_database: Path,
    stock_lemmatizer: Lemmatizer,
) -> None:
    expected = [stock_lemmatizer.analyze_query_word(w) for w in QUERY_WORDS]
    shutil.copy(first_start[0] / TABLES_FILE, tmp_path)
    first = load_lemmatizer(morphology_database, state=tmp_path)
    assert [first.analyze_query_word(w) for w in QUERY_WORDS] == expected
    first.close()
    restarted = load_lemmatizer(morphology_database, state=tmp_path)
    assert [restarted.analyze_query_word(w) for w in QUERY_WORDS] == expected
    assert not _camel_loaded(restarted)
    restarted.close()
