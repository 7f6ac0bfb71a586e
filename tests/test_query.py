"""Watch query parsing: the tree of a valid query, the column of an invalid one."""

import inspect
import sys

import pytest

from alertbot.errors import QuerySyntaxError
from alertbot.watch.match import Matcher, Watch
from alertbot.watch.query import (
    MAX_NEAR,
    MAX_NEAR_CHAIN,
    MAX_NESTING,
    And,
    Near,
    Not,
    Or,
    Phrase,
    parse_query,
    phrases,
)


def shape(node):
    """The tree without columns: words as strings, phrases as tuples, operators as tags."""
    if isinstance(node, Phrase):
        return node.words[0] if len(node.words) == 1 else node.words
    if isinstance(node, Near):
        return ("NEAR", node.distance, shape(node.left), shape(node.right))
    if isinstance(node, Not):
        return ("NOT", shape(node.part))
    tag = "AND" if isinstance(node, And) else "OR"
    return (tag, *(shape(p) for p in node.parts))


# --- valid queries -----------------------------------------------------------------------


def test_one_word():
    assert parse_query("ناريشكين") == Phrase(("ناريشكين",), 1)


def test_quoted_phrase():
    assert parse_query('"وقف إطلاق النار"') == Phrase(("وقف", "إطلاق", "النار"), 1)


def test_bare_words_side_by_side_are_a_phrase():
    assert parse_query("وقف إطلاق النار") == parse_query('"وقف إطلاق النار"')


def test_or_and_with_columns():
    assert parse_query("غزة OR Gaza") == Or((Phrase(("غزة",), 1), Phrase(("Gaza",), 8)))
    assert parse_query("غزة AND هدنة") == And((Phrase(("غزة",), 1), Phrase(("هدنة",), 9)))


def test_not_after_and():
    assert parse_query("الضبعة AND NOT مطار") == And(
        (Phrase(("الضبعة",), 1), Not(Phrase(("مطار",), 16), 12))
    )


def test_a_not_b_is_a_and_not_b():
    assert (
        shape(parse_query("A NOT B"))
        == shape(parse_query("A AND NOT B"))
        == (
            "AND",
            "A",
            ("NOT", "B"),
        )
    )


def test_near_with_distance():
    assert parse_query("ناريشكين NEAR/5 السيسي") == Near(
        Phrase(("ناريشكين",), 1), Phrase(("السيسي",), 17), 5, 10
    )


def test_near_limits_are_zero_and_one_hundred():
    assert parse_query("A NEAR/0 B").distance == 0
    assert parse_query("A NEAR/100 B").distance == 100


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("(A OR B) AND C", ("AND", ("OR", "A", "B"), "C")),
        ("A OR B AND C", ("OR", "A", ("AND", "B", "C"))),
        ("A AND B OR C", ("OR", ("AND", "A", "B"), "C")),
        ("A AND (B OR C)", ("AND", "A", ("OR", "B", "C"))),
        ("NOT A NEAR/3 B AND C", ("AND", ("NOT", ("NEAR", 3, "A", "B")), "C")),
        ("C AND NOT A NEAR/3 B", ("AND", "C", ("NOT", ("NEAR", 3, "A", "B")))),
        ("A OR B NEAR/2 C", ("OR", "A", ("NEAR", 2, "B", "C"))),
        ("A NEAR/2 B NEAR/3 C", ("NEAR", 3, ("NEAR", 2, "A", "B"), "C")),
        ("(A OR B) NEAR/2 C", ("NEAR", 2, ("OR", "A", "B"), "C")),
        ("A B NEAR/4 C", ("NEAR", 4, ("A", "B"), "C")),
        ("A OR B NOT C", ("OR", "A", ("AND", "B", ("NOT", "C")))),
        ("A AND B AND C", ("AND", "A", "B", "C")),
    ],
)
def test_precedence_near_not_and_or(query, expected):
    assert shape(parse_query(query)) == expected


def test_arabic_latin_and_cyrillic_words():
    assert shape(parse_query("ناريشكين OR Naryshkin OR Нарышкин")) == (
        "OR",
        "ناريشكين",
        "Naryshkin",
        "Нарышкин",
    )


