"""The dispatcher: due rows through their notifier, marked sent, retried, or failed."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alertbot.notify import Alert, ConsoleNotifier, DeliveryError, Dispatcher, retry_delay
from alertbot.notify.console import format_alert
from alertbot.notify.layout import FSI, PDI
from alertbot.store import NewItem, Recipient, StoreRunner
from alertbot.watch.snippet import Snippet
from testsupport.clocks import Clock
from testsupport.storefixtures import article

pytestmark = pytest.mark.both_engines

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CAIRO = ZoneInfo("Africa/Cairo")
CONSOLE = (Recipient("console", "stdout"),)
QUOTE = "استقبل السيسي ناريشكين اليوم"
_MARK = ((QUOTE.index("ناريشكين"), QUOTE.index("ناريشكين") + len("ناريشكين")),)


class Recorder:
    """A notifier that records alerts, or fails with the errors it is given, in turn."""

    def __init__(self, channel: str = "console", errors: list[DeliveryError] | None = None):
        self.channel = channel
        self.errors = list(errors or [])
        self.alerts: list[Alert] = []

    async def send(self, alert: Alert) -> str | None:
        if self.errors:
            raise self.errors.pop(0)
        self.alerts.append(alert)
        return f"msg-{alert.outbox_id}"


def _queue(store, n: int = 1, recipients=CONSOLE, first: int = 0) -> list[int]:
    ids = []
    snippet = Snippet("استقبل السيسي ناريشكين اليوم", _MARK).to_json()
    for i in range(first, first + n):
        outcome = store.record_item(
            NewItem(
                article(f"https://a.example/{i}", text=f"نص {i}"),
                f"hash-{i}",
                None,
                None,
                ["Naryshkin"],
                snippet,
                recipients,
            ),
            NOW,
        )
        ids.extend(outcome.outbox_ids)
    return ids


async def test_sends_every_due_row_and_marks_it_sent_with_the_message_ref(store):
    ids = _queue(store, 3)
    notifier = Recorder()
    counts = await Dispatcher(StoreRunner(store), {"console": notifier}, Clock(NOW)).dispatch()
    assert counts.sent == 3
    assert [a.outbox_id for a in notifier.alerts] == ids
    assert all(store.outbox_row(i).state == "sent" for i in ids)
    assert store.outbox_row(ids[0]).message_ref == f"msg-{ids[0]}"
    alert = notifier.alerts[0]
    assert (alert.watches, alert.outlet, alert.url) == (
        ("Naryshkin",),
        "Ahram",
        "https://a.example/0",
    )


async def test_a_temporary_failure_is_retried_later_with_backoff_then_sent(store):
    (row_id,) = _queue(store)
    clock = Clock(NOW)
    notifier = Recorder(errors=[DeliveryError("timed out"), DeliveryError("429", retry_after=300)])
    dispatcher = Dispatcher(StoreRunner(store), {"console": notifier}, clock)
    assert (await dispatcher.dispatch()).retried == 1
    row = store.outbox_row(row_id)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "timed out")
    assert row.next_attempt == NOW + retry_delay(1)
    assert (await dispatcher.dispatch()).attempted == 0  # not due yet
    clock.now = row.next_attempt
    await dispatcher.dispatch()
    row = store.outbox_row(row_id)
    assert row.next_attempt == clock.now + timedelta(seconds=300)  # retry_after beats 60 s
    clock.now = row.next_attempt
    assert (await dispatcher.dispatch()).sent == 1
    assert [e["event"] for e in store.delivery_log(row_id)] == ["retry", "retry", "sent"]


async def test_a_row_is_failed_with_its_reason_when_attempts_run_out(store):
    (row_id,) = _queue(store)
    clock = Clock(NOW)
    notifier = Recorder(errors=[DeliveryError("connection refused")] * 3)
    dispatcher = Dispatcher(StoreRunner(store), {"console": notifier}, clock, max_attempts=3)
    for _ in range(3):
        await dispatcher.dispatch()
        clock.now += timedelta(hours=2)
    row = store.outbox_row(row_id)
    assert row.state == "failed"
    assert row.last_error == "connection refused (gave up after 3 attempts)"
    assert [r.id for r in store.failed_rows()] == [row_id]


async def test_a_permanent_failure_is_failed_at_once(store):
    (row_id,) = _queue(store)
    notifier = Recorder(errors=[DeliveryError("Forbidden: bot was blocked", permanent=True)])
    counts = await Dispatcher(StoreRunner(store), {"console": notifier}, Clock(NOW)).dispatch()
    assert counts.failed == 1
    assert store.outbox_row(row_id).last_error == "Forbidden: bot was blocked"


async def test_rows_of_a_channel_without_a_notifier_stay_pending(store):
    ids = _queue(store, 1, (Recipient("telegram", "-100"), Recipient("console", "stdout")))
    counts = await Dispatcher(StoreRunner(store), {"console": Recorder()}, Clock(NOW)).dispatch()
    assert counts.sent == 1
    assert store.pending_count("telegram") == 1
    assert store.outbox_row(ids[0]).state == "pending"


async def test_rows_queued_during_a_dispatch_are_sent_by_it(store):
    _queue(store, 1)

    class Queueing(Recorder):
        async def send(self, alert):
            if len(self.alerts) == 0:
                _queue(store, 1, first=1)
            return await super().send(alert)

    notifier = Queueing()
    assert (
        await Dispatcher(StoreRunner(store), {"console": notifier}, Clock(NOW)).dispatch()
    ).sent == 2


async def test_a_dispatch_while_one_runs_returns_at_once_and_the_running_one_looks_again(store):
    _queue(store, 1)
    dispatcher: Dispatcher

    class Reentrant(Recorder):
        async def send(self, alert):
            nested = await dispatcher.dispatch()
            assert nested.attempted == 0
            return await super().send(alert)

    notifier = Reentrant()
    dispatcher = Dispatcher(StoreRunner(store), {"console": notifier}, Clock(NOW))
    assert (await dispatcher.dispatch()).sent == 1


async def test_stop_finishes_the_current_row_and_takes_no_more(store):
    _queue(store, 3)
    dispatcher: Dispatcher

    class Stopping(Recorder):
        async def send(self, alert):
            dispatcher.stop()
            return await super().send(alert)

    dispatcher = Dispatcher(StoreRunner(store), {"console": Stopping()}, Clock(NOW))
    assert (await dispatcher.dispatch()).sent == 1
    assert store.pending_count() == 2


def _alert(**changes) -> Alert:
    fields = dict(
        outbox_id=1, story_id=1, channel="console", recipient="stdout",
        watches=("Naryshkin", "El-Dabaa"), title="السيسي يستقبل ناريشكين",
        url="https://a.example/1", outlet="Ahram Online", published=NOW,
        snippet=Snippet("استقبل السيسي ناريشكين اليوم", _MARK), also=(), attempts=0,
    )  # fmt: skip
    fields.update(changes)
    return Alert(**fields)


def test_console_alert_shows_watches_title_outlet_local_time_link_and_marked_quote():
    text = format_alert(_alert(also=("Sky News Arabia",)), CAIRO)
    plain = text.replace(FSI, "").replace(PDI, "")
    assert plain.rstrip("\n").splitlines() == [
        "● Naryshkin · El-Dabaa",
        "  السيسي يستقبل ناريشكين",
        "  Ahram Online · 2025-03-01 14:00 (Africa/Cairo)",
        "  https://a.example/1",
        "  « استقبل السيسي **ناريشكين** اليوم »",
        "  also: Sky News Arabia",
    ]


async def test_console_notifier_writes_to_its_stream_and_a_closed_stream_is_a_delivery_error():
    stream = io.StringIO()
    notifier = ConsoleNotifier(CAIRO, stream)
    await notifier.send(_alert())
    assert "ناريشكين" in stream.getvalue()
    stream.close()
    with pytest.raises(DeliveryError):
        await notifier.send(_alert())


def test_retry_delay_doubles_from_30_seconds_to_an_hour():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 50)] == [30, 60, 120, 3600, 3600]
    assert retry_delay(1, retry_after=90).total_seconds() == 90
