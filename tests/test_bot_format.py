"""How alerts read in Telegram: escaped HTML, short, within the limits, bidi-safe."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from alertbot.notify.alert import Alert
from alertbot.notify.layout import FSI, LRM, PDI, RLM
from alertbot.notify.telegram_html import (
    TELEGRAM_LIMIT,
    alert_html,
    alert_plain,
    also_line,
    backlog_html,
    backlog_plain,
    visible_length,
)
from alertbot.watch.snippet import Snippet
from testsupport.shared import seed_articles

CAIRO = ZoneInfo("Africa/Cairo")
EVIL = "<script>alert(1)</script> & <b>"
QUOTE = "استقبل الرئيس عبد الفتاح السيسي سيرجي ناريشكين مدير الاستخبارات الخارجية الروسية."


def _seed_titles() -> list[str]:
    return [title.strip() for title, _ in seed_articles().values()]


def _alert(
    *,
    title: str | None = None,
    quote: str = QUOTE,
    word: str = "ناريشكين",
    watches: tuple[str, ...] = ("Naryshkin", "السيسي"),
    url: str = "https://example.org/news/1?a=1&b=2",
    outlet: str = "Ahram Online",
    also: tuple[str, ...] = (),
    published: datetime = datetime(2025, 3, 12, 12, 5, tzinfo=UTC),
) -> Alert:
    marks = ((quote.index(word), quote.index(word) + len(word)),) if word in quote else ()
    return Alert(
        outbox_id=1,
        story_id=1,
        channel="telegram",
        recipient="42",
        watches=watches,
        title=_seed_titles()[0] if title is None else title,
        url=url,
        outlet=outlet,
        published=published,
        snippet=Snippet(quote, marks),
        also=also,
        attempts=0,
    )


class _Checker(HTMLParser):
    """Only <b> and <a href> tags, balanced; the text as Telegram would show it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        assert tag in ("b", "a"), f"unexpected tag <{tag}>"
        if tag == "a":
            assert [name for name, _ in attrs] == ["href"]
        else:
            assert attrs == []
        self.open.append(tag)
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"unbalanced </{tag}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def _check(html_text: str) -> _Checker:
    checker = _Checker()
    checker.feed(html_text)
    checker.close()
    assert not checker.open, f"unclosed tags: {checker.open}"
    assert checker.rawdata == "", "trailing markup the parser could not read"
    return checker


def _links(html_text: str) -> list[str | None]:
    return [dict(attrs)["href"] for tag, attrs in _check(html_text).tags if tag == "a"]


def _bold(html_text: str) -> list[str]:
    """The text inside each <b>...</b> (our bold never nests)."""
    return ["".join(_check(part.split("</b>")[0]).text) for part in html_text.split("<b>")[1:]]


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_seed_alert_reads_as_four_lines_with_link_outlet_local_time_and_bold_match():
    alert = _alert(also=("اليوم السابع", "المصري اليوم"))
    out = alert_html(alert, CAIRO)
    lines = out.split("\n")
    assert lines[0].startswith(RLM + "<b>🔔 ")
    assert f"{FSI}Naryshkin{PDI} · {FSI}السيسي{PDI}" in lines[0]
    assert lines[1] == (
        f'{RLM}<a href="https://example.org/news/1?a=1&amp;b=2">{FSI}{alert.title}{PDI}</a>'
    )
    assert lines[2] == f"{RLM}{FSI}Ahram Online{PDI} · {FSI}2025-03-12 14:05{PDI}"
    assert "<b>ناريشكين</b>" in lines[3]
    assert lines[4] == f"also: {FSI}اليوم السابع{PDI}, {FSI}المصري اليوم{PDI}"
    assert _links(out) == ["https://example.org/news/1?a=1&b=2"]


@pytest.mark.parametrize("field", ["title", "outlet", "watches", "quote"])
def test_outside_markup_is_escaped_and_only_our_tags_remain(field):
    values = {
        "title": {"title": f"عنوان {EVIL}"},
        "outlet": {"outlet": EVIL},
        "watches": {"watches": (EVIL, "غزة")},
        "quote": {"quote": f"قال {EVIL} إن ناريشكين وصل", "word": "ناريشكين"},
    }[field]
    out = alert_html(_alert(**values), CAIRO)
    checker = _check(out)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in out
    assert "<script" not in out
    assert EVIL in "".join(checker.text)
    assert [tag for tag, _ in checker.tags].count("a") == 1


def test_quote_in_url_cannot_leave_the_href():
    out = alert_html(_alert(url='https://example.org/"><b>x</b>?q=<&>'), CAIRO)
    assert _links(out) == ['https://example.org/"><b>x</b>?q=<&>']
    assert 'href="https://example.org/&quot;&gt;&lt;b&gt;x&lt;/b&gt;?q=&lt;&amp;&gt;"' in out


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JavaScript:alert(1)", "tg://resolve?domain=x", "//no.scheme"]
)
def test_a_url_that_is_not_http_is_shown_as_text_not_linked(url):
    out = alert_html(_alert(url=url), CAIRO)
    assert _links(out) == []
    assert "href" not in out
    assert url in "".join(_check(out).text)


