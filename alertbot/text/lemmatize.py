"""Lemmas and clitic-stripped stems of Arabic words, from camel-tools' morphology.

camel-tools' analyzer returns every reading a word can have out of context: "قطر" is
Qatar, a train (قِطار written short), a diameter and a verb; "مصرة" is "insistent" and,
read as a spelling variant, "her Egypt". Taking the union of all their lemmas makes a
watch on قطار fire on every mention of Qatar. So the readings are pruned, the same way for
every word, with what the database says about them:

- Diacritics the text does carry are used: "مُصر" (with a damma) is مُصِرّ, insistent, not
  مِصْر, Egypt; "روسياً" (with tanween) is the adjective Russian, not روسيا.
- Readings the analyzer had to invent from a spelling variant (`source == "spvar"`) count
  when they differ from the word only by the hamza on an alef or by ي written for final ى,
  as many outlets write ("اطلاق" is إطلاق, "المبني" can be المبنى), or when the word has no
  reading as written; not for ه/ة: "مصره" is not "his Egypt" but مُصِرّة.
- A proper noun with a possessive ("her Gaza") is dropped, and so is "my X" when the word
  has a reading without an enclitic: "إسرائيلي" is Israeli, not "my Israel"; "ناري" is
  fiery, not "my fire".
- Among the rest, readings whose lemma is much less likely than the best one
  (`pos_lex_logprob` more than `TEXT_MARGIN` below it) are dropped.

A lemma's identity is the database's lex with its diacritics (they tell مِصْر, Egypt,
from مُصِرّ, insistent), its kind (proper noun, other noun or adjective, verb: حماس the
movement is not الحماس, enthusiasm) and, for proper nouns, whether the article is on it:
"السورية" can be read as the name سوريا with an article, but it is the adjective Syrian,
while "بالقاهرة" is the same name as "القاهرة".

A word of a query is read as a citation form: the readings whose lemma is the word itself
(مصر → مِصْر, not the adjective مُصِرّ), else the readings without clitics (مفاوضات →
مُفاوَضَة). A query word with no such reading (an unknown name such as ناريشكين or الضبعة)
is matched by its surface alone, through the clitic-stripped stems of the text's words. An
article typed on such a name is part of it: الضبعة matches بالضبعة and للضبعة, not وضبعة
(a Yemeni mountain); a name typed without one matches both.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from alertbot.text.normalize import fold_char, has_harakat, is_mark, normalize_word

if TYPE_CHECKING:
    from alertbot.text.analysis_cache import AnalysisCache

# How far (in log-probability) a reading's lemma may trail the word's best one and still
# count, for words of the text and for words of a query. bench/margin_report.py shows what
# wider margins would add over the corpus: for the watch words tried, nothing.
TEXT_MARGIN = 0.5
QUERY_MARGIN = 0.5
_UNKNOWN_LOGPROB = -99.0

_NO_CLITIC = frozenset({"0", "na", None})
# Arabic letters (not tatweel) and harakat, which `analyzer_form` keeps as they are: most
# words of a text are made of nothing else, and need not go through it letter by letter.
_AS_IS = re.compile("[\u0621-\u063a\u0641-\u0652]+")
_LIGHT_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"})
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
    # False when the database knows no reading of the word (an unknown name, a typo).
    known: bool
    # The form handed to camel-tools (`analyzer_form`); the stems follow from it.
    form: str

    @property
    def stems(self) -> frozenset[str]:
        """The clitic-stripped stems of the word (`clitic_stems`).

        Computed when asked, not kept: they are a few microseconds' work, asked for once
        per word form by the matcher (which keeps its own result), and kept for each of
        the 50,000 forms of the cache they took 40 MB.
        """
        return clitic_stems(normalize_word(self.form))


@dataclass(frozen=True, slots=True)
class QueryWordAnalysis:
    """How a word of a watch query is understood."""

    word: str
    norm: str
    lemmas: frozenset[str]
    # The normalised word as typed: what the stem rule compares with the text's stems.
    stem: str

    @property
    def is_name(self) -> bool:
        """True when the database has no citation reading: matched by surface only."""
        return not self.lemmas


def analyzer_form(word: str) -> str:
    """The form of `word` handed to camel-tools: diacritics kept, no tatweel or controls."""
    if _AS_IS.fullmatch(word):
        return word
    out = []
    for ch in word:
        if is_mark(ch) and ch != "\u0640":
            out.append(ch)
            continue
        folded = fold_char(ch)
        if not folded:
            continue
        # Keep hamza, ta marbuta and alef maqsura as written: the analyzer uses them.
        out.append(ch if ch in "أإآٱةى" else unicodedata.normalize("NFKC", ch))
    return "".join(out).replace("ٱ", "ا").replace("ی", "ي").replace("ک", "ك")


def lemma_display(lex: str) -> str:
    """A lemma as shown to a user: the lex without its diacritics."""
    return _undiacritised(lex).replace("ٱ", "ا")


def strip_article(norm: str) -> str:
    """`norm` without a leading definite article, when enough is left to be a word."""
    if norm.startswith(_ARTICLE) and len(norm) >= len(_ARTICLE) + 2:
        return norm[len(_ARTICLE) :]
    return norm


def clitic_stems(norm: str) -> frozenset[str]:
    """Every reading of a normalised word with its proclitics (و ف ب ك ل, ل+ال) removed.

    Each stem comes with and without its article: "وبالضبعه" gives "بالضبعه", "الضبعه" and
    "ضبعه" among others; "للضبعه" gives "الضبعه" (ل + ال is written لل). A stem keeps at
    least two letters.
    """
    stems: set[str] = set()
    for conj in _CONJUNCTIONS:
        if not norm.startswith(conj):
            continue
        rest = norm[len(conj) :]
        for prep in _PREPOSITIONS:
            if rest.startswith(prep) and len(base := rest[len(prep) :]) >= 2:
                stems.update((base, strip_article(base)))
        if rest.startswith("لل") and len(rest) >= 4:
            stems.update((_ARTICLE + rest[2:], rest[2:]))
    return frozenset(stems)


def _light(word: str) -> str:
    """Fold only the variants outlets use interchangeably: alef hamza forms, final ى/ي."""
    return word.translate(_LIGHT_FOLD)


def _letters_with_marks(word: str) -> list[tuple[str, frozenset[str]]]:
    """Each letter of `word` with the diacritics on it (fathatan on a final alef moves back)."""
    out: list[tuple[str, set[str]]] = []
    for ch in word:
        if is_mark(ch):
            if out and ch != "\u0640":
                out[-1][1].add(ch)
        else:
            out.append((ch, set()))
    if len(out) >= 2 and out[-1][0] == "ا" and out[-1][1]:
        out[-2][1].update(out[-1][1])
        out[-1][1].clear()
    return [(letter, frozenset(marks)) for letter, marks in out]


def _agrees(written: list[tuple[str, frozenset[str]]], diac: str) -> bool:
    """True when every diacritic written in the text is also in the reading's diacritics."""
    reading = _letters_with_marks(diac)
    if [_light(c) for c, _ in reading] != [_light(c) for c, _ in written]:
        return True  # a spelling variant: letters do not align, nothing to compare
    return all(marks <= theirs for (_, marks), (_, theirs) in zip(written, reading, strict=True))


