"""The bot's commands and buttons: thin handlers that parse, call a service, and reply.

Every handler goes through `command(level)`: the access gate (alertbot.bot.access), the
chat registered, the arguments as written (Arabic, Latin or mixed; `/watch@botname` works
too), a narrow catch of bad arguments answered with one usage line. Work that touches the
matcher or the database runs on the application's worker thread, so a command never
stalls polling, and a command that changes watches answers only after the change is
committed. One error handler logs any other failure with its traceback and tells the user
in one line.
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
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from alertbot.bot.access import Gate, Level
from alertbot.bot.service import UsageError, WatchService, parse_duration_arg
from alertbot.bot.subscriptions import EmailSubscriptions
from alertbot.config import SOURCE_TYPES, Config, SourceConfig
from alertbot.errors import QuerySyntaxError, SourceExistsError
from alertbot.notify.base import DeliveryError
from alertbot.notify.layout import esc, linkable, local_time
from alertbot.recap.build import build_recap
from alertbot.recap.render import recap_telegram_html
from alertbot.sources.safety import check_url
from alertbot.sources.urls import site_host
from alertbot.status import describe_health, render_status

if TYPE_CHECKING:
    from alertbot.scheduler import PollOutcome
from alertbot.sources.health import SourceHealth
from alertbot.store import Store, StoreRunner

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
    Command("watch", Level.MANAGE, "/watch QUERY or /watch NAME: QUERY",
            "Watch a query: /watch NAME: QUERY", "متابعة استعلام: /watch الاسم: الاستعلام"),
    Command("unwatch", Level.MANAGE, "/unwatch NAME", "Stop watching", "إيقاف متابعة"),
    Command("list", Level.ALLOWED, "/list", "This chat's watches", "متابعات هذه المحادثة"),
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


def argument_text(update: Update) -> str:
    """What follows the command, as written (spacing and quotes kept)."""
    text = update.effective_message.text or "" if update.effective_message else ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer in the chat, in HTML, without link previews."""
    message = update.effective_message
    if message is not None:
        await message.reply_html(text, link_preview_options=NO_PREVIEW, reply_markup=markup)


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
        title = chat.title or chat.full_name or chat.username
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


# -- everyone ---------------------------------------------------------------------------


def help_text(s: BotServices, user_id: int | None) -> str:
    """The command list, with admin commands for admins."""
    lines = ["<b>alertbot</b>: alerts for your watches in Arabic news.", ""]
    for c in COMMANDS:
        if c.level is Level.ADMIN and not s.gate.is_admin(user_id):
            continue
        lines.append(f"{e(c.usage)} — {e(c.english)}")
    lines.append("")
    lines.append("A word matches all its forms: ناريشكين catches وناريشكين, الضبعة catches"
                 " بالضبعة. Use \"quotes\" for a phrase, OR, AND, NOT, NEAR/5.")  # fmt: skip
    return "\n".join(lines)