def test_marked_word_of_the_quote_is_bold_and_nothing_else_is():
    out = alert_html(_alert(), CAIRO)
    assert _bold(out)[1:] == ["ناريشكين"]


def test_also_line_shows_three_outlets_then_the_count():
    line = also_line(["A", "B", "C", "D", "E"])
    assert line.replace(FSI, "").replace(PDI, "") == "also: A, B, C (+2)"
    assert line == f"also: {FSI}A{PDI}, {FSI}B{PDI}, {FSI}C{PDI} (+2)"
    assert also_line(["A", "B"]).replace(FSI, "").replace(PDI, "") == "also: A, B"
    assert also_line([]) == ""


def test_also_line_is_escaped_in_html_and_added_to_the_edit():
    out = alert_html(_alert(also=("A&B", "<i>", "المصري اليوم", "Youm7", "SIS")), CAIRO)
    last = out.split("\n")[-1]
    assert last == f"also: {FSI}A&amp;B{PDI}, {FSI}&lt;i&gt;{PDI}, {FSI}المصري اليوم{PDI} (+2)"
    assert alert_plain(_alert(also=("A", "B")), CAIRO).endswith(f"also: {FSI}A{PDI}, {FSI}B{PDI}")


def test_typical_alerts_of_every_seed_title_stay_under_700_visible_characters():
    for title in _seed_titles():
        alert = _alert(title=title, also=("اليوم السابع", "المصري اليوم", "BBC Arabic", "CNN"))
        out = alert_html(alert, CAIRO)
        assert visible_length(out) < 700
        assert alert_plain(alert, CAIRO).count("\n") == 5


def test_long_quote_is_cut_at_a_word_first_keeping_the_match():
    words = "وأكد المتحدث أن الاجتماع تضمن بحث الدور المصري في تخفيف التوترات الإقليمية"
    quote = f"{words} {words} {words} ثم التقى ناريشكين {words} {words} {words} {words}"
    title = "السيسي يستقبل ناريشكين في القاهرة لبحث التعاون الأمني"
    out = alert_html(_alert(title=title, quote=quote), CAIRO, max_chars=300)
    assert visible_length(out) <= 300
    assert f"{FSI}{title}{PDI}" in out  # the title was not cut
    quote_line = out.split("\n")[3]
    assert "<b>ناريشكين</b>" in quote_line
    assert "…" in quote_line
    shown = "".join(_check(quote_line).text).strip(RLM + FSI + PDI + "« »…")
    assert all(w in quote.split() for w in shown.split())  # whole words only


def test_the_title_gives_way_after_the_quote():
    title = " ".join(["التحالف الاستراتيجي يتجدد مع روسيا"] * 30)
    out = alert_html(_alert(title=title), CAIRO, max_chars=400)
    assert visible_length(out) <= 400
    link_text = "".join(_check(out.split("\n")[1]).text)
    assert link_text.endswith(f"…{PDI}")
    assert "<b>ناريشكين</b>" in out


@pytest.mark.parametrize("render", [alert_html, alert_plain])
def test_pathological_10k_fields_stay_within_telegrams_limit(render):
    huge = ("ناريشكين " + "x" * 40 + " ") * 200  # 10k characters, a match in every part
    alert = _alert(
        title=huge + "<b>",
        quote=("&<" + huge) * 1,
        watches=tuple(huge for _ in range(30)),
        outlet=huge,
        url="https://example.org/" + "a" * 10_000,
        also=tuple(huge for _ in range(10)),
    )
    for max_chars in (700, 10_000):
        out = render(alert, CAIRO, max_chars=max_chars)
        if render is alert_html:
            _check(out)
            assert visible_length(out) <= TELEGRAM_LIMIT
        else:
            assert _u16(out) <= TELEGRAM_LIMIT
    assert visible_length(alert_html(alert, CAIRO)) < 1000


def test_a_match_far_into_a_10k_quote_is_still_shown_bold():
    quote = "كلام " * 2000 + "ناريشكين" + " كلام" * 2000
    out = alert_html(_alert(quote=quote), CAIRO)
    assert visible_length(out) <= 700
    assert "<b>ناريشكين</b>" in out
    assert "« …كلام" in out and "كلام… »" in out


def test_emoji_and_other_astral_characters_count_two():
    assert visible_length("🔔") == 2
    assert visible_length("<b>𝐀</b>&amp;") == 3
    title = "😀" * 5000
    out = alert_html(_alert(title=title, quote="🇪🇬" * 3000, word="x"), CAIRO)
    assert visible_length(out) <= TELEGRAM_LIMIT
    assert visible_length(out) < 700
    _check(out)


def test_garbage_marks_and_bidi_controls_in_outside_text_are_tamed():
    quote = "استقبل \u2069\u202eالرئيس\n\nناريشكين اليوم"
    snippet = Snippet(quote, ((500, 600), (-3, 2), (14, 22), (10, 16)))
    alert = _alert(title="عنوان\u2069 مع PDI", quote=quote)
    alert = replace(alert, snippet=snippet)
    out = alert_html(alert, CAIRO)
    _check(out)
    assert "\u202e" not in out
    for line in out.split("\n"):
        assert line.count(FSI) == line.count(PDI)


