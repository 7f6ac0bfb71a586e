"""Polling sources end to end on a real loopback HTTP server, with real Arabic articles.

Every source type becomes articles; every bad input becomes a recorded error of that
source (one log line, no traceback) and never touches the other sources polled with it.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

import testsupport.sourcefixtures as fx
from alertbot.config import PollingConfig, SourceConfig
from alertbot.sources.fetch import Fetcher
from alertbot.sources.model import FetchErrorKind, Skipped, Validators
from alertbot.sources.poll import Poller, PollResult, cpu_pool
from testsupport.httpserver import LocalServer

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
async def poller():
    polling = PollingConfig(timeout=5, max_bytes=1_000_000, concurrency=8)
    async with Fetcher(polling, timeout=1.0) as fetcher, Poller(fetcher) as poller:
        yield poller


def site(server: LocalServer, count: int = 4, offset: int = 0) -> list[fx.NewsItem]:
    """`count` corpus articles published on the loopback site, their pages served."""
    items = fx.news_items(count, base_url=server.url("").rstrip("/"), offset=offset)
    for item in items:
        server.route(urlsplit(item.url).path, fx.article_page(item).encode("utf-8"))
    return items


def source(server: LocalServer, path: str, kind: str = "feed", **extra) -> SourceConfig:
    return SourceConfig(name=f"{kind} {path}", url=server.url(path), type=kind, **extra)


def same_text(article_text: str, item: fx.NewsItem) -> bool:
    return " ".join(article_text.split()) == " ".join(item.plain_text.split())


def assert_full_texts(result: PollResult, items: list[fx.NewsItem]) -> None:
    """One article per item, each with the item's whole text."""
    by_url = {a.url: a for a in result.articles}
    assert sorted(by_url) == sorted(i.url for i in items)
    assert all(same_text(by_url[i.url].text, i) for i in items)


def article_requests(server: LocalServer, items: list[fx.NewsItem]) -> int:
    return sum(len(server.requests_to(urlsplit(i.url).path)) for i in items)


async def test_rss_teasers_are_completed_with_the_article_pages(server, poller):
    items = site(server)
    server.route("/rss", fx.rss(items), headers={"Content-Type": "application/rss+xml"})
    result = await poller.poll(source(server, "/rss"), Validators(), NOW)
    assert result.error is None and result.entries == len(items)
    by_url = {a.url: a for a in result.articles}
    assert sorted(by_url) == sorted(i.url for i in items)
    for item in items:
        article = by_url[item.url]
        assert article.title == item.plain_title
        assert same_text(article.text, item), article.text[:200]
        assert article.published == item.published
        assert article.language == "ar" and article.fetched == NOW


async def test_full_text_off_keeps_the_feed_teaser_and_fetches_no_page(server, poller):
    items = site(server)
    server.route("/rss", fx.rss(items))
    result = await poller.poll(source(server, "/rss", full_text=False), Validators(), NOW)
    assert len(result.articles) == len(items)
    assert article_requests(server, items) == 0
    assert all(len(a.text) < len(i.text) for a, i in zip(result.articles, items, strict=True))


async def test_second_poll_of_an_unchanged_feed_is_a_304_and_costs_nothing_more(server, poller):
    items = site(server)
    headers = {"ETag": '"v1"', "Last-Modified": "Mon, 23 Nov 2026 10:00:00 GMT"}
    server.route("/rss", fx.rss(items), headers=headers, conditional=True)
    first = await poller.poll(source(server, "/rss"), Validators(), NOW)
    fetched_pages = article_requests(server, items)
    second = await poller.poll(source(server, "/rss"), first.validators, NOW)
    assert first.validators.etag == '"v1"'
    assert second.not_modified and second.articles == [] and second.error is None
    assert article_requests(server, items) == fetched_pages


@pytest.mark.parametrize("render", [fx.atom, fx.json_feed], ids=["atom", "json-feed"])
async def test_atom_and_json_feed(server, poller, render):
    items = site(server)
    server.route("/feed", render(items, base_url=server.url("").rstrip("/")))
    result = await poller.poll(source(server, "/feed"), Validators(), NOW)
    assert result.error is None
    assert {a.title for a in result.articles} == {i.plain_title for i in items}
    assert_full_texts(result, items)


