"""Source health and when to poll next: pure functions of the last outcome and `now`.

A failing source backs off exponentially (interval × 2^(failures−1)), capped at
`MAX_BACKOFF` so it is retried within hours, never parked forever. A 429 or 503 with
Retry-After is honoured when that is later (up to `MAX_RETRY_AFTER`). One success resets it.

Beside the outcome, the health keeps what the last poll left out (`skipped`, per reason;
`waiting`, new entries beyond the per-poll cap) and whether the admins were told that the
source is failing (so they are told once, and of its recovery once, across restarts).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alertbot.sources.model import FetchError, Skipped

MAX_BACKOFF = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(hours=24)
_NOTHING_SKIPPED = Skipped()


@dataclass(frozen=True)
class SourceHealth:
    """How a source has been doing."""

    last_success: datetime | None = None
    last_attempt: datetime | None = None
    last_error_kind: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_poll: datetime | None = None
    skipped: Skipped = field(default_factory=Skipped)  # entries the last poll left out, per reason
    waiting: int = 0  # new entries the last poll left for the next ones (the per-poll cap)
    admins_told: bool = False  # the admins were told it is failing (reset by a success)

    @property
    def healthy(self) -> bool:
        """True when the last poll succeeded (or none has run yet)."""
        return self.consecutive_failures == 0


def after_success(
    health: SourceHealth,
    now: datetime,
    interval: timedelta,
    *,
    skipped: Skipped = _NOTHING_SKIPPED,
    waiting: int = 0,
) -> SourceHealth:
    """The health after a successful poll (a 304 counts as success), with what it left out."""
    return SourceHealth(
        last_success=now,
        last_attempt=now,
        consecutive_failures=0,
        next_poll=now + interval,
        skipped=skipped,
        waiting=waiting,
    )


def after_failure(
    health: SourceHealth, error: FetchError, now: datetime, interval: timedelta
) -> SourceHealth:
    """The health after a failed poll, with the backoff before the next attempt."""
    failures = health.consecutive_failures + 1
    # The exponent is bounded so that a long outage cannot overflow timedelta.
    delay = min(interval * (2 ** min(failures - 1, 30)), MAX_BACKOFF)
    delay = max(delay, interval)
    if error.retry_after is not None:
        delay = max(delay, min(timedelta(seconds=error.retry_after), MAX_RETRY_AFTER))
    return replace(
        health,
        last_attempt=now,
        last_error_kind=str(error.kind),
        last_error=error.message,
        consecutive_failures=failures,
        next_poll=now + delay,
    )