def test_mixed_direction_strings_are_isolated_and_lines_get_a_direction_mark():
    arabic = alert_html(_alert(outlet="Ahram Online"), CAIRO)
    for line in arabic.split("\n")[:4]:
        assert line.startswith(RLM)
    assert f"{FSI}Ahram Online{PDI}" in arabic

    latin = _alert(title="Egypt and Russia: Naryshkin in Cairo", outlet="اليوم السابع")
    out = alert_html(latin, CAIRO)
    for line in out.split("\n")[:4]:
        assert line.startswith(LRM)
    assert f"{FSI}اليوم السابع{PDI}" in out
    # No control character inside a link target.
    assert all(FSI not in h and RLM not in h for h in _links(out))


def test_plain_fallback_has_no_tags_and_the_url_on_a_line_of_its_own():
    alert = _alert(title=f"عنوان {EVIL}", also=("A", "B", "C", "D"))
    out = alert_plain(alert, CAIRO)
    assert "https://example.org/news/1?a=1&b=2" in out.split("\n")
    assert EVIL in out  # not escaped: no parse mode
    assert "<a" not in out and "</b>" not in out.replace(EVIL, "")
    assert "&amp;" not in out
    assert f"{FSI}A{PDI}, {FSI}B{PDI}, {FSI}C{PDI} (+1)" in out
    assert _u16(out) < 700


def test_naive_published_time_is_taken_as_utc():
    out = alert_html(_alert(published=datetime(2025, 1, 1, 22, 30)), CAIRO)
    assert f"{FSI}2025-01-02 00:30{PDI}" in out


@pytest.mark.parametrize("zone", [CAIRO, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")])
def test_a_date_only_published_time_is_shown_as_the_date_alone(zone):
    """The outlet gave 2025-03-12 and no time: not "2025-03-12 02:00" (midnight UTC in
    Cairo), and not the 11th in New York."""
    alert = replace(_alert(published=datetime(2025, 3, 12, tzinfo=UTC)), date_only=True)
    html_lines = alert_html(alert, zone).split("\n")
    assert html_lines[2] == f"{RLM}{FSI}Ahram Online{PDI} · {FSI}2025-03-12{PDI}"
    assert f"{FSI}Ahram Online{PDI} · {FSI}2025-03-12{PDI}" in alert_plain(alert, zone)
    backlog = backlog_html([alert] * 6, zone)
    assert backlog.count(f"{FSI}2025-03-12{PDI}") == 6
    assert re.search(r"\d\d:\d\d", backlog) is None
    assert backlog_plain([alert] * 6, zone).count(f"{FSI}2025-03-12{PDI}") == 6


def test_a_time_of_day_that_is_known_is_still_shown_in_local_time():
    alert = _alert(published=datetime(2025, 3, 12, tzinfo=UTC))  # a real midnight UTC
    assert f"{FSI}2025-03-12 02:00{PDI}" in alert_html(alert, CAIRO)


def _backlog(count: int) -> list[Alert]:
    titles = _seed_titles()
    start = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)
    return [
        _alert(
            title=f"{titles[i % len(titles)]} {i}",
            url=f"https://example.org/news/{i}",
            published=start + timedelta(minutes=i),
        )
        for i in reversed(range(count))  # out of order: the renderer sorts
    ]


def test_backlog_of_fifty_is_one_message_under_the_limit_with_the_rest_counted():
    out = backlog_html(_backlog(50), CAIRO)
    checker = _check(out)
    assert out.startswith("<b>🔔 50 alerts while you were away</b>")
    assert visible_length(out) <= 3500 <= TELEGRAM_LIMIT
    links = _links(out)
    shown = len(links)
    assert 5 < shown < 50
    assert f"… and {50 - shown} more earlier" in "".join(checker.text)
    # Newest last, and the newest are the ones shown.
    assert links == [f"https://example.org/news/{i}" for i in range(50 - shown, 50)]


def test_small_backlog_shows_every_alert_compactly():
    out = backlog_html(_backlog(6), CAIRO)
    assert "more earlier" not in out
    assert len(_links(out)) == 6
    assert out.count("\n\n") == 6
    assert visible_length(out) < 1500


def test_backlog_escapes_and_skips_bad_links():
    alerts = [_alert(title=EVIL, url="javascript:alert(1)", watches=(EVIL,))] * 6
    out = backlog_html(alerts, CAIRO)
    _check(out)
    assert _links(out) == []
    assert "<script" not in out


def test_backlog_plain_has_no_tags_and_stays_under_the_limit():
    out = backlog_plain(_backlog(50), CAIRO)
    assert "<b>" not in out and "<a" not in out
    assert _u16(out) <= 3500
    assert "more earlier" in out
    assert "https://example.org/news/49" in out.split("\n")
    huge = [_alert(title="ت" * 10_000, url="https://e.org/" + "a" * 10_000)] * 50
    assert _u16(backlog_plain(huge, CAIRO)) <= TELEGRAM_LIMIT
    assert visible_length(backlog_html(huge, CAIRO)) <= TELEGRAM_LIMIT
