"""One way from async code to the store: its own thread for writes, another for long reads.

    db = StoreRunner.open(path)        the writer Store and, for a file, a read-only one
    await db.run(db.store.chat, 42)    writes and short reads: the store's thread, in order
    await db.read(build_recap, ...)    long reads (backtests, recaps, status): the reader
                                       thread, on its own read-only connection
    db.call(db.store.record, ...)      the same as `run`, from a thread that is not the
                                       event loop's (the pipeline's worker), blocking it

Why. SQLite serialises writers, and a Python connection must not run two transactions at
once. If the event loop, a thread pool and the pipeline's worker each used the connection
directly, a bot command would wait on the connection's lock behind a whole poll's batch,
on the event loop's thread, stalling everything. Here every store call from async code is
queued to one thread and awaited, so the event loop never blocks on SQLite, and each call
is short: the pipeline matches and fingerprints a poll's articles off this thread and
hands over only the recording. A long read runs on a second connection opened read-only:
in WAL mode it sees the last committed state and never holds up the writer, so a
`/watch` backtest over a week of articles does not delay a poll, and a poll does not delay
the backtest.

A database in memory (tests) has no second connection: reads run on the store's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from alertbot.store.store import Store

P = ParamSpec("P")
T = TypeVar("T")


class StoreRunner:
    """The store, its thread, and a read-only twin for long reads."""

    def __init__(self, store: Store, reader: Store | None = None) -> None:
        self.store = store
        self._reader = reader
        self._writes = ThreadPoolExecutor(1, thread_name_prefix="alertbot-store")
        self._reads = (
            ThreadPoolExecutor(1, thread_name_prefix="alertbot-store-read")
            if reader is not None
            else self._writes
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
        thread, after every call queued before it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writes, partial(function, *args, **kwargs))

    async def read(
        self, function: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `function(reader, *args)` on the reader thread, where `reader` is a read-only
        Store: for reads that take long (they see the last committed state)."""
        reader = self._reader or self.store
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reads, partial(function, reader, *args, **kwargs))

    def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`run` for a thread other than the event loop's: blocks it until done."""
        return self._writes.submit(partial(function, *args, **kwargs)).result()

    def close(self) -> None:
        """Finish what is queued, then close both connections."""
        self._writes.shutdown(wait=True)
        if self._reads is not self._writes:
            self._reads.shutdown(wait=True)
        if self._reader is not None:
            self._reader.close()
        self.store.close()
