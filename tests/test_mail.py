"""Email messages: part order, encoded Arabic subjects, right-to-left HTML and text."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from alertbot.notify.alert import Alert
from alertbot.notify.mail import alert_message, rtl_text
from alertbot.recap.build import Recap, RecapSection, RecapStory, day_bounds
from alertbot.recap.render import recap_message, recap_subject
from alertbot.stories import StoryId
from alertbot.watch.snippet import Snippet
from testsupport.shared import seed_articles

CAIRO = ZoneInfo("Africa/Cairo")  # UTC+2 in March 2025
DAY = "2025-03-01"
NOW = datetime(2025, 3, 2, 6, 0, tzinfo=UTC)
SENDER = "تنبيهات alertbot <alerts@news.example>"
TO = "desk@example.org"
RLM = "\u200f"


def seed_title(name: str) -> str:
    """The first line of a seed article: a real Arabic headline."""
    return seed_articles()[name][0].strip()


TITLE_A = seed_title("sisi-naryshkin-a.txt")
TITLE_B = seed_title("sisi-naryshkin-b.txt")
QUOTE = Snippet("استقبل الرئيس السيسي ناريشكين اليوم في القاهرة", ((21, 29),))


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def make_alert(**changes) -> Alert:
    fields = dict(
        outbox_id=1,
        story_id=7,
        channel="email",
        recipient=TO,
        watches=("ناريشكين", "Dabaa"),
        title=TITLE_A,
        url="https://ahram.example/news/1",
        outlet="Ahram Online",
        published=at(12, 5),
        snippet=QUOTE,
        also=("Youm7", "SIS"),
        attempts=0,
    )
    fields.update(changes)
    return Alert(**fields)


def story(story_id: int, title: str, url: str, outlets, when, snippet=QUOTE, watches=()):
    return RecapStory(
        story_id=story_id,
        title=title,
        url=url,
        outlets=tuple(outlets),
        first_seen=when,
        published=None,
        snippet=snippet,
        watches=tuple(watches),
    )


def make_recap(sections=None) -> Recap:
    start, end = day_bounds(DAY, CAIRO)
    if sections is None:
        a = story(1, TITLE_A, "https://ahram.example/1", ["Ahram Online", "Youm7"], at(8),
                  watches=["ناريشكين", "Dabaa"])  # fmt: skip
        b = story(2, TITLE_B, "https://masry.example/2", ["المصري اليوم"], at(23, 30, day=1),
                  Snippet("الضبعة النووية", ((0, 6),)), ["Dabaa"])  # fmt: skip
        sections = (RecapSection("Dabaa", (b, a)), RecapSection("ناريشكين", (a,)))
    stories = {s.story_id: s for section in sections for s in section.stories}
    outlets = {o for s in stories.values() for o in s.outlets}
    return Recap(
        date_key=DAY,
        start=start,
        end=end,
        timezone=CAIRO,
        sections=tuple(sections),
        story_count=len(stories),
        outlet_count=len(outlets),
    )


def parts(msg: EmailMessage) -> tuple[str, str]:
    back = round_trip(msg)  # as a reader's client sees it (and lines end in "\n")
    plain = back.get_body(("plain",))
    markup = back.get_body(("html",))
    assert plain is not None and markup is not None
    return plain.get_content(), markup.get_content()


class Blocks(HTMLParser):
    """Every start tag with its attributes, and the text outside tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(markup: str) -> Blocks:
    parser = Blocks()
    parser.feed(markup)
    parser.close()
    return parser


BLOCK_TAGS = {"body", "div", "p", "h1", "h2", "h3", "li", "ul", "ol", "td", "table", "blockquote"}


def assert_rtl_document(markup: str) -> Blocks:
    parsed = parse(markup)
    root = [attrs for tag, attrs in parsed.tags if tag == "html"]
    assert root == [{"lang": "ar", "dir": "rtl"}]
    metas = [attrs for tag, attrs in parsed.tags if tag == "meta"]
    assert {"charset": "utf-8"} in metas
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    blocks = [(tag, attrs) for tag, attrs in parsed.tags if tag in BLOCK_TAGS]
    assert blocks
    for tag, attrs in blocks:
        style = (attrs.get("style") or "").replace(" ", "")
        assert "direction:rtl" in style and "text-align:right" in style, (tag, attrs)
    assert "<style" not in markup  # layout never depends on a stylesheet clients drop
    return parsed


