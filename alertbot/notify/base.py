"""The interface a delivery channel implements, and how it reports a failure."""

from __future__ import annotations

from typing import Protocol

from alertbot.errors import AlertbotError
from alertbot.notify.alert import Alert
from alertbot.stories import StoryId


class DeliveryError(AlertbotError):
    """A message could not be delivered.

    `permanent`: trying again cannot help (the chat blocked the bot, the address was
    refused); the row is marked failed at once. Otherwise it is retried with backoff, not
    before `retry_after` seconds when the channel said so (Telegram's 429, SMTP 4xx).
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        self.permanent = permanent
        self.retry_after = retry_after
        super().__init__(message)


class Notifier(Protocol):
    """Delivers alerts through one channel (`telegram`, `email` or `console`)."""

    channel: str

    async def send(self, alert: Alert) -> str | None:
        """Deliver one alert; return a reference to the sent message (for later edits),
        or raise DeliveryError."""
        ...

    async def story_grew(self, story_id: StoryId) -> int:
        """A story gained outlets: update the messages already sent about it, where the
        channel can (Telegram edits its "also:" line); returns how many were updated."""
        ...
