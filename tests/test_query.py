"""Watch query parsing: the tree of a valid query, the column of an invalid one."""

import pytest

from alertbot.errors import QuerySyntaxError
from alertbot.watch.query import And, Near, Not, Or, Phrase, parse_query, phrases


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


def test_lower_case_operators_are_words():
    assert shape(parse_query("gaza and truce")) == ("gaza", "and", "truce")


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
