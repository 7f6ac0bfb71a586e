"""The Telegram notifier: outbox rows as messages in chats, and their "also:" edits.

How each Bot API answer is handled (the dispatcher then marks the row):

    ok                      sent; the reference "chat_id:message_id" is kept for edits
    429 RetryAfter          retried after `retry_after` (the chat is kept quiet that long)
    timeout, not yet sent   (connect or pool timeout) retried with backoff
    timeout after sending   retried once; a second one fails the row: one duplicate is
                            better than a loss, five are not
    403 Forbidden           the chat blocked or removed the bot: chat deactivated, failed
    ChatMigrated            the group became a supergroup: chat moved, sent to the new id
    400 too long / entities sent again as shorter plain text
    other 400               failed with Telegram's reason (chat not found, ...)
    other network errors    retried with backoff

A chat with more than `BACKLOG` pending alerts (after downtime) gets one grouped message
for all of them. A paused or muted chat gets nothing: its rows are marked delivered with
the reference `held`, so the stories still reach its recap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from alertbot.bot.format import alert_html, alert_plain, backlog_html, backlog_plain
from alertbot.bot.pacing import Pacer
from alertbot.config import TelegramConfig
from alertbot.notify.alert import Alert
from alertbot.notify.base import DeliveryError
from alertbot.store import OutboxRow, Store

log = logging.getLogger(__name__)

BACKLOG = 5  # more pending alerts than this for one chat are grouped into one message
EDIT_WINDOW = timedelta(hours=48)  # Telegram lets bots edit their messages for 48 h
HELD = "held"  # the message reference of an alert held back by /pause or /mute
TIMED_OUT = "timed out after the request was sent"


def message_ref(chat_id: int, message_id: int) -> str:
    """The stored reference of a sent message."""
    return f"{chat_id}:{message_id}"


def parse_ref(ref: str) -> tuple[int, int] | None:
    """(chat_id, message_id) from a stored reference; None for `held` or a grouped copy."""
    chat, _, message = ref.partition(":")
    try:
        return int(chat), int(message)
    except ValueError:
        return None


def buttons(alert: Alert, chat_watch_names: set[str]) -> InlineKeyboardMarkup:
    """Mute this story; stop watching each of the chat's own watches it matched."""
    rows = [[InlineKeyboardButton("🔕 Mute this story", callback_data=f"mute:{alert.outbox_id}")]]
    for i, name in enumerate(alert.watches):
        if name in chat_watch_names:
            rows.append(
                [
                    InlineKeyboardButton(
                        f"Stop watching {name}"[:60], callback_data=f"unwatch:{alert.outbox_id}:{i}"
                    )
                ]
            )
    return InlineKeyboardMarkup(rows)


