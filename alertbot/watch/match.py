"""Matching compiled watches against articles, with spans into the original text.

When a query word matches a word of the text:

- Arabic: they share a lemma (the query word read as a citation form, the text's word
  with its plausible readings: see `alertbot.text.lemmatize`); or the query word is a name
  the database does not know, or the text's word is unknown to it, and the text's word
  with its proclitics removed is the query word (و+ناريشكين, ب+الضبعة); or the text's word
  is spelled as the query word and carries no diacritics to say it is another word:
  "مُصر" (with a damma: insistent) is not the watch مصر.
- Latin, Cyrillic, digits: the same whole word, case-insensitively and regardless of
  accents, or one of the query word's other forms: a Russian word's case forms, an
  English plural (see `alertbot.text.paradigms`).

A phrase matches consecutive words of one field that no sentence or line break
separates. NEAR/n: at most n words between the two sides, in either order, in one field.
AND and NOT look at the whole article (title and text).

Compiling and evaluating walk the query tree recursively; the parser bounds its depth
(`alertbot.watch.query.MAX_NESTING` and `MAX_NEAR_CHAIN`), so no query that parses can
take them near the recursion limit.

Everything here is pure: strings in, matches out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alertbot.text.lemmatize import Lemmatizer, QueryWordAnalysis, clitic_stems, lemma_is_name
from alertbot.text.normalize import has_harakat, normalize_word
from alertbot.text.paradigms import PARADIGMS, Paradigms, WordForms, match_key
from alertbot.text.tokenize import ArticleWords, breaks_between, is_arabic, words
from alertbot.text.variants import is_variant, skeleton
from alertbot.watch.query import PIN, And, Near, Node, Not, Phrase, parse_query, walk


@dataclass(frozen=True)
class Watch:
    """A named query, as written in the config or sent with /watch.

    The matcher reads only `query`; `sources`, `topic` and `excludes` say what the
    pipeline does with a match (alertbot.pipeline.Watchlists).
    """

    name: str
    query: str
    owner: int | None = None  # the chat whose watch it is; None for the config's
    sources: tuple[str, ...] = ()  # source names it is limited to; () for every source
    topic: int | None = None  # the forum topic (message thread id) its alerts go to
    excludes: bool = False  # an exclusion: what it matches alerts nobody in its chat


@dataclass(frozen=True)
class Span:
    """Where a match is: `text == <field>[start:end]` in the original field."""

    field: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class WatchMatch:
    """A watch that matched an article, and every span that made it match."""

    watch: str
    spans: tuple[Span, ...]
    owner: int | None = None  # the watch's owner (`Watch.owner`)
    excludes: bool = False  # an exclusion matched (`Watch.excludes`)


# A compiled query: the parsed tree's shape, with word ids where the parser has words.
@dataclass(frozen=True)
class _Words:
    """A phrase: consecutive words, each a query word id."""

    ids: tuple[int, ...]

    @property
    def children(self) -> tuple[()]:
        return ()


@dataclass(frozen=True)
class _Near:
    left: _Compiled
    right: _Compiled
    distance: int

    @property
    def children(self) -> tuple[_Compiled, _Compiled]:
        return (self.left, self.right)


@dataclass(frozen=True)
class _And:
    parts: tuple[_Compiled, ...]

    @property
    def children(self) -> tuple[_Compiled, ...]:
        return self.parts


@dataclass(frozen=True)
class _Or:
    parts: tuple[_Compiled, ...]

    @property
    def children(self) -> tuple[_Compiled, ...]:
        return self.parts


@dataclass(frozen=True)
class _Not:
    part: _Compiled

    @property
    def children(self) -> tuple[_Compiled]:
        return (self.part,)


_Compiled = _Words | _Near | _And | _Or | _Not


@dataclass(frozen=True)
class CompiledWatch:
    """A watch parsed and lemmatised once, ready to match many articles."""

    watch: Watch
    tree: _Compiled
    word_ids: frozenset[int]


@dataclass(frozen=True)
class _Occurrence:
    field: int
    first: int
    last: int
    parts: tuple[tuple[int, int], ...]


@dataclass
class _Field:
    """One field of an article: where each word that matched something is, and its ids."""

    name: str
    text: str
    # Word index -> (start, end, surface, word ids), for the words that matched a query word.
    words: dict[int, tuple[int, int, str, frozenset[int]]]
    positions: dict[int, list[int]]  # query word id -> word indices

    def adjacent(self, first: int, second: int) -> bool:
        """True when word `second` follows word `first` with no sentence break between."""
        end = self.words[first][1]
        return not breaks_between(self.text, end, self.words[second][0])


_EMPTY: frozenset[int] = frozenset()
NAME_PART = 3  # letters each part of a name written in two words keeps at least
# What the cache knows of a word form: the query words it matches, its normalised form,
# and whether it is a name (for story clustering); None for a form that is not a word.
_WordInfo = tuple[frozenset[int], str, bool] | None


class Matcher:
    """Compiled watches and the per-word-form cache that makes matching fast."""

    def __init__(
        self,
        watches: Iterable[Watch],
        lemmatizer: Lemmatizer,
        cache_size: int = 200_000,
        paradigms: Paradigms = PARADIGMS,
    ):
        self._lemmatizer = lemmatizer
        self._paradigms = paradigms
        self._words: list[QueryWordAnalysis | WordForms] = []
        self._word_index: dict[str, int] = {}
        self._by_lemma: dict[str, set[int]] = {}
        self._by_stem: dict[str, set[int]] = {}
        self._names_by_stem: dict[str, set[int]] = {}
        self._by_norm: dict[str, set[int]] = {}
        self._arabic_by_norm: dict[str, set[int]] = {}
        # Names that take transliteration variants: skeleton -> word ids (variants.py).
        self._by_skeleton: dict[str, set[int]] = {}
        self._extra: set[int] = set()  # words only the other writings of names have
        self._cache: dict[str, _WordInfo] = {}
        self._cache_size = cache_size
        watches = list(watches)
        parsed = [parse_query(w.query) for w in watches]
        # Every Russian word of the watches expanded at once (one child process).
        paradigms.prepare(
            w
            for tree in parsed
            for node in walk(tree)
            if isinstance(node, Phrase)
            for w in node.words
            if not w.startswith(PIN)
        )
        self.watches: list[CompiledWatch] = [
            self._compile(w, tree) for w, tree in zip(watches, parsed, strict=True)
        ]

    # -- compiling ---------------------------------------------------------------------

    def _compile(self, watch: Watch, parsed: Node) -> CompiledWatch:
        tree = self._compile_node(parsed)
        return CompiledWatch(watch, tree, frozenset(_ids_in(tree)))

    def _compile_node(self, node: Node) -> _Compiled:
        if isinstance(node, Phrase):
            ids = tuple(self._word_id(w) for w in node.words)
            others = self._name_writings(node.words, ids)
            if not others:
                return _Words(ids)
            return _Or((_Words(ids), *(_Words(a) for a in others)))
        if isinstance(node, Near):
            left, right = self._compile_node(node.left), self._compile_node(node.right)
            return _Near(left, right, node.distance)
        if isinstance(node, Not):
            return _Not(self._compile_node(node.part))
        parts = tuple(self._compile_node(p) for p in node.parts)
        return _And(parts) if isinstance(node, And) else _Or(parts)

    def _name_writings(
        self, written: tuple[str, ...], ids: tuple[int, ...]
    ) -> list[tuple[int, ...]]:
        """Other ways outlets write the names of a phrase: a name in two words (شي جين بينغ
        for جينبينغ, cut where both parts keep `NAME_PART` letters), two words of a name in
        one (جونغون for جونغ أون: a name and the word beside it, joined, with its variants).
        One change per writing; pinned words take none."""
        out: list[tuple[int, ...]] = []
        words = [self._words[wid] for wid in ids]
        for i, word in enumerate(words):
            if (
                isinstance(word, QueryWordAnalysis)
                and not written[i].startswith(PIN)
                and _takes_variants(word)
            ):
                norm = word.norm
                for cut in range(NAME_PART, len(norm) - NAME_PART + 1):
                    parts = (self._extra_id(norm[:cut], False), self._extra_id(norm[cut:], False))
                    out.append(ids[:i] + parts + ids[i + 1 :])
        for i in range(len(words) - 1):
            a, b = words[i], words[i + 1]
            if (
                isinstance(a, QueryWordAnalysis)
                and isinstance(b, QueryWordAnalysis)
                and not (written[i].startswith(PIN) or written[i + 1].startswith(PIN))
                and (_takes_variants(a) or _takes_variants(b) or a.is_name or b.is_name)
            ):
                joined = self._extra_id(a.norm + b.norm, True)
                out.append((*ids[:i], joined, *ids[i + 2 :]))
        return out

    def _extra_id(self, norm: str, variants: bool) -> int:
        """A word the query does not write but a writing of its names has (a part of a name
        cut in two, two words joined): matched by its letters, with its proclitics."""
        key = f"\x00{'joined' if variants else 'part'}:{norm}"
        if key in self._word_index:
            return self._word_index[key]
        wid = len(self._words)
        self._word_index[key] = wid
        self._extra.add(wid)
        self._words.append(QueryWordAnalysis(norm, norm, frozenset(), norm))
        self._arabic_by_norm.setdefault(norm, set()).add(wid)
        self._by_stem.setdefault(norm, set()).add(wid)
        self._names_by_stem.setdefault(norm, set()).add(wid)
        if variants and skeleton(norm):
            self._by_skeleton.setdefault(skeleton(norm), set()).add(wid)
        return wid

    def _word_id(self, written: str) -> int:
        pinned = written.startswith(PIN)
        word = written.removeprefix(PIN)
        norm = normalize_word(word)
        if written in self._word_index:
            return self._word_index[written]
        wid = len(self._words)
        self._word_index[written] = wid
        if is_arabic(norm):
            if pinned:  # this spelling only, with its proclitics: no lemma, no variants
                analysis = QueryWordAnalysis(word, norm, frozenset(), norm)
            else:
                analysis = self._lemmatizer.analyze_query_word(word)
                if _takes_variants(analysis):
                    self._by_skeleton.setdefault(skeleton(norm), set()).add(wid)
            self._words.append(analysis)
            for lemma in analysis.lemmas:
                self._by_lemma.setdefault(lemma, set()).add(wid)
            self._by_stem.setdefault(analysis.stem, set()).add(wid)
            self._arabic_by_norm.setdefault(norm, set()).add(wid)
            if analysis.is_name:
                self._names_by_stem.setdefault(analysis.stem, set()).add(wid)
        else:
            # As written: a capitalised Russian word is expanded as a name (paradigms.py);
            # a pinned one is that spelling only.
            key = match_key(norm)
            forms = WordForms(word, (key,), ()) if pinned else self._paradigms.forms(word)
            for key in forms.keys:
                self._by_norm.setdefault(key, set()).add(wid)
            self._words.append(forms)
        return wid

    def understood(self, watch: CompiledWatch) -> list[tuple[str, list[str]]]:
        """Each word of a watch with the lemmas it matches ([] for a name, matched by
        letters); a Latin or Cyrillic word as written, with its other forms."""
        out = []
        for wid in sorted(watch.word_ids - self._extra):
            word = self._words[wid]
            if isinstance(word, QueryWordAnalysis):
                out.append((word.word, self._lemmatizer.describe(word.lemmas)))
            else:
                out.append((word.word, word.understood()))
        return out

    # -- matching ----------------------------------------------------------------------

    def _word_info(self, surface: str) -> _WordInfo:
        """The query words a word of the text matches, its normalised form, and whether it
        is a name: an Arabic word the database reads as a proper noun or does not know at
        all, or a Latin or Cyrillic word with a capital. None for a form that is no word."""
        norm = normalize_word(surface)
        if not norm:
            return None
        ids: set[int] = set()
        if not is_arabic(norm):
            ids.update(self._by_norm.get(match_key(norm), ()))
            is_name = surface[:1].isupper()
        else:
            if not has_harakat(surface):
                ids.update(self._arabic_by_norm.get(norm, ()))
            analysis = self._lemmatizer.analyze(surface)
            for lemma in analysis.lemmas:
                ids.update(self._by_lemma.get(lemma, ()))
            stems = self._by_stem if not analysis.known else self._names_by_stem
            for stem in analysis.stems:
                ids.update(stems.get(stem, ()))
            if self._by_skeleton:
                ids.update(self._variant_ids(surface, norm, analysis.stems, ids))
            is_name = not analysis.known or any(lemma_is_name(k) for k in analysis.lemmas)
        return (frozenset(ids) if ids else _EMPTY), norm, is_name

    def _variant_ids(
        self, surface: str, norm: str, stems: frozenset[str], found: set[int]
    ) -> set[int]:
        """The names the word spells as a transliteration variant (ترمب for ترامب), with
        or without its proclitics, when it may be a name at all (`may_be_a_name`)."""
        out: set[int] = set()
        may_be_a_name: bool | None = None  # asked once, of the first spelling that fits
        for stem in stems | {norm}:
            for wid in self._by_skeleton.get(skeleton(stem), ()):
                if wid in found or wid in out:
                    continue
                name = self._words[wid]
                assert isinstance(name, QueryWordAnalysis)
                if not is_variant(name.norm, stem):
                    continue
                if may_be_a_name is None:
                    may_be_a_name = self._lemmatizer.may_be_a_name(surface)
                if not may_be_a_name:
                    return out
                out.add(wid)
        return out

    def variants(self, watch: CompiledWatch) -> dict[str, frozenset[int]]:
        """The watch's words that take transliteration variants, with their ids (for
        telling which spellings of a name stored items carry)."""
        out: dict[str, set[int]] = {}
        for wid in watch.word_ids - self._extra:
            word = self._words[wid]
            if isinstance(word, QueryWordAnalysis) and wid in self._by_skeleton.get(
                skeleton(word.norm), ()
            ):
                out.setdefault(word.word, set()).add(wid)
        return {w: frozenset(ids) for w, ids in out.items()}

    def spellings(self, watch: CompiledWatch, matches: Iterable[WatchMatch]) -> dict[str, set[str]]:
        """For each word of `watch` that takes variants, the other spellings of it (without
        proclitics) that `matches` (its matches in one article) found: ترامب → {ترمب}."""
        variants = self.variants(watch)
        out: dict[str, set[str]] = {}
        if not variants:
            return out
        for match in matches:
            for span in match.spans:
                for _, _, surface in words(span.text):
                    info = self._cache.get(surface) or self._word_info(surface)
                    if info is None:
                        continue
                    for word, ids in variants.items():
                        if ids.isdisjoint(info[0]):
                            continue
                        name = self._words[next(iter(ids))]
                        assert isinstance(name, QueryWordAnalysis)
                        stems = clitic_stems(info[1]) | {info[1]}
                        if name.norm in stems:
                            continue  # its own spelling
                        spelt = [st for st in stems if is_variant(name.norm, st)]
                        if spelt:
                            out.setdefault(word, set()).add(max(spelt, key=len))
        return out

    def _field(self, name: str, text: str, read: _Reading | None = None) -> _Field:
        """The field's words that match a query word; with `read`, every word's normal
        form goes there too, line by line (the same pass serves story clustering)."""
        cache = self._cache
        found: dict[int, tuple[int, int, str, frozenset[int]]] = {}
        positions: dict[int, list[int]] = {}
        index = 0
        line: list[str] = []
        previous_end = 0
        for start, end, surface in words(text):
            if surface in cache:
                info = cache[surface]
            else:
                info = self._word_info(surface)
                if len(cache) >= self._cache_size:
                    cache.clear()
                cache[surface] = info
            if info is None:
                continue  # tatweel alone: not a word, as in tokenize()
            ids, norm, is_name = info
            if ids:
                found[index] = (start, end, surface, ids)
                for wid in ids:
                    positions.setdefault(wid, []).append(index)
            index += 1
            if read is not None:
                if line and text.find("\n", previous_end, start) >= 0:
                    read.lines.append(tuple(line))
                    line = []
                line.append(norm)
                if is_name:
                    read.names.add(norm)
                previous_end = end
        if read is not None and line:
            read.lines.append(tuple(line))
        return _Field(name, text, found, positions)

    def match(self, fields: Sequence[tuple[str, str]]) -> list[WatchMatch]:
        """The watches that match an article given as (field name, text) pairs, in order."""
        return self._matches([self._field(name, text) for name, text in fields])

    def match_article(self, title: str | None, text: str) -> list[WatchMatch]:
        """Match an article's title and text (the `alertbot match` fields)."""
        fields = [("title", title)] if title else []
        fields.append(("text", text))
        return self.match(fields)

    def read(self, title: str | None, text: str) -> tuple[list[WatchMatch], ArticleWords]:
        """`match_article`, and in the same pass the article's words as story clustering
        and the fingerprint read them (`alertbot.text.tokenize.article_words`)."""
        title_read, text_read = _Reading(), _Reading()
        doc = [self._field("title", title, title_read)] if title else []
        doc.append(self._field("text", text, text_read))
        title_words = tuple(w for line in title_read.lines for w in line)
        names = frozenset(title_read.names | text_read.names)
        return self._matches(doc), ArticleWords(title_words, tuple(text_read.lines), names)

    def _matches(self, doc: list[_Field]) -> list[WatchMatch]:
        present = {wid for f in doc for wid in f.positions}
        if not present:
            return []
        results = []
        for compiled in self.watches:
            if compiled.word_ids.isdisjoint(present):
                continue
            ok, occurrences = _evaluate(compiled.tree, doc)
            if ok:
                watch = compiled.watch
                spans = _spans(occurrences, doc)
                results.append(WatchMatch(watch.name, spans, watch.owner, watch.excludes))
        return results


