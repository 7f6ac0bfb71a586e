"""camel-tools' morphology database, holding only what alertbot's readings need.

camel-tools parses each of calima-msa-r13's 72,734 stem entries (and its prefixes and
suffixes) into a dict of about 45 features, each with its own key and value strings: about
350 MB. alertbot reads ten of them (`READ_FEATURES`), and camel-tools' analyzer needs no
others to produce those ten, because it

- merges a stem's features with its prefix's and suffix's (`merge_features`) only for the
  keys the stem has: a feature dropped from every entry is simply never produced;
- concatenates `diac` across the three, and builds `gloss`, `bw`, the tokenisation
  schemes, `caphi`, `pattern`, the log-probabilities and the gender/number fixes only for
  features in the database's definitions: dropping those from `defines` skips that work,
  which is also what makes a first-time analysis about three times faster;
- reads `bw` and `gloss` of the NOAN entries when it makes up a proper-noun reading for an
  unknown word (backoff), so those entries keep them.

So `CompactMorphologyDB` keeps those features while it parses, interned: every repeated
value ("0", "noun", "lex", a shared lex) is one string. The analyses alertbot reads are the
same as with the stock database (tests/test_lemmatize_exact.py compares them on 20,000
corpus word forms); loaded, the whole database takes about 40 MB.

Parsing the text still takes a few seconds, so `open_analyzer` keeps the parsed tables in a
file under the state folder (`alertbot.text.tables_file`) and reads them back on later
starts. Importing this module imports camel-tools, which reads its catalogue at import:
import it only once the data is known to be installed (`alertbot.camel_data`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from camel_tools.morphology.analyzer import Analyzer
from camel_tools.morphology.database import MorphologyDB, MorphologyDBFlags
from camel_tools.morphology.utils import strip_lex

from alertbot.text import tables_file
from alertbot.text.provenance import DatabaseFile

log = logging.getLogger(__name__)

# The features of an analysis that alertbot reads (alertbot.text.lemmatize): the lemma
# (lex, pos, prc0), the clitics, the diacritised form, where the reading came from and
# how likely its lemma is.
READ_FEATURES = frozenset(
    {"diac", "lex", "pos", "prc0", "prc1", "prc2", "prc3", "enc0", "pos_lex_logprob", "source"}
)
# The NOAN entries, from which the analyzer makes up readings of unknown words, also keep
# what its backoff reads.
_BACKOFF_FEATURES = READ_FEATURES | {"bw", "gloss"}

# What a MorphologyDB holds once parsed; the tables file stores exactly these.
_ATTRIBUTES = frozenset({
    "_withAnalysis", "_withReinflection", "_withGeneration", "_defaultKey", "flags",
    "defines", "defaults", "order", "tokenizations", "compute_feats", "stem_backoffs",
    "prefix_hash", "suffix_hash", "stem_hash", "prefix_cat_hash", "suffix_cat_hash",
    "lemma_hash", "prefix_stem_compat", "stem_suffix_compat", "prefix_suffix_compat",
    "stem_prefix_compat", "max_prefix_size", "max_suffix_size",
})  # fmt: skip


class CompactMorphologyDB(MorphologyDB):
    """A `MorphologyDB` (analysis only) that keeps the features alertbot's readings need."""

    defines: dict[str, list[str] | None]
    compute_feats: frozenset[str]

    def _parse_analysis_line_toks(self, toks: list[str]) -> dict[str, str]:
        parsed: dict[str, str] = super()._parse_analysis_line_toks(toks)
        lex = parsed.get("lex")
        keep = _BACKOFF_FEATURES if lex is not None and lex.startswith("NOAN") else READ_FEATURES
        if lex is not None:
            # The parser strips the lex of stems after this; stripped here first, it strips
            # to the same interned string instead of a fresh copy per entry.
            parsed["lex"] = strip_lex(lex)
        intern = sys.intern
        return {intern(k): intern(v) for k, v in parsed.items() if k in keep}

    def _parse_dbfile(self, fpath: str) -> None:
        super()._parse_dbfile(fpath)
        self.defines = {f: values for f, values in self.defines.items() if f in READ_FEATURES}
        self.compute_feats = self.compute_feats & READ_FEATURES


def open_analyzer(database: DatabaseFile, tables: Path | None, code: str) -> Analyzer:
    """camel-tools' analyzer over `database`, from the `tables` file when it is fresh.

    `code` is the digest of the code the tables depend on (`alertbot.text.provenance`).
    Without a fresh tables file the database is parsed, and the file (re)written for the
    next start.
    """
    state = tables_file.read(tables, database, code) if tables is not None else None
    db = _restored(state) if state is not None else None
    if db is None:
        db = CompactMorphologyDB(str(database.path), "a")
        if tables is not None:
            tables_file.write(tables, database, code, _tables_of(db))
    return Analyzer(db, backoff="NOAN_PROP")


def _tables_of(db: CompactMorphologyDB) -> dict[str, Any]:
    state = {name: getattr(db, name) for name in _ATTRIBUTES}
    state["flags"] = tuple(db.flags)
    return state


def _restored(state: dict[str, Any]) -> CompactMorphologyDB | None:
    """The database whose parsed tables are `state`; None if they are not such tables."""
    if set(state) != _ATTRIBUTES:
        log.warning("morphology tables hold something else: parsing the database")
        return None
    db: CompactMorphologyDB = CompactMorphologyDB.__new__(CompactMorphologyDB)
    db.__dict__.update(state)
    db.flags = MorphologyDBFlags(*state["flags"])
    return db
