"""What a poll leaves out is said, never dropped silently: entries skipped (per reason)
and new entries waiting beyond the per-poll cap, in one log line per poll, in `alertbot
status` and in `alertbot check`; and a long listing is fetched once per poll, not once
per batch of entries. Real loopback sources, a real SQLite file, the real CLI."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import alertbot.scheduler
from alertbot.app import open_app
from alertbot.cli import cli
from alertbot.config import load_config
from alertbot.sources.model import Skipped
from alertbot.sources.poll import MAX_ENTRIES_PER_POLL
from alertbot.text.lemmatize import Lemmatizer
from testsupport.httpserver import LocalServer
from testsupport.sourcefixtures import NewsItem, broken_rss, news_items, rss

FEED = {"Content-Type": "application/rss+xml; charset=utf-8"}
SKIPPED = "1 entry without a link, 1 entry listed twice, 1 entry cut off by a truncated document"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


def short_items(server: LocalServer, count: int) -> list[NewsItem]:
    """`count` short items (matching a short text costs little), newest first."""
    now = datetime.now(UTC)
    return [
        NewsItem(
            f"n-{i}",
            f"نبأ رقم {i} من العاصمة",
            f"نص النبأ رقم {i} عن أحوال الطقس اليوم",
            server.url(f"/news/{i}"),
            now - timedelta(minutes=i),
            "Loop",
        )
        for i in range(count)
    ]


def write_config(tmp_path: Path, name: str, url: str) -> Path:
    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'database = "{tmp_path / "alertbot.db"}"\n'
        f'[[source]]\nname = "{name}"\nurl = "{url}"\nfull_text = false\n'
        '[[watch]]\nname = "Naryshkin"\nquery = "ناريشكين"\n',
        encoding="utf-8",
    )
    return path


def status(path: Path) -> list[str]:
    """`alertbot status`, as the CLI prints it, line by line."""
    result = CliRunner().invoke(cli, ["status", "--config", str(path)])
    assert result.exit_code == 0, result.output
    return [line.strip() for line in result.output.splitlines()]


async def test_a_long_feed_is_fetched_once_per_poll_and_recorded_whole(
    tmp_path, server, lemmatizer: Lemmatizer
):
    """Regression: each batch of 50 new entries fetched the whole listing again (a
    10,000-item feed fetched its 3.7 MB listing ten times in one poll)."""
    items = short_items(server, 130)
    server.route(
        "/rss", rss(items, full_text=True), headers={**FEED, "ETag": '"v1"'}, conditional=True
    )
    runtime = await open_app(
        load_config(write_config(tmp_path, "Big", server.url("/rss"))),
        lemmatizer,
        stdout=io.StringIO(),
    )
    async with runtime.stack:
        scheduler = runtime.scheduler
        outcome = await scheduler.poll_source(scheduler.sources["big"], force=True)
        health, validators = scheduler.store.source_state("Big")
        recorded = scheduler.store._value("SELECT count(*) FROM seen_items")
        await scheduler.shutdown()
    assert len(server.requests_to("/rss")) == 1
    assert outcome.counts.articles == recorded == 130 > 2 * MAX_ENTRIES_PER_POLL
    assert outcome.waiting == 0
    assert health.waiting == 0 and validators.etag == '"v1"'  # nothing left: kept


async def test_what_the_rounds_cap_leaves_waits_and_is_said(
    tmp_path, server, lemmatizer, monkeypatch, caplog
):
    """The per-poll cap (MAX_ROUNDS batches) stops a poll early: the rest waits for the
    next poll, which fetches the listing unconditionally; the log line and `alertbot
    status` say how many wait."""
    monkeypatch.setattr(alertbot.scheduler, "MAX_ROUNDS", 2)
    items = short_items(server, 130)
    server.route(
        "/rss", rss(items, full_text=True), headers={**FEED, "ETag": '"v1"'}, conditional=True
    )
    path = write_config(tmp_path, "Big", server.url("/rss"))
    caplog.set_level(logging.INFO, logger="alertbot.scheduler")
    runtime = await open_app(load_config(path), lemmatizer, stdout=io.StringIO())
    async with runtime.stack:
        scheduler = runtime.scheduler
        big = scheduler.sources["big"]
        first = await scheduler.poll_source(big, force=True)
        assert (first.counts.articles, first.waiting) == (100, 30)
        assert len(server.requests_to("/rss")) == 1
        health, validators = scheduler.store.source_state("Big")
        assert health.waiting == 30 and validators.etag is None  # a 304 must not hide them
        assert [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()] == [
            "source 'Big': 30 new entries waiting for the next polls"
        ]
        out = status(path)
        assert out[out.index(f"Big [feed] {server.url('/rss')}") + 2] == (
            "last poll: 30 entries waiting"
        )

        second = await scheduler.poll_source(big, force=True)
        assert (second.counts.articles, second.waiting) == (30, 0)
        assert "if-none-match" not in server.requests_to("/rss")[1].headers
        assert scheduler.store.source_state("Big")[1].etag == '"v1"'
        third = await scheduler.poll_source(big, force=True)
        assert third.not_modified
        await scheduler.shutdown()
    assert "entries waiting" not in "\n".join(status(path))


async def test_skipped_entries_are_logged_once_per_poll_and_shown_by_status(
    tmp_path, server, lemmatizer, caplog
):
    """Regression: items without a link, repeated items and a cut last item vanished
    silently; `alertbot status` said only "ok"."""
    items = news_items(4, base_url=server.url("").rstrip("/"), start=datetime.now(UTC))
    server.route("/rss", broken_rss(items, base_url=server.url("").rstrip("/")), headers=FEED)
    path = write_config(tmp_path, "Broken", server.url("/rss"))
    caplog.set_level(logging.INFO, logger="alertbot.scheduler")
    runtime = await open_app(load_config(path), lemmatizer, stdout=io.StringIO())
    async with runtime.stack:
        scheduler = runtime.scheduler
        outcome = await scheduler.poll_source(scheduler.sources["broken"], force=True)
        health, validators = scheduler.store.source_state("Broken")
        await scheduler.shutdown()
    assert outcome.error is None and outcome.counts.articles == 2
    assert outcome.left_out == Skipped(no_link=1, duplicate=1, cut=1)
    lines = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert lines == [f"source 'Broken': {SKIPPED} skipped"]
    assert health.skipped == outcome.left_out and validators.etag is None
    out = status(path)
    at = out.index(f"Broken [feed] {server.url('/rss')}")
    assert out[at + 1].startswith("ok (last success")
    assert out[at + 2] == f"last poll: {SKIPPED} skipped"


def test_check_prints_what_each_source_skips(tmp_path, server):
    """`alertbot check` (the real command) names the entries it would skip."""
    items = news_items(4, base_url=server.url("").rstrip("/"))
    server.route("/rss", broken_rss(items, base_url=server.url("").rstrip("/")), headers=FEED)
    path = write_config(tmp_path, "Broken", server.url("/rss"))
    result = CliRunner().invoke(cli, ["check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert f"ok   source Broken: 2 entries; {SKIPPED} skipped ({server.url('/rss')})" in (
        result.output.splitlines()
    )
