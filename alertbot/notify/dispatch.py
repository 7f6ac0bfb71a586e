"""The dispatcher: pending outbox rows through their channel's notifier.

Each row is sent, then marked at once in its own transaction: sent (with the message
reference), or retried later with exponential backoff, or, when the attempts run out or the
channel says retrying cannot help, failed with the reason. Rows are never deleted here and
never dropped: a crash between the send and the mark re-sends that one message at the next
start, which is the at-most-one-duplicate promise of the outbox.

Rows of a channel that has no notifier in this process (Telegram rows while the token is
unset) stay pending and are counted by `alertbot status`.

Several workers on one store (PostgreSQL) share the outbox: each claims the rows it takes
(`Store.claim_due`, FOR UPDATE SKIP LOCKED) and renews a row's claim right before sending
it, so a row is sent by one worker; a worker killed mid-send leaves a claim that expires
after `CLAIM`, and the row is sent by another (the one duplicate, as after a restart).
A chat is served by one worker at a time, and stays with it for its pacing window (a
second for a person, a minute for a group: each worker paces its own sends,
alertbot.notify.pacing), so Telegram's per-chat limits hold across workers. On SQLite the one
process claims everything under the name `local`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from alertbot.metrics import Metrics
from alertbot.notify.alert import alert_for
from alertbot.notify.base import DeliveryError, Notifier
from alertbot.notify.pacing import GROUP, PRIVATE
from alertbot.store import OutboxRow, StoreRunner
from alertbot.store.coordination import LOCAL

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
BATCH = 50
CLAIM = timedelta(seconds=60)  # how long a claimed row is this worker's to send
# A chat stays with the worker that sent to it for its pacing window (alertbot.notify.pacing).
PRIVATE_PACE, GROUP_PACE = (timedelta(seconds=w[1]) for w in (PRIVATE, GROUP))


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 30 s doubling to 1 h,
    never sooner than the channel's own `retry_after`."""
    delay = min(FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 16)), MAX_RETRY)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


@dataclass
class DispatchCounts:
    """What one dispatch did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        """Rows tried, whatever the outcome."""
        return self.sent + self.retried + self.failed


class Dispatcher:
    """Delivers due outbox rows; one dispatch at a time per process.

    `clock` gives the current time (injected so tests control it). Store calls run on the
    store's thread, so a slow disk never stalls the event loop (and the bot with it).
    """

    def __init__(
        self,
        db: StoreRunner,
        notifiers: Mapping[str, Notifier],
        clock: Callable[[], datetime],
        *,
        max_attempts: int = MAX_ATTEMPTS,
        worker: str = LOCAL,
        live: timedelta | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._worker = worker  # the name its outbox claims are under (alertbot.workers)
        # Several workers: a claim of one not heard from for `live` is void (it died).
        self._live = live
        self._metrics = metrics if metrics is not None else Metrics()
        self._notifiers = dict(notifiers)
        self._clock = clock
        self._max_attempts = max_attempts
        self._lock = asyncio.Lock()
        self._again = False
        self._stopping = False

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels this dispatcher can deliver to."""
        return tuple(self._notifiers)

    @property
    def notifiers(self) -> tuple[Notifier, ...]:
        """The notifiers, one per channel."""
        return tuple(self._notifiers.values())

    def stop(self) -> None:
        """Finish the row being sent, then take no more (shutdown)."""
        self._stopping = True

    async def dispatch(self) -> DispatchCounts:
        """Send every row that is due, including rows queued while this runs (each
        delivered row moves out of `due`: sent, failed, or retried at least 30 s later).

        A call made while another dispatch runs returns at once with nothing counted: the
        running one looks again before it finishes.
        """
        counts = DispatchCounts()
        if self._lock.locked():
            self._again = True
            return counts
        async with self._lock:
            while not self._stopping:
                self._again = False
                store = self._db.store
                now = self._clock()
                rows = await self._db.run(
                    store.claim_due, self._worker, now, now + CLAIM, BATCH, self.channels,
                    pace=PRIVATE_PACE, group_pace=GROUP_PACE, alive_since=self._alive_since(now),
                )  # fmt: skip
                if not rows and not self._again:
                    break
                for row in rows:
                    if self._stopping:
                        break
                    await self._deliver(row, counts)
        return counts

    async def _deliver(self, row: OutboxRow, counts: DispatchCounts) -> None:
        notifier = self._notifiers[row.channel]
        store = self._db.store
        current = await self._db.run(store.outbox_row, row.id)
        if current is None or current.state != "pending":
            return  # delivered meanwhile (a grouped backlog message carried it)
        row = current
        now = self._clock()
        renewed = await self._db.run(
            store.renew_claim, row.id, self._worker, now, now + CLAIM, self._alive_since(now)
        )
        if not renewed:
            return  # another worker took it after this one's claim ran out
        alert = await self._db.run(alert_for, store, row)
        if alert is None:  # the story is gone: nothing can be said about it
            gone = "story no longer in the database"
            await self._db.run(store.mark_failed, row.id, gone, self._clock())
            self._metrics.failed(row)
            counts.failed += 1
            return
        try:
            ref = await notifier.send(alert)
        except DeliveryError as exc:
            await self._failed_attempt(row, exc, counts)
            return
        sent_at = self._clock()
        await self._db.run(store.mark_sent, row.id, sent_at, ref)
        self._metrics.sent(row, sent_at)
        counts.sent += 1

    def _alive_since(self, now: datetime) -> datetime | None:
        return None if self._live is None else now - self._live

    async def _failed_attempt(
        self, row: OutboxRow, error: DeliveryError, counts: DispatchCounts
    ) -> None:
        now = self._clock()
        attempts = row.attempts + 1
        reason = str(error)
        if error.permanent or attempts >= self._max_attempts:
            if not error.permanent:
                reason = f"{reason} (gave up after {attempts} attempts)"
            log.error("alert %d to %s %s failed: %s", row.id, row.channel, row.recipient, reason)
            await self._db.run(self._db.store.mark_failed, row.id, reason, now)
            self._metrics.failed(row)
            counts.failed += 1
            return
        later = now + retry_delay(attempts, error.retry_after)
        log.warning(
            "alert %d to %s %s: %s; retry %d at %s",
            row.id, row.channel, row.recipient, reason, attempts + 1, later.isoformat(),
        )  # fmt: skip
        await self._db.run(self._db.store.mark_retry, row.id, reason, now, later)
        self._metrics.retried(row)
        counts.retried += 1
