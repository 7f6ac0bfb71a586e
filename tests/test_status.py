"""`alertbot status`: what it prints from a real store file, times in the config's zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alertbot.config import Config, PollingConfig, SourceConfig, TelegramConfig
from alertbot.sources.health import SourceHealth
from alertbot.sources.model import Skipped, Validators
from alertbot.status import render_status
from alertbot.store import NewItem, RecapDelivery, Recipient, Store
from alertbot.watch.match import Watch
from testsupport.storefixtures import NOW, article

pytestmark = pytest.mark.both_engines

CAIRO = ZoneInfo("Africa/Cairo")  # UTC+2 in March


def config(db: Path, **changes) -> Config:
    base = Config(
        path=Path("config/alertbot.toml"),
        timezone=CAIRO,
        database=db,
        retention=30 * 86400,
        polling=PollingConfig(),
        telegram=None,
        email=None,
        sources=(
            SourceConfig("BBC Arabic", "https://feeds.bbci.co.uk/arabic/rss.xml"),
            SourceConfig("Ahram", "https://ahram.example/", type="page"),
        ),
        watches=(Watch("Naryshkin", "ناريشكين OR Naryshkin"),),
    )
    return replace(base, **changes)


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_an_empty_store(store, tmp_path):
    out = render_status(config(tmp_path / "alertbot.db", sources=(), watches=()), store, NOW)
    assert "config:   config/alertbot.toml" in out
    assert f"database: {tmp_path / 'alertbot.db'} (schema {store.schema_version()})" in out
    assert "now:      2025-03-01 14:00 Africa/Cairo" in out
    assert "Outbox: 0 pending" in lines(out)
    assert "Last recap: never" in lines(out)
    assert "Chats (0)" in lines(out)


def test_stored_outside_text_cannot_reach_the_terminal(store: Store, tmp_path):
    """A chat title, a chat's watch and a server's reply as an older alertbot stored them,
    escapes and overrides included: status prints them without, its layout intact."""
    store.upsert_chat(-100, "group", "Desk\x1b[2J\x1b]0;pwned\x07\u202e", NOW)
    store.add_watch(-100, "w\x1b[31m", "غزة", NOW)
    out = render_status(config(tmp_path / "alertbot.db"), store, NOW)
    for c in ("\x1b", "\x07", "\u202e"):
        assert c not in out
    assert "  chat -100 (Desk):" in out.splitlines()
    assert "    w: غزة" in out.splitlines()


def test_everything_an_operator_looks_for(store: Store, tmp_path):
    bbc = SourceHealth(
        last_success=NOW - timedelta(hours=2),
        last_attempt=NOW,
        last_error_kind="http-status",
        last_error="HTTP 404",
        consecutive_failures=3,
        next_poll=NOW + timedelta(minutes=40),
    )
    store.save_source_state("BBC Arabic", "https://bbc.example/rss", bbc, Validators())
    ok = SourceHealth(
        last_success=NOW,
        last_attempt=NOW,
        next_poll=NOW + timedelta(minutes=5),
        skipped=Skipped(no_link=3),
        waiting=9500,
    )
    store.save_source_state("Old outlet", "https://old.example/rss", ok, Validators())
    store.upsert_chat(-100123, "supergroup", "Desk", NOW)
    store.upsert_chat(42, "private", None, NOW + timedelta(minutes=1))
    store.add_watch(-100123, "Dabaa", "الضبعة", NOW)
    store.add_watch(42, "Gaza", "غزة", NOW)
    desk, mail = Recipient("telegram", "-100123"), Recipient("email", "desk@example.org")
    outcome = store.record_item(
        NewItem(article(), "hash-1", None, None, ["Naryshkin"], "يستقبل ناريشكين", [desk, mail]),
        NOW,
    )
    failed_id, _ = outcome.outbox_ids
    assert store.mark_failed(failed_id, "HTTP 400: chat not found", NOW + timedelta(minutes=3))
    recap_at = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
    store.record_recap("2025-02-28", recap_at, [RecapDelivery("desk@example.org")])

    out = lines(render_status(config(tmp_path / "alertbot.db"), store, NOW))

    assert "Sources (2)" in out
    assert "BBC Arabic [feed] https://feeds.bbci.co.uk/arabic/rss.xml" in out
    assert "failing ×3: http-status: HTTP 404 (next try 2025-03-01 14:40)" in out
    assert "Ahram [page] https://ahram.example/" in out
    assert out[out.index("Ahram [page] https://ahram.example/") + 1] == "not polled yet"
    assert "Old outlet (not in config): ok (last success 2025-03-01 14:00)" in out
    assert out[out.index("Old outlet (not in config): ok (last success 2025-03-01 14:00)") + 1] == (
        "last poll: 3 entries without a link skipped; 9,500 entries waiting"
    )
    assert out[out.index("BBC Arabic [feed] https://feeds.bbci.co.uk/arabic/rss.xml") + 2] == (
        "Ahram [page] https://ahram.example/"
    )  # nothing left out: no line
    assert "Naryshkin: ناريشكين OR Naryshkin" in out
    assert out[out.index("chat -100123 (Desk):") + 1] == "Dabaa: الضبعة"
    assert out[out.index("chat 42:") + 1] == "Gaza: غزة"
    assert "Chats (2)" in out
    assert "-100123 supergroup Desk (last seen 2025-03-01 14:00)" in out
    assert "42 private - (last seen 2025-03-01 14:01)" in out
    assert "Outbox: 1 pending" in out
    story = store.outbox_row(failed_id).story_id
    assert (
        f"#{failed_id} telegram -100123 story {story} failed 2025-03-01 14:03:"
        " HTTP 400: chat not found"
    ) in out
    assert "Last recap: 2025-02-28 (sent 2025-03-01 08:00)" in out


def test_several_workers_on_postgresql_are_listed_with_what_each_holds(store, tmp_path):
    bot = TelegramConfig(token="1:x", admins=(5,))
    shared = config(
        tmp_path / "alertbot.db", database_url="postgresql://alertbot:pw@db/alerts", telegram=bot
    )
    store.beat("alpha:11:ab", "alpha", 11, NOW - timedelta(hours=1), ["bot"], NOW)
    store.beat("beta:22:cd", "beta", 22, NOW - timedelta(hours=1), [], NOW)
    store.beat("gone:33:ef", "gone", 33, NOW - timedelta(days=1), ["bot"], NOW - timedelta(hours=2))
    store.claim_source("bbc arabic", "alpha:11:ab", NOW, NOW + timedelta(minutes=10))
    store.claim_source("ahram", "beta:22:cd", NOW, NOW + timedelta(minutes=10))
    out = lines(render_status(shared, store, NOW))
    assert "database: postgresql://alertbot:***@db/alerts (schema 9)" in out
    assert "Workers (2 live)" in out
    alpha = out.index("alpha:11:ab (since 2025-03-01 13:00, last heard 2025-03-01 14:00)")
    assert out[alpha + 1] == "roles: bot; sources leased: 1 (bbc arabic)"
    assert "roles: none; sources leased: 1 (ahram)" in out
    assert not any("gone:33" in line for line in out)
    # Nobody holding the bot is said, since nobody then answers commands.
    store.beat("alpha:11:ab", "alpha", 11, NOW - timedelta(hours=1), [], NOW)
    assert "no worker holds the Telegram bot: commands go unanswered" in lines(
        render_status(shared, store, NOW)
    )
    # SQLite: one process, no such section.
    assert not any(line.startswith("Workers") for line in lines(
        render_status(config(tmp_path / "alertbot.db"), store, NOW)))  # fmt: skip
