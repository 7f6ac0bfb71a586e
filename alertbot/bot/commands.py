"""What every bot command goes through: the command table, the services, the gate.

    COMMANDS                  name, who may use it, usage, English and Arabic descriptions
    BotServices               what handlers work with (config, the store runner, services)
    @command(name)            the gate, chat registration, the arguments as written, and
                              narrow answers to bad arguments (UsageError, QuerySyntaxError)
    reply, e, chat_of, ...    the small helpers every handler uses

The handlers themselves are in `alertbot.bot.handlers` (chats) and `alertbot.bot.admin`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any

from telegram import (
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.ext import (
    ContextTypes,
)

from alertbot.bot.access import Gate, Level
from alertbot.bot.service import UsageError, WatchService
from alertbot.bot.subscriptions import EmailSubscriptions
from alertbot.config import Config, SourceConfig
from alertbot.errors import QuerySyntaxError
from alertbot.notify.layout import esc
from alertbot.store import Store, StoreRunner
from alertbot.text.sanitize import clean_line

if TYPE_CHECKING:
    from alertbot.scheduler import PollOutcome

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
SERVICES = "alertbot"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class Command:
    """A command as registered with Telegram: name, who may use it, usage, descriptions."""

    name: str
    level: Level
    usage: str
    english: str
    arabic: str


COMMANDS = (
    Command("start", Level.ALLOWED, "/start", "Start, and show help", "البدء وعرض المساعدة"),
    Command("help", Level.ALLOWED, "/help", "What the bot can do", "ما يمكن للبوت فعله"),
    Command("watch", Level.MANAGE, "/watch QUERY or /watch NAME: QUERY [in: SOURCE, SOURCE]",
            "Watch a query: /watch NAME: QUERY", "متابعة استعلام: /watch الاسم: الاستعلام"),
    Command("unwatch", Level.MANAGE, "/unwatch NAME", "Stop watching", "إيقاف متابعة"),
    Command("exclude", Level.MANAGE, "/exclude QUERY or /exclude NAME: QUERY",
            "No alerts for what a query matches", "استبعاد ما يطابق استعلامًا من التنبيهات"),
    Command("unexclude", Level.MANAGE, "/unexclude NUMBER or NAME", "Remove an exclusion",
            "إلغاء استبعاد"),
    Command("list", Level.ALLOWED, "/list", "This chat's watches and exclusions",
            "متابعات هذه المحادثة واستبعاداتها"),
    Command("test", Level.ALLOWED, "/test TEXT", "Try the watches on a text",
            "تجربة المتابعات على نص"),
    Command("mute", Level.MANAGE, "/mute DURATION (e.g. /mute 2h)",
            "Quiet for a while; matches go to the recap", "كتم التنبيهات مؤقتًا"),
    Command("unmute", Level.MANAGE, "/unmute", "End the quiet time", "إنهاء الكتم"),
    Command("pause", Level.MANAGE, "/pause", "Pause alerts", "إيقاف التنبيهات"),
    Command("resume", Level.MANAGE, "/resume", "Resume alerts", "استئناف التنبيهات"),
    Command("recap", Level.ALLOWED, "/recap", "Today's recap", "ملخص اليوم"),
    Command("sources", Level.ALLOWED, "/sources", "Sources and their health", "المصادر وحالتها"),
    Command("email", Level.MANAGE, "/email ADDRESS or /email off",
            "This chat's daily recap by email", "ملخص يومي بالبريد الإلكتروني"),
    Command("verify", Level.MANAGE, "/verify CODE", "Confirm the email address",
            "تأكيد عنوان البريد"),
    Command("status", Level.ADMIN, "/status", "Admin: the bot's status", "للمشرف: حالة البوت"),
    Command("addsource", Level.ADMIN, "/addsource URL [feed|page|sitemap|telegram]",
            "Admin: add a source", "للمشرف: إضافة مصدر"),
    Command("removesource", Level.ADMIN, "/removesource NAME", "Admin: remove a source",
            "للمشرف: حذف مصدر"),
    Command("allow", Level.ADMIN, "/allow CHAT_ID", "Admin: allow a chat",
            "للمشرف: السماح لمحادثة"),
    Command("deny", Level.ADMIN, "/deny CHAT_ID", "Admin: deny a chat", "للمشرف: منع محادثة"),
)  # fmt: skip
BY_NAME = {c.name: c for c in COMMANDS}


@dataclass
class BotServices:
    """What the handlers work with (kept in `application.bot_data`).

    Every store call goes through `db`: `db.run` for writes and short reads, `db.read` for
    long reads (a backtest, a recap, the status), so a command never touches SQLite on the
    event loop and never waits behind a poll's matching.
    """

    config: Config
    db: StoreRunner
    gate: Gate
    watches: WatchService
    watches_changed: Callable[[], Awaitable[None]]  # recompile the pipeline's watches
    clock: Callable[[], datetime]
    add_source: Callable[[SourceConfig, int | None], Awaitable[PollOutcome]] | None = None
    remove_source: Callable[[str], Awaitable[SourceConfig | None]] | None = None
    emails: EmailSubscriptions | None = None  # None: no [email] section

    @property
    def store(self) -> Store:
        """The store, whose methods `db.run` calls."""
        return self.db.store


def services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    """The services the application was built with."""
    return context.application.bot_data[SERVICES]


def e(text: object) -> str:
    """Escape outside text (or an exception, a number) for Telegram HTML."""
    return esc(str(text))


def chat_of(update: Update) -> int:
    """The id of the chat a command came from (the gate let only updates with one in)."""
    chat = update.effective_chat
    assert chat is not None
    return chat.id


def user_of(update: Update) -> int | None:
    """The id of the user who sent the update, if Telegram says."""
    user = update.effective_user
    return user.id if user is not None else None


def for_another_bot(update: Update, username: str | None) -> bool:
    """True for a command written to another bot (`/list@otherbot`): a group with several
    bots shows each of them every command, and only the bot it names may answer."""
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    if not text.startswith("/"):
        return False
    _, at, target = text.split(maxsplit=1)[0].partition("@")
    return bool(at) and target.casefold() != (username or "").casefold()


def topic_of(update: Update) -> int | None:
    """The forum topic (message thread id) a command was sent in; None outside topics (a
    reply chain in a plain group has a thread id too, but is no topic)."""
    message = update.effective_message
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


def argument_text(update: Update) -> str:
    """What follows the command, as written (spacing and quotes kept)."""
    text = update.effective_message.text or "" if update.effective_message else ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


async def reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the chat, in HTML, without link previews; the answer sent (None when the
    update has no message to answer)."""
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_html(text, link_preview_options=NO_PREVIEW, reply_markup=markup)


