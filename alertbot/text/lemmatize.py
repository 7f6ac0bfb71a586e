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

import sys
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from alertbot.text.normalize import fold_char, has_harakat, is_mark, normalize_word

# How far (in log-probability) a reading's lemma may trail the word's best one and still
# count, for words of the text and for words of a query. bench/margin_report.py shows what
# wider margins would add over the corpus: for the watch words tried, nothing.
TEXT_MARGIN = 0.5
QUERY_MARGIN = 0.5
_UNKNOWN_LOGPROB = -99.0

_NO_CLITIC = frozenset({"0", "na", None})
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
    stems: frozenset[str]
    # False when the database knows no reading of the word (an unknown name, a typo).
    known: bool


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
    """Analyses words with camel-tools, caching each distinct word form."""

    def __init__(self, analyzer: Analyzer, cache_size: int = 50_000) -> None:
        self._analyzer = analyzer
        self._cache: dict[str, WordAnalysis] = {}
        self._cache_size = cache_size
        self._sets: dict[frozenset[str], frozenset[str]] = {}

    def analyze(self, surface: str) -> WordAnalysis:
        """The plausible lemmas and clitic-stripped stems of one Arabic word of a text."""
        form = analyzer_form(surface)
        cached = self._cache.get(form)
        if cached is not None:
            return cached
        readings = _readings(self._analyzer.analyze(form), form)
        result = WordAnalysis(
            lemmas=self._shared(frozenset(lemma_key(r) for r in _likely(readings, TEXT_MARGIN))),
            stems=self._shared(clitic_stems(normalize_word(form))),
            known=bool(readings),
        )
        if len(self._cache) >= self._cache_size:
            self._sets.clear()
            # News vocabulary turns over slowly; dropping everything at once is cheaper
            # than bookkeeping an LRU on every lookup of the hot path.
            self._cache.clear()
        self._cache[form] = result
        return result

    def _shared(self, values: frozenset[str]) -> frozenset[str]:
        """One copy of each distinct set and string: news vocabulary repeats them a lot."""
        shared = self._sets.get(values)
        if shared is None:
            shared = self._sets[values] = frozenset(sys.intern(v) for v in values)
        return shared

    def analyze_query_word(self, word: str) -> QueryWordAnalysis:
        """How a watch query word is understood: its citation lemmas, or a bare name."""
        form = analyzer_form(word)
        norm = normalize_word(form)
        readings = [r for r in _readings(self._analyzer.analyze(form), form) if _clitic_free(r)]
        bare = strip_article(norm)
        citation = [
            r for r in readings if strip_article(normalize_word(lemma_display(r["lex"]))) == bare
        ]
        # Without a citation reading, an inflected noun stands for its lemma (مفاوضات), but
        # a conjugated verb does not: أستانا is a city, not "we were upset" (استاء).
        inflected = [r for r in readings if r.get("pos") != "verb"]
        chosen = _likely(citation or inflected, QUERY_MARGIN)
        return QueryWordAnalysis(
            word=word,
            norm=norm,
            lemmas=frozenset(lemma_key(r) for r in chosen),
            stem=norm,
        )

    def describe(self, lemmas: Iterable[str]) -> list[str]:
        """Lemmas as a user reads them (for explaining how a query was understood)."""
        return sorted({lemma_display(lemma.partition("#")[0]) for lemma in lemmas})


def load_lemmatizer(database: str, cache_size: int = 50_000) -> Lemmatizer:
    """Load camel-tools' analyzer over the morphology database file at `database`."""
    from camel_tools.morphology.analyzer import Analyzer as CamelAnalyzer
    from camel_tools.morphology.database import MorphologyDB

    db = MorphologyDB(database, "a")
    _drop_unused_features(db)
    return Lemmatizer(CamelAnalyzer(db, backoff="NOAN_PROP"), cache_size=cache_size)


# Features camel-tools computes for every analysis that matching never reads: phonology
# (caphi), treebank tags, glosses, Buckwalter tags, and the tokenisation schemes. Each is
# built by string concatenation and up to twelve regex rewrites per analysis, and every
# stem's feature table is copied whole into each analysis. Dropping them from the
# database's definitions and from its 72,734 stem tables makes a first-time analysis about
# three times faster (merge_features was 75% of the cold-pass time) and the loaded database
# smaller. Readings keep what `_readings`, `lemma_key` and camel-tools' own merge and
# name-backoff steps read.
_KEPT_STEM_FEATURES = frozenset(
    {
        "diac", "lex", "pos", "prc0", "prc1", "prc2", "prc3", "enc0", "pos_lex_logprob",
        "source", "gen", "num", "form_gen", "form_num",
        "bw", "gloss",  # read by the NOAN_PROP backoff on stem tables
    }
)  # fmt: skip
_UNUSED_FEATURES = (
    "caphi", "catib6", "ud", "gloss", "bw", "pattern",
    "d1tok", "d2tok", "d3tok", "atbtok", "d1seg", "d2seg", "d3seg", "atbseg", "bwtok",
)  # fmt: skip


def _drop_unused_features(db: Any) -> None:
    """Keep camel-tools from computing or copying features matching never reads."""
    for feature in _UNUSED_FEATURES:
        db.defines.pop(feature, None)
    db.compute_feats = frozenset(db.compute_feats) - {"pattern"}
    keep = _KEPT_STEM_FEATURES
    for analyses in db.stem_hash.values():
        for i, (category, feats) in enumerate(analyses):
            analyses[i] = (category, {k: v for k, v in feats.items() if k in keep})