class TelegramNotifier:
    """Sends alerts with a python-telegram-bot `Bot`, paced per chat."""

    channel = "telegram"

    def __init__(
        self,
        bot: Bot,
        store: Store,
        config: TelegramConfig,
        timezone: ZoneInfo,
        clock: Callable[[], datetime],
        *,
        pacer: Pacer | None = None,
    ) -> None:
        self._bot = bot
        self._store = store
        self._config = config
        self._timezone = timezone
        self._clock = clock
        self._pacer = pacer or Pacer()
        # Builds an Alert for another pending row (grouped backlogs, edits): the dispatcher's,
        # given with set_alert_builder once the dispatcher exists.
        self._alert_for: Callable[[OutboxRow], Alert | None] | None = None

    def set_alert_builder(self, alert_for: Callable[[OutboxRow], Alert | None]) -> None:
        """Give the function that turns an outbox row into an Alert (the dispatcher's)."""
        self._alert_for = alert_for

    # -- sending -----------------------------------------------------------------------

    async def send(self, alert: Alert) -> str | None:
        """Deliver one alert (or the chat's whole backlog with it); see the module docstring."""
        chat_id = int(alert.recipient)
        chat = self._store.chat(chat_id)
        now = self._clock()
        if chat is not None and not chat.active:
            raise DeliveryError("the chat has blocked or removed the bot", permanent=True)
        if chat is not None and (chat.paused or chat.muted(now)):
            return HELD
        backlog = self._store.pending_rows(self.channel, alert.recipient)
        if len(backlog) > BACKLOG and self._alert_for is not None:
            return await self._send_backlog(chat_id, alert, backlog)
        names = {w.name for w in self._store.chat_watches(chat_id)}
        markup = buttons(alert, names)
        html = alert_html(alert, self._timezone)
        plain = alert_plain(alert, self._timezone)
        return await self._deliver(chat_id, alert, html, plain, markup)

    async def _send_backlog(self, chat_id: int, alert: Alert, backlog: list[OutboxRow]) -> str:
        alerts = [a for a in (self._alert_for(r) for r in backlog) if a is not None]  # type: ignore[misc]
        if not any(a.outbox_id == alert.outbox_id for a in alerts):
            alerts.append(alert)
        ref = await self._deliver(
            chat_id, alert, backlog_html(alerts, self._timezone),
            backlog_plain(alerts, self._timezone), None,
        )  # fmt: skip
        # One message stands for all of them: the others are delivered with it.
        now = self._clock()
        for other in alerts:
            if other.outbox_id != alert.outbox_id:
                self._store.mark_sent(other.outbox_id, now, f"grouped:{ref}")
        log.info("chat %d: %d pending alerts sent as one message", chat_id, len(alerts))
        return ref

    async def _deliver(
        self,
        chat_id: int,
        alert: Alert,
        html: str,
        plain: str,
        markup: InlineKeyboardMarkup | None,
        *,
        migrated: bool = False,
    ) -> str:
        preview = LinkPreviewOptions(is_disabled=not self._config.link_preview)
        await self._pacer.wait(chat_id)
        try:
            try:
                message = await self._bot.send_message(
                    chat_id, html, parse_mode=ParseMode.HTML,
                    link_preview_options=preview, reply_markup=markup,
                )  # fmt: skip
            except BadRequest as exc:
                if not _fallback_to_plain(exc):
                    raise
                log.warning("chat %d: %s; sending plain text", chat_id, exc.message)
                await self._pacer.wait(chat_id)
                message = await self._bot.send_message(
                    chat_id, plain, link_preview_options=preview, reply_markup=markup
                )
        except RetryAfter as exc:
            seconds = _seconds(exc.retry_after)
            self._pacer.penalize(chat_id, seconds)
            raise DeliveryError(f"Telegram flood control: retry after {seconds:g} s",
                                retry_after=seconds) from None  # fmt: skip
        except Forbidden as exc:
            self._store.set_chat_flag(chat_id, "active", False, self._clock())
            raise DeliveryError(f"Forbidden: {exc.message}", permanent=True) from None
        except ChatMigrated as exc:
            if migrated:
                raise DeliveryError(f"chat moved twice: {exc.message}") from None
            new_id = int(exc.new_chat_id)
            log.info("chat %d became %d; alerts follow it", chat_id, new_id)
            self._store.migrate_chat(chat_id, new_id)
            return await self._deliver(new_id, alert, html, plain, markup, migrated=True)
        except TimedOut as exc:
            if not _request_sent(exc):
                raise DeliveryError(f"timed out before sending: {exc.message}") from None
            if (alert.last_error or "").startswith(TIMED_OUT):
                raise DeliveryError(f"{TIMED_OUT}, twice: not sent again to avoid "
                                    "duplicates", permanent=True) from None  # fmt: skip
            raise DeliveryError(TIMED_OUT) from None
        except BadRequest as exc:
            raise DeliveryError(f"Bad Request: {exc.message}", permanent=True) from None
        except NetworkError as exc:  # 5xx, connection refused, reset
            raise DeliveryError(f"network error: {exc.message}") from None
        return message_ref(message.chat_id, message.message_id)

    # -- "also:" edits -----------------------------------------------------------------

    async def story_grew(self, story_id: int) -> int:
        """Edit the sent alerts of a story that gained outlets; returns how many were edited."""
        now = self._clock()
        rows = self._store.editable_rows(story_id, self.channel, now - EDIT_WINDOW)
        story = self._store.story(story_id)
        if story is None or self._alert_for is None:
            return 0
        edited = 0
        for row in rows:
            ref = parse_ref(row.message_ref or "")
            if ref is None or len(story.outlets) <= row.outlets_shown:
                continue
            alert = self._alert_for(row)
            if alert is None:
                continue
            chat_id, message_id = ref
            names = {w.name for w in self._store.chat_watches(chat_id)}
            await self._pacer.wait(chat_id)
            try:
                await self._bot.edit_message_text(
                    alert_html(alert, self._timezone), chat_id, message_id,
                    parse_mode=ParseMode.HTML, reply_markup=buttons(alert, names),
                    link_preview_options=LinkPreviewOptions(
                        is_disabled=not self._config.link_preview),
                )  # fmt: skip
            except BadRequest as exc:
                if "not modified" not in exc.message.lower():
                    log.info("chat %d: editing message %d: %s", chat_id, message_id, exc.message)
                    continue
            except (Forbidden, NetworkError) as exc:  # RetryAfter and TimedOut included
                log.info("chat %d: editing message %d: %s", chat_id, message_id, exc.message)
                continue
            self._store.set_outlets_shown(row.id, len(story.outlets))
            edited += 1
        return edited


def _fallback_to_plain(exc: BadRequest) -> bool:
    message = exc.message.lower()
    return "too long" in message or "can't parse entities" in message


def _request_sent(exc: TimedOut) -> bool:
    """False when the timeout happened before the request left (connect or pool)."""
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout):
        return False
    return "pool" not in (exc.message or "").lower()


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
