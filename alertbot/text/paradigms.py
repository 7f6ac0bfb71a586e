"""What a Latin or Cyrillic query word matches beyond itself: its case forms, plural and
possessive, accents aside.

- **Russian** (any word with a Cyrillic letter): the word is expanded once, when its watch
  is compiled, into its paradigm from pymorphy3's dictionary (OpenCorpora, shipped inside
  the pymorphy3-dicts-ru wheel): Нарышкин also matches Нарышкина, Нарышкину, Нарышкиным,
  Нарышкине, Нарышкиной; санкции matches санкций, санкциям. Articles are never
  lemmatised: the forms go into the matcher's index beside the word.
  Which paradigm, conservatively, since a wrong one matches another word:
    1. only readings pymorphy3 finds in its dictionary count; a guessed one (an unknown
       word read by its suffix or with an unknown prefix: Зеленский, Гутерриш, and the
       Arabic names of Ас-Сиси, Эр-Рияд) leaves the word as written;
    2. a name (Surn, Name, Patr, Geox, Orgn) written in the nominative: its paradigm
       (Лавров is the surname, not the genitive plural of the first name Лавр; Песков the
       surname, not "of sands");
    3. else the likeliest reading, when it is a noun: its paradigm (санкции); a word more
       likely another part of speech (стали: "became") stays as written. A capitalised
       word here must be the noun's citation form: the user wrote a name pymorphy3 does
       not know as one (Сиси is not a form of сися; Эр is not "of eras").
  Paradigms contain singular and plural where the dictionary has them (surnames have
  their feminine forms); a surname in -ов, -ев, -ин, -ын that the dictionary gives no
  plural takes the regular one (Нарышкины, Нарышкиных, Нарышкиными, like Лавровы).
  ё and е are one letter on both sides.
- **Latin**: the English plural (Naryshkins, Bushes; none for a word in -s) joins the
  word; the possessive needs nothing, since the tokenizer ends a word at an apostrophe
  (' or ’), so "Naryshkin's" yields the word Naryshkin and a span over it. The modifier
  apostrophe ʼ is a letter to the tokenizer, so "Naryshkinʼs" is one word: those forms
  join too.
- **Accents** (`match_key`, applied to the query's forms and the text's words alike):
  Latin letters lose their accents (Lavróv, Erdoğan, Łukaszenka: lavrov, erdogan,
  lukaszenka) and Cyrillic loses stress marks (Нары́шкин); й stays й.

pymorphy3's analyzer costs about 0.1 s and 25 MB to load, and the 25 MB stay: so the bot
(`PARADIGMS`) never loads it. A Cyrillic word is expanded by a short-lived Python process
(`russian_forms`, about 0.5 s), once: the expansion is kept in memory and, with
`keep_in(path)` (the config's state folder, `paradigms.json`), across restarts, invalidated
when these rules or the dictionary change. Nothing is loaded for a Latin or Arabic watch.
A `Paradigms` given an `open_analyzer` expands in its own process (tests).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alertbot.text.normalize import normalize_word

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer

_CYRILLIC_RE = re.compile("[\u0400-\u04ff\u0500-\u052f]")
# The grammemes that make a reading a name (OpenCorpora's tags).
_NAME_TAGS = frozenset({"Surn", "Name", "Patr", "Geox", "Orgn"})
# Latin letters whose accent is not a combining mark under NFD.
_LATIN_FOLD = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t"})
_POSSESSIVE_SURNAME = ("ов", "ев", "ин", "ын")  # normalised: ё is е
_COMBINING_BREVE = "\u0306"  # и + breve is й: kept after a Cyrillic letter
# How many forms the understood-as line lists before "…".
SHOWN_FORMS = 5
# Bump when the rules below change what a word expands to: kept expansions are dropped.
RULES_VERSION = 1
CHILD_TIMEOUT_S = 60.0

log = logging.getLogger(__name__)


def is_cyrillic(word: str) -> bool:
    """True when `word` contains a Cyrillic letter."""
    return _CYRILLIC_RE.search(word) is not None


def match_key(norm: str) -> str:
    """The form a normalised Latin or Cyrillic word is indexed and looked up under: Latin
    accents and Cyrillic stress marks removed (Lavróv and Lavrov are one key)."""
    if norm.isascii():
        return norm
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", norm):
        if unicodedata.combining(ch):
            if ch == _COMBINING_BREVE and out and is_cyrillic(out[-1]):
                out.append(ch)
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out)).translate(_LATIN_FOLD)


@dataclass(frozen=True)
class WordForms:
    """A Latin or Cyrillic query word, and the keys (`match_key`) a text's word may have
    to match it: its own first, then its other forms."""

    word: str  # as written in the query
    keys: tuple[str, ...]
    shown: tuple[str, ...]  # the other forms as a reader is told of them, written alike

    def understood(self) -> list[str]:
        """The forms it matches beyond itself, for the understood-as line: at most
        SHOWN_FORMS, then "…"; [] for a word matched as written."""
        if len(self.shown) <= SHOWN_FORMS:
            return list(self.shown)
        return [*self.shown[:SHOWN_FORMS], "…"]


def _open_analyzer() -> MorphAnalyzer:
    """pymorphy3's analyzer over its Russian dictionary (installed with the package)."""
    import pymorphy3  # about 0.1 s and 25 MB: only when a watch has a Cyrillic word

    return pymorphy3.MorphAnalyzer(lang="ru")


