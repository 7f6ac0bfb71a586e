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
    400 thread not found    (a forum topic deleted or closed, a topic id in a chat that has
    or topic closed         no such topic) sent again to the chat itself, and logged
    other 400               failed with Telegram's reason (chat not found, ...)
    other network errors    retried with backoff

An alert with a topic goes to that forum topic (`message_thread_id`); a follow-up replies
to the alert sent in the same topic. A chat with more than `BACKLOG` pending alerts in one
topic (after downtime) gets one grouped message for all of them there. A paused or muted
chat gets nothing: its rows are marked delivered with the reference `held`, so the stories
still reach its recap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from alertbot.config import TelegramConfig
from alertbot.notify.alert import Alert, alert_for
from alertbot.notify.base import DeliveryError
from alertbot.notify.pacing import Pacer
from alertbot.notify.telegram_html import alert_html, alert_plain, backlog_html, backlog_plain
from alertbot.store import OutboxRow, Store, StoreRunner
from alertbot.stories import StoryId

log = logging.getLogger(__name__)

BACKLOG = 5  # more pending alerts than this for one chat are grouped into one message
EDIT_WINDOW = timedelta(hours=48)  # Telegram lets bots edit their messages for 48 h
TIMED_OUT = "timed out after the request was sent"


class Delivered(Enum):
    """How an outbox row reached its chat."""

    SENT = "sent"  # as its own message
    GROUPED = "grouped"  # inside another row's grouped backlog message
    HELD = "held"  # not sent: the chat was paused or muted (it goes to the recap)


@dataclass(frozen=True)
class MessageRef:
    """Where a delivered alert is in Telegram, stored in the outbox as text:
    "CHAT:MESSAGE", "grouped:CHAT:MESSAGE" or "held"."""

    how: Delivered
    chat_id: int = 0
    message_id: int = 0

    def __str__(self) -> str:
        if self.how is Delivered.HELD:
            return "held"
        ref = f"{self.chat_id}:{self.message_id}"
        return f"grouped:{ref}" if self.how is Delivered.GROUPED else ref

    @classmethod
    def parse(cls, text: str | None) -> MessageRef | None:
        """The stored text back as a reference; None for anything else."""
        if text == "held":
            return cls(Delivered.HELD)
        how = Delivered.SENT
        if text and text.startswith("grouped:"):
            how, text = Delivered.GROUPED, text[len("grouped:") :]
        chat, _, message = (text or "").partition(":")
        try:
            return cls(how, int(chat), int(message))
        except ValueError:
            return None


