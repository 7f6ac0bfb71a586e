"""Three `alertbot run` workers on one PostgreSQL store, end to end on loopback: 50 feeds
of real corpus articles, the Bot API stand-in, and two workers killed with SIGKILL, one in
the middle of polling (the bot's holder) and one in the middle of sending alerts.

Every article is recorded, every matching story alerted, and at most one alert per crash
repeated; the Telegram role moves to a surviving worker, which answers commands; the
killed workers come back and share the work again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from testsupport.botapi import TOKEN, BotApi
from testsupport.httpserver import LocalServer
from testsupport.processes import Child, alertbot_process
from testsupport.sourcefixtures import news_items, rss

FEEDS = 50
PER_FEED = 4
ADMIN = 111
DESK = -100500
WATCH = "مصر"  # Egypt: about a third of the articles


def _wait(what: str, check: Callable[[], object], timeout: float) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class Desk:
    """The PostgreSQL store as the test reads it."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)

    def value(self, sql: str, *params: object) -> object:
        row = self.conn.execute(sql, params or None).fetchone()
        return None if row is None else row[0]

    def rows(self, sql: str) -> list[tuple]:
        return self.conn.execute(sql).fetchall()

    def workers(self) -> dict[int, list[str]]:
        """Live workers by pid: their roles."""
        since = (datetime.now(UTC) - timedelta(seconds=15)).isoformat(timespec="microseconds")
        rows = self.conn.execute(
            "SELECT pid, roles FROM workers WHERE heartbeat >= %s", (since,)
        ).fetchall()
        import json

        return {pid: json.loads(roles) for pid, roles in rows}


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


def _serve_feeds(site: LocalServer) -> int:
    """FEEDS feeds of PER_FEED corpus articles each, whole text, published in the last
    hours; how many articles."""
    base = site.url("/site")
    start = datetime.now(UTC) - timedelta(minutes=5)
    items = news_items(FEEDS * PER_FEED, base_url=base, start=start, step=timedelta(minutes=1))
    for n in range(FEEDS):
        chunk = items[n * PER_FEED : (n + 1) * PER_FEED]
        # A little slow, as real outlets are: the polls of the first minute overlap.
        site.route(
            f"/feed/{n}.xml",
            rss(chunk, base_url=base, full_text=True, title=f"Outlet {n}"),
            headers={"Content-Type": "application/rss+xml"},
            delay=0.3,
        )
    return len(items)


def _config(path: Path, url: str, site: LocalServer, api: BotApi) -> Path:
    sources = "".join(
        f'[[source]]\nname = "Outlet {n}"\nurl = "{site.url(f"/feed/{n}.xml")}"\n\n'
        for n in range(FEEDS)
    )
    path.write_text(
        f'database = "{url}"\n\n[polling]\ninterval = "20s"\ntimeout = "5s"\n\n'
        f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api.url}"\nadmins = [{ADMIN}]\n'
        f"alert_chats = [{DESK}]\n\n{sources}"
        f'[[watch]]\nname = "Egypt"\nquery = "{WATCH}"\n',
        encoding="utf-8",
    )
    return path