def round_trip(msg: EmailMessage) -> EmailMessage:
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


# --- structure and headers ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["alert", "recap", "empty recap"])
def test_parts_are_plain_then_html_in_utf8(kind):
    if kind == "alert":
        msg = alert_message(make_alert(), CAIRO, sender=SENDER, to=TO, now=NOW)
    else:
        recap = make_recap(() if kind == "empty recap" else None)
        msg = recap_message(recap, sender=SENDER, to=TO, now=NOW)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert [p.get_content_charset() for p in msg.iter_parts()] == ["utf-8", "utf-8"]
    back = round_trip(msg)
    assert [p.get_content_type() for p in back.iter_parts()] == ["text/plain", "text/html"]


def test_alert_subject_is_encoded_and_reads_back_in_arabic():
    msg = alert_message(make_alert(), CAIRO, sender=SENDER, to=TO, now=NOW)
    subject = f"[alertbot] ناريشكين, Dabaa: {TITLE_A}"
    assert msg["Subject"] == subject
    raw = msg.as_bytes()
    assert b"=?utf-8?" in raw
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # no raw UTF-8 in the headers
    back = round_trip(msg)
    assert back["Subject"] == subject
    assert back["From"].addresses[0].display_name == "تنبيهات alertbot"
    assert back["From"].addresses[0].addr_spec == "alerts@news.example"
    assert back["To"] == TO


def test_long_arabic_subject_keeps_its_spaces():
    """Regression: Python 3.11's header folder dropped the space between encoded words."""
    title = " ".join([TITLE_A, TITLE_B])
    msg = alert_message(make_alert(title=title), CAIRO, sender=SENDER, to=TO, now=NOW)
    raw = msg.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    subject = round_trip(msg)["Subject"]
    assert subject.startswith(f"[alertbot] ناريشكين, Dabaa: {TITLE_A} ")
    words = subject.removesuffix("…").split()
    assert set(words[:-1]) <= set(f"[alertbot] ناريشكين, Dabaa: {title}".split())


def test_headers():
    msg = alert_message(make_alert(), CAIRO, sender=SENDER, to=TO, now=NOW)
    back = round_trip(msg)
    assert back["Date"] == "Sun, 02 Mar 2025 06:00:00 +0000"
    assert back["Message-ID"].endswith("@news.example>")
    assert back["Auto-Submitted"] == "auto-generated"
    assert back["X-Auto-Response-Suppress"] == "All"


def test_message_id_without_a_sender_domain():
    msg = alert_message(make_alert(), CAIRO, sender="alertbot", to=TO, now=NOW)
    assert msg["Message-ID"].endswith("@alertbot.local>")


def test_subject_title_cleaned_and_shortened():
    title = "عاجل\n" + " ".join([TITLE_B] * 5)
    msg = alert_message(make_alert(title=title), CAIRO, sender=SENDER, to=TO, now=NOW)
    subject = round_trip(msg)["Subject"]
    assert "\n" not in subject
    head, _, shown = subject.partition(": ")
    assert head == "[alertbot] ناريشكين, Dabaa"
    assert shown.startswith("عاجل " + TITLE_B[:20])
    assert shown.endswith("…") and len(shown) <= 120


# --- the alert ----------------------------------------------------------------------------


def test_alert_html_content():
    _, markup = parts(alert_message(make_alert(), CAIRO, sender=SENDER, to=TO, now=NOW))
    parsed = assert_rtl_document(markup)
    links = [attrs for tag, attrs in parsed.tags if tag == "a"]
    assert [a["href"] for a in links] == ["https://ahram.example/news/1"]
    assert all("underline" in a["style"] and "color:" in a["style"] for a in links)
    assert f'<bdi dir="rtl">{TITLE_A}</bdi></a>' in markup
    assert "<strong>ناريشكين</strong>" in markup  # the match, in the quote
    assert "<bdi>Ahram Online</bdi> · " in markup
    assert '<bdi dir="ltr">2025-03-01 14:05</bdi>' in markup  # Cairo time
    assert (
        '<bdi style="white-space:nowrap">Youm7</bdi> · <bdi style="white-space:nowrap">SIS</bdi>'
        in markup
    )
    assert '<bdi dir="rtl">ناريشكين</bdi> · <bdi>Dabaa</bdi>' in markup