@pytest.mark.parametrize("query", ["«وقف إطلاق النار»", "“وقف إطلاق النار”", "„وقف إطلاق النار“"])
def test_guillemets_and_curly_quotes(query):
    assert shape(parse_query(query)) == ("وقف", "إطلاق", "النار")


def test_hyphenated_name_is_a_two_word_phrase():
    assert parse_query("El-Dabaa") == Phrase(("El", "Dabaa"), 1)


@pytest.mark.parametrize(
    ("query", "column", "written", "operator"),
    [
        ("gaza and truce", 6, "and", "AND"),
        ("غزة or مصر", 5, "or", "OR"),
        ("غزة Or مصر", 5, "Or", "OR"),
        ("not غزة مصر", 1, "not", "NOT"),
        ("غزة AND (مصر nOt قطر)", 14, "nOt", "NOT"),
        ("غزة near/5 هدنة", 5, "near/5", "NEAR/5"),
        ("غزة Near/5 هدنة", 5, "Near/5", "NEAR/5"),
    ],
)
def test_an_operator_in_another_case_is_refused_not_made_a_phrase_word(
    query, column, written, operator
):
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.column == column
    assert f"operators are upper-case: {written!r} must be {operator}" in str(info.value)


def test_the_words_and_or_not_near_are_words_in_quotes_and_near_alone_is_a_word():
    assert shape(parse_query('"Bosnia and Herzegovina"')) == ("Bosnia", "and", "Herzegovina")
    assert shape(parse_query('"to be or not to be"')) == ("to", "be", "or", "not", "to", "be")
    assert shape(parse_query("near east")) == ("near", "east")
    assert shape(parse_query("android OR oracle")) == ("OR", "android", "oracle")


def test_near_0_is_adjacent_words():
    assert shape(parse_query("غزة NEAR/0 هدنة")) == ("NEAR", 0, "غزة", "هدنة")


@pytest.mark.parametrize("query", ["غزة NEAR/-1 هدنة", "غزة NEAR/-100 هدنة"])
def test_a_negative_near_distance_is_refused(query):
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.column == 5
    assert "a distance cannot be negative (NEAR/0 is adjacent words)" in str(info.value)


@pytest.mark.parametrize("query", ["A NEAR/x B", "A NEAR/5x B", "A NEAR/1.5 B"])
def test_a_near_distance_that_is_not_a_number_is_refused(query):
    with pytest.raises(QuerySyntaxError, match="NEAR needs a distance in words") as info:
        parse_query(query)
    assert info.value.column == 3


# --- how deep a query may go ---------------------------------------------------------------


def test_twenty_levels_of_parentheses_parse_and_twenty_one_are_refused():
    assert parse_query("(" * MAX_NESTING + "غزة" + ")" * MAX_NESTING) == Phrase(("غزة",), 21)
    deeper = "مصر AND " + "(" * (MAX_NESTING + 1) + "غزة" + ")" * (MAX_NESTING + 1)
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(deeper)
    assert info.value.column == 9 + MAX_NESTING  # the first "(" past the limit
    assert str(info.value) == (
        f"too deeply nested: at most {MAX_NESTING} levels of parentheses at column 29"
    )


@pytest.mark.parametrize(
    "query",
    [
        "(" * 100_000 + "غزة" + ")" * 100_000,
        "(" * 100_000,
        "غزة AND " + "NOT " * 10_000 + "مصر",
        "(NOT " * 5_000 + "غزة",
        " NEAR/1 ".join(["غزة"] * 5_000),
        "(" * 500 + "غزة OR " * 500,
    ],
)
def test_a_pathologically_deep_query_is_a_syntax_error_not_a_recursion_error(query):
    with pytest.raises(QuerySyntaxError, match=r"too deeply nested|too many NEARs"):
        parse_query(query)


def test_nots_count_toward_the_nesting_limit():
    ok = "غزة AND " + "NOT " * MAX_NESTING + "مصر"
    assert isinstance(parse_query(ok), And)
    with pytest.raises(QuerySyntaxError, match="at most 20 levels of NOTs and parentheses"):
        parse_query("غزة AND " + "NOT " * (MAX_NESTING + 1) + "مصر")