@command("start")
async def start(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Register the chat and show help."""
    user = update.effective_user
    await reply(update, help_text(s, user.id if user else None))


@command("help")
async def help_(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Show help."""
    user = update.effective_user
    await reply(update, help_text(s, user.id if user else None))


@command("watch")
async def watch(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Add a watch: how it was understood, and what it would have matched this week."""
    chat_id = chat_of(update)
    trial = await s.db.read(s.watches.trial, chat_id, args)  # the backtest: off the write path
    added = await s.db.run(s.watches.keep, s.store, chat_id, trial)
    await s.watches_changed()
    verb = "Watching" if added.new else "Updated"
    lines = [f"✅ {verb} <b>{e(added.watch.name)}</b>: <code>{e(added.watch.query)}</code>"]
    if added.understood:
        parts = [
            f"{e(word)} → {e(', '.join(lemmas) or 'as written')}"
            for word, lemmas in added.understood
        ]
        lines.append("Understood as: " + "; ".join(parts))
    bt = added.backtest
    lines.append(
        f"In the last {bt.days} days it would have matched {bt.count} of {bt.scanned}"
        " stored articles" + (":" if bt.examples else ".")
    )
    for ex in bt.examples:
        when = local_time(ex.at, s.config.timezone, zone=True)
        lines.append(f"• {link(ex.title, ex.url)} — {e(ex.source)}, {e(when)}")
    await reply(update, "\n".join(lines))


def link(title: str, url: str) -> str:
    """A title linked to its URL (http and https only)."""
    if linkable(url):
        return f'<a href="{e(url)}">{e(title)}</a>'
    return e(title)


@command("unwatch")
async def unwatch(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Remove one of the chat's watches."""
    if await s.db.run(s.watches.remove, s.store, chat_of(update), args):
        await s.watches_changed()
        await reply(update, f"Stopped watching <b>{e(args)}</b>.")
    else:
        await reply(update, f"This chat has no watch named <b>{e(args)}</b>. /list shows them.")


@command("list")
async def list_(update: Update, context: Any, s: BotServices, args: str) -> None:
    """The chat's watches, and the config's when the chat receives them."""
    chat_id = chat_of(update)
    own = await s.db.run(s.store.chat_watches, chat_id)
    lines = []
    if s.config.telegram and chat_id in s.config.telegram.alert_chats:
        lines += [f"• <b>{e(w.name)}</b> (config): <code>{e(w.query)}</code>"
                  for w in s.config.watches]  # fmt: skip
    lines += [f"• <b>{e(w.name)}</b>: <code>{e(w.query)}</code>" for w in own]
    empty = "No watches yet. " + e(BY_NAME["watch"].usage)
    await reply(update, "\n".join(lines) if lines else empty)


@command("test")
async def test(update: Update, context: Any, s: BotServices, args: str) -> None:
    """What the chat's watches match in a text, highlighted."""
    chat_id = chat_of(update)
    config = (
        s.config.watches if s.config.telegram and chat_id in s.config.telegram.alert_chats else ()
    )
    hits = await s.db.read(s.watches.test, chat_id, args, config)
    if not hits:
        await reply(update, "None of this chat's watches matches that text.")
        return
    lines = [
        f"<b>{e(h.watch)}</b>: « {h.snippet.render(lambda m: f'<b>{e(m)}</b>', e)} »" for h in hits
    ]
    await reply(update, "\n".join(lines))


@command("mute")
async def mute(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Quiet hours: matches meanwhile go to the recap."""
    until = s.clock() + parse_duration_arg(args)
    await s.db.run(s.store.set_muted_until, chat_of(update), until)
    local = local_time(until, s.config.timezone, zone=True)
    await reply(update, f"🔕 Muted until {e(local)}. Matches meanwhile go to"
                        " the recap (/recap). /unmute ends it.")  # fmt: skip


@command("unmute")
async def unmute(update: Update, context: Any, s: BotServices, args: str) -> None:
    """End quiet hours."""
    await s.db.run(s.store.set_muted_until, chat_of(update), None)
    await reply(update, "🔔 Alerts are on again.")


@command("pause")
async def pause(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Stop alerts until /resume (matches go to the recap)."""
    await s.db.run(s.store.set_chat_flag, chat_of(update), "paused", True, s.clock())
    await reply(update, "⏸ Alerts paused; matches go to the recap. /resume restarts them.")


@command("resume")
async def resume(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Restart alerts after /pause."""
    await s.db.run(s.store.set_chat_flag, chat_of(update), "paused", False, s.clock())
    await reply(update, "▶️ Alerts resumed.")


@command("recap")
async def recap(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Today's recap of this chat's alerts (local day in `timezone`)."""
    now = s.clock()
    local = now.astimezone(s.config.timezone)
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    chat = ("telegram", str(chat_of(update)))
    built = await s.db.read(build_recap, start_of_day, now, s.config.timezone, recipient=chat)
    await reply(update, recap_telegram_html(built))


@command("sources")
async def sources(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Each source's name, type and health."""
    lines = []
    for source, health in await s.db.run(_sources_health, s.store, s.config):
        mark = "✅" if health.healthy else "⚠️"
        described = describe_health(health, s.config.timezone, zone=True)
        lines.append(f"{mark} <b>{e(source.name)}</b> [{e(source.type)}]: {e(described)}")
    await reply(update, "\n".join(lines) or "No sources.")


@command("email")
async def email(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Start (a code is mailed) or end this chat's recap by email."""
    if s.emails is None:
        await reply(update, "Email is not set up on this bot ([email] in its config).")
        return
    chat_id = chat_of(update)
    if args.strip().lower() == "off":
        stopped = await s.emails.off(chat_id)
        await reply(update, "No more recap emails." if stopped else "No recap email was set.")
        return
    try:
        address = await s.emails.start(chat_id, args)
    except DeliveryError as exc:
        await reply(update, f"Could not mail {e(args.strip())}: {e(exc)}")
        return
    await reply(update, f"A code was mailed to {e(address)}. Send <code>/verify CODE</code>"
                        " here to get this chat's daily recap there.")  # fmt: skip


@command("verify")
async def verify(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Confirm the address with the mailed code."""
    if s.emails is None:
        await reply(update, "Email is not set up on this bot ([email] in its config).")
        return
    address = await s.emails.verify(chat_of(update), args)
    await reply(update, f"✅ {e(address)} will get this chat's daily recap.")


def _sources_health(store: Store, config: Config) -> list[tuple[SourceConfig, SourceHealth]]:
    """The config's sources and those added at run time, each with its health."""
    sources = list(config.sources) + store.runtime_sources()
    return [(source, store.source_state(source.name)[0]) for source in sources]


def _status(store: Store, config: Config, now: datetime) -> str:
    return render_status(config, store, now)


# -- admins -----------------------------------------------------------------------------


@command("status")
async def status(update: Update, context: Any, s: BotServices, args: str) -> None:
    """`alertbot status`, in the chat."""
    text = await s.db.read(_status, s.config, s.clock())
    if len(text) > 3800:
        text = text[:3800] + "\n…"
    await reply(update, f"<pre>{e(text)}</pre>")


@command("addsource")
async def addsource(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Add a source at run time, under the address checks for untrusted URLs."""
    parts = args.split()
    if not parts or len(parts) > 2:
        raise UsageError(f"usage: {BY_NAME['addsource'].usage}")
    url, kind = parts[0], (parts[1].lower() if len(parts) == 2 else "feed")
    if kind not in SOURCE_TYPES:
        raise UsageError(f"unknown type {kind!r}: use one of {', '.join(SOURCE_TYPES)}")
    if (problem := check_url(url)) is not None:
        raise UsageError(f"cannot add {url}: {problem}")
    if s.add_source is None:
        raise UsageError("sources can be added only while `alertbot run` is running")
    source = SourceConfig(name=site_host(url) or url, url=url, type=kind)
    try:
        outcome = await s.add_source(source, user_of(update))
    except SourceExistsError as exc:
        raise UsageError(str(exc)) from None
    if outcome.error is not None:
        await reply(update, f"Not added: {e(outcome.error.kind)}: {e(outcome.error.message)}")
        return
    await reply(update, f"Added <b>{e(source.name)}</b> ({e(kind)}): {outcome.entries} entries,"
                        f" {outcome.counts.queued} alerts.")  # fmt: skip


@command("removesource")
async def removesource(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Remove a source added at run time."""
    if not args:
        raise UsageError(f"usage: {BY_NAME['removesource'].usage}")
    removed = await s.remove_source(args) if s.remove_source else None
    if removed is not None:
        await reply(update, f"Removed <b>{e(removed.name)}</b>.")
    elif any(src.name.casefold() == args.casefold() for src in s.config.sources):
        await reply(update, f"<b>{e(args)}</b> is in the config file: remove it there.")
    else:
        await reply(update, f"No source named <b>{e(args)}</b>. /sources lists them.")


async def _set_allowed(update: Update, s: BotServices, args: str, allowed: bool) -> None:
    name = "allow" if allowed else "deny"
    try:
        chat_id = int(args.strip())
    except ValueError:
        raise UsageError(f"usage: {BY_NAME[name].usage}") from None
    await s.db.run(s.store.set_chat_flag, chat_id, "allowed", allowed, s.clock())
    await reply(update, f"Chat <code>{chat_id}</code> {'allowed' if allowed else 'denied'}.")


@command("allow")
async def allow(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Allow a chat to use the bot."""
    await _set_allowed(update, s, args, True)


@command("deny")
async def deny(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Withdraw a chat's permission."""
    await _set_allowed(update, s, args, False)


# -- buttons, unknown commands, errors --------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Mute a story, or stop watching a watch (after a confirmation)."""
    query = update.callback_query
    s = services(context)
    if query is None or update.effective_chat is None:
        return
    action, _, rest = (query.data or "").partition(":")
    level = Level.ALLOWED if action == "mute" else Level.MANAGE
    if action not in ("mute", "unwatch", "unwatch-yes", "unwatch-no") or not await admitted(
        update, context, s, level
    ):
        await query.answer()
        return
    if action == "unwatch-no":
        await query.answer("Kept.")
        await query.edit_message_reply_markup(None)
        return
    row_id, _, index = rest.partition(":")
    row = await s.db.run(s.store.outbox_row, int(row_id)) if row_id.isdigit() else None
    chat_id = chat_of(update)
    if row is None or row.recipient != str(chat_id):
        await query.answer("That alert is no longer known.")
        return
    if action == "mute":
        await s.db.run(s.store.mute_row, row.id)
        await query.answer("Muted: this story will not be updated again.")
        return
    name = row.watches[int(index)] if index.isdigit() and int(index) < len(row.watches) else None
    if name is None:
        await query.answer("That watch is no longer known.")
        return
    if action == "unwatch":
        await query.answer()
        confirm = InlineKeyboardMarkup([[
            InlineKeyboardButton("Yes, stop", callback_data=f"unwatch-yes:{row.id}:{index}"),
            InlineKeyboardButton("No", callback_data="unwatch-no:"),
        ]])  # fmt: skip
        await reply(update, f"Stop watching <b>{e(name)}</b> in this chat?", confirm)
        return
    removed = await s.db.run(s.watches.remove, s.store, chat_id, name)
    if removed:
        await s.watches_changed()
    await query.answer("Stopped." if removed else "Already gone.")
    await query.edit_message_text(
        f"Stopped watching <b>{e(name)}</b>." if removed else f"<b>{e(name)}</b> was not watched.",
        parse_mode=ParseMode.HTML,
    )


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An unknown command gets one line, from an allowed chat; strangers the refusal."""
    s = services(context)
    if await admitted(update, context, s, Level.ALLOWED):
        await reply(update, "I don't know that command. /help lists what I can do.")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any failure with its traceback; tell the user in one line."""
    log.error("handling an update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(
                "Sorry, something went wrong; it has been logged."
            )
        except TelegramError:
            log.warning("could not tell the user about the failure")


def register(application: Application, s: BotServices) -> None:
    """Add every handler to a python-telegram-bot Application."""
    application.bot_data[SERVICES] = s
    handlers = {
        "start": start, "help": help_, "watch": watch, "unwatch": unwatch, "list": list_,
        "test": test, "mute": mute, "unmute": unmute, "pause": pause, "resume": resume,
        "recap": recap, "sources": sources, "status": status, "addsource": addsource,
        "removesource": removesource, "allow": allow, "deny": deny, "email": email,
        "verify": verify,
    }  # fmt: skip
    for name, handler in handlers.items():
        application.add_handler(CommandHandler(name, handler))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(MessageHandler(filters.COMMAND, unknown))
    application.add_error_handler(on_error)


async def set_commands(application: Application, admins: tuple[int, ...]) -> None:
    """Register the command menus: English by default, Arabic for Arabic clients; admins
    see the admin commands in their private chats."""
    public = [c for c in COMMANDS if c.level is not Level.ADMIN]
    bot = application.bot
    await bot.set_my_commands([BotCommand(c.name, c.english) for c in public])
    await bot.set_my_commands([BotCommand(c.name, c.arabic) for c in public], language_code="ar")
    for admin in admins:
        try:
            await bot.set_my_commands(
                [BotCommand(c.name, c.english) for c in COMMANDS],
                scope=BotCommandScopeChat(admin),
            )
        except TelegramError as exc:  # the admin never started a chat with the bot
            log.info("admin %d: command menu not set: %s", admin, exc)