def _readings(analyses: Iterable[Mapping[str, Any]], written: str) -> list[Mapping[str, Any]]:
    """The readings of `written` worth considering (see the module docstring)."""
    lexical = [a for a in analyses if a.get("source") != "backoff"]
    if has_harakat(written):
        letters = _letters_with_marks(written)
        lexical = [a for a in lexical if _agrees(letters, a.get("diac", ""))]
    plain = _light(_undiacritised(written))
    as_written = [
        a
        for a in lexical
        if a.get("source") != "spvar" or _light(_undiacritised(a.get("diac", ""))) == plain
    ]
    readings = [
        r
        for r in (as_written or lexical)
        if not (r.get("pos") == "noun_prop" and r.get("enc0") not in _NO_CLITIC)
    ]
    if any(r.get("enc0") in _NO_CLITIC for r in readings):
        readings = [r for r in readings if r.get("enc0") != "1s_poss"]
    return readings


def lemma_key(reading: Mapping[str, Any]) -> str:
    """The identity of a reading's lemma: lex with diacritics, kind, and for names, article."""
    lex = unicodedata.normalize("NFC", reading["lex"]).replace("ٱ", "ا")
    pos = reading.get("pos")
    if pos == "noun_prop":
        return f"{lex}#name" + ("+al" if reading.get("prc0") == "Al_det" else "")
    return f"{lex}#verb" if pos == "verb" else f"{lex}#nominal"


def lemma_is_name(key: str) -> bool:
    """True for the key (`lemma_key`) of a proper noun's lemma."""
    return "#name" in key


def _undiacritised(word: str) -> str:
    return "".join(ch for ch in word if not is_mark(ch))


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
    return all(
        reading.get(f) in _NO_CLITIC for f in ("prc3", "prc2", "prc1", "enc0")
    ) and reading.get("prc0") in (_NO_CLITIC | {"Al_det"})


