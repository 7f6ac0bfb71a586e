"""Lemmas and clitic-stripped stems of Arabic words, from camel-tools' morphology.

camel-tools' analyzer returns every reading a word can have out of context: "قطر" is
Qatar, a train (قِطار written short), a diameter and a verb; "مصرة" is "insistent" and,
read as a spelling variant, "her Egypt". Taking the union of all their lemmas makes a
watch on قطار fire on every mention of Qatar. So the readings are pruned, the same way for
every word, with what the database says about them:

- Readings the analyzer had to invent from a spelling variant (`source == "spvar"`) count
  only when the word has no reading as written: "اطلاق" is إطلاق, but "مصرة" is not مصر.
- Among the rest, readings whose lemma is much less likely than the best one
  (`pos_lex_logprob` more than `TEXT_MARGIN` below it) are dropped.

A word of a query is read as a citation form: the readings whose lemma is the word itself
(مصر → مِصْر, not the adjective مُصِرّ), else the readings without clitics (مفاوضات →
مُفاوَضَة). A query word with no such reading (an unknown name such as ناريشكين or الضبعة)
is matched by its surface alone, through the clitic-stripped stems of the text's words.

Lemmas keep the database's diacritics: they are what tells مِصْر (Egypt) from مُصِرّ
(insistent), which normalisation would merge.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from alertbot.text.normalize import fold_char, is_mark, normalize_word

# How far (in log-probability) a reading's lemma may trail the word's best one and still
# count, for words of the text and for words of a query. Tuned on the corpus: see
# bench/margin_report.py and the README.
TEXT_MARGIN = 0.5
QUERY_MARGIN = 0.5
_UNKNOWN_LOGPROB = -99.0

_NO_CLITIC = frozenset({"0", "na", None})
_ARTICLE = "ال"
_CONJUNCTIONS = ("", "و", "ف")
_PREPOSITIONS = ("", "ب", "ك", "ل")


class Analyzer(Protocol):
    """What alertbot needs of camel-tools' `Analyzer`."""

    def analyze(self, word: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class WordAnalysis:
    """What a word of a text can be: its plausible lemmas and clitic-stripped stems."""

    lemmas: frozenset[str]
    stems: frozenset[str]
    # False when the database knows no reading of the word (an unknown name, a typo).
    known: bool


@dataclass(frozen=True, slots=True)
class QueryWordAnalysis:
    """How a word of a watch query is understood."""

    word: str
    norm: str
    lemmas: frozenset[str]
    # The normalised word without its article: what its stem rule compares.
    stem: str

    @property
    def is_name(self) -> bool:
        """True when the database has no citation reading: matched by surface only."""
        return not self.lemmas


def analyzer_form(word: str) -> str:
    """The form of `word` handed to camel-tools: no diacritics, tatweel or controls."""
    out = []
    for ch in word:
        folded = fold_char(ch)
        if not folded:
            continue
        # Keep hamza, ta marbuta and alef maqsura as written: the analyzer uses them.
        out.append(ch if ch in "أإآٱةى" else unicodedata.normalize("NFKC", ch))
    return "".join(out).replace("ٱ", "ا").replace("ی", "ي").replace("ک", "ك")


def lemma_key(lex: str) -> str:
    """The identity of a lemma: the database's lex, diacritics kept, alef wasla unified."""
    return unicodedata.normalize("NFC", lex).replace("ٱ", "ا")


def lemma_display(lex: str) -> str:
    """A lemma as shown to a user: the lex without its diacritics."""
    return "".join(ch for ch in lex if not is_mark(ch)).replace("ٱ", "ا")


def strip_article(norm: str) -> str:
    """`norm` without a leading definite article, when enough is left to be a word."""
    if norm.startswith(_ARTICLE) and len(norm) >= len(_ARTICLE) + 2:
        return norm[len(_ARTICLE) :]
    return norm


def clitic_stems(norm: str) -> frozenset[str]:
    """Every reading of a normalised word with its proclitics (و ف ب ك ل ال لل) removed.

    The forms have no article, so "وبالضبعه" gives {"وبالضبعه", "بالضبعه", "الضبعه" → "ضبعه"}
    among others; a stem is kept only if at least two letters are left.
    """
    stems = set()
    for conj in _CONJUNCTIONS:
        if not norm.startswith(conj):
            continue
        rest = norm[len(conj) :]
        for prep in _PREPOSITIONS:
            if not rest.startswith(prep):
                continue
            base = rest[len(prep) :]
            if len(base) >= 2:
                stems.add(strip_article(base))
        if rest.startswith("لل") and len(rest) >= 4:
            # ل + ال is written لل: "للضبعه" is ل + الضبعه.
            stems.add(rest[2:])
    return frozenset(stems)


def _readings(analyses: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The readings worth considering: as written if any, else as spelling variants."""
    lexical = [a for a in analyses if a.get("source") != "backoff"]
    as_written = [a for a in lexical if a.get("source") != "spvar"]
    return as_written or lexical


def _logprob(reading: Mapping[str, Any]) -> float:
    value = reading.get("pos_lex_logprob")
    return float(value) if value is not None else _UNKNOWN_LOGPROB


def _likely(readings: list[Mapping[str, Any]], margin: float) -> list[Mapping[str, Any]]:
    """The readings within `margin` of the best one (all of them if none has a probability)."""
    if not readings:
        return []
    best = max(_logprob(r) for r in readings)
    if best <= _UNKNOWN_LOGPROB:
        return readings
    return [r for r in readings if _logprob(r) >= best - margin]


def _clitic_free(reading: Mapping[str, Any]) -> bool:
    return (
        all(reading.get(f) in _NO_CLITIC for f in ("prc3", "prc2", "prc1", "enc0"))
        and reading.get("prc0") in (_NO_CLITIC | {"Al_det"})
    )


class Lemmatizer:
    """Analyses words with camel-tools, caching each distinct word form."""

    def __init__(self, analyzer: Analyzer, cache_size: int = 200_000) -> None:
        self._analyzer = analyzer
        self._cache: dict[str, WordAnalysis] = {}
        self._cache_size = cache_size

    def analyze(self, surface: str) -> WordAnalysis:
        """The plausible lemmas and clitic-stripped stems of one Arabic word of a text."""
        form = analyzer_form(surface)
        cached = self._cache.get(form)
        if cached is not None:
            return cached
        readings = _readings(self._analyzer.analyze(form))
        result = WordAnalysis(
            lemmas=frozenset(lemma_key(r["lex"]) for r in _likely(readings, TEXT_MARGIN)),
            stems=clitic_stems(normalize_word(form)),
            known=bool(readings),
        )
        if len(self._cache) >= self._cache_size:
            # News vocabulary turns over slowly; dropping everything at once is cheaper
            # than bookkeeping an LRU on every lookup of the hot path.
            self._cache.clear()
        self._cache[form] = result
        return result

    def analyze_query_word(self, word: str) -> QueryWordAnalysis:
        """How a watch query word is understood: its citation lemmas, or a bare name."""
        form = analyzer_form(word)
        norm = normalize_word(form)
        stem = strip_article(norm)
        readings = [r for r in _readings(self._analyzer.analyze(form)) if _clitic_free(r)]
        citation = [r for r in readings if strip_article(normalize_word(lemma_display(r["lex"]))) == stem]
        chosen = _likely(citation or readings, QUERY_MARGIN)
        return QueryWordAnalysis(
            word=word,
            norm=norm,
            lemmas=frozenset(lemma_key(r["lex"]) for r in chosen),
            stem=stem,
        )

    def describe(self, lemmas: Iterable[str]) -> list[str]:
        """Lemmas as a user reads them (for explaining how a query was understood)."""
        return sorted({lemma_display(lemma) for lemma in lemmas})


def load_lemmatizer(database: str, cache_size: int = 200_000) -> Lemmatizer:
    """Load camel-tools' analyzer over the morphology database file at `database`."""
    from camel_tools.morphology.analyzer import Analyzer as CamelAnalyzer
    from camel_tools.morphology.database import MorphologyDB

    db = MorphologyDB(database, "a")
    return Lemmatizer(CamelAnalyzer(db, backoff="NOAN_PROP"), cache_size=cache_size)