async def test_sitemap_index_with_a_news_sitemap(server, poller):
    items = site(server)
    server.route("/news-sitemap.xml", fx.news_sitemap(items))
    server.route("/sitemap.xml", fx.sitemap_index([(server.url("/news-sitemap.xml"), NOW)]))
    result = await poller.poll(source(server, "/sitemap.xml", "sitemap"), Validators(), NOW)
    assert result.error is None
    assert sorted(a.url for a in result.articles) == sorted(i.url for i in items)
    assert all(a.text and a.title for a in result.articles)


async def test_listing_page_links_become_articles(server, poller):
    items = site(server)
    page = fx.listing_page(items, base_url=server.url("").rstrip("/"))
    server.route("/politics", page.encode("utf-8"))
    result = await poller.poll(source(server, "/politics", "page"), Validators(), NOW)
    assert result.error is None
    assert sorted(a.url for a in result.articles) == sorted(i.url for i in items)


async def test_telegram_channel_posts_are_articles_without_fetching_pages(server, poller):
    items = site(server)
    posts = fx.channel_posts(items)
    server.route("/s/news_example", fx.telegram_channel_page(posts).encode("utf-8"))
    result = await poller.poll(source(server, "/s/news_example", "telegram"), Validators(), NOW)
    assert result.error is None and len(result.articles) == len(posts)
    assert article_requests(server, items) == 0
    titles = {a.title for a in result.articles}
    assert any(items[0].plain_title in t for t in titles)
    assert all(a.url.startswith("https://t.me/news_example/") for a in result.articles)


@pytest.mark.parametrize("encoding_header", [None, "iso-8859-1"], ids=["no-charset", "wrong"])
async def test_windows_1256_feed_comes_out_as_correct_arabic(server, poller, encoding_header):
    items = site(server, 3)
    body = fx.rss(items, encoding="windows-1256", full_text=True)
    # Neither the header nor the document may say what the bytes are.
    body = body.replace(b'encoding="windows-1256"', b"")
    content_type = "application/rss+xml"
    if encoding_header:
        content_type += f"; charset={encoding_header}"
    server.route("/rss", body, headers={"Content-Type": content_type})
    result = await poller.poll(source(server, "/rss", full_text=False), Validators(), NOW)
    assert result.error is None
    assert {a.title for a in result.articles} == {i.plain_title for i in items}


async def test_article_page_failure_keeps_the_feed_text(server, poller):
    items = fx.news_items(2, base_url=server.url("").rstrip("/"))
    server.route("/rss", fx.rss(items))  # no article pages: every page is a 404
    result = await poller.poll(source(server, "/rss"), Validators(), NOW)
    assert result.error is None and len(result.articles) == 2
    assert all(a.text for a in result.articles)


async def test_relative_links_and_duplicate_entries(server, poller):
    items = site(server, 3)
    feed = fx.rss(items + items[:1], relative_links=True, full_text=True)
    server.route("/rss", feed)
    result = await poller.poll(source(server, "/rss", full_text=False), Validators(), NOW)
    assert sorted(a.url for a in result.articles) == sorted(i.url for i in items)


async def test_seen_entries_are_not_fetched_again(server, poller):
    items = site(server)
    server.route("/rss", fx.rss(items))
    seen = {items[0].url, items[1].url}
    asked = []

    async def known(entries):
        asked.append(len(entries))
        return [e.url in seen for e in entries]

    result = await poller.poll(source(server, "/rss"), Validators(), NOW, seen=known)
    assert asked == [len(items)]  # one question about the whole listing
    assert len(result.articles) == len(items) - 2 and result.entries == len(items)
    assert article_requests(server, items[:2]) == 0


def _bomb() -> bytes:
    return gzip.compress(b"\0" * 50_000_000, compresslevel=9)


BAD = {
    "malformed-xml": (dict(body=b"<rss><channel><item><title>x</title></channel>"), "parse"),
    "html-as-feed": (dict(body=b"<!DOCTYPE html><html><body>hi</body></html>"), "parse"),
    "empty-body": (dict(body=b""), "empty"),
    "404": (dict(body=b"nope", status=404), "http-status"),
    "500": (dict(body=b"oops", status=500), "http-status"),
    "429": (dict(body=b"", status=429, headers={"Retry-After": "120"}), "http-status"),
    "over-limit": (dict(body=b"<rss>" + b" " * 1_200_000 + b"</rss>"), "too-large"),
}


