"""Sitemap indexes and Google News sitemaps of real Arabic headlines, read into entries."""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime, timedelta

import pytest

from alertbot.sources.errors import SourceParseError
from alertbot.sources.model import Skipped
from alertbot.sources.sitemaps import MAX_SITEMAP_BYTES, Sitemap, parse_sitemap
from testsupport.sourcefixtures import BASE_URL, news_items, news_sitemap, sitemap_index

SITEMAP_URL = f"{BASE_URL}/sitemaps/news.xml"


@pytest.fixture(scope="module")
def items():
    return news_items(8)


def test_google_news_sitemap(items):
    sitemap = parse_sitemap(news_sitemap(items), SITEMAP_URL)

    assert sitemap.children == []
    assert [e.url for e in sitemap.entries] == [item.url for item in items]
    assert [e.title for e in sitemap.entries] == [item.plain_title for item in items]
    # <news:publication_date>, not the later <lastmod>
    assert [e.published for e in sitemap.entries] == [item.published for item in items]
    assert all(e.guid is None and e.summary is None for e in sitemap.entries)


def test_entries_come_newest_first(items):
    shuffled = list(items)
    random.Random(7).shuffle(shuffled)
    sitemap = parse_sitemap(news_sitemap(shuffled), SITEMAP_URL)
    assert [e.url for e in sitemap.entries] == [item.url for item in items]


def test_plain_sitemap_uses_lastmod_and_keeps_undated_urls_last():
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://news.example/a-1</loc></url>
<url><loc>https://news.example/b-2</loc><lastmod>2018-03-01</lastmod></url>
<url><loc>https://news.example/c-3</loc><lastmod>2018-03-02T08:00:00+02:00</lastmod></url>
<url><loc>https://news.example/d-4</loc></url>
<url><loc>/relative-5</loc></url>
<url><loc>mailto:desk@news.example</loc></url>
<url><lastmod>2018-03-05</lastmod></url>
<url><loc>https://news.example/b-2#top</loc></url>
</urlset>"""
    sitemap = parse_sitemap(body, SITEMAP_URL)
    assert [(e.url, e.published) for e in sitemap.entries] == [
        ("https://news.example/c-3", datetime(2018, 3, 2, 6, tzinfo=UTC)),
        ("https://news.example/b-2", datetime(2018, 3, 1, tzinfo=UTC)),
        ("https://news.example/a-1", None),
        ("https://news.example/d-4", None),
        ("https://news.example/relative-5", None),
    ]
    # Counted, not dropped silently: a mailto: link, a <url> without <loc>, a repeat.
    assert sitemap.skipped == Skipped(bad_link=1, no_link=1, duplicate=1)


def test_missing_or_wrong_namespace_is_tolerated():
    body = b"""<?xml version="1.0"?><urlset xmlns="http://www.google.com/schemas/sitemap/0.84">
<url><loc>https://news.example/a-1</loc></url></urlset>"""
    assert parse_sitemap(body, SITEMAP_URL).entries[0].url == "https://news.example/a-1"
    body = b"<urlset><url><loc>https://news.example/a-1</loc></url></urlset>"
    assert parse_sitemap(body, SITEMAP_URL).entries[0].url == "https://news.example/a-1"


def test_sitemap_index_children_newest_first():
    day = datetime(2018, 3, 1, tzinfo=UTC)
    body = sitemap_index(
        [
            (f"{BASE_URL}/sitemaps/2018-01.xml", day - timedelta(days=40)),
            (f"{BASE_URL}/sitemaps/news.xml", day),
            (f"{BASE_URL}/sitemaps/sections.xml", None),
            (f"{BASE_URL}/sitemaps/2018-02.xml", day - timedelta(days=10)),
        ]
    )
    assert parse_sitemap(body, f"{BASE_URL}/sitemap.xml") == Sitemap(
        entries=[],
        children=[
            f"{BASE_URL}/sitemaps/news.xml",
            f"{BASE_URL}/sitemaps/2018-02.xml",
            f"{BASE_URL}/sitemaps/2018-01.xml",
            f"{BASE_URL}/sitemaps/sections.xml",
        ],
    )


def test_windows_1256_sitemap(items):
    sitemap = parse_sitemap(news_sitemap(items, encoding="windows-1256"), SITEMAP_URL)
    assert [e.title for e in sitemap.entries] == [item.plain_title for item in items]


def test_gzip_sitemap(items):
    sitemap = parse_sitemap(gzip.compress(news_sitemap(items)), SITEMAP_URL)
    assert [e.url for e in sitemap.entries] == [item.url for item in items]


def test_gzip_bomb_is_refused():
    body = b'<?xml version="1.0"?><urlset>' + b" " * (MAX_SITEMAP_BYTES + 1) + b"</urlset>"
    with pytest.raises(SourceParseError, match="over 50 MB"):
        parse_sitemap(gzip.compress(body), SITEMAP_URL)


def test_text_sitemap():
    body = b"https://news.example/a-1\n\nhttps://news.example/b-2\r\nhttps://news.example/a-1\n"
    sitemap = parse_sitemap(body, SITEMAP_URL)
    assert [e.url for e in sitemap.entries] == [
        "https://news.example/a-1",
        "https://news.example/b-2",
    ]
    assert sitemap.skipped == Skipped(duplicate=1)


def test_entities_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET", encoding="utf-8")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [
 <!ENTITY xxe SYSTEM "{secret.as_uri()}">
 <!ENTITY lol "lollollollollollollollollollol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<urlset><url><loc>https://news.example/a-1</loc>
<news:news xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<news:title>&xxe;&lol2;</news:title></news:news></url></urlset>""".encode()
    [entry] = parse_sitemap(body, SITEMAP_URL).entries
    assert entry.url == "https://news.example/a-1"
    assert entry.title is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty document"),
        (b"\n  ", "empty document"),
        (b'<?xml version="1.0"?>\n<urlset>\n<url><loc>x</loc>\n</urlset>', "malformed XML at line"),
        (b"<!doctype html><html><body>Not found</body></html>", "not a sitemap: HTML page"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "root element <rss>"),
        (b"some text that is not a URL", "neither XML nor a list of URLs"),
        (b"\x1f\x8b\x08\x00garbage", "malformed gzip"),
    ],
)
def test_not_a_sitemap(body, message):
    with pytest.raises(SourceParseError, match=message) as caught:
        parse_sitemap(body, SITEMAP_URL)
    assert "\n" not in str(caught.value)