HELD = str(MessageRef(Delivered.HELD))


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
        db: StoreRunner,
        config: TelegramConfig,
        timezone: ZoneInfo,
        clock: Callable[[], datetime],
        *,
        pacer: Pacer | None = None,
        build_alert: Callable[[Store, OutboxRow], Alert | None] = alert_for,
    ) -> None:
        self._bot = bot
        self._db = db
        self._config = config
        self._timezone = timezone
        self._clock = clock
        self._pacer = pacer or Pacer()
        # Builds an Alert for another pending row (grouped backlogs, edits), on the store's
        # thread: the same builder the dispatcher uses.
        self._build_alert = build_alert

    # -- sending -----------------------------------------------------------------------

    async def send(self, alert: Alert) -> str | None:
        """Deliver one alert (or the chat's whole backlog with it); see the module docstring."""
        chat_id = int(alert.recipient)
        store = self._db.store
        chat = await self._db.run(store.chat, chat_id)
        now = self._clock()
        if chat is not None and not chat.active:
            raise DeliveryError("the chat has blocked or removed the bot", permanent=True)
        if chat is not None and (chat.paused or chat.muted(now)):
            return HELD
        backlog = await self._db.run(store.pending_rows, self.channel, alert.recipient, alert.topic)
        if len(backlog) > BACKLOG:
            return await self._send_backlog(chat_id, alert, backlog)
        names = await self._watch_names(chat_id)
        markup = buttons(alert, names)
        html = alert_html(alert, self._timezone)
        plain = alert_plain(alert, self._timezone)
        thread = await self._thread(alert)
        return str(await self._deliver(chat_id, alert, html, plain, markup, thread=thread))

    async def _thread(self, alert: Alert) -> int | None:
        """For an alert that follows up a story, the message this chat got about that
        story (the reply goes under it); None when it got none, or for any other alert."""
        if alert.related_to is None:
            return None
        stored = await self._db.run(
            self._db.store.sent_message_ref,
            alert.related_to,
            self.channel,
            alert.recipient,
            alert.topic,
        )
        ref = MessageRef.parse(stored)
        if ref is None or ref.how is not Delivered.SENT or str(ref.chat_id) != alert.recipient:
            return None
        return ref.message_id

    async def _watch_names(self, chat_id: int) -> set[str]:
        watches = await self._db.run(self._db.store.chat_watches, chat_id)
        return {w.name for w in watches}

    def _alerts(self, rows: list[OutboxRow]) -> list[Alert]:
        """The alerts of several rows (on the store's thread)."""
        built = (self._build_alert(self._db.store, r) for r in rows)
        return [a for a in built if a is not None]

    async def _send_backlog(self, chat_id: int, alert: Alert, backlog: list[OutboxRow]) -> str:
        alerts = await self._db.run(self._alerts, backlog)
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
                carried = str(replace(ref, how=Delivered.GROUPED))
                await self._db.run(self._db.store.mark_sent, other.outbox_id, now, carried)
        log.info("chat %d: %d pending alerts sent as one message", chat_id, len(alerts))
        return str(ref)

    async def _deliver(
        self,
        chat_id: int,
        alert: Alert,
        html: str,
        plain: str,
        markup: InlineKeyboardMarkup | None,
        *,
        migrated: bool = False,
        thread: int | None = None,
        in_topic: bool = True,
    ) -> MessageRef:
        preview = LinkPreviewOptions(is_disabled=not self._config.link_preview)
        topic = alert.topic if in_topic else None
        # A follow-up goes under the earlier alert, without a sound: the phone buzzes
        # once per event. If that message is gone, it is sent on its own.
        threaded: dict[str, Any] = {}
        if thread is not None:
            threaded = {
                "reply_parameters": ReplyParameters(thread, allow_sending_without_reply=True),
                "disable_notification": True,
            }
        if topic is not None:
            threaded["message_thread_id"] = topic
        await self._pacer.wait(chat_id)
        try:
            try:
                message = await self._bot.send_message(
                    chat_id, html, parse_mode=ParseMode.HTML,
                    link_preview_options=preview, reply_markup=markup, **threaded,
                )  # fmt: skip
            except BadRequest as exc:
                if not _fallback_to_plain(exc):
                    raise
                log.warning("chat %d: %s; sending plain text", chat_id, exc.message)
                await self._pacer.wait(chat_id)
                message = await self._bot.send_message(
                    chat_id, plain, link_preview_options=preview, reply_markup=markup, **threaded
                )
        except RetryAfter as exc:
            seconds = _seconds(exc.retry_after)
            self._pacer.penalize(chat_id, seconds)
            raise DeliveryError(f"Telegram flood control: retry after {seconds:g} s",
                                retry_after=seconds) from None  # fmt: skip
        except Forbidden as exc:
            store = self._db.store
            await self._db.run(store.set_chat_flag, chat_id, "active", False, self._clock())
            raise DeliveryError(f"Forbidden: {exc.message}", permanent=True) from None
        except ChatMigrated as exc:
            if migrated:
                raise DeliveryError(f"chat moved twice: {exc.message}") from None
            new_id = int(exc.new_chat_id)
            log.info("chat %d became %d; alerts follow it", chat_id, new_id)
            await self._db.run(self._db.store.migrate_chat, chat_id, new_id)
            return await self._deliver(new_id, alert, html, plain, markup, migrated=True)
        except TimedOut as exc:
            if not _request_sent(exc):
                raise DeliveryError(f"timed out before sending: {exc.message}") from None
            if (alert.last_error or "").startswith(TIMED_OUT):
                raise DeliveryError(f"{TIMED_OUT}, twice: not sent again to avoid "
                                    "duplicates", permanent=True) from None  # fmt: skip
            raise DeliveryError(TIMED_OUT) from None
        except BadRequest as exc:
            if topic is not None and _topic_gone(exc):
                # Not lost for a topic deleted, closed or mistyped: the chat itself gets it.
                log.warning("chat %d, topic %d: %s; sending to the chat itself",
                            chat_id, topic, exc.message)  # fmt: skip
                return await self._deliver(
                    chat_id, alert, html, plain, markup, migrated=migrated, in_topic=False
                )
            raise DeliveryError(f"Bad Request: {exc.message}", permanent=True) from None
        except NetworkError as exc:  # 5xx, connection refused, reset
            raise DeliveryError(f"network error: {exc.message}") from None
        return MessageRef(Delivered.SENT, message.chat_id, message.message_id)

    # -- "also:" edits -----------------------------------------------------------------

    async def story_grew(self, story_id: StoryId) -> int:
        """Edit the sent alerts of a story that gained outlets; returns how many were edited."""
        now = self._clock()
        store = self._db.store
        rows = await self._db.run(store.editable_rows, story_id, self.channel, now - EDIT_WINDOW)
        story = await self._db.run(store.story, story_id)
        if story is None:
            return 0
        edited = 0
        for row in rows:
            ref = MessageRef.parse(row.message_ref)
            if ref is None or ref.how is not Delivered.SENT:
                continue
            if len(story.outlets) <= row.outlets_shown:
                continue
            alert = await self._db.run(self._build_alert, store, row)
            if alert is None:
                continue
            chat_id, message_id = ref.chat_id, ref.message_id
            names = await self._watch_names(chat_id)
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
            await self._db.run(store.set_outlets_shown, row.id, len(story.outlets))
            edited += 1
        return edited


def _fallback_to_plain(exc: BadRequest) -> bool:
    message = exc.message.lower()
    return "too long" in message or "can't parse entities" in message


def _topic_gone(exc: BadRequest) -> bool:
    """Telegram refused the message's forum topic: no such thread, or a closed topic."""
    message = exc.message.lower()
    return "thread not found" in message or "topic_closed" in message


def _request_sent(exc: TimedOut) -> bool:
    """False when the timeout happened before the request left (connect or pool)."""
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout):
        return False
    return "pool" not in (exc.message or "").lower()


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
