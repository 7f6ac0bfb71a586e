"""The bot's commands for chats, and its buttons: thin handlers that parse, call a service,
and reply.

Every handler goes through `command(name)` (alertbot.bot.commands): the access gate, the
chat registered, the arguments as written (Arabic, Latin or mixed; `/watch@botname` works
too, and `/watch@otherbot` is left to that bot), a narrow catch of bad arguments answered
with one usage line. Store calls go through the store runner (long reads such as /watch's
backtest on its read-only connection), so a command never stalls polling nor waits for it,
and a command that changes watches answers only after the change is committed and the
pipeline has the new watches. One error handler logs any other failure with its traceback
and tells the user in one line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    ContextTypes,
)

from alertbot.bot.access import Level
from alertbot.bot.commands import (
    BY_NAME,
    COMMANDS,
    NO_PREVIEW,
    BotServices,
    Handler,
    admitted,
    chat_of,
    command,
    e,
    for_another_bot,
    reply,
    services,
    topic_of,
)
from alertbot.bot.service import Example, ExclusionAdded, parse_duration_arg
from alertbot.config import Config, SourceConfig
from alertbot.notify.base import DeliveryError
from alertbot.notify.layout import linkable, local_time, shown_time
from alertbot.recap.build import build_recap
from alertbot.recap.render import plural, recap_telegram_html
from alertbot.sources.health import SourceHealth
from alertbot.status import describe_health
from alertbot.store import Store
from alertbot.watch.match import Watch

log = logging.getLogger(__name__)


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
    lines.append("End a /watch with <code>in: BBC Arabic, France 24 Arabic</code> to hear only"
                 " from those sources (/sources lists them). A /watch sent in a forum topic"
                 " alerts in that topic. What an /exclude matches alerts nobody in this"
                 " chat, whatever else it matches.")  # fmt: skip
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
    """Add a watch (alerting in the topic it was sent in): answer how it was understood
    once it is stored, then edit in what it would have matched this week."""
    chat_id = chat_of(update)
    trial = await asyncio.to_thread(s.watches.trial, args)  # compiling: CPU, no database
    added = await s.db.run(s.watches.keep, s.store, chat_id, trial, topic_of(update))
    await s.watches_changed()
    verb = "Watching" if added.new else "Updated"
    lines = [f"✅ {verb} <b>{e(added.watch.name)}</b>: <code>{e(added.watch.query)}</code>"]
    lines += _limits(added.watch, here=True)
    if added.understood:
        parts = [
            f"{e(word)} → {e(', '.join(lemmas) or 'as written')}"
            for word, lemmas in added.understood
        ]
        lines.append("Understood as: " + "; ".join(parts))
    days = s.watches.backtest_days
    answer = await reply(update, "\n".join([*lines, f"Looking back over the last {days} days…"]))
    if answer is not None:
        # The backtest takes seconds on a busy week: a task of its own edits it in, so that
        # the chat's next command (a chat's updates are handled in order) need not wait.
        context.application.create_task(backtest(answer, s, added.watch, lines), update=update)


def _limits(watch: Watch, *, here: bool = False) -> list[str]:
    """What narrows a watch, as lines: the sources it is limited to, the topic it alerts."""
    lines = []
    if watch.sources:
        lines.append("Only from: " + e(", ".join(watch.sources)))
    if watch.topic is not None:
        lines.append("Alerts go to this topic." if here else f"Alerts go to topic {watch.topic}.")
    return lines


async def backtest(answer: Message, s: BotServices, watch: Watch, lines: list[str]) -> None:
    """Edit /watch's `answer` (`lines`) to add what `watch` would have matched this week."""
    bt = await s.db.read(s.watches.backtest, watch)  # the long read: off the write path
    lines = [
        *lines,
        f"In the last {bt.days} days it would have matched {plural(bt.stories, 'story', 'stories')}"
        f" ({plural(bt.count, 'article')} of {bt.scanned} stored)" + (":" if bt.examples else "."),
    ]
    lines += _examples(s, bt.examples)
    for word, spellings in bt.spellings:
        also = ", ".join(f"{e(spelt)} ({n})" for spelt, n in spellings)
        lines.append(f"{e(word)} → also {also} (write ={e(word)} for this spelling only)")
    await answer.edit_text(
        "\n".join(lines), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
    )


def _examples(s: BotServices, examples: Sequence[Example]) -> list[str]:
    lines = []
    for ex in examples:
        when = shown_time(ex.at, s.config.timezone, date_only=ex.date_only, zone=True)
        lines.append(f"• {link(ex.title, ex.url)} — {e(ex.source)}, {e(when)}")
    return lines


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