def test_alert_text_is_the_telegram_alert_marked_rtl():
    text, _ = parts(alert_message(make_alert(), CAIRO, sender=SENDER, to=TO, now=NOW))
    lines = text.splitlines()
    assert TITLE_A in lines[1]
    assert "https://ahram.example/news/1" in text
    assert "2025-03-01 14:05" in text
    assert "« استقبل الرئيس السيسي ناريشكين اليوم في القاهرة »" in text
    assert any("also:" in line for line in lines)
    # Every line reads right to left: the URL and "also:" lines start with RLM too.
    assert all(line.startswith(RLM) for line in lines), lines


def test_alert_escapes_outside_text():
    evil = make_alert(
        title='<script>alert("x")</script> السيسي & ناريشكين',
        outlet="A&B <i>",
        watches=("<b>w</b>",),
        snippet=Snippet("<img src=x> & ناريشكين", ((14, 22),)),
        also=('"quoted"',),
    )
    _, markup = parts(alert_message(evil, CAIRO, sender=SENDER, to=TO, now=NOW))
    assert "<script" not in markup and "<img" not in markup and "<i>" not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; السيسي &amp; ناريشكين" in markup
    assert "A&amp;B &lt;i&gt;" in markup
    assert "&lt;b&gt;w&lt;/b&gt;" in markup
    assert "&lt;img src=x&gt; &amp; <strong>ناريشكين</strong>" in markup
    assert "&quot;quoted&quot;" in markup
    tags = {tag for tag, _ in parse(markup).tags}
    assert tags <= {"html", "head", "meta", "title", "body", "div", "p", "a", "bdi", "strong"}


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "tg://resolve?domain=x", "/rel"]
)
def test_alert_non_http_url_is_not_linked(url):
    _, markup = parts(alert_message(make_alert(url=url), CAIRO, sender=SENDER, to=TO, now=NOW))
    parsed = parse(markup)
    assert [attrs for tag, attrs in parsed.tags if tag == "a"] == []
    assert "href" not in markup
    assert f'<bdi dir="rtl">{TITLE_A}</bdi>' in markup  # the title is still there, as text


def test_alert_with_latin_title():
    alert = make_alert(title="Egypt & Russia sign El-Dabaa deal", snippet=Snippet(""))
    text, markup = parts(alert_message(alert, CAIRO, sender=SENDER, to=TO, now=NOW))
    assert_rtl_document(markup)
    assert "<bdi>Egypt &amp; Russia sign El-Dabaa deal</bdi>" in markup
    assert all(line.startswith(RLM) for line in text.splitlines())


# --- the recap ----------------------------------------------------------------------------


def test_recap_subject_and_headers():
    recap = make_recap()
    back = round_trip(recap_message(recap, sender=SENDER, to=TO, now=NOW))
    assert back["Subject"] == recap_subject(recap)
    assert back["Subject"] == "alertbot recap 2025-03-01: 2 stories, 2 watches"
    assert back["Auto-Submitted"] == "auto-generated"


def test_recap_html_counts_sections_and_stories():
    _, markup = parts(recap_message(make_recap(), sender=SENDER, to=TO, now=NOW))
    parsed = assert_rtl_document(markup)
    h1 = markup.index("<h1")
    assert "Recap 2025-03-01: 2 stories from 3 outlets, 2 watches" in markup[h1:]
    headings = [m.split("</h2>")[0] for m in markup.split("<h2")[1:]]
    assert len(headings) == 2
    assert "<bdi>Dabaa</bdi> — <bdi>2 stories</bdi>" in headings[0]
    assert '<bdi dir="rtl">ناريشكين</bdi> — <bdi>1 story</bdi>' in headings[1]
    assert h1 < markup.index("<h2")  # counts at the top
    hrefs = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert hrefs == [
        "https://masry.example/2",
        "https://ahram.example/1",
        "https://ahram.example/1",
    ]
    assert (
        f'<bdi dir="rtl">{TITLE_A}</bdi></a>' in markup
        and f'<bdi dir="rtl">{TITLE_B}</bdi></a>' in markup
    )
    nowrap = '<bdi style="white-space:nowrap">'
    assert f"{nowrap}Ahram Online</bdi> · {nowrap}Youm7</bdi> · " in markup
    assert '<bdi dir="rtl" style="white-space:nowrap">المصري اليوم</bdi> · ' in markup
    assert '<bdi dir="ltr">10:00</bdi>' in markup  # 08:00 UTC, same day in Cairo
    assert '<bdi dir="ltr">2025-03-02 01:30</bdi>' in markup  # past midnight in Cairo
    assert "<strong>ناريشكين</strong>" in markup and "<strong>الضبعة</strong>" in markup
    assert "max-width:640px" in markup and "font-size:17px" in markup


