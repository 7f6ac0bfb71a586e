"""This process among the workers sharing one store: its name, its leases, its roles.

With SQLite, one process holds the database (the run lock) and so everything: every
source, every outbox row, the bot, the recap. With PostgreSQL, several `alertbot run`
processes share the work, and `Workers` says what is this one's:

    sources     a lease per source (`claim_source`, FOR UPDATE SKIP LOCKED), taken for one
                poll interval and renewed by each poll; a dead worker's leases expire and
                the next worker to try takes them. Free sources spread by fair share.
    outbox      rows claimed for the time of a send (`claim_due`); see alertbot.notify
    bot         Telegram allows one getUpdates consumer per token: the worker holding a
                session advisory lock answers commands. PostgreSQL frees the lock when the
                holder's connection ends (a crash closes it at once), and another worker,
                trying every `ROLE_RETRY` seconds, takes over.
    recap, prune    run by whichever worker gets the advisory lock at that moment; the
                recap's "sent today" record is read under it, so it is sent once a day.
    watchlists  every worker compiles the chats' watches again when their version in the
                store moves (a command handled by the bot's worker changed them).

Each worker writes its row in `workers` every `HEARTBEAT` (what it holds), read by
`alertbot status`, and removes it, with its leases and claims, when it stops.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alertbot.store import StoreRunner
from alertbot.store.base import SOURCES, WATCHLIST
from alertbot.store.coordination import LOCAL

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

HEARTBEAT = timedelta(seconds=5)
LIVE = 4 * HEARTBEAT  # a worker not heard from for this long is taken for dead
ROLE_RETRY = timedelta(seconds=2)  # how often a worker tries to take the bot
LEASE_MARGIN = timedelta(seconds=30)  # a lease outlives its poll interval by this much

# Session advisory lock keys ('aler' 't' + a role number); migrations use ...0001.
BOT = 0x616C_6572_7400_0010
RECAP = 0x616C_6572_7400_0011
PRUNE = 0x616C_6572_7400_0012
SINGLETONS = {"bot": BOT, "recap": RECAP, "prune": PRUNE}


def worker_name() -> str:
    """host:pid:random, unique among the workers past and present."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class Workers:
    """This worker's name, leases and roles (`shared` False: SQLite, all of them)."""

    def __init__(
        self,
        db: StoreRunner,
        *,
        url: str | None,
        clock: Callable[[], datetime],
        name: str | None = None,
    ) -> None:
        self.db = db
        self.url = url
        self.clock = clock
        self.name = name or (worker_name() if url is not None else LOCAL)
        self.started = clock()
        self.roles: set[str] = set()
        self._locks: psycopg.AsyncConnection[Any] | None = None
        self._held: set[str] = set()  # roles whose advisory lock the connection holds
        self._sources_known = 1
        self._versions: dict[str, int] = {}  # what this worker took up (`moved`)
        self._closed = False

    @property
    def shared(self) -> bool:
        """Whether other workers may share the store (PostgreSQL)."""
        return self.url is not None

    async def open(self, sources: int) -> None:
        """Say this worker is alive (PostgreSQL: and connect for the advisory locks)."""
        self._sources_known = max(1, sources)
        for name in (WATCHLIST, SOURCES):
            self.seen(await self.db.run(self.db.store.version, name), name)
        if self.shared:
            await self._connect()
            await self.beat()

    async def _connect(self) -> None:
        import psycopg

        assert self.url is not None
        try:
            self._locks = await psycopg.AsyncConnection.connect(
                self.url, autocommit=True, application_name=f"alertbot {self.name} locks"
            )
        except psycopg.Error as exc:
            log.warning("workers: cannot connect for the role locks (%s); retrying", exc)
            self._locks = None
        self._held.clear()

    async def close(self) -> None:
        """Leave: the row, the leases and claims go; the advisory locks end with the
        connection."""
        if self._closed:
            return
        self._closed = True
        self.roles.clear()
        if self.shared:
            try:
                await self.db.run(self.db.store.leave, self.name)
            except Exception as exc:  # the store is down: the leases expire instead
                log.warning("workers: could not say this worker left (%s)", exc)
            if self._locks is not None:
                await self._locks.close()

    # -- heartbeat ---------------------------------------------------------------------

    async def beat(self) -> None:
        """Write this worker's row (what it holds)."""
        if not self.shared:
            return
        store = self.db.store
        await self.db.run(
            store.beat, self.name, socket.gethostname(), os.getpid(), self.started,
            sorted(self.roles), self.clock(),
        )  # fmt: skip

    async def moved(self, name: str = WATCHLIST) -> bool:
        """Whether `name` (the chats' watches, the sources added from Telegram) changed
        in the store since this worker last asked or said it had seen it: another worker's
        command. Always False on SQLite, where this process made every change itself."""
        if not self.shared:
            return False
        version = await self.db.run(self.db.store.version, name)
        moved = version != self._versions.get(name)
        self._versions[name] = version
        return moved

    def seen(self, version: int, name: str = WATCHLIST) -> None:
        """This worker took `name` up at `version`."""
        self._versions[name] = version

    # -- sources -----------------------------------------------------------------------

    async def may_poll(self, key: str, interval: timedelta, deadline: float) -> bool:
        """Whether this worker polls the source `key` now: always on SQLite; on PostgreSQL
        when it holds or takes the source's lease (kept for one interval and a poll)."""
        if not self.shared:
            return True
        now = self.clock()
        until = now + interval + timedelta(seconds=deadline) + LEASE_MARGIN
        # (A dead holder's lease is free once it has not been heard from for LIVE.)
        store = self.db.store
        live = await self.db.run(store.live_worker_count, now - LIVE)
        fair = math.ceil(self._sources_known / max(1, live))
        return await self.db.run(
            store.claim_source, key, self.name, now, until, fair_share=fair, patience=interval,
            alive_since=now - LIVE,
        )  # fmt: skip

    def sources_known(self, count: int) -> None:
        """How many sources there are (for the fair share)."""
        self._sources_known = max(1, count)

    # -- roles -------------------------------------------------------------------------

    async def take(self, role: str) -> bool:
        """Hold `role` (take it if free); False while another worker holds it."""
        if not self.shared:
            self.roles.add(role)
            return True
        if self._locks is None or self._locks.broken or self._locks.closed:
            await self._connect()
            if self._locks is None:
                return False
        if role in self._held:
            try:  # still holding it: the connection still answers
                await self._locks.execute("SELECT 1")
                return True
            except Exception:
                self._lost()
                return False
        try:
            cursor = await self._locks.execute(
                "SELECT pg_try_advisory_lock(%s)", (SINGLETONS[role],)
            )
            row = await cursor.fetchone()
        except Exception as exc:
            log.warning("workers: the role locks' connection failed (%s)", exc)
            self._lost()
            return False
        if row is not None and row[0]:
            self._held.add(role)
            self.roles.add(role)
            return True
        return False

    async def give_up(self, role: str) -> None:
        """Release `role`."""
        self.roles.discard(role)
        if not self.shared or role not in self._held:
            return
        self._held.discard(role)
        if self._locks is not None and not self._locks.broken:
            try:
                await self._locks.execute("SELECT pg_advisory_unlock(%s)", (SINGLETONS[role],))
            except Exception as exc:
                log.warning("workers: could not release %s (%s)", role, exc)

    def _lost(self) -> None:
        """The locks' connection is gone, and every role with it."""
        for role in self._held:
            self.roles.discard(role)
        self._held.clear()
        self._locks = None

    def holds(self, role: str) -> bool:
        return role in self.roles

    @asynccontextmanager
    async def singleton(self, role: str) -> AsyncIterator[bool]:
        """`async with workers.singleton("recap") as mine:` mine is True in one worker at
        a time (always, on SQLite); released at the end of the block."""
        mine = await self.take(role)
        try:
            yield mine
        finally:
            if mine:
                await self.give_up(role)

    async def keep_role(
        self,
        role: str,
        gained: Callable[[], Awaitable[None] | None],
        lost: Callable[[], Awaitable[None]],
    ) -> None:
        """One round of holding `role` for good: take it if free (then `gained()`), notice
        if it was lost (then `lost()`). Run every ROLE_RETRY."""
        had = role in self.roles
        has = await self.take(role)
        if has and not had:
            log.info("workers: %s holds the %s role", self.name, role)
            result = gained()
            if result is not None:
                await result
        elif had and not has:
            log.warning("workers: %s lost the %s role", self.name, role)
            await lost()