@command("exclude")
async def exclude(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Add an exclusion: answer once it is stored, then edit in how many of this week's
    articles it matches and how many alerts it would have silenced."""
    chat_id = chat_of(update)
    added = await s.db.run(s.watches.exclude, s.store, chat_id, args)
    await s.watches_changed()
    x = added.exclusion
    verb = "Excluding" if added.new else "Updated"
    lines = [f"⛔ {verb} <b>{e(x.name)}</b>: <code>{e(x.query)}</code>",
             "Articles it matches alert nobody in this chat."]  # fmt: skip
    days = s.watches.backtest_days
    answer = await reply(update, "\n".join([*lines, f"Looking back over the last {days} days…"]))
    if answer is not None:
        task = exclusion_backtest(answer, s, chat_id, added, lines)
        context.application.create_task(task, update=update)


async def exclusion_backtest(
    answer: Message, s: BotServices, chat_id: int, added: ExclusionAdded, lines: list[str]
) -> None:
    """Edit /exclude's `answer` to add what it would have silenced this week."""
    watches = [*await s.db.run(s.store.chat_watches, chat_id), *_config_watches(s, chat_id)]
    bt = await s.db.read(s.watches.exclusion_backtest, added.exclusion, watches)
    lines = [
        *lines,
        f"In the last {bt.days} days it matches {plural(bt.matched, 'article')} of {bt.scanned}"
        f" stored; it would have silenced {bt.silenced} of them"
        " (they matched this chat's watches)" + (":" if bt.examples else "."),
        *_examples(s, bt.examples),
    ]
    await answer.edit_text(
        "\n".join(lines), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
    )


@command("unexclude")
async def unexclude(update: Update, context: Any, s: BotServices, args: str) -> None:
    """Remove one of the chat's exclusions, by its number in /list, its name or its query."""
    removed = await s.db.run(s.watches.unexclude, s.store, chat_of(update), args)
    if removed is None:
        await reply(update, f"This chat has no exclusion <b>{e(args)}</b>. /list shows them.")
        return
    await s.watches_changed()
    await reply(update, f"No longer excluding <b>{e(removed.name)}</b>.")


def _config_watches(s: BotServices, chat_id: int) -> tuple[Watch, ...]:
    """The config's watches when this chat is one of the alert chats, else none."""
    if s.config.telegram and chat_id in s.config.telegram.alert_chats:
        return s.config.watches
    return ()


@command("list")
async def list_(update: Update, context: Any, s: BotServices, args: str) -> None:
    """The chat's watches and exclusions, and the config's when the chat receives them."""
    chat_id = chat_of(update)
    own = await s.db.run(s.store.chat_watches, chat_id)
    exclusions = await s.db.run(s.store.chat_exclusions, chat_id)
    config = _config_watches(s, chat_id)
    lines = []
    for w, mark in [*((w, " (config)") for w in config), *((w, "") for w in own)]:
        limits = " ".join(_limits(w))
        lines.append(f"• <b>{e(w.name)}</b>{mark}: <code>{e(w.query)}</code>"
                     + (f" — {limits}" if limits else ""))  # fmt: skip
    if not lines:
        lines.append("No watches yet. " + e(BY_NAME["watch"].usage))
    if exclusions or (config and s.config.exclusions):
        lines += ["", "Excluded (alerts nobody here):"]
        lines += [f"{n}. <b>{e(x.name)}</b>: <code>{e(x.query)}</code>"
                  for n, x in enumerate(exclusions, 1)]  # fmt: skip
        if config:
            lines += [f"• <b>{e(x.name)}</b> (config, over the config's watches):"
                      f" <code>{e(x.query)}</code>" for x in s.config.exclusions]  # fmt: skip
    await reply(update, "\n".join(lines))


@command("test")
async def test(update: Update, context: Any, s: BotServices, args: str) -> None:
    """What the chat's watches match in a text, highlighted."""
    chat_id = chat_of(update)
    watches = [
        *await s.db.run(s.store.chat_watches, chat_id),
        *_config_watches(s, chat_id),
        *await s.db.run(s.store.chat_exclusions, chat_id),
    ]
    hits = await asyncio.to_thread(s.watches.test, watches, args)  # matching: CPU, no database
    if not any(not h.excludes for h in hits):
        await reply(update, "None of this chat's watches matches that text.")
        return
    lines = [
        ("⛔ excluded by " if h.excludes else "")
        + f"<b>{e(h.watch)}</b>: « {h.snippet.render(lambda m: f'<b>{e(m)}</b>', e)} »"
        for h in hits
    ]
    if any(h.excludes for h in hits):
        lines.append("An exclusion matches: this text would alert nobody in this chat.")
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
    """An unknown command gets one line, from an allowed chat; strangers the refusal; a
    command for another bot (known commands for it land here too) nothing at all."""
    if for_another_bot(update, context.bot.username):
        return
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


HANDLERS: dict[str, Handler] = {
    "start": start, "help": help_, "watch": watch, "unwatch": unwatch, "exclude": exclude,
    "unexclude": unexclude, "list": list_,
    "test": test, "mute": mute, "unmute": unmute, "pause": pause, "resume": resume,
    "recap": recap, "sources": sources, "email": email, "verify": verify,
}  # fmt: skip