class Lemmatizer:
    """Analyses words with camel-tools, caching each distinct word form.

    The cache is in memory, and, when `persistent` is given, in a file that outlives the
    process (`alertbot.text.analysis_cache`): a word form is analysed by camel-tools once
    per database and version of these rules, not once per run.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        cache_size: int = 50_000,
        persistent: AnalysisCache | None = None,
    ) -> None:
        self._analyzer = analyzer
        self._persistent = persistent
        # Keyed by the word as written and, when that differs, by its analyzer form too.
        self._cache: dict[str, WordAnalysis] = {}
        self._cache_size = cache_size
        self._sets: dict[frozenset[str], frozenset[str]] = {}

    def analyze(self, surface: str) -> WordAnalysis:
        """The plausible lemmas and clitic-stripped stems of one Arabic word of a text."""
        cached = self._cache.get(surface)
        if cached is not None:
            return cached
        form = analyzer_form(surface)
        if form == surface:
            form = surface  # one string for the key and the analysis
        result = self._cache.get(form) or self._stored(form) or self._computed(form)
        if len(self._cache) >= self._cache_size:
            self._sets.clear()
            # News vocabulary turns over slowly; dropping everything at once is cheaper
            # than bookkeeping an LRU on every lookup of the hot path.
            self._cache.clear()
        self._cache[form] = self._cache[surface] = result
        return result

    def may_be_a_name(self, surface: str) -> bool:
        """True when a word of a text may be a name the database lacks: it knows no reading
        of it, or only readings that split off a proclitic and that its corpus never saw
        (بوتن: ب + وَتِين "aorta", a spelling of بوتين). A word it knows as written (ترام, a
        tram; بينت, "she showed"), as a name, or as something seen (لابد: ل + بَدا) is not.
        For transliteration variants (`alertbot.text.variants`); asked only of the rare
        word that spells a watched name, so the readings are computed again here."""
        analysis = self.analyze(surface)
        if not analysis.known:
            return True
        if any(lemma_is_name(lemma) for lemma in analysis.lemmas):
            return False
        form = analyzer_form(surface)
        readings = _readings(self._analyzer.analyze(form), form)
        return all(not _clitic_free(r) and _logprob(r) <= _UNKNOWN_LOGPROB for r in readings)

    def _stored(self, form: str) -> WordAnalysis | None:
        """The analysis of `form` kept by an earlier run, if any."""
        found = self._persistent.word(form) if self._persistent is not None else None
        if found is None:
            return None
        lemmas, known = found
        return WordAnalysis(self._shared(frozenset(lemmas)), known, form)

    def _computed(self, form: str) -> WordAnalysis:
        """camel-tools' readings of `form`, pruned (see the module docstring)."""
        readings = _readings(self._analyzer.analyze(form), form)
        lemmas = frozenset(lemma_key(r) for r in _likely(readings, TEXT_MARGIN))
        result = WordAnalysis(self._shared(lemmas), bool(readings), form)
        if self._persistent is not None:
            self._persistent.add_word(form, result.lemmas, result.known)
        return result

    def _shared(self, values: frozenset[str]) -> frozenset[str]:
        """One copy of each distinct set and string: news vocabulary repeats them a lot."""
        shared = self._sets.get(values)
        if shared is None:
            shared = frozenset(sys.intern(v) for v in values)
            self._sets[shared] = shared
        return shared

    def analyze_query_word(self, word: str) -> QueryWordAnalysis:
        """How a watch query word is understood: its citation lemmas, or a bare name."""
        form = analyzer_form(word)
        norm = normalize_word(form)
        lemmas = self._persistent.query_word(form) if self._persistent is not None else None
        if lemmas is None:
            lemmas = self._query_lemmas(form, norm)
            if self._persistent is not None:
                self._persistent.add_query_word(form, lemmas)
        return QueryWordAnalysis(word=word, norm=norm, lemmas=frozenset(lemmas), stem=norm)

    def _query_lemmas(self, form: str, norm: str) -> list[str]:
        readings = [r for r in _readings(self._analyzer.analyze(form), form) if _clitic_free(r)]
        bare = strip_article(norm)
        citation = [
            r for r in readings if strip_article(normalize_word(lemma_display(r["lex"]))) == bare
        ]
        # Without a citation reading, an inflected noun stands for its lemma (مفاوضات), but
        # a conjugated verb does not: أستانا is a city, not "we were upset" (استاء).
        inflected = [r for r in readings if r.get("pos") != "verb"]
        chosen = _likely(citation or inflected, QUERY_MARGIN)
        return sorted({lemma_key(r) for r in chosen})

    def describe(self, lemmas: Iterable[str]) -> list[str]:
        """Lemmas as a user reads them (for explaining how a query was understood)."""
        return sorted({lemma_display(lemma.partition("#")[0]) for lemma in lemmas})

    def warm_up(self) -> None:
        """Fill the memory cache with the newest analyses of the persistent one.

        After a restart the first articles then read as fast as in a long-running process,
        rather than each new form costing a look-up in the file.
        """
        if self._persistent is None:
            return
        for form, lemmas, known in self._persistent.newest_words(self._cache_size):
            if len(self._cache) >= self._cache_size:
                break
            if form not in self._cache:
                self._cache[form] = WordAnalysis(self._shared(lemmas), known, form)

    def close(self) -> None:
        """Write the analyses not yet in the persistent cache, and close it."""
        if self._persistent is not None:
            self._persistent.close()


