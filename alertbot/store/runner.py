"""One way from async code to the store: its own thread for writes, another for long reads.

    db = StoreRunner.open(path)        the writer Store and, for a file, a read-only one
    await db.run(db.store.chat, 42)    writes and short reads: the store's thread, in order
    await db.run_bulk(record, ...)     a poll's work: the store's thread too, in order, but
                                       after every `run` call waiting at that moment
    await db.read(build_recap, ...)    long reads (backtests, recaps, status): the reader
                                       thread, on its own read-only connection

Why. SQLite serialises writers, and a Python connection must not run two transactions at
once. If the event loop, a thread pool and the pipeline's worker each used the connection
directly, a bot command would wait on the connection's lock behind a whole poll's batch,
on the event loop's thread, stalling everything. Here every store call from async code is
queued to one thread and awaited, so the event loop never blocks on SQLite, and each call
is short: the pipeline matches and fingerprints a poll's articles off this thread and
hands over only the recording, a few articles at a time.

Two queues feed that thread. A poll of several sources at once queues a recording per
source; a bot command's call (or the dispatcher's) queued behind all of them would wait
for each, seconds during a big poll. So `run` calls go first and `run_bulk` calls (the
polls') take the thread when no `run` call is waiting: a command waits at most for the
one call already running. Each queue keeps its own order, and one coroutine's calls are
awaited one after the other, so whatever a caller does in sequence still happens in
sequence.

A long read runs on a second connection opened read-only: in WAL mode it sees the last
committed state and never holds up the writer, so a `/watch` backtest over a week of
articles does not delay a poll, and a poll does not delay the backtest.

A database in memory (tests) has no second connection: reads run on the store's thread.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from alertbot.store.store import Store

P = ParamSpec("P")
T = TypeVar("T")

PROMPT, BULK, STOP = 0, 1, 2  # the store thread's queues, first served first


class _StoreThread:
    """One thread that runs the calls handed to it: PROMPT ones first, each queue in the
    order it was filled."""

    def __init__(self, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Callable[[], Any] | None, Future[Any]]]
        self._queue = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        # A daemon, so that a runner never closed cannot hold up the interpreter's exit (a
        # commit cut short there is rolled back by SQLite, as after a crash).
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, function: Callable[[], T], priority: int) -> Future[T]:
        """Queue `function`; its future."""
        if self._closed:
            raise RuntimeError("the store is closed")
        future: Future[T] = Future()
        self._queue.put((priority, next(self._order), function, future))
        return future

    def _work(self) -> None:
        while True:
            _, _, function, future = self._queue.get()
            if function is None:
                return
            if not future.set_running_or_notify_cancel():  # its caller gave up waiting
                continue
            try:
                future.set_result(function())
            except BaseException as exc:  # handed to the caller, who awaits it
                future.set_exception(exc)

    def shutdown(self) -> None:
        """Run what is queued, then end the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put((STOP, next(self._order), None, Future()))
        self._thread.join()


class StoreRunner:
    """The store, its thread, and a read-only twin for long reads."""

    def __init__(self, store: Store, reader: Store | None = None) -> None:
        self.store = store
        self._reader = reader
        self._writes = _StoreThread("alertbot-store")
        self._reads = (
            ThreadPoolExecutor(1, thread_name_prefix="alertbot-store-read")
            if reader is not None
            else None
        )

    @classmethod
    def open(cls, path: Path | str) -> StoreRunner:
        """Open (and migrate) the database at `path`, and a read-only connection to it."""
        store = Store.open(path)
        try:
            reader = Store.open_reader(path)
        except BaseException:
            store.close()
            raise
        return cls(store, reader)

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `function` (a store method, or work made only of store calls) on the store's
        thread, after every `run` call queued before it (and ahead of waiting `run_bulk`
        calls)."""
        return await asyncio.wrap_future(
            self._writes.submit(partial(function, *args, **kwargs), PROMPT)
        )

    async def run_bulk(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`run` for a poll's calls: after every `run_bulk` call queued before it, and only
        when no `run` call is waiting. Each call should be short (a few articles)."""
        return await asyncio.wrap_future(
            self._writes.submit(partial(function, *args, **kwargs), BULK)
        )

    async def read(
        self, function: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `function(reader, *args)` on the reader thread, where `reader` is a read-only
        Store: for reads that take long (they see the last committed state)."""
        if self._reads is None or self._reader is None:  # in memory: the store's thread
            return await self.run(function, self.store, *args, **kwargs)
        loop = asyncio.get_running_loop()
        call = partial(function, self._reader, *args, **kwargs)
        return await loop.run_in_executor(self._reads, call)

    def close(self) -> None:
        """Finish what is queued, then close both connections."""
        self._writes.shutdown()
        if self._reads is not None:
            self._reads.shutdown(wait=True)
        if self._reader is not None:
            self._reader.close()
        self.store.close()
