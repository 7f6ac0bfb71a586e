"""The numbers `alertbot run --listen` exports at /metrics, in the Prometheus text format.

    metrics = Metrics()              its own CollectorRegistry, never prometheus_client's
                                     global one (a test process makes many apps)
    metrics.polled(outcome)          the scheduler, after each poll of a source
    metrics.processed(counts)        the scheduler, after each recorded chunk of a poll
    metrics.sent(row, at)            the dispatcher, per outbox row: sent,
    metrics.retried(row)               to be retried later,
    metrics.failed(row)                given up on
    metrics.set_role(name, held)     whoever takes or gives up a role (today the scheduler,
                                     holding every role while it runs)
    metrics.set_backlog(rows, now)   the outbox per channel, read at each scrape
    metrics.render()                 the page

Every hook is a few counter increments on the event loop's thread: no I/O, no clock
(times are handed in). The outbox gauges are the one thing read from the store, at scrape
time and off the event loop (alertbot.monitor); when the store does not answer they are
left out of the page rather than shown stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from alertbot.store.model import CHANNELS

if TYPE_CHECKING:
    from alertbot.pipeline import ProcessCounts
    from alertbot.scheduler import PollOutcome
    from alertbot.store import OutboxBacklog, OutboxRow

# The roles of a worker: holding the Telegram bot (one process may poll its updates), and
# running the story clustering. Exported from the start, 0 until taken.
ROLES = ("bot", "clusterer")
STORIES = ("new", "joined", "related")  # how a new article is filed (`ProcessCounts`)
# From an alert's queueing to its delivery: seconds after a poll, minutes when a channel
# paces or retries (30 s doubling), hours when it is down.
LATENCY_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600)


class Metrics:
    """alertbot's counters, gauges and histogram, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._polls = Counter(
            "alertbot_polls",
            "Polls of a source (not those skipped while it backs off).",
            ["source"],
            registry=r,
        )
        self._poll_failures = Counter(
            "alertbot_poll_failures",
            "Polls of a source that failed (fetch, parse, deadline).",
            ["source"],
            registry=r,
        )
        self._failing = Gauge(
            "alertbot_source_failing",
            "1 when the last poll of the source failed, else 0.",
            ["source"],
            registry=r,
        )
        self._articles = Counter(
            "alertbot_articles", "Articles polls handed to the pipeline.", registry=r
        )
        self._duplicates = Counter(
            "alertbot_articles_duplicate",
            "Articles already recorded (same URL, guid or content).",
            registry=r,
        )
        self._matched = Counter(
            "alertbot_articles_matched", "New articles that matched a watch.", registry=r
        )
        self._filed = Counter(
            "alertbot_articles_filed",
            "New articles filed in a story: starting one (new), joining one (joined: another"
            " outlet, a rewrite), starting one that follows a recent one up (related).",
            ["story"],
            registry=r,
        )
        self._queued = Counter(
            "alertbot_alerts_queued", "Alerts queued: outbox rows, one per recipient.", registry=r
        )
        self._sent = Counter(
            "alertbot_alerts_sent",
            "Alerts the dispatcher delivered (a backlog sent as one message counts once).",
            ["channel"],
            registry=r,
        )
        self._retried = Counter(
            "alertbot_alerts_retried",
            "Delivery attempts that failed and will be retried.",
            ["channel"],
            registry=r,
        )
        self._failed = Counter(
            "alertbot_alerts_failed",
            "Alerts given up on (refused for good, attempts used up, story gone).",
            ["channel"],
            registry=r,
        )
        self._latency = Histogram(
            "alertbot_dispatch_latency_seconds",
            "From an alert's queueing (its outbox row created) to its delivery.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._roles = Gauge(
            "alertbot_role", "1 while this worker holds the role, else 0.", ["role"], registry=r
        )
        # Every series that is known in advance exists from the start, at 0: a rate over
        # it then counts its first event.
        for role in ROLES:
            self._roles.labels(role).set(0)
        for story in STORIES:
            self._filed.labels(story)
        for channel in CHANNELS:
            for metric in (self._sent, self._retried, self._failed, self._latency):
                metric.labels(channel)
        self._backlog = _BacklogCollector()
        r.register(self._backlog)

    def polled(self, outcome: PollOutcome) -> None:
        """A poll of a source ended (its articles are counted by `processed`), or was
        skipped because the source backs off after failing."""
        if outcome.skipped:  # not a poll; but failing, also after a restart
            self._failing.labels(outcome.source).set(1)
            return
        failed = outcome.error is not None
        self._polls.labels(outcome.source).inc()
        self._poll_failures.labels(outcome.source).inc(int(failed))  # 0: the series exists
        self._failing.labels(outcome.source).set(int(failed))

    def forget_source(self, name: str) -> None:
        """Drop a removed source's series (a failing one would alert on forever)."""
        for metric in (self._polls, self._poll_failures, self._failing):
            with suppress(KeyError):  # never polled (prometheus-client < 0.21 raises)
                metric.remove(name)

    def processed(self, counts: ProcessCounts) -> None:
        """Articles recorded (one chunk of a poll's)."""
        self._articles.inc(counts.articles)
        self._duplicates.inc(counts.seen)
        self._matched.inc(counts.matched)
        self._filed.labels("new").inc(counts.new_stories)
        self._filed.labels("joined").inc(counts.joined)
        self._filed.labels("related").inc(counts.related)
        self._queued.inc(counts.queued)

    def sent(self, row: OutboxRow, at: datetime) -> None:
        """An outbox row was delivered at `at`."""
        self._sent.labels(row.channel).inc()
        self._latency.labels(row.channel).observe(max(0.0, (at - row.created).total_seconds()))

    def retried(self, row: OutboxRow) -> None:
        """An attempt to deliver an outbox row failed; it is tried again later."""
        self._retried.labels(row.channel).inc()

    def failed(self, row: OutboxRow) -> None:
        """An outbox row was given up on."""
        self._failed.labels(row.channel).inc()

    def set_role(self, name: str, held: bool) -> None:
        """This worker now holds role `name` (`ROLES`), or no longer does."""
        self._roles.labels(name).set(int(held))

    def set_backlog(self, backlog: Sequence[OutboxBacklog] | None, now: datetime) -> None:
        """The outbox per channel as read at `now`; None: the store did not answer, so the
        page leaves the outbox gauges out."""
        self._backlog.backlog = None if backlog is None else tuple(backlog)
        self._backlog.now = now

    def render(self) -> bytes:
        """The page: every metric in the Prometheus text format (version 0.0.4)."""
        return generate_latest(self.registry)


class _BacklogCollector:
    """`alertbot_outbox_pending` and `alertbot_outbox_oldest_pending_seconds` per channel,
    from the last `Metrics.set_backlog`."""

    def __init__(self) -> None:
        self.backlog: tuple[OutboxBacklog, ...] | None = None
        self.now: datetime | None = None

    def describe(self) -> Iterable[Metric]:
        """The families this collector exports (for the registry's name checks)."""
        return self._families()

    def collect(self) -> Iterable[Metric]:
        """The families, with a sample per channel; none before a backlog was read."""
        if self.backlog is None or self.now is None:
            return []
        pending, oldest = self._families()
        for b in self.backlog:
            pending.add_metric([b.channel], b.pending)
            age = 0.0 if b.oldest is None else max(0.0, (self.now - b.oldest).total_seconds())
            oldest.add_metric([b.channel], age)
        return [pending, oldest]

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "alertbot_outbox_pending", "Alerts waiting for delivery.", labels=["channel"]
            ),
            GaugeMetricFamily(
                "alertbot_outbox_oldest_pending_seconds",
                "Age of the oldest alert waiting for delivery (0 when none waits).",
                labels=["channel"],
            ),
        )
