"""Canonical article URLs, and how an entry and its extracted page become an Article."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alertbot.sources.article import canonical_url, make_article
from alertbot.sources.extract import Extracted
from alertbot.sources.model import Entry
from testsupport.sourcefixtures import news_items

FETCHED = datetime(2018, 3, 1, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://news.example/a/1", "https://news.example/a/1"),
        (
            "HTTPS://News.Example:443/a/1?utm_source=tw&utm_medium=social&fbclid=Iw&gclid=C#x",
            "https://news.example/a/1",
        ),
        ("http://news.example:80/a/1", "http://news.example/a/1"),
        ("https://news.example:8443/a/1", "https://news.example:8443/a/1"),
        (
            "https://news.example/news.php?id=123&utm_campaign=x",
            "https://news.example/news.php?id=123",
        ),
        # a story id in a key courlan's strict mode would drop: two stories, two URLs
        (
            "https://news.example/Details.aspx?NewsID=55",
            "https://news.example/Details.aspx?NewsID=55",
        ),
        ("https://news.example/news?storyId=9&ref=home", "https://news.example/news?storyId=9"),
        ("https://news.example/n?b=2&a=1", "https://news.example/n?a=1&b=2"),
        ("https://news.example", "https://news.example/"),
        ("https://news.example/a/./b/../c", "https://news.example/a/c"),
        ("https://news.example/%d8%ba%d8%b2%d8%a9", "https://news.example/%D8%BA%D8%B2%D8%A9"),
        (
            "https://news.example/غزة-هدنة",
            "https://news.example/%D8%BA%D8%B2%D8%A9-%D9%87%D8%AF%D9%86%D8%A9",
        ),
        ("  https://news.example/a/1 \n", "https://news.example/a/1"),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_canonical_url_keeps_distinct_stories_apart():
    assert canonical_url("https://x.example/n?NewsID=1") != canonical_url(
        "https://x.example/n?NewsID=2"
    )
    assert canonical_url("https://x.example/a/") != canonical_url("https://x.example/b/")


def test_canonical_url_is_idempotent():
    for item in news_items(5):
        once = canonical_url(item.url)
        assert canonical_url(once) == once


@pytest.mark.parametrize("url", ["", "news.example/a", "/a/1", "ftp://news.example/a", "http://"])
def test_canonical_url_rejects_non_http(url):
    with pytest.raises(ValueError, match="absolute http"):
        canonical_url(url)


@pytest.fixture(scope="module")
def item():
    return news_items(1)[0]


def test_teaser_entry_completed_by_extraction(item):
    entry = Entry(
        url=item.url + "?utm_source=rss",
        title=item.title,
        guid=item.id,
        summary=item.teaser(),
        published=item.published,
    )
    extracted = Extracted(
        title=f"{item.title} | أخبار اليوم",
        text=item.plain_text,
        published=datetime(2018, 3, 1, tzinfo=UTC),
        language="ar",
    )
    article = make_article("أخبار اليوم", entry, extracted, FETCHED)

    assert article.source == "أخبار اليوم"
    assert article.url == entry.url
    assert article.canonical_url == item.url
    assert article.title == item.plain_title  # the feed's, without the site name
    assert article.text == item.plain_text
    assert article.summary == item.teaser()
    assert article.published == item.published  # the feed's, with its time of day
    assert article.language == "ar"
    assert article.fetched == FETCHED
    assert article.guid == item.id


def test_failed_extraction_keeps_the_feed_text(item):
    entry = Entry(url=item.url, title=item.title, summary=item.teaser())
    article = make_article("s", entry, None, FETCHED)
    assert article.text == item.teaser()
    assert article.published is None
    assert article.language == "ar"  # from the script of the text


def test_shorter_extraction_does_not_replace_full_feed_content(item):
    entry = Entry(url=item.url, title=item.title, content=item.plain_text)
    extracted = Extracted(title="x", text=item.paragraphs[0], published=None, language="ar")
    assert make_article("s", entry, extracted, FETCHED).text == item.plain_text


def test_page_entry_takes_title_and_date_from_the_page(item):
    entry = Entry(url=item.url)
    extracted = Extracted(
        title=item.title, text=item.plain_text, published=item.published, language=None
    )
    article = make_article("s", entry, extracted, FETCHED)
    assert article.title == item.plain_title
    assert article.published == item.published
    assert article.language == "ar"


def test_untitled_post_takes_its_first_line():
    entry = Entry(url="https://t.me/ch/1", content="عاجل: وقف إطلاق النار في غزة\nتفاصيل")
    article = make_article("telegram", entry, None, FETCHED)
    assert article.title == "عاجل: وقف إطلاق النار في غزة"
    assert make_article("t", Entry(url="https://t.me/ch/2"), None, FETCHED).title == ""