def test_three_workers_share_the_work_and_survive_two_crashes(tmp_path, postgres_server, child_env):
    url = postgres_server.fresh_database()
    with BotApi() as api, LocalServer() as site, contextlib.ExitStack() as stack:
        total = _serve_feeds(site)
        config = _config(tmp_path / "alertbot.toml", url, site, api)
        desk = Desk(url)
        children: dict[int, Child] = {}

        def start(n: int) -> Child:
            home = tmp_path / f"worker{n}"  # its own state/ folder, as on its own machine
            home.mkdir(exist_ok=True)
            child = stack.enter_context(
                alertbot_process(["run", "--config", str(config)], child_env, home)
            )
            children[child.proc.pid] = child
            return child

        def kill(pid: int) -> None:
            os.killpg(pid, signal.SIGKILL)
            children[pid].proc.wait()
            del children[pid]

        # Sending is slow enough that a worker can be caught in the middle of it.
        for _ in range(200):
            api.delay_next("sendMessage", 0.3)
        for n in range(3):
            start(n)
        for child in list(children.values()):
            assert child.err.wait_for(lambda lines: any("worker " in li for li in lines), 120), str(
                child.err
            )

        # 1. The bot's holder is killed in the middle of polling.
        holders = _wait(
            "a worker holding the bot",
            lambda: [pid for pid, roles in desk.workers().items() if "bot" in roles],
            60,
        )
        assert len(holders) == 1
        _wait("polling under way", lambda: desk.value("SELECT count(*) FROM seen_items"), 60)
        kill(holders[0])
        recorded_at_crash = desk.value("SELECT count(*) FROM seen_items")
        assert recorded_at_crash < total, "the polls finished before the crash: too fast"

        # The role moves to a survivor within seconds, which answers a command.
        new_holder = _wait(
            "the bot to move",
            lambda: [p for p, roles in desk.workers().items() if "bot" in roles and p in children],
            30,
        )
        assert new_holder[0] != holders[0]
        api.send_text(ADMIN, "/start")
        _wait("an answer to /start", lambda: api.sent(ADMIN), 30)

        # 2. A worker is killed in the middle of sending.
        def sender() -> list[int]:
            since = datetime.now(UTC).isoformat(timespec="microseconds")
            rows = desk.rows(
                "SELECT DISTINCT claimed_by FROM outbox WHERE state = 'pending'"
                f" AND claimed_until >= '{since}'"
            )
            pids = [int(r[0].split(":")[1]) for r in rows if r[0]]
            return [p for p in pids if p in children]

        senders = _wait("a worker sending alerts", sender, 60)
        kill(senders[0])
        crashes = 2

        # Both come back.
        start(3)
        start(4)

        _wait(
            "every article recorded",
            lambda: desk.value("SELECT count(*) FROM seen_items") == total,
            120,
        )
        _wait(
            "every alert sent",
            lambda: (
                desk.value("SELECT count(*) FROM outbox WHERE state <> 'sent'") == 0
                and desk.value("SELECT count(*) FROM outbox") > 0
            ),
            150,
        )

        # Every matching story alerted, once, but for at most one message per crash sent
        # again (a worker killed between a send and its mark; a grouped backlog message
        # stands for several stories, and is repeated whole).
        stories = dict(
            desk.rows(
                "SELECT DISTINCT s.id, s.url FROM stories s JOIN outbox o ON o.story_id = s.id"
            )
        )
        told: list[set[int]] = []
        for message in api.sent(DESK):
            # (quoted: one story's URL may begin another's, as ".../x-12" and ".../x-123")
            told.append({sid for sid, u in stories.items() if f'href="{u}"' in message.html})
        assert set().union(*told) == set(stories), "a matching story was never alerted"
        repeated = [n for n, ids in enumerate(told) if ids and ids <= set().union(*told[:n])]
        assert len(repeated) <= crashes, [sorted(ids) for ids in told]
        assert Counter(len(ids) for ids in told)[0] == 0  # every message is about a story
        assert desk.value("SELECT count(*) FROM outbox WHERE state = 'failed'") == 0
        # Recorded once: no article twice, and one story per event.
        assert desk.value("SELECT count(DISTINCT canonical_url) FROM seen_items") == total

        # The workers share the sources again, and the store says who holds what.
        live = _wait("three live workers", lambda: len(desk.workers()) == 3 and desk.workers(), 30)
        assert sum("bot" in roles for roles in live.values()) == 1

        def leased_to_the_living() -> bool:
            pids = [int(w.split(":")[1]) for (w,) in desk.rows("SELECT worker FROM source_leases")
                    if w]  # fmt: skip
            return len(pids) == FEEDS and set(pids) <= set(children)

        _wait("every source leased to a live worker", leased_to_the_living, 60)
        for child in list(children.values()):
            assert "Traceback" not in str(child.err), str(child.err)
        desk.conn.close()
