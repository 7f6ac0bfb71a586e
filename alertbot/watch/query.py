"""Parsing watch queries into a syntax tree.

Grammar (operators are upper-case ASCII words; precedence, tightest first: NEAR, NOT,
AND, OR):

    query   := or
    or      := and ("OR" and)*
    and     := not (("AND" | <NOT follows>) not)*       -- "A NOT B" is "A AND NOT B"
    not     := "NOT" not | near
    near    := primary ("NEAR/" n primary)*
    primary := phrase | "(" query ")"
    phrase  := WORD+ | QUOTED                          -- bare words side by side are a phrase
    WORD    := "="? letters                             -- =word: that spelling only (PIN)

A query must look for something: "NOT A" or "A OR NOT B" would match almost every
article, so they are rejected. NEAR joins things that have a position in the text
(words, phrases, OR-groups of them, other NEARs), not AND or NOT. `NEAR/n` allows at most
n words between its sides, in either order: `NEAR/0` is adjacent words, none between; a
negative distance is refused.

Operators are upper-case only, and a word that is an operator in another case (`and`,
`Or`, `not`, `near/5`) is refused with its column rather than read as a phrase word:
someone typing `غزة or مصر` means OR, and a phrase that really contains the word is
written in quotes (`"Bosnia and Herzegovina"`), where every word is a word.

The tree's depth is bounded (at most MAX_NESTING parentheses and NOTs inside each other,
MAX_NEAR_CHAIN NEARs in a row), so the parser and every recursive walk over the tree
(`alertbot.watch.match` compiles and evaluates it recursively) stay far from Python's
recursion limit, whatever the query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from alertbot.errors import QuerySyntaxError
from alertbot.text.tokenize import tokenize

_QUOTES = {'"': '"”', "“": '”"', "«": "»", "„": '“”"'}
_OPERATORS = ("AND", "OR", "NOT")
_NEAR_RE = re.compile(r"NEAR(?:/(.*))?$", re.DOTALL)
_NEAR_ANY_CASE = re.compile(r"near/", re.IGNORECASE)
_DISTANCE = re.compile(r"[+-]?\d+")
MAX_NEAR = 100
# Parentheses and NOTs inside each other, and NEARs in one chain: far more than any real
# query needs, and few enough that no walk over the tree nears the recursion limit.
MAX_NESTING = 20
MAX_NEAR_CHAIN = 10
# A word written `=ترامب` is pinned: it matches that spelling only, with its proclitics, and
# none of its other forms or transliteration variants (kept as "=" + word in `Phrase.words`).
PIN = "="


@dataclass(frozen=True)
class Phrase:
    """One word, or consecutive words: each matches any form of its lemma."""

    words: tuple[str, ...]
    column: int

    @property
    def children(self) -> tuple[()]:
        """A phrase is a leaf."""
        return ()


@dataclass(frozen=True)
class Near:
    """Both sides occur within `distance` words of each other, in one field."""

    left: Node
    right: Node
    distance: int
    column: int

    @property
    def children(self) -> tuple[Node, Node]:
        """Both sides."""
        return (self.left, self.right)


@dataclass(frozen=True)
class And:
    """Every part occurs somewhere in the article (title or text)."""

    parts: tuple[Node, ...]

    @property
    def children(self) -> tuple[Node, ...]:
        """The parts."""
        return self.parts


@dataclass(frozen=True)
class Or:
    """At least one part occurs."""

    parts: tuple[Node, ...]

    @property
    def children(self) -> tuple[Node, ...]:
        """The parts."""
        return self.parts


@dataclass(frozen=True)
class Not:
    """The part does not occur anywhere in the article."""

    part: Node
    column: int

    @property
    def children(self) -> tuple[Node]:
        """The part."""
        return (self.part,)


Node = Phrase | Near | And | Or | Not


class Tree(Protocol):
    """A node of a query tree, parsed or compiled (`alertbot.watch.match`)."""

    @property
    def children(self) -> Sequence[Tree]: ...


TreeT = TypeVar("TreeT", bound=Tree)


def walk(node: TreeT) -> Iterator[TreeT]:
    """Every node of the tree under `node` (itself first), in reading order."""
    stack: list[TreeT] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Lexeme:
    kind: str  # "word", "quoted", "(", ")", "AND", "OR", "NOT", "NEAR"
    text: str
    column: int  # 1-based
    distance: int = 0


def _lex(query: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Lexeme(ch, ch, i + 1))
            i += 1
        elif ch in _QUOTES:
            closers = _QUOTES[ch]
            j = i + 1
            while j < n and query[j] not in closers:
                j += 1
            if j >= n:
                raise QuerySyntaxError("unclosed quote", i + 1)
            out.append(_Lexeme("quoted", query[i + 1 : j], i + 1))
            i = j + 1
        else:
            j = i
            while (
                j < n
                and not query[j].isspace()
                and query[j] not in "()"
                and query[j] not in _QUOTES
            ):
                j += 1
            text = query[i:j]
            near = _NEAR_RE.match(text)
            if text in _OPERATORS:
                out.append(_Lexeme(text, text, i + 1))
            elif near:
                out.append(_Lexeme("NEAR", text, i + 1, _near_distance(near.group(1), i + 1)))
            else:
                _refuse_other_case_operator(text, i + 1)
                out.append(_Lexeme("word", text, i + 1))
            i = j
    return out


def _near_distance(written: str | None, column: int) -> int:
    """The n of NEAR/n: 0 to MAX_NEAR words."""
    if not written or not _DISTANCE.fullmatch(written):
        raise QuerySyntaxError("NEAR needs a distance in words, as in NEAR/5,", column)
    distance = int(written)
    if distance < 0:
        raise QuerySyntaxError(
            f"NEAR/{distance}: a distance cannot be negative (NEAR/0 is adjacent words)", column
        )
    if distance > MAX_NEAR:
        raise QuerySyntaxError(f"NEAR/{distance} is too far (at most {MAX_NEAR})", column)
    return distance


def _refuse_other_case_operator(text: str, column: int) -> None:
    """`and`, `Or`, `near/5`...: an operator in the wrong case is an error, not a word."""
    if text.upper() in _OPERATORS:
        operator = text.upper()
    elif _NEAR_ANY_CASE.match(text):
        operator = "NEAR" + text[4:]
    else:
        return
    raise QuerySyntaxError(
        f"operators are upper-case: {text!r} must be {operator}"
        " (or quote the phrase to look for the word)",
        column,
    )


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.lexemes = _lex(query)
        self.pos = 0
        self.depth = 0  # parentheses and NOTs open around the current position

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.pos] if self.pos < len(self.lexemes) else None

    def end_column(self) -> int:
        return len(self.query.rstrip()) + 1

    def parse(self) -> Node:
        if not self.lexemes:
            raise QuerySyntaxError("empty query", 1)
        node = self.parse_or()
        extra = self.peek()
        if extra is not None:
            if extra.kind == ")":
                raise QuerySyntaxError("unmatched )", extra.column)
            raise QuerySyntaxError(
                f"expected AND, OR, NOT or NEAR/n before {self._show(extra)}", extra.column
            )
        return node

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while (lx := self.peek()) is not None and lx.kind == "OR":
            self.pos += 1
            parts.append(self.parse_and(after=lx))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self, after: _Lexeme | None = None) -> Node:
        parts = [self.parse_not(after)]
        while (lx := self.peek()) is not None and lx.kind in ("AND", "NOT"):
            if lx.kind == "AND":
                self.pos += 1
            parts.append(self.parse_not(lx))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_not(self, after: _Lexeme | None) -> Node:
        negations: list[_Lexeme] = []
        while (lx := self.peek()) is not None and lx.kind == "NOT":
            self._enter(lx, "NOTs and parentheses")
            negations.append(lx)
            self.pos += 1
        node = self.parse_near(negations[-1] if negations else after)
        for lx in reversed(negations):
            node = Not(node, lx.column)
        self.depth -= len(negations)
        return node

    def parse_near(self, after: _Lexeme | None) -> Node:
        node = self.parse_primary(after)
        chain = 0
        while (lx := self.peek()) is not None and lx.kind == "NEAR":
            chain += 1
            if chain > MAX_NEAR_CHAIN:
                raise QuerySyntaxError(
                    f"too many NEARs in a row: at most {MAX_NEAR_CHAIN}", lx.column
                )
            self.pos += 1
            right = self.parse_primary(lx)
            for side in (node, right):
                if not _positional(side):
                    raise QuerySyntaxError(
                        "NEAR joins words, phrases or OR-groups of them, not AND or NOT,",
                        lx.column,
                    )
            node = Near(node, right, lx.distance, lx.column)
        return node

    def parse_primary(self, after: _Lexeme | None) -> Node:
        lx = self.peek()
        if lx is None:
            if after is None:
                raise QuerySyntaxError("empty query", 1)
            raise QuerySyntaxError(f"nothing after {after.text}", self.end_column())
        if lx.kind == "(":
            self._enter(lx, "parentheses")
            self.pos += 1
            if (inner := self.peek()) is not None and inner.kind == ")":
                raise QuerySyntaxError("empty parentheses", lx.column)
            node = self.parse_or()
            close = self.peek()
            if close is None or close.kind != ")":
                raise QuerySyntaxError("unclosed (", lx.column)
            self.pos += 1
            self.depth -= 1
            return node
        if lx.kind == "quoted":
            self.pos += 1
            return self._phrase([lx], lx.column)
        if lx.kind == "word":
            words = []
            while (w := self.peek()) is not None and w.kind == "word":
                words.append(w)
                self.pos += 1
            return self._phrase(words, lx.column)
        if after is None:
            raise QuerySyntaxError(f"nothing before {lx.text}", lx.column)
        raise QuerySyntaxError(
            f"expected a word, a phrase or ( after {after.text}, found {self._show(lx)}", lx.column
        )

    def _enter(self, lx: _Lexeme, what: str) -> None:
        """One level deeper, at `lx` (a "(" or a NOT); refused past MAX_NESTING."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise QuerySyntaxError(
                f"too deeply nested: at most {MAX_NESTING} levels of {what}", lx.column
            )

    def _phrase(self, lexemes: list[_Lexeme], column: int) -> Phrase:
        words: list[str] = []
        for lx in lexemes:
            found: list[str] = []
            for chunk in lx.text.split():
                # =word: this spelling only (PIN); every word the chunk holds is pinned.
                pin = PIN if chunk.startswith(PIN) else ""
                found.extend(pin + t.surface for t in tokenize(chunk.removeprefix(PIN)))
            if not found:
                what = "empty phrase" if lx.kind == "quoted" else f"nothing to match in {lx.text!r}"
                raise QuerySyntaxError(what, lx.column)
            words.extend(found)
        return Phrase(tuple(words), column)

    @staticmethod
    def _show(lx: _Lexeme) -> str:
        return {"quoted": f'"{lx.text}"', "word": repr(lx.text)}.get(lx.kind, lx.text)


def _positional(node: Node) -> bool:
    if isinstance(node, Phrase | Near):
        return True
    if isinstance(node, Or):
        return all(_positional(p) for p in node.parts)
    return False


def _first_not(node: Node) -> Not | None:
    return next((n for n in walk(node) if isinstance(n, Not)), None)


def _looks_for_something(node: Node) -> bool:
    """True when every article the node matches must contain at least one of its words."""
    if isinstance(node, Phrase | Near):
        return True
    if isinstance(node, And):
        return any(_looks_for_something(p) for p in node.parts)
    if isinstance(node, Or):
        return all(_looks_for_something(p) for p in node.parts)
    return False


def parse_query(query: str) -> Node:
    """Parse a watch query, or raise QuerySyntaxError saying what is wrong and where."""
    node = _Parser(query).parse()
    if not _looks_for_something(node):
        negation = _first_not(node)
        raise QuerySyntaxError(
            "a query must look for a word: NOT on its own would match almost every article",
            negation.column if negation else 1,
        )
    return node


def phrases(node: Node) -> list[Phrase]:
    """Every phrase in the tree, in reading order."""
    return [n for n in walk(node) if isinstance(n, Phrase)]