class Paradigms:
    """Expands Latin and Cyrillic query words (see the module docstring) and keeps each
    word's expansion; Russian words in a child process, or with `open_analyzer` here."""

    def __init__(self, open_analyzer: Callable[[], MorphAnalyzer] | None = None) -> None:
        self._open_analyzer = open_analyzer
        self._analyzer: MorphAnalyzer | None = None
        self._lock = threading.Lock()  # watches compile on the bot's threads too
        self._expanded: dict[str, WordForms] = {}
        self._kept: dict[str, list[str]] = {}  # Russian word -> its forms, as in the file
        self._file: Path | None = None

    @property
    def loaded(self) -> bool:
        """True once the Russian analyzer has been loaded in this process."""
        return self._analyzer is not None

    def keep_in(self, path: Path) -> None:
        """Keep Russian expansions in `path` (JSON) across restarts; read what it holds."""
        with self._lock:
            self._file = path
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("version") == _version() and isinstance(data.get("forms"), dict):
                    self._kept = {str(k): [str(f) for f in v] for k, v in data["forms"].items()}
            except (OSError, ValueError, AttributeError, TypeError):
                self._kept = {}  # missing, damaged or stale: expanded again

    def prepare(self, words: Iterable[str]) -> None:
        """Expand the Russian words among `words` not expanded yet, in one child process
        (a config's watches compile word by word: one process for each would cost a
        start about half a second a word)."""
        if self._open_analyzer is not None:
            return
        with self._lock:
            new = [
                w
                for w in dict.fromkeys(words)
                if is_cyrillic(normalize_word(w)) and w not in self._kept
            ]
            if not new:
                return
            self._kept.update(_forms_in_child(new))
            if self._file is not None:
                _write(self._file, {"version": _version(), "forms": self._kept})

    def forms(self, word: str) -> WordForms:
        """The forms of a query word (not Arabic) as written in the query."""
        found = self._expanded.get(word)
        if found is None:
            with self._lock:
                found = self._expanded.get(word)
                if found is None:
                    found = self._expand(word)
                    self._expanded[word] = found
        return found

    def _expand(self, word: str) -> WordForms:
        norm = normalize_word(word)
        if is_cyrillic(norm):
            forms = shown = self._kept_forms(word, norm)
        else:
            forms, shown = _english_forms(norm)
        own = match_key(norm)
        keys = dict.fromkeys([own, *(match_key(f) for f in forms)])
        others = dict.fromkeys(f for f in shown if match_key(f) != own)
        return WordForms(word, tuple(keys), tuple(_written_like(word, f) for f in others))

    def _kept_forms(self, word: str, norm: str) -> list[str]:
        kept = self._kept.get(word)
        if kept is not None:
            return kept
        if self._open_analyzer is not None:
            return self._russian_forms(word, norm)
        forms = _forms_in_child([word])[word]
        self._kept[word] = forms
        if self._file is not None:
            _write(self._file, {"version": _version(), "forms": self._kept})
        return forms

    def _russian_forms(self, word: str, norm: str) -> list[str]:
        if self._analyzer is None:
            self._analyzer = (self._open_analyzer or _open_analyzer)()
        # Without stress marks (pymorphy3 reads е for ё itself); capitals from the query.
        parses = [p for p in self._analyzer.parse(match_key(norm)) if _from_dictionary(p)]
        chosen = _paradigm_parses(parses, norm, capitalised=word[:1].isupper())
        forms = [norm]
        for parse in chosen:
            lexeme = parse.lexeme
            forms.extend(normalize_word(f.word) for f in lexeme)
            if "Surn" in parse.tag.grammemes and all(f.tag.number != "plur" for f in lexeme):
                forms.extend(_surname_plural(normalize_word(parse.normal_form)))
        return list(dict.fromkeys(forms))