def command(name: str) -> Callable[[Callable[..., Awaitable[None]]], Handler]:
    """Wrap a handler with the gate, chat registration and usage answers."""
    spec = BY_NAME[name]

    def wrap(function: Callable[..., Awaitable[None]]) -> Handler:
        @wraps(function)
        async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            s = services(context)
            if not await admitted(update, context, s, spec.level):
                return
            try:
                await function(update, context, s, argument_text(update))
            except UsageError as exc:
                await reply(update, e(exc))
            except QuerySyntaxError as exc:
                await reply(update, f"That query does not parse: {e(exc)}\nusage: {e(spec.usage)}")

        return handler

    return wrap


async def admitted(
    update: Update, context: ContextTypes.DEFAULT_TYPE, s: BotServices, level: Level
) -> bool:
    """The gate: True to go on; otherwise the right one-line refusal was sent (or not)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return False
    user_id = user.id if user else None

    async def group_admins() -> set[int]:
        members = await context.bot.get_chat_administrators(chat.id)
        return {m.user.id for m in members}

    if await s.gate.permits(level, chat.id, chat.type, user_id, group_admins):
        title = clean_line(chat.title or chat.full_name or chat.username) or None
        await s.db.run(s.store.upsert_chat, chat.id, chat.type, title, s.clock())
        return True
    if s.gate.is_admin(user_id) or await s.gate.chat_allowed(chat.id, user_id):
        if level is Level.ADMIN:
            await reply(update, "That command is for the bot's admins.")
        else:
            await reply(update, "Only this group's administrators can change its watches.")
    elif s.gate.should_refuse(chat.id, time.monotonic()):
        await reply(
            update,
            "Sorry, this bot only works for the chats it was set up for."
            f" Your chat id is <code>{chat.id}</code>: an admin can allow it with"
            f" <code>/allow {chat.id}</code>.",
        )
    return False
