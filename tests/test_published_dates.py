"""Publication dates that give only a day: read as such from every kind of source, stored,
and shown as the date alone, never with an invented time of day."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alertbot.notify.alert import alert_for
from alertbot.notify.console import format_alert
from alertbot.notify.mail import alert_message
from alertbot.recap.build import build_recap
from alertbot.recap.render import recap_text
from alertbot.sources.article import make_article
from alertbot.sources.dates import parse_datetime, parse_published
from alertbot.sources.extract import Extracted, extract
from alertbot.sources.feeds import parse_feed
from alertbot.sources.model import Entry
from alertbot.sources.pages import links_on_page
from alertbot.sources.sitemaps import parse_sitemap
from alertbot.sources.telegram import parse_channel
from alertbot.store import NewItem, Recipient
from alertbot.watch.snippet import Snippet
from testsupport.sourcefixtures import article_page, news_items
from testsupport.storefixtures import article

DAY = datetime(2025, 3, 12, tzinfo=UTC)
CAIRO = ZoneInfo("Africa/Cairo")
NEW_YORK = ZoneInfo("America/New_York")
FETCHED = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-12",
        "Wed, 12 Mar 2025 00:00:00 +0000",
        "Wed, 12 Mar 2025 00:00:00 +0300",  # midnight where it was written: still the 12th
        "2025-03-12T00:00:00",
        "2025-03-12T00:00:00-05:00",
        "2025-03-12T00:00Z",
        " 2025-03-12 ",
    ],
)
def test_a_day_without_a_time_is_date_only_and_kept_as_that_day(value):
    assert parse_published(value) == (DAY, True)


@pytest.mark.parametrize(
    ("value", "when"),
    [
        ("2025-03-12T14:05:00+02:00", datetime(2025, 3, 12, 12, 5, tzinfo=UTC)),
        ("Wed, 12 Mar 2025 14:05:00 GMT", datetime(2025, 3, 12, 14, 5, tzinfo=UTC)),
        ("2025-03-12T00:00:01Z", datetime(2025, 3, 12, 0, 0, 1, tzinfo=UTC)),
        ("2025-03-12T03:00:00+03:00", datetime(2025, 3, 12, tzinfo=UTC)),
    ],
)
def test_a_stated_time_of_day_is_kept(value, when):
    assert parse_published(value) == (when, False)
    assert parse_datetime(value) == when


def test_unreadable_dates_are_none():
    assert parse_published("yesterday") == (None, False)
    assert parse_published("") == (None, False)
    assert parse_published(None) == (None, False)


def _rss(pub_date: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>عنوان</title><link>https://news.example/a</link>"
        f"<description>نص</description><pubDate>{pub_date}</pubDate></item>"
        "</channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("pub_date", "expected"),
    [
        ("Wed, 12 Mar 2025", (DAY, True)),  # RFC 822 without a time: only feedparser reads it
        ("2025-03-12", (DAY, True)),
        ("Wed, 12 Mar 2025 00:00:00 +0300", (DAY, True)),
        ("Wed, 12 Mar 2025 14:05:00 +0200", (datetime(2025, 3, 12, 12, 5, tzinfo=UTC), False)),
    ],
)
def test_rss_pubdate(pub_date, expected):
    [entry] = parse_feed(_rss(pub_date), "https://news.example/rss").entries
    assert (entry.published, entry.published_date_only) == expected


def test_atom_and_json_feed_dates():
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>t</title><id>x</id><updated>2025-03-12</updated>"
        '<entry><title>a</title><id>1</id><link href="https://news.example/a"/>'
        "<updated>2025-03-12</updated><summary>نص</summary></entry></feed>"
    ).encode()
    [entry] = parse_feed(atom, "https://news.example/atom").entries
    assert (entry.published, entry.published_date_only) == (DAY, True)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {"id": "1", "url": "https://news.example/1", "content_text": "a",
             "date_published": "2025-03-12"},
            {"id": "2", "url": "https://news.example/2", "content_text": "b",
             "date_published": "2025-03-12T14:05:00+02:00"},
        ],
    }  # fmt: skip
    first, second = parse_feed(
        json.dumps(document).encode(), "https://news.example/feed.json"
    ).entries
    assert (first.published, first.published_date_only) == (DAY, True)
    assert second.published_date_only is False


def test_sitemap_lastmod_that_is_a_date():
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://news.example/a</loc><lastmod>2025-03-12</lastmod></url>"
        b"<url><loc>https://news.example/b</loc><lastmod>2025-03-12T10:00:00Z</lastmod></url>"
        b"</urlset>"
    )
    dated = {e.url: (e.published, e.published_date_only) for e in parse_sitemap(body, "x").entries}
    assert dated == {
        "https://news.example/a": (DAY, True),
        "https://news.example/b": (datetime(2025, 3, 12, 10, tzinfo=UTC), False),
    }


def test_page_card_and_telegram_dates():
    html = (
        "<html><body><main><ul>"
        '<li><a href="https://news.example/news/2025/03/12/story-one-here">خبر أول مهم</a>'
        '<time datetime="2025-03-12">12/3</time></li>'
        "</ul></main></body></html>"
    )
    [entry] = links_on_page(html, "https://news.example/news/")
    assert (entry.published, entry.published_date_only) == (DAY, True)
    channel = (
        '<html><body><div class="tgme_channel_history">'
        '<div class="tgme_widget_message" data-post="chan/1">'
        '<div class="tgme_widget_message_text">نص</div>'
        '<a class="tgme_widget_message_date" href="https://t.me/chan/1">'
        '<time datetime="2025-03-12T10:23:45+00:00"></time></a></div></div></body></html>'
    )
    [post] = parse_channel(channel, "https://t.me/s/chan").entries
    assert post.published_date_only is False


def test_a_page_that_states_only_a_day_is_date_only_and_a_stated_time_wins():
    [item] = news_items(1, start=datetime(2025, 3, 12, 14, 5, tzinfo=UTC))
    timed = article_page(item)
    extracted = extract(timed, item.url, now=FETCHED)
    assert extracted is not None
    assert (extracted.published, extracted.published_date_only) == (item.published, False)
    day_only = timed.replace(item.published.isoformat(), "2025-03-12")
    extracted = extract(day_only, item.url, now=FETCHED)
    assert extracted is not None
    assert (extracted.published, extracted.published_date_only) == (DAY, True)


def test_make_article_takes_the_pages_time_of_day_over_the_feeds_bare_date():
    entry = Entry(
        url="https://news.example/a", summary="نص", published=DAY, published_date_only=True
    )
    timed = Extracted(
        title=None,
        text="نص " * 100,
        published=datetime(2025, 3, 12, 11, 30, tzinfo=UTC),
        language="ar",
    )
    article = make_article("Outlet", entry, timed, FETCHED)
    assert (article.published, article.published_date_only) == (timed.published, False)
    other_day = replace(timed, published=datetime(2025, 2, 1, 9, 0, tzinfo=UTC))
    article = make_article("Outlet", entry, other_day, FETCHED)
    assert (article.published, article.published_date_only) == (DAY, True)
    article = make_article("Outlet", entry, None, FETCHED)
    assert (article.published, article.published_date_only) == (DAY, True)


# --- stored and shown ----------------------------------------------------------------------


def _record(store, url: str, published: datetime | None, date_only: bool):
    item = replace(
        article(url, title=f"خبر {url[-1]}", published=published, fetched=FETCHED),
        published_date_only=date_only,
    )
    snippet = Snippet("استقبل السيسي ناريشكين", ((14, 22),)).to_json()
    recipient = Recipient("console", "stdout")
    outcome = store.record_item(
        NewItem(item, url, None, None, ["Naryshkin"], snippet, [recipient]), FETCHED
    )
    return outcome


def test_the_store_keeps_date_only_and_the_alert_and_recap_show_the_date_alone(store):
    day = _record(store, "https://news.example/1", DAY, True)
    timed = _record(
        store, "https://news.example/2", datetime(2025, 3, 12, 11, 5, tzinfo=UTC), False
    )
    unknown = _record(store, "https://news.example/3", None, False)
    assert store.story(day.story_id).published_date_only is True
    assert store.story(timed.story_id).published_date_only is False
    assert store.item_outlet(day.seen_item_id).date_only is True
    assert store.item_outlet(unknown.seen_item_id).date_only is False  # first seen: a time
    alerts = {
        o.story_id: alert_for(store, store.outbox_row(o.outbox_ids[0]))
        for o in (day, timed, unknown)
    }
    shown = {sid: format_alert(a, NEW_YORK).splitlines()[2] for sid, a in alerts.items()}
    # The day as the outlet gave it, not 2025-03-11 19:00 in New York.
    assert shown[day.story_id] == "  \u2068Ahram\u2069 · 2025-03-12"
    assert shown[timed.story_id] == "  \u2068Ahram\u2069 · 2025-03-12 07:05 (America/New_York)"
    assert shown[unknown.story_id] == "  \u2068Ahram\u2069 · 2025-03-12 11:00 (America/New_York)"
    message = alert_message(
        alerts[day.story_id], CAIRO, sender="a@b.org", to="c@d.org", now=FETCHED
    )
    for part in message.iter_parts():
        body = part.get_content()
        assert "2025-03-12" in body and "02:00" not in body and "00:00" not in body
    start, end = FETCHED - timedelta(days=1), FETCHED + timedelta(hours=1)
    recap = build_recap(store, start, end, CAIRO, date_key="2025-03-12")
    lines = recap_text(recap).splitlines()
    assert "Ahram · 2025-03-12" in lines
    assert "Ahram · 13:05" in lines