def _from_dictionary(parse: Any) -> bool:
    """True for a reading of a word pymorphy3's dictionary has, as it is: not a guess
    from its ending, an unknown prefix, a hyphen, or no reading at all."""
    stack = parse.methods_stack
    return len(stack) == 1 and type(stack[0][0]).__name__ == "DictionaryAnalyzer"


def _paradigm_parses(parses: Sequence[Any], norm: str, *, capitalised: bool) -> list[Any]:
    """The readings whose paradigms a query word stands for ([] for as written)."""
    names = [p for p in parses if _NAME_TAGS & p.tag.grammemes and p.tag.case == "nomn"]
    if names:
        lemma = names[0].normal_form  # one lemma: the likeliest name's
        return [p for p in names if p.normal_form == lemma]
    if not parses or parses[0].tag.POS != "NOUN":
        return []
    top = parses[0]
    if capitalised and normalize_word(top.normal_form) != norm:
        return []
    return [top]


def _surname_plural(lemma: str) -> list[str]:
    """The plural the dictionary leaves out of many surnames (Нарышкины, Нарышкиных): a
    surname in -ов, -ев, -ин or -ын declines like Лавров, whose plural it has."""
    if not lemma.endswith(_POSSESSIVE_SURNAME):
        return []
    return [lemma + ending for ending in ("ы", "ых", "ым", "ыми")]


def _english_forms(norm: str) -> tuple[list[str], list[str]]:
    """A Latin word's forms (itself, its English plural, and the possessives with ʼ,
    which the tokenizer keeps in the word) and those a reader is told of. A word in -s
    takes no plural: it is most likely one already (sanctions), or a name (Jones)."""
    if not match_key(norm).isalpha():
        return [norm], []  # G20, 2015: no plural
    if norm.endswith("s"):
        return [norm, norm + "ʼ", norm + "ʼs"], []
    plural = norm + ("es" if norm.endswith(("x", "z", "ch", "sh")) else "s")
    return [norm, plural, norm + "ʼs", plural + "ʼ"], [plural, norm + "'s"]


def _written_like(word: str, form: str) -> str:
    """`form` (lower case) in the case of `word` as written: Нарышкина for Нарышкин."""
    if len(word) > 1 and word.isupper():
        return form.upper()
    if word[:1].isupper():
        return form[:1].upper() + form[1:]
    return form


# One per process: a word's expansion is the same wherever its watch is compiled (the
# pipeline, each /watch, `alertbot match`), and the analyzer is loaded once.
def russian_forms(words: Sequence[str]) -> dict[str, list[str]]:
    """Russian words' forms, with the analyzer loaded here (what the child process runs)."""
    expand = Paradigms(_open_analyzer)
    return {w: expand._russian_forms(w, normalize_word(w)) for w in words}


def _forms_in_child(words: Sequence[str]) -> dict[str, list[str]]:
    """`russian_forms` in a short-lived Python process: the bot never holds pymorphy3's
    dictionary. A failure leaves the words as written, with a warning."""
    code = (
        "import json, sys; from alertbot.text.paradigms import russian_forms;"
        " print(json.dumps(russian_forms(sys.argv[1:])))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *words],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
        if done.returncode == 0:
            found = json.loads(done.stdout)
            if isinstance(found, dict) and all(
                isinstance(forms, list) and all(isinstance(f, str) for f in forms)
                for forms in found.values()
            ):
                return {w: found.get(w) or [normalize_word(w)] for w in words}
        problem = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        problem = [str(exc)]
    log.warning("Russian forms of %s not found (%s): matched as written", list(words), problem[0])
    return {w: [normalize_word(w)] for w in words}


def _version() -> str:
    try:
        dictionary = metadata.version("pymorphy3-dicts-ru")
    except metadata.PackageNotFoundError:
        dictionary = "none"
    return f"{RULES_VERSION}:{dictionary}"


def _write(path: Path, data: dict[str, Any]) -> None:
    """Write `data` to `path` whole or not at all; a cache that cannot be written is only
    a slower start."""
    try:
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("cannot keep Russian forms in %s: %s", path, exc)


PARADIGMS = Paradigms()