class DeferredAnalyzer:
    """camel-tools' analyzer, loaded when a word first needs it (or ahead, with `load`).

    Loading it means importing camel-tools (a second or two: it tabulates all of Unicode
    when imported) and reading the parsed tables; a run whose words are all in the
    persistent cache never needs it. `load` runs once; if it fails, every later use
    raises the same error.
    """

    def __init__(self, load: Callable[[], Analyzer]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._analyzer: Analyzer | None = None
        self._failure: BaseException | None = None

    @property
    def is_loaded(self) -> bool:
        """True once camel-tools' analyzer has been loaded."""
        return self._analyzer is not None

    def analyze(self, word: str) -> list[dict[str, Any]]:
        """camel-tools' analyses of `word`, loading the analyzer first if need be."""
        return self._loaded().analyze(word)

    def load(self) -> None:
        """Load camel-tools' analyzer now, if it is not loaded yet."""
        self._loaded()

    def _loaded(self) -> Analyzer:
        analyzer = self._analyzer
        if analyzer is not None:
            return analyzer
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._analyzer is None:
                try:
                    self._analyzer = self._load()
                except BaseException as exc:
                    self._failure = exc
                    raise
            return self._analyzer


# Under the config's state folder: derived from the database, rebuilt when missing or
# stale, never committed (see .gitignore).
ANALYSIS_CACHE = "analysis-cache.sqlite3"
TABLES_FILE = "morphology-tables.bin"
# The files whose code shapes what each cache holds: editing one makes that cache stale.
_HERE = Path(__file__).parent
_TABLES_RULES = (_HERE / "morphology_db.py",)
_ANALYSIS_RULES = (_HERE / "lemmatize.py", _HERE / "normalize.py", _HERE / "morphology_db.py")
_TABLES_FORMAT = 1
_ANALYSIS_FORMAT = 1


def load_lemmatizer(
    database: str | PathLike[str],
    cache_size: int = 50_000,
    *,
    state: Path | None = None,
    load_ahead: bool = False,
) -> Lemmatizer:
    """camel-tools' analyzer over the morphology database file at `database`.

    Without `state` the database is parsed now. With `state` (the config's state folder),
    its parsed tables and the analyses of word forms are cached there, and the analyzer is
    loaded only when a word is not in the cache. With `load_ahead` (for a run, which will
    meet new words soon) a thread warms the memory cache and loads the analyzer at once.
    On a first start, with no fresh tables yet, the database is parsed now, so that a
    broken one fails here rather than mid-run.
    """
    from alertbot.text import tables_file
    from alertbot.text.analysis_cache import AnalysisCache
    from alertbot.text.provenance import DatabaseFile, code_digest

    db_file = DatabaseFile(Path(database))
    tables_code = code_digest(_TABLES_FORMAT, *_TABLES_RULES)

    def load(tables: Path | None) -> Analyzer:
        from alertbot.text.morphology_db import open_analyzer

        analyzer: Analyzer = open_analyzer(db_file, tables, tables_code)
        return analyzer

    if state is None:
        return Lemmatizer(load(None), cache_size)
    tables = state / TABLES_FILE
    persistent = AnalysisCache(
        state / ANALYSIS_CACHE, db_file, code_digest(_ANALYSIS_FORMAT, *_ANALYSIS_RULES)
    )
    if not tables_file.is_fresh(tables, db_file, tables_code):
        lemmatizer = Lemmatizer(load(tables), cache_size, persistent)
        deferred = None
    else:
        deferred = DeferredAnalyzer(lambda: load(tables))
        lemmatizer = Lemmatizer(deferred, cache_size, persistent)
    if load_ahead:
        threading.Thread(
            target=_load_ahead, args=(lemmatizer, deferred), name="morphology-load", daemon=True
        ).start()
    return lemmatizer


def _load_ahead(lemmatizer: Lemmatizer, analyzer: DeferredAnalyzer | None) -> None:
    """Warm the lemmatizer's memory cache, then load camel-tools' analyzer if deferred."""
    lemmatizer.warm_up()
    if analyzer is not None:
        analyzer.load()
