"""The daily recap: due at recap_at local time, once per day across restarts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alertbot.config import load_config
from alertbot.notify.base import DeliveryError
from alertbot.recap.daily import DailyRecap
from alertbot.status import render_status
from alertbot.store import NewItem, Recipient, Store, StoreRunner
from testsupport.clocks import Clock
from testsupport.storefixtures import article


class Outbox:
    """Records the messages "sent"; fails with the errors it is given, in turn."""

    def __init__(self, errors: list[DeliveryError] | None = None) -> None:
        self.messages = []
        self.errors = list(errors or [])

    async def __call__(self, message) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.messages.append(message_from_bytes(message.as_bytes(), policy=policy.default))


def _config(tmp_path: Path, extra: str = ""):
    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'timezone = "Europe/Berlin"\ndatabase = "{tmp_path / "db.sqlite"}"\n'
        '[email]\nsmtp_host = "127.0.0.1"\nsender = "alertbot <alerts@example.org>"\n'
        f'recap_to = ["desk@example.org"]\nrecap_at = "08:00"\n{extra}',
        encoding="utf-8",
    )
    return load_config(path)


def _alert(store: Store, n: int, when: datetime, title: str = "السيسي يستقبل ناريشكين") -> None:
    url = f"https://ahram.example/{n}"
    item = article(url, text="نص", title=f"{title} {n}", fetched=when, published=when)
    store.record_item(
        NewItem(item, f"h{n}", None, None, ["Naryshkin"], "", [Recipient("telegram", "5")]), when
    )


# 2025-03-30 is the day Berlin moves to summer time: 08:00 local is 06:00 UTC.
BEFORE = datetime(2025, 3, 30, 5, 59, tzinfo=UTC)
AT = datetime(2025, 3, 30, 6, 0, tzinfo=UTC)


async def test_sent_at_recap_at_local_time_on_a_dst_day_and_once_only(tmp_path):
    config = _config(tmp_path)
    store = Store.open(config.database)
    _alert(store, 1, AT - timedelta(hours=3))
    clock, outbox = Clock(BEFORE), Outbox()
    daily = DailyRecap(config, StoreRunner(store), outbox, clock)
    assert not await daily.run()  # 07:59 local
    clock.now = AT
    assert await daily.run()
    assert not await daily.run()  # the same day: never twice
    (message,) = outbox.messages
    assert message["To"] == "desk@example.org"
    assert "2025-03-30" in message["Subject"] and "1 stor" in message["Subject"]
    assert "السيسي يستقبل ناريشكين 1" in message.get_body(("plain",)).get_content()
    store.close()


async def test_a_restart_after_sending_does_not_resend_and_a_late_start_catches_up(tmp_path):
    config = _config(tmp_path)
    store = Store.open(config.database)
    _alert(store, 1, AT - timedelta(hours=3))
    outbox = Outbox()
    # Down at 08:00; comes back at 15:00 the same day: sends then.
    late = AT + timedelta(hours=7)
    assert await DailyRecap(config, StoreRunner(store), outbox, Clock(late)).run()
    store.close()
    reopened = Store.open(config.database)
    assert not await DailyRecap(
        config, StoreRunner(reopened), outbox, Clock(late + timedelta(hours=1))
    ).run()
    assert len(outbox.messages) == 1
    # The next day's recap covers what came after the previous one.
    _alert(reopened, 2, late + timedelta(hours=2))
    next_day = AT + timedelta(days=1)
    assert await DailyRecap(config, StoreRunner(reopened), outbox, Clock(next_day)).run()
    text = outbox.messages[-1].get_body(("plain",)).get_content()
    assert "ناريشكين 2" in text and "ناريشكين 1" not in text
    reopened.close()


async def test_a_quiet_day_sends_a_short_note_unless_configured_off(tmp_path):
    store_config = _config(tmp_path)
    store = Store.open(store_config.database)
    outbox = Outbox()
    assert await DailyRecap(store_config, StoreRunner(store), outbox, Clock(AT)).run()
    assert "nothing matched" in outbox.messages[0]["Subject"].lower()
    store.close()
    (tmp_path / "quiet").mkdir()
    quiet = _config(tmp_path / "quiet", "recap_empty = false\n")
    store = Store.open(quiet.database)
    outbox = Outbox()
    assert await DailyRecap(
        quiet, StoreRunner(store), outbox, Clock(AT)
    ).run()  # recorded, not sent
    assert outbox.messages == []
    assert store.recap_sent("2025-03-30")
    store.close()


async def test_a_temporary_failure_is_retried_later_a_permanent_one_recorded_and_told(tmp_path):
    config = _config(tmp_path)
    store = Store.open(config.database)
    told = []

    async def tell(text: str) -> None:
        told.append(text)

    clock = Clock(AT)
    outbox = Outbox([DeliveryError("451 try again later")])
    daily = DailyRecap(config, StoreRunner(store), outbox, clock, on_failure=tell)
    assert not await daily.run()
    assert not store.recap_sent("2025-03-30")
    clock.now += timedelta(minutes=1)
    assert not await daily.run()  # waits 5 minutes before trying again
    clock.now += timedelta(minutes=5)
    assert await daily.run()
    assert len(outbox.messages) == 1
    store.close()

    (tmp_path / "other").mkdir()
    other = _config(tmp_path / "other")
    store = Store.open(other.database)
    outbox = Outbox([DeliveryError("550 5.1.1 mailbox unknown", permanent=True)])
    assert await DailyRecap(other, StoreRunner(store), outbox, Clock(AT), on_failure=tell).run()
    assert store.recap_sent("2025-03-30")
    assert any("550 5.1.1" in t for t in told)
    assert "FAILED desk@example.org: 550 5.1.1 mailbox unknown" in render_status(other, store, AT)
    store.close()


async def test_chats_that_verified_an_address_get_their_own_recap(tmp_path):
    config = _config(tmp_path)
    store = Store.open(config.database)
    _alert(store, 1, AT - timedelta(hours=1))
    store.set_chat_email(5, "reader@example.org", "x", AT, AT - timedelta(days=1))
    store.verify_chat_email(5, AT - timedelta(days=1))
    outbox = Outbox()
    assert await DailyRecap(config, StoreRunner(store), outbox, Clock(AT)).run()
    assert sorted(m["To"] for m in outbox.messages) == ["desk@example.org", "reader@example.org"]
    store.close()


@pytest.mark.parametrize("zone", ["Africa/Cairo", "Europe/Berlin"])
async def test_due_follows_local_time(tmp_path, zone):
    config = _config(tmp_path)
    config = replace(config, timezone=ZoneInfo(zone))
    store = Store.open(config.database)
    daily = DailyRecap(config, StoreRunner(store), Outbox(), Clock(AT))
    local_eight = datetime(2025, 7, 1, 8, 0, tzinfo=config.timezone)
    assert await daily.due(local_eight - timedelta(minutes=1)) is None
    assert await daily.due(local_eight) == "2025-07-01"
    store.close()