def test_recap_text_is_marked_rtl():
    text, _ = parts(recap_message(make_recap(), sender=SENDER, to=TO, now=NOW))
    lines = text.splitlines()
    assert lines[0] == RLM + "Recap 2025-03-01: 2 stories from 3 outlets, 2 watches"
    assert lines[1].startswith(RLM + "2025-03-01 00:00")
    assert RLM + "== Dabaa: 2 stories ==" in lines
    assert "== ناريشكين: 1 story ==" in lines  # already right to left
    assert TITLE_A in lines  # an Arabic line is left as it is
    assert RLM + "https://ahram.example/1" in lines
    assert RLM + "Ahram Online, Youm7 · 10:00" in lines
    for line in lines:
        if line and (line[0].isascii() and line[0].isalnum()):
            pytest.fail(f"unmarked left-to-right line: {line!r}")


def test_recap_escapes_and_does_not_link_javascript():
    bad = story(3, "<script>x</script> & غزة", "javascript:alert(1)", ["<Old> & Co"], at(9))
    recap = make_recap((RecapSection("غزة & <b>", (bad,)),))
    _, markup = parts(recap_message(recap, sender=SENDER, to=TO, now=NOW))
    assert_rtl_document(markup)
    assert "<script" not in markup and "href" not in markup
    assert "&lt;script&gt;x&lt;/script&gt; &amp; غزة" in markup
    assert "javascript:alert(1)" in markup  # shown, as text
    assert "&lt;Old&gt; &amp; Co" in markup
    assert "غزة &amp; &lt;b&gt;" in markup


def test_empty_recap_sends_a_short_note():
    recap = make_recap(())
    msg = recap_message(recap, sender=SENDER, to=TO, now=NOW)
    text, markup = parts(msg)
    note = "Nothing matched your watches between 2025-03-01 00:00 and 2025-03-02 00:00"
    assert msg["Subject"] == "alertbot recap 2025-03-01: nothing matched"
    assert text.startswith(RLM + note)
    assert note in markup
    parsed = assert_rtl_document(markup)
    assert not [tag for tag, _ in parsed.tags if tag in ("h2", "a")]


# --- rtl_text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "marked"),
    [
        ("Recap 2025-03-01", True),  # Latin first
        ("2025-03-01 00:00", True),  # a digit first
        ("3 أخبار", True),  # a digit first, even before Arabic
        ("· 14:05", True),  # no strong letter at all
        ("  Ahram", True),  # leading spaces do not count
        ("\u2068السيسي\u2069 · 14:05", True),  # an isolate hides its content (P2)
        ("\u200eAhram", True),  # LRM is a strong left-to-right character
        ("السيسي يستقبل ناريشكين", False),
        ("« السيسي »", False),
        ("== ناريشكين: 1 story ==", False),
        (RLM + "Ahram", False),  # already marked
        ("", False),
    ],
)
def test_rtl_text_lines(line, marked):
    assert rtl_text(line) == (RLM + line if marked else line)


def test_rtl_text_keeps_lines_and_blank_lines():
    text = "Recap\n\nالسيسي\n" + RLM + "x\n"
    assert rtl_text(text) == RLM + "Recap\n\nالسيسي\n" + RLM + "x\n"
    assert rtl_text(rtl_text(text)) == rtl_text(text)


def test_a_related_alert_says_which_story_it_follows_up():
    related = make_alert(related_to=StoryId(7), related_title="ناريشكين يصل القاهرة")
    text, body = parts(alert_message(related, CAIRO, sender=SENDER, to=TO, now=NOW))
    assert "follows up:" in body and "ناريشكين يصل القاهرة" in body
    assert "related" in text.split("\n")[0]