def _takes_variants(analysis: QueryWordAnalysis) -> bool:
    """A query word that is a name (the database knows it only as a proper noun, or not
    at all) long enough to take transliteration variants."""
    return bool(skeleton(analysis.norm)) and all(lemma_is_name(k) for k in analysis.lemmas)


class _Reading:
    """Where `Matcher._field` puts a field's words for `Matcher.read`."""

    __slots__ = ("lines", "names")

    def __init__(self) -> None:
        self.lines: list[tuple[str, ...]] = []
        self.names: set[str] = set()


def _ids_in(node: _Compiled) -> set[int]:
    return {i for n in walk(node) if isinstance(n, _Words) for i in n.ids}


def _phrase_occurrences(ids: tuple[int, ...], doc: list[_Field]) -> list[_Occurrence]:
    found = []
    last = len(ids) - 1
    for fi, field in enumerate(doc):
        words = field.words
        for start in field.positions.get(ids[0], ()):
            if all(
                (w := words.get(start + j)) is not None
                and ids[j] in w[3]
                and field.adjacent(start + j - 1, start + j)
                for j in range(1, last + 1)
            ):
                found.append(_Occurrence(fi, start, start + last, ((start, start + last),)))
    return found


def _occurrences(node: _Compiled, doc: list[_Field]) -> list[_Occurrence]:
    """Where a positional node (words, NEAR, OR of them) occurs."""
    if isinstance(node, _Words):
        return _phrase_occurrences(node.ids, doc)
    if isinstance(node, _Or):
        return [occ for part in node.parts for occ in _occurrences(part, doc)]
    assert isinstance(node, _Near), node
    left = _occurrences(node.left, doc)
    right = _occurrences(node.right, doc) if left else []
    found = []
    for a in left:
        for b in right:
            if a.field != b.field:
                continue
            gap = b.first - a.last - 1 if b.first > a.last else a.first - b.last - 1
            if 0 <= gap <= node.distance:
                found.append(
                    _Occurrence(
                        a.field, min(a.first, b.first), max(a.last, b.last), a.parts + b.parts
                    )
                )
    return found


def _evaluate(node: _Compiled, doc: list[_Field]) -> tuple[bool, list[_Occurrence]]:
    """Whether the node holds for the article, and the occurrences that make it hold."""
    if isinstance(node, _Words | _Near):
        found = _occurrences(node, doc)
        return bool(found), found
    if isinstance(node, _Not):
        ok, _ = _evaluate(node.part, doc)
        return not ok, []
    if isinstance(node, _And):
        collected: list[_Occurrence] = []
        for part in node.parts:
            ok, found = _evaluate(part, doc)
            if not ok:
                return False, []
            collected.extend(found)
        return True, collected
    collected = []
    any_ok = False
    for part in node.parts:
        ok, found = _evaluate(part, doc)
        if ok:
            any_ok = True
            collected.extend(found)
    return any_ok, collected


def _spans(occurrences: list[_Occurrence], doc: list[_Field]) -> tuple[Span, ...]:
    seen = set()
    for occ in occurrences:
        for first, last in occ.parts:
            seen.add((occ.field, first, last))
    spans = []
    for fi, first, last in sorted(seen):
        field = doc[fi]
        start, end = field.words[first][0], field.words[last][1]
        spans.append(Span(field.name, start, end, field.text[start:end]))
    return tuple(spans)
