"""Roles among workers on one PostgreSQL store (alertbot.workers): one bot holder, taken
over when its connection ends; recap and pruning one worker at a time; on SQLite the one
process holds them all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alertbot.store import StoreRunner
from alertbot.workers import Workers

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def url(postgres_server) -> str:
    return postgres_server.fresh_database()


async def _workers(url: str, name: str) -> tuple[StoreRunner, Workers]:
    db = StoreRunner.open(url)
    workers = Workers(db, url=url, clock=lambda: NOW, name=name)
    await workers.open(sources=4)
    return db, workers


async def test_one_worker_holds_the_bot_and_another_takes_it_when_it_is_gone(url):
    db_a, a = await _workers(url, "a")
    db_b, b = await _workers(url, "b")
    try:
        assert await a.take("bot")
        assert not await b.take("bot")
        assert await a.take("bot")  # still a's: its connection answers
        assert a.holds("bot") and not b.holds("bot")
        # a's connection ends, as when its process is killed: the server frees the lock.
        assert a._locks is not None
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'alertbot a locks'"
            )
        assert await b.take("bot")
        assert not await a.take("bot")  # a notices it lost the role
        assert not a.holds("bot")
        await a.beat()
        await b.beat()
        roles = {w["id"]: w["roles"] for w in db_b.store.live_workers(NOW)}
        assert roles == {"a": [], "b": ["bot"]}
    finally:
        for workers, db in ((a, db_a), (b, db_b)):
            await workers.close()
            db.close()


async def test_the_recap_and_pruning_run_in_one_worker_at_a_time(url):
    db_a, a = await _workers(url, "a")
    db_b, b = await _workers(url, "b")
    try:
        async with a.singleton("recap") as mine:
            assert mine
            async with b.singleton("recap") as theirs:
                assert not theirs
            async with b.singleton("prune") as other_role:
                assert other_role  # another role is free
        async with b.singleton("recap") as now_theirs:
            assert now_theirs
    finally:
        for workers, db in ((a, db_a), (b, db_b)):
            await workers.close()
            db.close()


async def test_a_worker_that_stops_leaves_the_store(url):
    db, a = await _workers(url, "a")
    try:
        assert await a.may_poll("ahram", interval=timedelta(minutes=5), deadline=60)
        assert [w["sources"] for w in db.store.live_workers(NOW)] == [["ahram"]]
        await a.close()
        assert db.store.live_workers(NOW) == []
        assert db.store._value("SELECT count(*) FROM source_leases") == 0
    finally:
        db.close()


async def test_on_sqlite_the_one_process_holds_every_role(tmp_path):
    db = StoreRunner.open(tmp_path / "alertbot.db")
    workers = Workers(db, url=None, clock=lambda: NOW)
    try:
        await workers.open(sources=2)
        assert workers.name == "local" and not workers.shared
        assert await workers.take("bot")
        async with workers.singleton("recap") as mine:
            assert mine
        assert not await workers.moved()
        assert db.store.live_workers(NOW) == []  # nothing written: nobody else to tell
    finally:
        await workers.close()
        db.close()


async def test_a_job_that_finds_the_server_gone_logs_one_line_and_the_next_run_works(
    url, tmp_path, lemmatizer, caplog
):
    """PostgreSQL restarted under a running worker: the job that finds out says so in one
    line (no traceback), and the store connects again for the next run."""
    from alertbot.app import open_app
    from alertbot.config import load_config

    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'database = "{url}"\n[[source]]\nname = "Ahram"\nurl = "http://127.0.0.1:9/feed"\n'
        '[[watch]]\nname = "Egypt"\nquery = "مصر"\n',
        encoding="utf-8",
    )
    runtime = await open_app(load_config(path), lemmatizer)
    async with runtime.stack:
        scheduler = runtime.scheduler
        job = scheduler._job(scheduler.dispatcher.dispatch, "dispatch")
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        caplog.clear()
        await job()  # no exception: logged
        [record] = [r for r in caplog.records if r.levelname == "WARNING"]
        assert record.getMessage().startswith("dispatch: the PostgreSQL server cannot be used")
        assert record.exc_info is None
        caplog.clear()
        await job()
        assert not [r for r in caplog.records if r.levelname == "WARNING"]
        await scheduler.shutdown()


async def test_two_workers_due_for_the_recap_at_once_send_it_once(url, tmp_path):
    """Both workers' recap checks fire in the same minute: the one holding the recap
    lock sends and records it; the other, then and later, finds today's sent."""
    import asyncio
    from types import SimpleNamespace

    from alertbot.config import load_config
    from alertbot.recap.daily import DailyRecap
    from alertbot.scheduler import Scheduler

    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'database = "{url}"\n[email]\nsmtp_host = "127.0.0.1"\n'
        'sender = "alertbot <alerts@example.org>"\nrecap_to = ["desk@example.org"]\n'
        'recap_at = "08:00"\nrecap_empty = true\n',
        encoding="utf-8",
    )
    config = load_config(path)
    sent: list[str] = []

    async def send(message) -> None:
        await asyncio.sleep(0.3)  # an SMTP exchange: long enough for the other to look
        sent.append(message["To"])

    def clock() -> datetime:
        return NOW  # 09:00 UTC: past recap_at

    (db_a, a), (db_b, b) = await _workers(url, "a"), await _workers(url, "b")
    try:
        checks = [
            SimpleNamespace(workers=w, daily=DailyRecap(config, db, send, clock))
            for w, db in ((a, db_a), (b, db_b))
        ]
        await asyncio.gather(*(Scheduler.recap(c) for c in checks))  # type: ignore[arg-type]
        await asyncio.gather(*(Scheduler.recap(c) for c in checks))  # type: ignore[arg-type]
        assert sent == ["desk@example.org"]
        # Without the lock, both would have sent it (what the lock is for).
        fresh = [
            DailyRecap(config, db, send, lambda: NOW + timedelta(days=1)) for db in (db_a, db_b)
        ]
        await asyncio.gather(*(d.run() for d in fresh))
        assert len(sent) == 3
    finally:
        for workers, db in ((a, db_a), (b, db_b)):
            await workers.close()
            db.close()


async def test_a_watch_or_source_added_through_one_worker_reaches_the_others(
    url, tmp_path, lemmatizer
):
    """The bot's worker handled /watch and /addsource; the other worker takes both up at
    its next heartbeat (the versions in the store moved)."""
    from alertbot.app import open_app
    from alertbot.config import SourceConfig, load_config

    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'database = "{url}"\n[[source]]\nname = "Ahram"\nurl = "http://127.0.0.1:9/feed"\n'
        '[[watch]]\nname = "Egypt"\nquery = "مصر"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    first = await open_app(config, lemmatizer)
    async with first.stack:
        second = await open_app(config, lemmatizer)
        async with second.stack:
            here, there = first.scheduler, second.scheduler
            await there.heartbeat()  # nothing moved yet
            assert there.pipeline.watchlists.chat_watches == {}
            await here.db.run(here.store.add_watch, 42, "Gaza", "غزة", NOW)
            await here.set_chat_watches()  # what the command does on its own worker
            added = SourceConfig("Sky", "http://127.0.0.1:9/sky")
            await here.db.run(here.store.add_runtime_source, added, 42, NOW)
            await there.heartbeat()
            assert [w.name for w in there.pipeline.watchlists.chat_watches[42]] == ["Gaza"]
            assert "sky" in there.sources and not there.sources["sky"].trusted
            await here.db.run(here.store.remove_runtime_source, "Sky")
            await there.heartbeat()
            assert "sky" not in there.sources
            await there.shutdown()
        await here.shutdown()
