"""Source health and when to poll next: pure functions of the last outcome and `now`.

A failing source backs off exponentially (interval × 2^(failures−1)), capped at
`MAX_BACKOFF` so it is retried within hours, never parked forever. A 429 or 503 with
Retry-After is honoured when that is later (up to `MAX_RETRY_AFTER`). One success resets it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alertbot.sources.model import FetchError

MAX_BACKOFF = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class SourceHealth:
    """How a source has been doing."""

    last_success: datetime | None = None
    last_attempt: datetime | None = None
    last_error_kind: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_poll: datetime | None = None

    @property
    def healthy(self) -> bool:
        """True when the last poll succeeded (or none has run yet)."""
        return self.consecutive_failures == 0


def after_success(health: SourceHealth, now: datetime, interval: timedelta) -> SourceHealth:
    """The health after a successful poll (a 304 counts as success)."""
    return SourceHealth(
        last_success=now,
        last_attempt=now,
        consecutive_failures=0,
        next_poll=now + interval,
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
