"""Outside text cleaned where it enters: terminal escapes, controls, bidi overrides."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alertbot.sources.article import make_article
from alertbot.sources.extract import Extracted
from alertbot.sources.feeds import parse_feed
from alertbot.sources.htmltext import html_to_text
from alertbot.sources.model import Entry
from alertbot.sources.telegram import parse_channel
from alertbot.sources.urls import absolute_url, canonical_url
from alertbot.text.sanitize import clean_line, clean_text, has_unsafe, remove_controls

FETCHED = datetime(2025, 3, 12, 13, 0, tzinfo=UTC)
# Everything a hostile feed item can carry: clear screen, colour, a window title set by
# OSC (ended by BEL and by ST), a one-byte CSI, a reset, NUL, DEL, bidi override,
# embedding and isolates.
HOSTILE = (
    "\x1b[2J\x1b[31m\x1b]0;pwned\x07\x1b]2;x\x1b\\\x9b1m\x1bc\x00\x7f"
    "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069"
)
BAD_CHARS = ["\x1b", "\x07", "\x9b", "\x00", "\x7f", *"\u202a\u202b\u202c\u202d\u202e"]
BAD_CHARS += [*"\u2066\u2067\u2068\u2069"]


def assert_clean(text: str | None, *, url: bool = False) -> None:
    """No control or bidi character; in text, nothing left of the sequences either (a
    URL keeps them percent-encoded: %1B[2J)."""
    assert text is not None
    for c in BAD_CHARS:
        assert c not in text, f"{c!r} left in {text!r}"
    if not url:
        assert "[2J" not in text and "pwned" not in text and "[31m" not in text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x1b[2Jb", "ab"),
        ("x\x1b[31mred\x1b[0m", "xred"),
        ("\x1b[38;5;196mcolour", "colour"),
        ("\x1b]0;pwned\x07title", "title"),
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),  # an OSC 8 hyperlink
        ("a\x9b31mb", "ab"),  # the one-byte CSI
        ("a\x9d0;pwned\x9cb", "ab"),  # the one-byte OSC and ST
        ("esc\x1bc reset", "esc reset"),
        ("x\x1b]0;unterminated", "x0;unterminated"),  # the introducer goes, the rest is text
        ("nul\x00l", "null"),
        ("del\x7fl", "dell"),
        ("غزة \u202eمصر\u202c", "غزة مصر"),
        ("\u2066Ahram\u2069 \u2067x\u2069 \u2068y\u2069", "Ahram x y"),
        ("a\u202ab\u202bc\u202dd", "abcd"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("tab\there", "tab here"),
    ],
)
def test_clean_text_removes_escapes_controls_and_bidi_overrides(raw, clean):
    assert clean_text(raw) == clean
    assert not has_unsafe(clean_text(raw))


def test_paragraphs_are_kept_and_other_line_breaks_become_newlines():
    assert clean_text("p1\r\np2\rp3\x0bp4\x0cp5\x85p6\u2028p7\u2029p8") == "\n".join(
        f"p{n}" for n in range(1, 9)
    )
    assert clean_text("one\n\n\x1b[2J\n  two  words \n") == "one\ntwo words"
    assert clean_line("one\ntwo\x1b[0m") == "one two"


def test_marks_and_ordinary_text_are_kept():
    text = "\u200fمصر\u200e Naryshkin \u061c٢٠٢٥ — «وقف إطلاق النار» 🔔"
    assert clean_text(text) == text
    assert not has_unsafe(text)


def test_clean_text_is_idempotent():
    once = clean_text(f"a{HOSTILE}b\nc")
    assert once == "ab\nc"
    assert clean_text(once) == once


def test_remove_controls_keeps_the_spacing():
    assert (
        remove_controls("  chat 1 (\x1b[2JDesk\u202e):\n    w: q") == "  chat 1 (Desk):\n    w: q"
    )


def test_urls_get_their_controls_percent_encoded_and_keep_their_identity():
    raw = "http://news.example/a/\x1b[2Jb?x=\u202e1"
    url = absolute_url(raw)
    assert url == "http://news.example/a/%1B[2Jb?x=%E2%80%AE1"
    assert canonical_url(url) == canonical_url(raw)  # the same story as before the fix
    assert absolute_url("http://news.example/a\n/b\t") == "http://news.example/a/b"
    assert absolute_url("http://news\x1b.example/") is None  # a host with a control in it


def test_html_fragment_with_a_control_character_is_read_not_refused():
    # lxml raises ValueError on a control character in a fragment's leading text.
    assert html_to_text("\x1b[31mعاجل\x1b[0m <p>نص</p>") == "عاجل\nنص"


def test_make_article_cleans_every_field():
    entry = Entry(
        url=f"http://news.example/n/1{HOSTILE}",
        title=f"مصر{HOSTILE} تستضيف المفاوضات",
        guid=f"g-1{HOSTILE}",
        summary=f"ملخص{HOSTILE}",
        content=f"فقرة أولى{HOSTILE}\nفقرة \x1b[1mثانية",
    )
    article = make_article("Outlet", entry, None, FETCHED)
    assert article.title == "مصر تستضيف المفاوضات"
    assert article.text == "فقرة أولى\nفقرة ثانية"
    assert article.summary == "ملخص"
    assert article.guid == "g-1"
    for value in (article.url, article.canonical_url):
        assert not has_unsafe(value)
    assert article.url.startswith("http://news.example/n/1%1B")


def test_a_title_that_is_only_escapes_gives_way_to_the_next_candidate():
    entry = Entry(url="http://news.example/n/2", title="\x1b[2J\x1b[0m", content="سطر أول\nثان")
    extracted = Extracted(title="\u202e", text="سطر أول\nثان " * 20, published=None, language="ar")
    assert make_article("Outlet", entry, extracted, FETCHED).title == "سطر أول"


def test_page_text_is_cleaned_too():
    entry = Entry(url="http://news.example/n/3", summary="قصير")
    extracted = Extracted(
        title="عنوان\x1b]0;x\x07", text="نص \x1b[31mالمقال\n" * 20, published=None, language="ar"
    )
    article = make_article("Outlet", entry, extracted, FETCHED)
    assert_clean(article.text)
    assert article.text.startswith("نص المقال\nنص المقال")


def test_rss_item_with_escapes_is_read_and_cleaned():
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>غزة{HOSTILE} عاجل</title>"
        f"<link>http://news.example/a/{HOSTILE}</link>"
        f"<description>{HOSTILE}نص &lt;b&gt;الخبر&lt;/b&gt; في مصر</description></item>"
        "<item><title>الثاني</title><link>http://news.example/b</link>"
        "<description>نص</description></item>"
        "</channel></rss>"
    ).encode()
    entries = parse_feed(body, "http://news.example/rss.xml").entries
    assert [e.url.split("/")[3] for e in entries] == ["a", "b"]  # the second item is kept
    articles = [make_article("Outlet", e, None, FETCHED) for e in entries]
    for a in articles:
        assert_clean(a.title)
        assert_clean(a.text)
        assert_clean(a.url, url=True)
        assert_clean(a.canonical_url, url=True)
    # feedparser reads C1 characters as windows-1252 (U+009B is "›"): text, not a control.
    assert articles[0].title == "غزة›1m عاجل"
    assert articles[0].text == "›1mنص الخبر في مصر"


def test_json_feed_item_with_escapes_is_cleaned():
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {
                "id": f"1{HOSTILE}",
                "url": f"http://news.example/j/{HOSTILE}",
                "title": f"عنوان{HOSTILE}",
                "content_text": f"نص{HOSTILE}\nثان \ud800",
            }
        ],
    }
    body = json.dumps(document).encode()  # \u001b escapes, as JSON writes them
    [entry] = parse_feed(body, "http://news.example/feed.json").entries
    article = make_article("Outlet", entry, None, FETCHED)
    for value in (article.title, article.text, article.guid):
        assert_clean(value)
    assert_clean(article.url, url=True)
    assert article.text == "نص\nثان \ufffd"
    article.text.encode("utf-8")  # storable: no lone surrogate


def test_telegram_post_with_escapes_is_cleaned():
    hostile = HOSTILE.replace("\x00", "")  # lxml itself turns NUL into U+FFFD
    html = (
        '<html><body><div class="tgme_channel_history">'
        '<div class="tgme_widget_message" data-post="chan/7">'
        f'<div class="tgme_widget_message_text">عاجل{hostile}<br/>نص</div>'
        '<a class="tgme_widget_message_date" href="https://t.me/chan/7">'
        '<time datetime="2025-03-12T10:00:00+00:00"></time></a></div></div></body></html>'
    )
    [entry] = parse_channel(html, "https://t.me/s/chan").entries
    article = make_article("Channel", entry, None, FETCHED)
    assert article.title == "عاجل"
    assert article.text == "عاجل\nنص"
