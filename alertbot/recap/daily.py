"""The daily recap by email: due at `email.recap_at` local time, sent once per local day.

A job checks every minute whether today's recap is due: the local time (in `timezone`,
so DST is followed) is past `recap_at` and the database has no record of today's recap.
A process that was down at recap time therefore sends it when it comes back the same
day, and a restart after sending does not send it again. The recap covers every story
alerted since the previous recap (the last 24 h the first time). It goes to
`email.recap_to`, and each chat that verified an address with /email gets its own recap of
its alerts. A quiet day sends a short "nothing matched" note unless `email.recap_empty`
is false. A failing SMTP server is retried every 5 minutes on a temporary error; a
permanent one is recorded with the server's reply (shown by `alertbot status`) and told to
the admins.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from alertbot.config import Config
from alertbot.notify.base import DeliveryError
from alertbot.recap.build import Recap, build_recap
from alertbot.recap.render import recap_message
from alertbot.store import RecapDelivery, StoreRunner

log = logging.getLogger(__name__)

FIRST_PERIOD = timedelta(hours=24)
RETRY_AFTER = timedelta(minutes=5)


class DailyRecap:
    """Decides when the recap is due and sends it; `send` delivers one message."""

    def __init__(
        self,
        config: Config,
        db: StoreRunner,
        send: Callable[[EmailMessage], Awaitable[None]],
        clock: Callable[[], datetime],
        *,
        on_failure: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        assert config.email is not None
        self._config = config
        self._email = config.email
        self._db = db
        self._send = send
        self._clock = clock
        self._on_failure = on_failure
        self._failed_at: datetime | None = None

    async def due(self, now: datetime) -> str | None:
        """Today's local date (YYYY-MM-DD) when its recap is due and not yet sent."""
        local = now.astimezone(self._config.timezone)
        if (local.hour, local.minute) < self._email.recap_time:
            return None
        key = local.date().isoformat()
        return None if await self._db.run(self._db.store.recap_sent, key) else key

    async def run(self) -> bool:
        """Send today's recap if it is due; True when it was sent (or given up on)."""
        now = self._clock()
        key = await self.due(now)
        if key is None:
            return False
        if self._failed_at is not None and now - self._failed_at < RETRY_AFTER:
            return False
        store = self._db.store
        last = await self._db.run(store.last_recap)
        start = last[1] if last is not None else now - FIRST_PERIOD
        tz = self._config.timezone
        recap = await self._db.read(build_recap, start, now, tz, date_key=key)
        deliveries: list[RecapDelivery] = []
        try:
            if self._email.recap_to and self._worth_sending(recap):
                to = ", ".join(self._email.recap_to)
                await self._send(self._message(recap, to, now))
                deliveries.extend(RecapDelivery(a) for a in self._email.recap_to)
        except DeliveryError as exc:
            if not exc.permanent:
                self._failed_at = now
                log.warning("recap %s: %s; trying again in 5 minutes", key, exc)
                return False
            deliveries.extend(RecapDelivery(a, str(exc)) for a in self._email.recap_to)
            await self._tell(f"The {key} recap email failed: {exc}")
        for chat_id, address in await self._db.run(store.verified_chat_emails):
            chat = ("telegram", str(chat_id))
            mine = await self._db.read(build_recap, start, now, tz, recipient=chat, date_key=key)
            if not self._worth_sending(mine):
                continue
            try:
                await self._send(self._message(mine, address, now))
                deliveries.append(RecapDelivery(address))
            except DeliveryError as exc:
                log.warning("recap %s for chat %d (%s): %s", key, chat_id, address, exc)
                deliveries.append(RecapDelivery(address, str(exc)))
        await self._db.run(store.record_recap, key, now, deliveries)
        self._failed_at = None
        sent = sum(d.sent for d in deliveries)
        log.info("recap %s: %d stories, sent to %d addresses", key, recap.story_count, sent)
        return True

    def _worth_sending(self, recap: Recap) -> bool:
        return not recap.empty or self._email.recap_empty

    def _message(self, recap: Recap, to: str, now: datetime) -> EmailMessage:
        return recap_message(recap, sender=self._email.sender, to=to, now=now)

    async def _tell(self, text: str) -> None:
        log.error("%s", text)
        if self._on_failure is not None:
            await self._on_failure(text)
