"""The recap: stories alerted in a period from a real store, grouped by watch, and rendered."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alertbot.notify.layout import FSI, PDI
from alertbot.notify.telegram_html import TELEGRAM_LIMIT, visible_length
from alertbot.recap.build import Recap, RecapSection, RecapStory, build_recap, day_bounds
from alertbot.recap.render import (
    recap_message,
    recap_subject,
    recap_telegram_html,
    recap_text,
    sparkline,
)
from alertbot.sources.model import Article
from alertbot.store import NewItem, Recipient
from alertbot.watch.snippet import Snippet
from testsupport.storefixtures import article as stored_article

pytestmark = pytest.mark.both_engines

CAIRO = ZoneInfo("Africa/Cairo")  # UTC+2 in March 2025
DAY = "2025-03-01"

ALICE = Recipient("telegram", "111", ("Naryshkin",))
BOB = Recipient("telegram", "222", ("Dabaa",))
CAROL = Recipient("telegram", "333", ("Dabaa",))
DESK = Recipient("email", "desk@example.org")

FIRST_QUOTE = Snippet("استقبل الرئيس السيسي ناريشكين اليوم", ((21, 29),))
JOIN_QUOTE = Snippet("محطة الضبعة النووية", ((5, 11),))
QUOTE = Snippet("quote", ((0, 5),))


def follows(recipient: Recipient, *watches: str) -> Recipient:
    """The recipient as the pipeline passes it: with the matched watches it follows."""
    return Recipient(recipient.channel, recipient.address, watches)


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def article(url: str, source: str, title: str, published: datetime | None = None) -> Article:
    return stored_article(url, source, text=title, title=title, fetched=at(0), published=published)


def record(store, url, source, title, watches, recipients, now, *, story_id=None, snippet=""):
    return store.record_item(
        NewItem(
            article(url, source, title),
            content_hash=url,
            fingerprint=None,
            story_id=story_id,
            watches=watches,
            snippet=snippet,
            recipients=recipients,
        ),
        now=now,
    )


@pytest.fixture
def alerted(store):
    """A day of alerts in Cairo: story ids by name.

    naryshkin: Ahram 08:00 (Alice, desk), joined by Youm7 09:00 (Bob's first row, for
      Dabaa), by Youm7 again 09:30 (Carol, no quote), by Shorouk after the day.
    dabaa: Masry 10:00 (desk; the row then failed).
    gaza: SIS 11:00 (Bob, for Gaza; held for a muted chat).
    before/after: rows on the days either side.
    """
    first = record(
        store, "https://ahram.example/1", "Ahram", "السيسي يستقبل ناريشكين", ["Naryshkin"],
        [ALICE, DESK], at(8), snippet=FIRST_QUOTE.to_json(),
    )  # fmt: skip
    sid = first.story_id
    record(
        store, "https://youm7.example/1", "Youm7", "ناريشكين في القاهرة", ["Naryshkin", "Dabaa"],
        [ALICE, DESK, BOB], at(9), story_id=sid, snippet=JOIN_QUOTE.to_json(),
    )  # fmt: skip
    record(
        store, "https://youm7.example/2", "Youm7", "ناريشكين والضبعة", ["Dabaa"],
        [CAROL], at(9, 30), story_id=sid,
    )  # fmt: skip
    dabaa = record(
        store, "https://masry.example/1", "Masry", "الضبعة", ["Dabaa"], [DESK], at(10),
        snippet="plain quote",
    )  # fmt: skip
    store.mark_failed(dabaa.outbox_ids[0], "smtp down", at(10, 5))
    gaza = record(
        store, "https://sis.example/1", "SIS", "غزة", ["Gaza"], [follows(BOB, "Gaza")], at(11),
        snippet="هدنة",
    )  # fmt: skip
    store.mark_sent(gaza.outbox_ids[0], at(11), message_ref="held")
    before = record(
        store, "https://old.example/1", "Old", "قبل", ["Gaza"], [DESK],
        datetime(2025, 2, 28, 21, 59, tzinfo=UTC),  # 23:59 in Cairo
    )  # fmt: skip
    after = record(
        store, "https://new.example/1", "New", "بعد", ["Gaza"], [DESK, follows(BOB, "Gaza")],
        at(22),  # midnight in Cairo
    )  # fmt: skip
    record(store, "https://shorouk.example/1", "Shorouk", "ناريشكين", ["Naryshkin"], [DESK],
           at(23), story_id=sid)  # fmt: skip
    return {
        "naryshkin": sid,
        "dabaa": dabaa.story_id,
        "gaza": gaza.story_id,
        "before": before.story_id,
        "after": after.story_id,
    }


def day_recap(store, **kwargs) -> Recap:
    start, end = day_bounds(DAY, CAIRO)
    return build_recap(store, start, end, CAIRO, **kwargs)


def shape(recap: Recap) -> list[tuple[str, list[int]]]:
    return [(s.watch, [story.story_id for story in s.stories]) for s in recap.sections]


# --- building ------------------------------------------------------------------------------


def test_stories_are_grouped_by_watch_most_stories_first_newest_first(store, alerted):
    recap = day_recap(store)
    assert recap.date_key == DAY
    assert shape(recap) == [
        ("Dabaa", [alerted["dabaa"], alerted["naryshkin"]]),
        ("Gaza", [alerted["gaza"]]),
        ("Naryshkin", [alerted["naryshkin"]]),
    ]
    # The story under two watches counts once; outlets are Ahram, Youm7, Masry, SIS.
    assert (recap.story_count, recap.outlet_count) == (3, 4)
    assert not recap.empty


def test_outlets_are_in_order_once_each_and_known_by_the_end(store, alerted):
    recap = day_recap(store)
    naryshkin = recap.sections[-1].stories[0]
    assert naryshkin.outlets == ("Ahram", "Youm7")  # Shorouk came the next day
    assert naryshkin.title == "السيسي يستقبل ناريشكين"
    assert naryshkin.url == "https://ahram.example/1"
    assert naryshkin.first_seen == at(8)
    assert naryshkin.watches == ("Naryshkin", "Dabaa")
    next_day = build_recap(store, *day_bounds("2025-03-02", CAIRO), CAIRO)
    assert [s.outlets for s in next_day.sections[0].stories] == [("New",)]


def test_rows_outside_the_window_are_left_out(store, alerted):
    ids = {story.story_id for s in day_recap(store).sections for story in s.stories}
    assert alerted["before"] not in ids
    assert alerted["after"] not in ids
    previous = build_recap(store, *day_bounds("2025-02-28", CAIRO), CAIRO)
    assert shape(previous) == [("Gaza", [alerted["before"]])]


def test_held_and_failed_rows_still_count(store, alerted):
    ids = {story.story_id for s in day_recap(store).sections for story in s.stories}
    assert {alerted["gaza"], alerted["dabaa"]} <= ids


def test_a_recipient_sees_only_its_rows_and_their_watches(store, alerted):
    alice = day_recap(store, recipient=("telegram", "111"))
    assert shape(alice) == [("Naryshkin", [alerted["naryshkin"]])]
    assert (alice.story_count, alice.outlet_count) == (1, 2)
    bob = day_recap(store, recipient=("telegram", "222"))
    assert shape(bob) == [("Dabaa", [alerted["naryshkin"]]), ("Gaza", [alerted["gaza"]])]
    # The same address on another channel is someone else.
    assert day_recap(store, recipient=("email", "111")).empty


def test_the_quote_is_the_rows_and_falls_back_to_the_storys(store, alerted):
    everyone = day_recap(store)
    assert everyone.sections[-1].stories[0].snippet == FIRST_QUOTE  # Alice's row, the first
    bob = day_recap(store, recipient=("telegram", "222"))
    assert bob.sections[0].stories[0].snippet == JOIN_QUOTE
    carol = day_recap(store, recipient=("telegram", "333"))
    assert carol.sections[0].stories[0].snippet == FIRST_QUOTE  # her row had none
    dabaa = everyone.sections[0].stories[0]
    assert dabaa.snippet == Snippet("plain quote")  # stored as plain text


def test_a_day_with_nothing_is_empty(store, alerted):
    recap = build_recap(store, *day_bounds("2025-03-05", CAIRO), CAIRO)
    assert recap.empty
    assert (recap.sections, recap.story_count, recap.outlet_count) == ((), 0, 0)
    assert recap_subject(recap) == "alertbot recap 2025-03-05: nothing matched"
    assert recap_text(recap) == (
        "Nothing matched your watches between 2025-03-05 00:00 and 2025-03-06 00:00 (Africa/Cairo)."
    )
    assert "Nothing matched your watches" in recap_telegram_html(recap)


def test_the_date_key_is_the_local_date_of_the_start(store):
    # 23:30 UTC on 28 February is already 1 March in Cairo.
    recap = build_recap(store, datetime(2025, 2, 28, 23, 30, tzinfo=UTC), at(23, 30), CAIRO)
    assert recap.date_key == DAY
    assert build_recap(store, at(0), at(1), CAIRO, date_key="2025-02-20").date_key == "2025-02-20"


# --- day bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "date_key", "hours", "start", "local_start"),
    [
        ("Europe/Berlin", "2025-03-30", 23, datetime(2025, 3, 29, 23, tzinfo=UTC), "00:00"),
        ("Europe/Berlin", "2025-10-26", 25, datetime(2025, 10, 25, 22, tzinfo=UTC), "00:00"),
        ("Europe/Berlin", "2025-03-01", 24, datetime(2025, 2, 28, 23, tzinfo=UTC), "00:00"),
        ("Africa/Cairo", "2025-03-01", 24, datetime(2025, 2, 28, 22, tzinfo=UTC), "00:00"),
        # Egypt's summer time since 2023: midnight itself is skipped on the last Friday of
        # April, and the hour before midnight repeats on the last Thursday of October.
        ("Africa/Cairo", "2025-04-25", 23, datetime(2025, 4, 24, 22, tzinfo=UTC), "01:00"),
        ("Africa/Cairo", "2025-10-30", 25, datetime(2025, 10, 29, 21, tzinfo=UTC), "00:00"),
    ],
)
def test_day_bounds_follow_the_clock_changes(zone, date_key, hours, start, local_start):
    begin, end = day_bounds(date_key, ZoneInfo(zone))
    assert begin == start
    assert end - begin == timedelta(hours=hours)
    assert begin.utcoffset() == timedelta(0)
    assert f"{begin.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}" == f"{date_key} {local_start}"


def test_day_bounds_refuse_a_bad_date():
    with pytest.raises(ValueError):
        day_bounds("2025-02-30", CAIRO)


# --- rendering -----------------------------------------------------------------------------


def test_subject_has_the_date_and_counts(store, alerted):
    assert recap_subject(day_recap(store)) == "alertbot recap 2025-03-01: 3 stories, 3 watches"
    alice = day_recap(store, recipient=("telegram", "111"))
    assert recap_subject(alice) == "alertbot recap 2025-03-01: 1 story, 1 watch"


def test_text_has_counts_then_each_watch_and_its_stories(store, alerted):
    text = recap_text(day_recap(store))
    lines = text.splitlines()
    assert lines[0] == "Recap 2025-03-01: 3 stories from 4 outlets, 3 watches"
    assert lines[1] == "2025-03-01 00:00 – 2025-03-02 00:00 (Africa/Cairo)"
    headings = [line for line in lines if line.startswith("==")]
    assert headings == [
        "== Dabaa: 2 stories ==",
        "== Gaza: 1 story ==",
        "== Naryshkin: 1 story ==",
    ]
    entry = "\n".join(
        [
            "السيسي يستقبل ناريشكين",
            "https://ahram.example/1",
            "Ahram, Youm7 · 10:00",  # 08:00 UTC in Cairo
            f"« {FIRST_QUOTE.text} »",  # no marks in plain text
        ]
    )
    assert text.endswith(entry + "\n")
    assert "https://masry.example/1\nMasry · 12:00\n« plain quote »" in text
    assert "<" not in text


def test_text_gives_the_date_of_a_story_from_another_day():
    story = make_story(1, when=datetime(2025, 2, 27, 9, tzinfo=UTC))
    assert "Ahram · 2025-02-27 11:00" in recap_text(make_recap({"W": [story]}))


def test_html_shows_counts_watches_links_and_bold_matches(store, alerted):
    message = recap_telegram_html(day_recap(store))
    assert message.startswith("<b>Recap 2025-03-01: 3 stories from 4 outlets, 3 watches</b>")
    assert f"<b>{FSI}Dabaa{PDI}</b> — 2 stories" in message
    assert f'<a href="https://ahram.example/1">{FSI}السيسي يستقبل ناريشكين{PDI}</a>' in message
    assert f"{FSI}Ahram{PDI}, {FSI}Youm7{PDI} · {FSI}10:00{PDI}" in message
    assert "« استقبل الرئيس السيسي <b>ناريشكين</b> اليوم »" in message
    assert "more" not in message


def test_html_escapes_outside_text_and_links_only_http():
    hostile = make_story(
        1,
        title='<script>alert("x")</script> & co',
        url='https://evil.example/?a=1&b="2"',
        outlets=("A&B <i>",),
        snippet=Snippet("<b>not ours</b> & more", ((0, 3),)),
    )
    scheme = make_story(2, title="click", url="javascript:alert(1)")
    message = recap_telegram_html(make_recap({"<w>&": [hostile, scheme]}))
    assert "<script>" not in message and "<i>" not in message
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in message
    assert 'href="https://evil.example/?a=1&amp;b=&quot;2&quot;"' in message
    assert "A&amp;B &lt;i&gt;" in message
    assert "<b>&lt;b&gt;</b>not ours&lt;/b&gt; &amp; more" in message
    assert "&lt;w&gt;&amp;" in message
    assert "javascript:" not in re.findall(r'href="([^"]*)"', message)[-1]
    assert f"{FSI}javascript:alert(1){PDI}" in message
    # Only our tags remain.
    assert set(re.findall(r"</?(\w+)", message)) == {"b", "a"}


def test_html_of_300_stories_fits_and_counts_the_rest():
    start = datetime(2025, 3, 1, 8, tzinfo=UTC)
    stories = [
        make_story(i, title=f"خبر رقم {i} " + "كلمة " * 20, when=start + timedelta(minutes=i))
        for i in range(300)
    ]
    recap = make_recap({"Big": stories[:200], "Small": stories[200:]})
    message = recap_telegram_html(recap)
    assert visible_length(message) <= 3800
    shown = {int(n) for n in re.findall(r"خبر رقم (\d+)", message)}
    more = [int(n) for n in re.findall(r"… and (\d+) more", message)]
    assert len(shown) + sum(more) == 300
    # The newest of each section stay, the oldest go.
    assert 199 in shown and 299 in shown and 0 not in shown and 200 not in shown
    big, small = (len([n for n in shown if lo <= n < hi]) for lo, hi in ((0, 200), (200, 300)))
    assert abs(big - small) <= 1  # the largest section gave way first
    wide = recap_telegram_html(recap, max_chars=100_000)
    assert visible_length(wide) <= TELEGRAM_LIMIT
    assert len(wide.encode("utf-16-le")) // 2 > TELEGRAM_LIMIT  # tags are not counted


def test_html_drops_whole_sections_when_only_headings_are_left():
    recap = make_recap({f"watch {i:03}": [make_story(i)] for i in range(400)})
    message = recap_telegram_html(recap)
    assert visible_length(message) <= 3800
    assert re.search(r"… and \d+ more watches$", message)
    assert "watch 000" in message and "watch 399" not in message


def test_html_small_recap_is_whole():
    stories = [make_story(i, when=datetime(2025, 3, 1, 8 + i, tzinfo=UTC)) for i in range(3)]
    message = recap_telegram_html(make_recap({"W": stories}))
    assert "more" not in message
    titles = re.findall(r"title (\d)", html.unescape(message))
    assert titles == ["2", "1", "0"]


# --- helpers -------------------------------------------------------------------------------


def make_story(
    story_id: int,
    *,
    title: str | None = None,
    url: str | None = None,
    outlets: tuple[str, ...] = ("Ahram",),
    when: datetime = datetime(2025, 3, 1, 9, tzinfo=UTC),
    snippet: Snippet = QUOTE,
) -> RecapStory:
    return RecapStory(
        story_id=story_id,
        title=f"title {story_id}" if title is None else title,
        url=f"https://news.example/{story_id}" if url is None else url,
        outlets=outlets,
        first_seen=when,
        published=None,
        snippet=snippet,
        watches=("W",),
    )


def make_recap(sections: dict[str, list[RecapStory]]) -> Recap:
    start, end = day_bounds(DAY, CAIRO)
    ordered = tuple(
        RecapSection(name, tuple(sorted(items, key=lambda s: s.when, reverse=True)))
        for name, items in sections.items()
    )
    stories = {s.story_id for items in sections.values() for s in items}
    outlets = {o for items in sections.values() for s in items for o in s.outlets}
    return Recap(DAY, start, end, CAIRO, ordered, len(stories), len(outlets))


def test_a_follow_up_is_listed_under_its_story_and_each_watch_shows_14_days(store):
    desk = follows(DESK, "Naryshkin")
    earlier = record(store, "https://a.example/1", "Ahram", "ناريشكين يصل القاهرة", ["Naryshkin"],
                     [desk], at(9))  # fmt: skip
    store.record_item(
        NewItem(article("https://s.example/2", "Sky", "ناريشكين يغادر القاهرة"), "u2", None, None,
                ["Naryshkin"], "", [desk], related_to=earlier.story_id),
        at(15),
    )  # fmt: skip
    record(store, "https://a.example/0", "Ahram", "ناريشكين في موسكو", ["Naryshkin"], [desk],
           datetime(2025, 2, 26, 10, 0, tzinfo=UTC))  # fmt: skip
    start, end = day_bounds(DAY, CAIRO)
    recap = build_recap(store, start, end, CAIRO, date_key=DAY)
    (section,) = recap.sections
    assert section.count == 2 and recap.story_count == 2
    (story,) = section.stories
    assert story.title == "ناريشكين يصل القاهرة"
    assert [f.title for f in story.follow_ups] == ["ناريشكين يغادر القاهرة"]
    days = recap.trends["Naryshkin"]
    assert len(days) == 14 and days[-1] == 2 and days[-4] == 1 and sum(days) == 3
    text = recap_text(recap)
    assert "↳ related: ناريشكين يغادر القاهرة" in text
    assert "▁▁▁▁▁▁▁▁▁▁▃▁▁▇ 3 in 14 days" in text
    telegram = recap_telegram_html(recap)
    assert "↪️ ناريشكين يغادر القاهرة" in html.unescape(re.sub("<[^>]+>", "", telegram))
    assert f"{FSI}▁▁▁▁▁▁▁▁▁▁▃▁▁▇ 3 in 14 days{PDI}" in telegram
    mail = recap_message(recap, sender="a@b.org", to="c@d.org", now=end)
    body = mail.get_body(("html",)).get_content()
    assert 'dir="ltr">▁▁▁▁▁▁▁▁▁▁▃▁▁▇ 3 in 14 days</bdi>' in body
    assert "margin-right:24px" in body


def test_sparkline_scales_to_the_busiest_day():
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▂▃▇"
