"""A hung source does not delay the others' alerts, and a poll that outlives its deadline
is abandoned and recorded as a timeout."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import alertbot.scheduler
from alertbot.app import open_app
from alertbot.config import Config, SourceConfig, load_config
from alertbot.notify import ConsoleNotifier
from alertbot.notify.alert import Alert
from alertbot.sources.model import FetchErrorKind
from alertbot.text.lemmatize import Lemmatizer
from alertbot.watch.match import Matcher
from testsupport.httpserver import LocalServer
from testsupport.sourcefixtures import NewsItem, article_page, news_items, rss

FEED_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8"}
GOOD_IDS = ("ant-1", "ant-2", "ant-9", "ant-10")  # ant-2 and ant-9 mention Egypt


class RecordingConsole:
    """The console notifier, noting when each alert was delivered."""

    channel = "console"

    def __init__(self, stream: io.StringIO) -> None:
        self._console = ConsoleNotifier(ZoneInfo("UTC"), stream)
        self.delivered: list[tuple[float, str]] = []  # (time.monotonic(), url)

    async def send(self, alert: Alert) -> str | None:
        """Print the alert, then note the time."""
        ref = await self._console.send(alert)
        self.delivered.append((time.monotonic(), alert.url))
        return ref


def write_config(path: Path, sources: Sequence[tuple[str, str]]) -> Config:
    """A two-second fetch timeout, the given sources, one watch (مصر)."""
    lines = [f"database = {json.dumps(str(path.parent / 'alertbot.db'))}", ""]
    lines += ["[polling]", 'timeout = "2s"', ""]
    for name, url in sources:
        lines += ["[[source]]", f"name = {json.dumps(name)}", f"url = {json.dumps(url)}", ""]
    lines += ["[[watch]]", 'name = "Egypt"', 'query = "مصر"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return load_config(path)


def serve_good(server: LocalServer) -> list[NewsItem]:
    """An outlet with a teaser feed at /good/rss.xml and its article pages."""
    base = server.url("/good")
    items = news_items(ids=GOOD_IDS, base_url=base, arabic_slugs=False,
                       start=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
    server.route("/good/rss.xml", rss(items, base_url=base), headers=FEED_HEADERS)
    for item in items:
        server.route(item.path, article_page(item, base_url=base).encode(), headers=PAGE_HEADERS)
    return items


async def test_hung_source_does_not_delay_other_sources_alerts(
    tmp_path: Path, lemmatizer: Lemmatizer
) -> None:
    """Pins that the scheduled job of a good source delivers its alerts while another
    source's fetch hangs, long before that fetch times out."""
    with LocalServer() as server:
        server.hang("/feed")
        items = serve_good(server)
        config = write_config(
            tmp_path / "alertbot.toml",
            [("Hung", server.url("/feed")), ("Good", server.url("/good/rss.xml"))],
        )
        hung, good = config.sources
        # Also warms the lemmatizer's analyses, so the good poll is quick.
        matcher = Matcher(config.watches, lemmatizer)
        expected = {i.url for i in items if matcher.match_article(i.plain_title, i.plain_text)}
        assert len(expected) >= 2
        out = io.StringIO()
        recorder = RecordingConsole(out)
        runtime = await open_app(config, lemmatizer, notifiers={"console": recorder})
        async with runtime.stack:
            app = runtime.scheduler

            async def timed(source: SourceConfig) -> float:
                await app.poll_and_dispatch(app.sources[source.name.casefold()])
                return time.monotonic()

            started = time.monotonic()
            good_done, hung_done = await asyncio.gather(timed(good), timed(hung))
            await app.shutdown()
            hung_health, _ = app.store.source_state("Hung")
            good_health, _ = app.store.source_state("Good")

    assert {url for _, url in recorder.delivered} == expected
    assert len(recorder.delivered) == len(expected)
    for url in expected:
        assert url in out.getvalue()
    # The hung fetch gives up after the 2 s timeout; the good alerts were out before it did
    # (an order of events, not a margin of wall-clock time, which a loaded machine stretches).
    assert hung_done - started >= 1.9
    last_alert = max(at for at, _ in recorder.delivered)
    assert last_alert <= good_done < hung_done, (
        f"good alerts at {last_alert - started:.2f} s, hung poll ended at"
        f" {hung_done - started:.2f} s"
    )
    assert hung_health.consecutive_failures == 1
    assert hung_health.last_error_kind == FetchErrorKind.TIMEOUT
    assert good_health.consecutive_failures == 0


async def test_poll_past_its_deadline_is_abandoned_as_timeout(
    tmp_path: Path, lemmatizer: Lemmatizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins `poll_deadline`: a poll whose article pages hang is abandoned at the deadline
    and recorded as a TIMEOUT failure of its source, while another source still alerts."""
    monkeypatch.setattr(alertbot.scheduler, "poll_deadline", lambda config: 0.5)
    with LocalServer() as server:
        items = serve_good(server)
        slow_base = server.url("/slow")
        slow_items = news_items(ids=["ant-15"], base_url=slow_base, arabic_slugs=False,
                                start=datetime.now(UTC))  # fmt: skip
        feed = rss(slow_items, base_url=slow_base)
        server.route("/slow/rss.xml", feed, headers=FEED_HEADERS)
        for item in slow_items:
            server.hang(item.path)
        config = write_config(
            tmp_path / "alertbot.toml",
            [("Slow pages", server.url("/slow/rss.xml")), ("Good", server.url("/good/rss.xml"))],
        )
        slow, good = config.sources
        matcher = Matcher(config.watches, lemmatizer)
        expected = {i.url for i in items if matcher.match_article(i.plain_title, i.plain_text)}
        out = io.StringIO()
        runtime = await open_app(config, lemmatizer, stdout=out)
        async with runtime.stack:
            app = runtime.scheduler
            started = time.monotonic()

            async def timed_slow() -> float:
                await app.poll_and_dispatch(app.sources[slow.name.casefold()])
                return time.monotonic() - started

            elapsed, _ = await asyncio.gather(
                timed_slow(), app.poll_and_dispatch(app.sources[good.name.casefold()])
            )
            await app.shutdown()
            health, _ = app.store.source_state("Slow pages")
            assert not app.store.is_seen_entry(slow_items[0].url, None, "Slow pages")
        assert len(server.requests_to(slow_items[0].path)) == 1

    # The 0.5 s deadline, not the 2 s fetch timeout, ended the poll: its error says so.
    assert elapsed >= 0.5
    assert health.consecutive_failures == 1
    assert health.last_error_kind == FetchErrorKind.TIMEOUT
    assert health.last_error == "poll did not finish within 0.5 s; abandoned"
    for url in expected:
        assert url in out.getvalue()
