"""The quoted sentence of an alert: chosen where the match is, cut short, match marked."""

from __future__ import annotations

from alertbot.watch.match import Span, WatchMatch
from alertbot.watch.snippet import ELLIPSIS, MAX_CHARS, Snippet, snippet_for


def _match(field: str, text: str, word: str, watch: str = "W") -> WatchMatch:
    start = text.index(word)
    return WatchMatch(watch, (Span(field, start, start + len(word), word),))


def test_quotes_the_sentence_of_the_first_body_match_with_the_match_marked():
    text = "جملة أولى عن الطقس. استقبل الرئيس السيسي وناريشكين في القاهرة. جملة ثالثة."
    snippet = snippet_for("عنوان", text, [_match("text", text, "وناريشكين")])
    assert snippet.text == "استقبل الرئيس السيسي وناريشكين في القاهرة."
    assert snippet.render(lambda s: f"[{s}]") == "استقبل الرئيس السيسي [وناريشكين] في القاهرة."


def test_body_match_is_preferred_to_the_title_which_the_alert_shows_anyway():
    title = "ناريشكين في القاهرة"
    text = "قال مصدر إن ناريشكين وصل اليوم."
    matches = [_match("title", title, "ناريشكين"), _match("text", text, "ناريشكين")]
    assert snippet_for(title, text, matches).text == text


def test_title_only_match_quotes_the_title():
    title = "ناريشكين في القاهرة"
    snippet = snippet_for(title, "نص لا يذكره", [_match("title", title, "ناريشكين")])
    assert snippet.text == title
    assert snippet.marks == ((0, len("ناريشكين")),)


def test_every_match_inside_the_sentence_is_marked_and_overlaps_merged():
    text = "غزة ثم هدنة في غزة."
    first = text.index("غزة")
    second = text.rindex("غزة")
    truce = text.index("هدنة")
    matches = [
        WatchMatch(
            "Gaza", (Span("text", first, first + 3, "غزة"), Span("text", second, second + 3, "غزة"))
        ),
        WatchMatch("Truce", (Span("text", truce, truce + 4, "هدنة"),)),
        WatchMatch("Both", (Span("text", truce, truce + 4, "هدنة"),)),
    ]
    snippet = snippet_for("", text, matches)
    assert snippet.render(lambda s: f"[{s}]") == "[غزة] ثم [هدنة] في [غزة]."


def test_a_long_sentence_is_cut_at_word_boundaries_around_the_match():
    before = " ".join(f"كلمة{i}" for i in range(80))
    after = " ".join(f"لفظ{i}" for i in range(80))
    text = f"{before} ناريشكين {after}"
    snippet = snippet_for("", text, [_match("text", text, "ناريشكين")])
    assert len(snippet.text) <= MAX_CHARS + 2
    assert snippet.text.startswith(ELLIPSIS) and snippet.text.endswith(ELLIPSIS)
    ((start, end),) = snippet.marks
    assert snippet.text[start:end] == "ناريشكين"
    inner = snippet.text.strip(ELLIPSIS)
    assert all(word in text.split() for word in inner.split())  # no word cut in half


def test_round_trips_through_storage_and_reads_plain_text_from_older_rows():
    snippet = Snippet("استقبل ناريشكين", ((7, 15),))
    assert Snippet.from_json(snippet.to_json()) == snippet
    assert Snippet.from_json("نص قديم") == Snippet("نص قديم")
    assert Snippet.from_json("[1, 2]") == Snippet("[1, 2]")


def test_render_passes_unmarked_text_through_plain_so_html_can_escape_it():
    snippet = Snippet("a < b & ناريشكين", ((8, 16),))
    html = snippet.render(
        lambda s: f"<b>{s}</b>", lambda s: s.replace("&", "&amp;").replace("<", "&lt;")
    )
    assert html == "a &lt; b &amp; <b>ناريشكين</b>"


def test_the_quote_ends_where_a_phrase_may_not_run_on():
    """Regression: the quote and the phrase matcher used two sentence rules; "U.S." cut a
    quote short though a phrase ran across it, and "؛" ended a phrase but not a quote."""
    text = "The U.S. envoy met Naryshkin in Cairo. Talks follow"
    assert snippet_for("", text, [_match("text", text, "Naryshkin")]).text == (
        "The U.S. envoy met Naryshkin in Cairo."
    )
    text = "بحث الرئيس ملف الطاقة؛ واستقبل ناريشكين في القاهرة"
    assert snippet_for("", text, [_match("text", text, "ناريشكين")]).text == (
        "واستقبل ناريشكين في القاهرة"
    )
