"""The two seed articles: every watch of the default config, with exact spans."""

from alertbot.watch.match import Matcher


def test_seed_article_a_naryshkin_with_conjunction_in_title(make_matcher, seed_articles):
    title, text = seed_articles["sisi-naryshkin-a.txt"]
    matcher: Matcher = make_matcher(naryshkin="ناريشكين")
    [m] = matcher.match_article(title, text)
    surfaces = [(s.field, s.text) for s in m.spans]
    assert ("title", "وناريشكين") in surfaces
    for s in m.spans:
        field = title if s.field == "title" else text
        assert field[s.start : s.end] == s.text
