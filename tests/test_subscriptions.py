"""/email and /verify: an address gets recaps only after its mailed code comes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alertbot.bot.service import UsageError
from alertbot.bot.subscriptions import MAX_ATTEMPTS, EmailSubscriptions, code_hash
from alertbot.store import StoreRunner
from testsupport.clocks import Clock

pytestmark = pytest.mark.both_engines

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def mailed() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def subs(store, mailed):
    clock = Clock(NOW)
    subscriptions = EmailSubscriptions(
        StoreRunner(store), lambda a, c: mailed.append((a, c)), clock
    )
    subscriptions.clock = clock
    return subscriptions


async def test_the_mailed_code_subscribes_the_address(subs, store, mailed):
    assert await subs.start(5, " desk@example.org ") == "desk@example.org"
    ((address, code),) = mailed
    assert address == "desk@example.org" and len(code) == 6 and code.isdigit()
    assert store.verified_chat_emails() == []
    row = store.chat_email(5)
    assert row["code_hash"] == code_hash(5, code) and code not in str(row)
    assert await subs.verify(5, code) == "desk@example.org"
    assert store.verified_chat_emails() == [(5, "desk@example.org")]


async def test_a_code_works_only_in_the_chat_that_asked(subs, mailed):
    await subs.start(5, "desk@example.org")
    await subs.start(6, "other@example.org")
    code_for_5 = mailed[0][1]
    with pytest.raises(UsageError, match="not the code"):
        await subs.verify(6, code_for_5)


async def test_wrong_codes_are_limited_and_codes_expire(subs, store, mailed):
    await subs.start(5, "desk@example.org")
    code = mailed[0][1]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(UsageError, match="not the code"):
            await subs.verify(5, wrong)
    with pytest.raises(UsageError, match="Too many"):
        await subs.verify(5, code)
    subs.clock.now += timedelta(minutes=2)
    await subs.start(5, "desk@example.org")
    subs.clock.now += timedelta(hours=2)
    with pytest.raises(UsageError, match="expired"):
        await subs.verify(5, mailed[-1][1])
    assert store.verified_chat_emails() == []


async def test_bad_addresses_usage_and_resend_cooldown(subs, mailed):
    for bad in ("", "not-an-address", "a@b", "x@y.org, z@w.org", "<a@b.org>"):
        with pytest.raises(UsageError, match="usage"):
            await subs.start(5, bad)
    await subs.start(5, "desk@example.org")
    with pytest.raises(UsageError, match="wait a minute"):
        await subs.start(5, "desk@example.org")
    with pytest.raises(UsageError, match="usage: /verify"):
        await subs.verify(5, "")
    with pytest.raises(UsageError, match="No code"):
        await subs.verify(7, "123456")
    assert len(mailed) == 1


async def test_a_failed_mail_stores_nothing(store):
    def refuse(address: str, code: str) -> None:
        raise RuntimeError("550 no such mailbox")

    with pytest.raises(RuntimeError):
        await EmailSubscriptions(StoreRunner(store), refuse, Clock(NOW)).start(
            5, "desk@example.org"
        )
    assert store.chat_email(5) is None


async def test_off_ends_the_subscription(subs, store, mailed):
    await subs.start(5, "desk@example.org")
    await subs.verify(5, mailed[0][1])
    assert await subs.off(5)
    assert not await subs.off(5)
    assert store.verified_chat_emails() == []