@pytest.mark.parametrize("case", [*BAD, "redirect-loop", "never-answers", "gzip-bomb"])
async def test_bad_source_is_a_recorded_error_and_others_still_poll(server, poller, case, caplog):
    items = site(server, 2)
    server.route("/good", fx.rss(items))
    if case in BAD:
        route, kind = BAD[case]
        server.route("/bad", **route)
    elif case == "redirect-loop":
        server.redirect("/bad", "/bad2")
        server.redirect("/bad2", "/bad")
        kind = "too-many-redirects"
    elif case == "never-answers":
        server.hang("/bad")
        kind = "timeout"
    else:
        server.route("/bad", _bomb(), headers={"Content-Encoding": "gzip"})
        kind = "too-large"
    caplog.set_level(logging.INFO)
    bad, good = await asyncio.gather(
        poller.poll(source(server, "/bad"), Validators(), NOW),
        poller.poll(source(server, "/good"), Validators(), NOW),
    )
    assert isinstance(bad, PollResult) and bad.error is not None
    assert str(bad.error.kind) == kind, bad.error
    assert bad.articles == []
    assert good.error is None and len(good.articles) == 2
    assert not any(r.exc_info for r in caplog.records), "a failure must not log a traceback"
    if case == "429":
        assert bad.error.retry_after == 120
    assert FetchErrorKind(kind)


async def test_entries_without_guid_or_date(server, poller):
    items = site(server, 2)
    feed = fx.rss(items, guids=False, dates=False, full_text=True)
    server.route("/rss", feed)
    result = await poller.poll(source(server, "/rss", full_text=False), Validators(), NOW)
    assert len(result.articles) == 2
    assert all(a.guid is None and a.published is None for a in result.articles)


def test_poll_result_is_a_value():
    result = PollResult("x")
    assert replace(result, entries=3).entries == 3 and result.articles == []


async def test_extraction_in_a_process_pool_gives_the_same_articles(server):
    """The application's setup: parsing and extraction in a separate process."""
    items = site(server, 3)
    server.route("/rss", fx.rss(items))
    polling = PollingConfig(timeout=5)
    with cpu_pool() as pool:
        async with Fetcher(polling) as fetcher, Poller(fetcher, executor=pool) as poller:
            result = await poller.poll(source(server, "/rss"), Validators(), NOW)
    assert result.error is None
    assert_full_texts(result, items)


async def test_items_without_links_duplicates_and_a_cut_last_item_are_counted(server, poller):
    """Regression: such entries vanished silently (or the cut one kept half its text)."""
    items = site(server, 4)
    feed = fx.broken_rss(items, base_url=server.url("").rstrip("/"))
    server.route("/rss", feed, headers={"Content-Type": "application/rss+xml"})
    result = await poller.poll(source(server, "/rss"), Validators(), NOW)

    assert result.error is None
    assert result.skipped == Skipped(no_link=1, duplicate=1, cut=1)
    assert not result.complete  # the cut item is read at the next poll: keep no validators
    first, linkless = result.articles
    assert first.url == items[0].url and same_text(first.text, items[0])
    # An item with text but no link of its own is an article; its alert links to the
    # feed's site, and its guid tells it apart in the store.
    assert linkless.url == server.url("/")
    assert linkless.canonical_url == f"{server.url('/')}#guid={items[1].id}"
    assert same_text(linkless.text, items[1])
    assert article_requests(server, items) == 0  # a linkless teaser has no page to fetch


async def test_a_sitemap_url_whose_page_gives_no_text_is_counted(server, poller):
    items = site(server, 3)
    server.route(urlsplit(items[1].url).path, b"gone", status=404)
    server.route("/sitemap.xml", fx.news_sitemap(items))
    result = await poller.poll(source(server, "/sitemap.xml", "sitemap"), Validators(), NOW)
    assert sorted(a.url for a in result.articles) == sorted([items[0].url, items[2].url])
    assert result.skipped == Skipped(no_text=1)


async def test_more_completes_the_next_batch_without_fetching_the_listing_again(server):
    items = site(server, 5)
    server.route("/rss", fx.rss(items, full_text=True))
    polling = PollingConfig(timeout=5)
    async with Fetcher(polling) as fetcher, Poller(fetcher, max_entries=2) as poller:
        feed = source(server, "/rss", full_text=False)
        batches = [await poller.poll(feed, Validators(), NOW)]
        while batches[-1].left:
            batches.append(await poller.more(feed, batches[-1], NOW))
    assert [len(b.articles) for b in batches] == [2, 2, 1]
    assert [b.remaining for b in batches] == [3, 1, 0]
    assert [a.url for b in batches for a in b.articles] == [i.url for i in items]
    assert len(server.requests_to("/rss")) == 1
    assert all(b.entries == 5 for b in batches) and batches[-1].complete
