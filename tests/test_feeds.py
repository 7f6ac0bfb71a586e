"""RSS, Atom and JSON Feed documents built from real Arabic news, read into entries."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alertbot.sources.article import is_teaser
from alertbot.sources.errors import SourceParseError
from alertbot.sources.feeds import parse_feed
from alertbot.sources.model import Entry, Skipped
from testsupport.sourcefixtures import BASE_URL, atom, json_feed, news_items, rss

FEED_URL = f"{BASE_URL}/feeds/rss.xml"


@pytest.fixture(scope="module")
def items():
    return news_items(6)


def test_rss_teaser_feed(items):
    entries = parse_feed(rss(items), FEED_URL).entries

    assert [e.url for e in entries] == [item.url for item in items]
    assert [e.title for e in entries] == [item.plain_title for item in items]
    assert [e.guid for e in entries] == [item.id for item in items]
    assert [e.published for e in entries] == [item.published for item in items]
    first = entries[0]
    assert first.content is None
    assert first.summary.startswith(items[0].teaser().removesuffix(" …"))
    assert all(is_teaser(entry) for entry in entries)


def test_rss_full_content_keeps_paragraphs(items):
    entries = parse_feed(rss(items, full_text=True), FEED_URL).entries

    assert [e.content for e in entries] == [item.plain_text for item in items]
    assert "\n" in entries[0].content
    assert not any(is_teaser(entry) for entry in entries)


def test_atom(items):
    entries = parse_feed(atom(items), f"{BASE_URL}/atom.xml").entries

    assert [e.url for e in entries] == [item.url for item in items]
    assert [e.title for e in entries] == [item.plain_title for item in items]
    assert [e.content for e in entries] == [item.plain_text for item in items]
    assert entries[0].summary == items[0].teaser()
    assert entries[0].guid == f"tag:news.example,2018:{items[0].id}"
    assert entries[0].published == items[0].published
    assert entries[0].published.tzinfo is UTC


def test_atom_date_falls_back_to_updated():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>
<updated>2018-03-01T12:00:00Z</updated>
<entry><title>x</title><id>urn:1</id><link href="https://news.example/a/1"/>
<updated>2018-03-01T14:30:00+03:00</updated></entry></feed>"""
    [entry] = parse_feed(body, f"{BASE_URL}/atom.xml").entries
    assert entry.published == datetime(2018, 3, 1, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize("html_content", [True, False])
def test_json_feed(items, html_content):
    entries = parse_feed(
        json_feed(items, html_content=html_content), f"{BASE_URL}/feed.json"
    ).entries

    assert [e.url for e in entries] == [item.url for item in items]
    assert [e.title for e in entries] == [item.plain_title for item in items]
    assert [e.guid for e in entries] == [item.id for item in items]
    assert [e.content for e in entries] == [item.plain_text for item in items]
    assert [e.published for e in entries] == [item.published for item in items]
    assert entries[0].summary == items[0].teaser()


def test_json_feed_links_and_ids():
    document = {
        "version": "https://jsonfeed.org/version/1",
        "title": "t",
        "items": [
            {"id": "1", "url": "/news/1", "title": "relative"},
            {"id": "https://news.example/news/2", "title": "id is the link"},
            {"id": "3", "external_url": "https://other.example/story", "title": "external"},
            {"id": 4, "title": "no link at all", "content_text": "kept: it has text"},
            {"url": "https://news.example/news/5", "title": "no id"},
            "not an item",
        ],
    }
    listing = parse_feed(json.dumps(document).encode(), f"{BASE_URL}/feeds/feed.json")
    entries = listing.entries

    assert [(e.url, e.guid) for e in entries] == [
        (f"{BASE_URL}/news/1", "1"),
        ("https://news.example/news/2", "https://news.example/news/2"),
        ("https://other.example/story", "3"),
        (f"{BASE_URL}/feeds/feed.json", "4"),  # no home_page_url: the feed itself
        ("https://news.example/news/5", None),
    ]
    assert [e.linked for e in entries] == [True, True, True, False, True]
    assert all(e.published is None for e in entries)
    assert listing.skipped == Skipped(no_link=1)


def test_relative_links_resolve_against_the_feed_url(items):
    entries = parse_feed(rss(items, relative_links=True), f"{BASE_URL}/feeds/rss.xml").entries
    assert [e.url for e in entries] == [item.url for item in items]


def test_entries_without_link_guid_or_date():
    """An item with text but no link links to the feed's site; without text it is counted."""
    body = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>
<item><title>رابط فقط</title><link>https://news.example/news/1</link></item>
<item><title>المعرف رابط</title><guid>https://news.example/news/2</guid></item>
<item><title>بلا رابط</title><guid isPermaLink="false">item-3</guid></item>
<item><title>لا شيء</title><description>نص بلا رابط ولا معرف</description></item>
<item><title>رابط جافاسكربت</title><link>javascript:void(0)</link></item>
</channel></rss>""".encode()
    listing = parse_feed(body, FEED_URL)

    assert listing.entries == [
        Entry(url="https://news.example/news/1", title="رابط فقط"),
        Entry(
            url="https://news.example/news/2",
            title="المعرف رابط",
            guid="https://news.example/news/2",
        ),
        Entry(
            url="https://news.example/",
            title="لا شيء",
            summary="نص بلا رابط ولا معرف",
            linked=False,
        ),
    ]
    assert listing.skipped == Skipped(no_link=1, bad_link=1)


def test_duplicates_within_a_feed_are_kept_once(items):
    repeated = [items[0], items[1], items[0]]
    listing = parse_feed(rss(repeated), FEED_URL)
    assert [e.url for e in listing.entries] == [items[0].url, items[1].url]
    assert listing.skipped == Skipped(duplicate=1)

    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>https://news.example/a?utm_source=tw</link></item>
<item><title>a again</title><link>https://news.example/a#comments</link></item>
<item><title>b</title><link>https://news.example/b</link><guid>g-1</guid></item>
<item><title>b moved</title><link>https://news.example/b-new</link><guid>g-1</guid></item>
</channel></rss>"""
    assert [e.title for e in parse_feed(body, FEED_URL).entries] == ["a", "b"]


def test_html_in_titles_and_summaries_becomes_plain_text():
    body = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>السيسي &amp;amp; ناريشكين</title><link>https://news.example/n/1</link>
<description><![CDATA[<p>استقبل الرئيس <b>السيسي</b>&nbsp;مدير المخابرات.</p>
<p>وبحث الجانبان<br/>الضبعة.</p><script>alert(1)</script>]]></description></item>
</channel></rss>""".encode()
    [entry] = parse_feed(body, FEED_URL).entries
    assert entry.title == "السيسي & ناريشكين"
    assert entry.summary == "استقبل الرئيس السيسي مدير المخابرات.\nوبحث الجانبان\nالضبعة."


def test_windows_1256_declared_in_the_xml_declaration(items):
    body = rss(items, encoding="windows-1256", full_text=True)
    assert body.startswith(b'<?xml version="1.0" encoding="windows-1256"?>')
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")

    entries = parse_feed(body, FEED_URL).entries
    assert [e.title for e in entries] == [item.plain_title for item in items]
    assert entries[0].content == items[0].plain_text


def test_undeclared_encoding_from_the_http_header(items):
    body = rss(items, encoding="windows-1256").replace(b' encoding="windows-1256"', b"", 1)
    entries = parse_feed(body, FEED_URL, http_charset="windows-1256").entries
    assert entries[0].title == items[0].plain_title


def test_utf8_without_declaration_is_utf8(items):
    body = rss(items).replace(b' encoding="utf-8"', b"", 1)
    assert parse_feed(body, FEED_URL).entries[0].title == items[0].plain_title


def test_recoverable_feed_keeps_its_entries(items):
    body = rss(items[:2]).replace(b"</channel>", b"<item><title>broken</channel>")
    entries = parse_feed(body, FEED_URL).entries
    assert [e.url for e in entries] == [items[0].url, items[1].url]


def test_a_truncated_feed_skips_its_cut_last_item_as_cut(items):
    """Regression: a feed cut off inside its last item kept that item with half its text
    (or dropped it silently); it is now left for the next poll, and counted."""
    body = rss(items[:4], full_text=True).decode()
    last = body.rindex("<item>")
    cut = body[: last + (len(body) - last) // 2]  # half-way through the fourth item
    listing = parse_feed(cut.encode(), FEED_URL)
    assert [e.url for e in listing.entries] == [i.url for i in items[:3]]
    assert listing.entries[-1].content == items[2].plain_text
    assert listing.skipped == Skipped(cut=1)


def test_a_broken_but_whole_feed_keeps_its_last_item(items):
    body = rss(items[:2]).replace(b"</title>", b"&nbsp;</title>", 1)  # an undefined entity
    body += b"\n<!-- served from cache in 0.02 s -->\n"
    listing = parse_feed(body, FEED_URL)
    assert [e.url for e in listing.entries] == [i.url for i in items[:2]]
    assert listing.skipped == Skipped()


def test_json_feed_items_without_a_link_link_to_the_home_page():
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "home_page_url": "https://news.example/",
        "items": [
            {"id": "1", "content_text": "نص بلا رابط"},
            {"id": "2", "url": "mailto:desk@news.example"},
            {"id": "3"},
            "not an item",
        ],
    }
    listing = parse_feed(json.dumps(document).encode(), f"{BASE_URL}/feed.json")
    assert listing.entries == [
        Entry(url="https://news.example/", guid="1", content="نص بلا رابط", linked=False)
    ]
    assert listing.skipped == Skipped(no_link=2, bad_link=1)


def test_empty_feed_is_an_empty_list():
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    assert parse_feed(body, FEED_URL).entries == []
    assert parse_feed(json_feed([]), FEED_URL).entries == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty document"),
        (b"  \n\t ", "empty document"),
        (b"\xef\xbb\xbf", "empty document"),
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>\n\n<item>',
            "malformed XML at line 3",
        ),
        (b"<!DOCTYPE html><html><body><p>404</p></body></html>", "not a feed: HTML page"),
        (
            b'<?xml version="1.0"?>\n<!-- cms -->\n<html xmlns="http://www.w3.org/1999/xhtml">'
            b"<body/></html>",
            "not a feed: HTML page",
        ),
        (b"<HTML><HEAD><TITLE>Moved</TITLE></HEAD></HTML>", "not a feed: HTML page"),
        (b'<?xml version="1.0"?><note><to>x</to></note>', "not a feed"),
        (b"just some text", "not a feed: neither XML nor JSON"),
        (b"<rss version='2.0'><channel><title>t</title>\n<item>", "malformed XML at line 2"),
        (b'{"items": []}', "not a feed: JSON"),
        (b"[1, 2]", "not a feed: JSON"),
        (b'{"version": "https://jsonfeed.org/version/1.1",\n "items": [', "malformed JSON at"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}', "items"),
    ],
)
def test_not_a_feed(body, message):
    with pytest.raises(SourceParseError, match=message) as caught:
        parse_feed(body, FEED_URL)
    assert "\n" not in str(caught.value)


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT", encoding="utf-8")
    body = f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
<rss version="2.0"><channel><title>t</title>
<item><title>a &xxe;</title><link>https://news.example/a</link>
<description>b &xxe;</description></item></channel></rss>""".encode()
    entries = parse_feed(body, FEED_URL).entries
    assert all("SECRET" not in f"{e.title} {e.summary}" for e in entries)


def test_a_body_that_names_a_file_is_not_opened(tmp_path, items):
    # feedparser.parse(bytes) opens a local file of that name; parse_feed must not.
    path = tmp_path / "feed.xml"
    path.write_bytes(rss(items))
    with pytest.raises(SourceParseError, match="not a feed"):
        parse_feed(str(path).encode(), FEED_URL)


@pytest.mark.parametrize(
    ("entry", "teaser"),
    [
        (Entry(url="https://x.example/1"), True),
        (Entry(url="https://x.example/1", summary="سطر قصير عن الخبر"), True),
        (Entry(url="https://x.example/1", summary="نص " * 200), False),
        (Entry(url="https://x.example/1", summary="نص " * 200 + "…"), True),
        (Entry(url="https://x.example/1", summary="نص " * 200 + "[...]"), True),
        (Entry(url="https://x.example/1", summary="نص " * 200 + "اقرأ المزيد »"), True),
        (Entry(url="https://x.example/1", summary="text " * 100 + "Read more"), True),
        (Entry(url="https://x.example/1", summary="قصير", content="نص كامل " * 100), False),
        (Entry(url="https://x.example/1", content="بداية المقال..."), True),
    ],
)
def test_is_teaser(entry, teaser):
    assert is_teaser(entry) is teaser
