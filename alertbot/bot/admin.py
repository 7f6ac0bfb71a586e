"""The admins' commands: /status, /addsource, /removesource, /allow, /deny."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram import (
    Update,
)

from alertbot.bot.service import UsageError
from alertbot.config import SOURCE_TYPES, Config, SourceConfig
from alertbot.errors import SourceExistsError
from alertbot.sources.safety import check_url
from alertbot.sources.urls import site_host
from alertbot.status import render_status
from alertbot.store import Store

if TYPE_CHECKING:
    pass

from alertbot.bot.commands import BY_NAME, BotServices, Handler, command, e, reply, user_of

log = logging.getLogger(__name__)


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


def _status(store: Store, config: Config, now: datetime) -> str:
    return render_status(config, store, now)


HANDLERS: dict[str, Handler] = {
    "status": status, "addsource": addsource, "removesource": removesource,
    "allow": allow, "deny": deny,
}  # fmt: skip