def test_a_near_chain_is_bounded():
    words = [f"w{n}" for n in range(MAX_NEAR_CHAIN + 2)]
    assert isinstance(parse_query(" NEAR/1 ".join(words[:-1])), Near)
    with pytest.raises(
        QuerySyntaxError, match=f"too many NEARs in a row: at most {MAX_NEAR_CHAIN}"
    ):
        parse_query(" NEAR/1 ".join(words))


def test_the_default_config_queries_parse():
    tree = parse_query("(الضبعة OR Dabaa OR Дабаа) NOT (مطار NEAR/2 الضبعة)")
    assert shape(tree) == (
        "AND",
        ("OR", "الضبعة", "Dabaa", "Дабаа"),
        ("NOT", ("NEAR", 2, "مطار", "الضبعة")),
    )
    assert [p.words for p in phrases(tree)] == [
        ("الضبعة",),
        ("Dabaa",),
        ("Дабаа",),
        ("مطار",),
        ("الضبعة",),
    ]


# --- invalid queries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ('غزة AND "وقف إطلاق', 9, "unclosed quote"),
        ("«وقف إطلاق النار", 1, "unclosed quote"),
        ("(A OR B", 1, "unclosed ("),
        ("A AND (B OR (C)", 7, "unclosed ("),
        ("A OR B)", 7, "unmatched )"),
        ("", 1, "empty query"),
        ("   ", 1, "empty query"),
        ('""', 1, "empty phrase"),
        ("A OR «  »", 6, "empty phrase"),
        ("()", 1, "empty parentheses"),
        ("A AND", 6, "nothing after AND"),
        ("A OR  ", 5, "nothing after OR"),
        ("A NOT", 6, "nothing after NOT"),
        ("A NEAR/3", 9, "nothing after NEAR/3"),
        ("AND A", 1, "nothing before AND"),
        ("A AND OR B", 7, "expected a word, a phrase or ( after AND"),
        ("A NEAR B", 3, "NEAR needs a distance"),
        ("A NEAR/ B", 3, "NEAR needs a distance"),
        ("A NEAR/101 B", 3, "NEAR/101 is too far"),
        ("(A AND B) NEAR/2 C", 11, "NEAR joins words"),
        ("A NEAR/2 (B AND C)", 3, "NEAR joins words"),
        ("A NEAR/2 NOT B", 10, "expected a word, a phrase or ( after NEAR/2"),
        ("NOT A", 1, "a query must look for a word"),
        ("A OR NOT B", 6, "a query must look for a word"),
        ("NOT A AND NOT B", 1, "a query must look for a word"),
        ("A (B)", 3, "expected AND, OR, NOT or NEAR/n before ("),
        ("غزة (هدنة OR تهدئة)", 5, "expected AND, OR, NOT or NEAR/n before ("),
        ('"غزة" "مصر"', 7, "expected AND, OR, NOT or NEAR/n"),
        ("A AND ،", 7, "nothing to match"),
    ],
)
def test_invalid_query_names_the_column(query, column, message):
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.column == column
    assert message in str(info.value)
    assert str(info.value).endswith(f"at column {column}")


def test_the_deepest_legal_query_compiles_and_matches_far_from_the_recursion_limit(lemmatizer):
    """Parentheses at the limit, each holding a NEAR chain at the limit, the nested group
    leftmost so that compiling and evaluating descend the whole depth first."""
    words = iter(f"w{n}" for n in range(1000))
    query = next(words)
    for _ in range(MAX_NESTING):
        chain = [f"({query})", *(next(words) for _ in range(MAX_NEAR_CHAIN))]
        query = f" NEAR/{MAX_NEAR} ".join(chain)
    used = int(query.rsplit("w", 1)[1]) + 1
    text = " ".join(f"w{n}" for n in range(used))
    depth = len(inspect.stack())
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 400)  # the tree is ~220 deep; Python's default is 1000
    try:
        matcher = Matcher([Watch("deep", query)], lemmatizer)
        assert [m.watch for m in matcher.match_article(None, text)] == ["deep"]
    finally:
        sys.setrecursionlimit(limit)
