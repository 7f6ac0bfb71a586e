"""A t.me/s channel preview page of real Arabic headlines, read into entries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alertbot.sources.errors import SourceParseError
from alertbot.sources.model import Skipped
from alertbot.sources.telegram import parse_channel
from alertbot.sources.urls import channel_url
from testsupport.sourcefixtures import channel_posts, news_items, telegram_channel_page

CHANNEL = "news_example"
PAGE_URL = f"https://t.me/s/{CHANNEL}"


@pytest.fixture(scope="module")
def posts():
    return channel_posts(news_items(6))


@pytest.fixture(scope="module")
def entries(posts):
    return parse_channel(telegram_channel_page(posts, channel=CHANNEL), PAGE_URL).entries


def test_posts_newest_first_with_links_and_guids(posts, entries):
    newest_first = list(reversed(posts))
    assert [e.url for e in entries] == [f"https://t.me/{CHANNEL}/{p.number}" for p in newest_first]
    assert [e.guid for e in entries] == [f"{CHANNEL}/{p.number}" for p in newest_first]
    assert [e.published for e in entries] == [p.item.published for p in newest_first]
    assert all(e.published.tzinfo is UTC for e in entries)


def test_post_text_keeps_its_lines(posts, entries):
    newest_first = list(reversed(posts))
    assert [e.content for e in entries] == [p.text for p in newest_first]
    first = entries[-1]
    assert first.content.startswith(f"🔴 {posts[0].item.plain_title}\n")
    assert "#عاجل" in first.content


def test_title_is_the_first_line(posts, entries):
    assert entries[-1].title == f"🔴 {posts[0].item.plain_title}"
    assert all(len(e.title) <= 121 and "\n" not in e.title for e in entries)


def test_outbound_link_from_the_text_or_the_preview(posts, entries):
    newest_first = list(reversed(posts))
    assert [e.outbound_url for e in entries] == [p.outbound_url for p in newest_first]
    via_preview = [p for p in posts if p.outbound_url not in p.text]
    assert via_preview, "the fixture should have posts whose link is only in a preview"


def test_reply_quote_is_not_the_post_text(posts, entries):
    reply = next(p for p in posts if p.reply_to is not None)
    [entry] = [e for e in entries if e.guid == f"{CHANNEL}/{reply.number}"]
    assert entry.content == reply.text


def test_long_first_line_is_trimmed():
    html = f"""<html><body><section class="tgme_channel_history">
    <div class="tgme_widget_message js-widget_message" data-post="{CHANNEL}/7">
    <div class="tgme_widget_message_text js-message_text">{"كلمة " * 60}<br/>السطر الثاني
    <a href="https://t.me/other_channel">@other_channel</a>
    <a href="?q=%23غزة">#غزة</a></div>
    <a class="tgme_widget_message_date" href="https://t.me/{CHANNEL}/7">
    <time datetime="2024-01-05T10:23:45+00:00">10:23</time></a></div>
    <div class="tgme_widget_message service_message js-widget_message" data-post="{CHANNEL}/8">
    <div class="tgme_widget_message_text">Channel photo updated</div></div>
    <div class="tgme_widget_message js-widget_message" data-post="{CHANNEL}/9">
    <a class="tgme_widget_message_photo_wrap" href="https://t.me/{CHANNEL}/9"></a></div>
    </section></body></html>"""
    photo, post = parse_channel(html, PAGE_URL).entries

    assert post.title.endswith("…") and len(post.title) <= 121
    assert post.content.split("\n")[1].startswith("السطر الثاني")
    assert post.outbound_url is None  # t.me links and hashtags stay on Telegram
    assert post.published == datetime(2024, 1, 5, 10, 23, 45, tzinfo=UTC)
    assert (photo.guid, photo.content, photo.title, photo.published) == (
        f"{CHANNEL}/9",
        None,
        None,
        None,
    )
    assert photo.url == f"https://t.me/{CHANNEL}/9"


def test_a_post_listed_twice_or_without_a_post_id_is_counted():
    post = f"""<div class="tgme_widget_message" data-post="{CHANNEL}/7">
    <div class="tgme_widget_message_text">خبر عاجل من القاهرة</div></div>"""
    broken = """<div class="tgme_widget_message" data-post="not a post id">
    <div class="tgme_widget_message_text">نص</div></div>"""
    html = f'<html><body><section class="tgme_channel_history">{post}{post}{broken}</section>'
    listing = parse_channel(html, PAGE_URL)
    assert [e.guid for e in listing.entries] == [f"{CHANNEL}/7"]
    assert listing.skipped == Skipped(duplicate=1, no_link=1)


def test_empty_channel_is_an_empty_list():
    html = '<html><body><section class="tgme_channel_history js-message_history"></section>'
    assert parse_channel(html, PAGE_URL).entries == []


@pytest.mark.parametrize(
    "html",
    ["", "<html><body><div class='tgme_page'>Join channel</div></body></html>"],
)
def test_not_a_channel_preview(html):
    with pytest.raises(SourceParseError):
        parse_channel(html, PAGE_URL)


@pytest.mark.parametrize(
    "given",
    [
        "@news_example",
        "news_example",
        "t.me/news_example",
        "https://t.me/news_example",
        "https://t.me/s/news_example",
        "https://t.me/s/news_example?before=5000",
        "https://t.me/news_example/5001",
        "telegram.me/news_example",
        "  @news_example ",
    ],
)
def test_channel_url(given):
    assert channel_url(given) == "https://t.me/s/news_example"


@pytest.mark.parametrize(
    "given",
    ["", "@ab", "https://t.me/+AbCdEf", "t.me/joinchat/AbCdEf", "https://example.org/news", "1abc"],
)
def test_channel_url_rejects(given):
    with pytest.raises(ValueError, match="not a public Telegram channel"):
        channel_url(given)
