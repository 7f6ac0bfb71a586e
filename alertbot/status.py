"""What `alertbot status` prints: sources and their health, watches, chats, outbox, recap.

A pure function of the config, an open store and `now`; every time is shown in the
config's time zone as `YYYY-MM-DD HH:MM`. Under each source's health, what its last poll
left out: entries skipped, per reason, and new entries waiting beyond the per-poll cap.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from alertbot.config import Config
from alertbot.notify.layout import local_time
from alertbot.sources.health import SourceHealth
from alertbot.store import Store
from alertbot.stories import WINDOW as STORY_WINDOW
from alertbot.text.sanitize import remove_controls
from alertbot.watch.match import Watch
from alertbot.workers import LIVE

FAILED_SHOWN = 20
SOURCES_SHOWN = 8  # a worker's leased sources named before "..."


def render_status(config: Config, store: Store, now: datetime) -> str:
    """The plain-text report `alertbot status` prints."""
    tz = config.timezone
    sections = [
        _header(config, store, now, tz),
        *([_workers(config, store, now, tz)] if config.shared_store else []),
        _sources(config, store, tz),
        _watches(config, store),
        _stories(store, now, tz),
        _chats(store, tz),
        _outbox(store, tz),
        _recap(store, tz),
    ]
    # Stored values came from outside (chat titles, watch names, servers' replies).
    return remove_controls("\n\n".join("\n".join(lines) for lines in sections)) + "\n"


def describe_health(health: SourceHealth, tz: tzinfo, *, zone: bool = False) -> str:
    """One line about a source's health, its times in `tz` (named when `zone`): for
    `alertbot status` and /sources."""
    if health.last_attempt is None:
        return "not polled yet"
    if health.healthy:
        return f"ok (last success {_local(health.last_success, tz, zone)})"
    return (
        f"failing ×{health.consecutive_failures}: {health.last_error_kind}: {health.last_error}"
        f" (next try {_local(health.next_poll, tz, zone)})"
    )


def describe_left_out(health: SourceHealth) -> str | None:
    """What a source's last poll left out, in one line (None when nothing was): "last
    poll: 3 entries without a link skipped; 9,500 entries waiting"."""
    parts = []
    if health.skipped:
        parts.append(f"{health.skipped.describe()} skipped")
    if health.waiting:
        parts.append(f"{health.waiting:,} entries waiting")
    return "last poll: " + "; ".join(parts) if parts else None


def _local(when: datetime | None, tz: tzinfo, zone: bool = False) -> str:
    """A stored time as `YYYY-MM-DD HH:MM` in `tz` ("-" for none)."""
    return "-" if when is None else local_time(when, tz, zone=zone)


def _stories(store: Store, now: datetime, tz: tzinfo) -> list[str]:
    """Stories that can still be joined, and how today's articles were filed."""
    window = store.stories_since(now - STORY_WINDOW)
    midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    today = store.clustering_today(midnight)
    filed = sum(today.get(k, 0) for k in ("new", "joined", "related"))
    lines = [f"Stories: {window} in the last {STORY_WINDOW.days} days"]
    if filed:
        joined, related = today.get("joined", 0), today.get("related", 0)
        lines.append(
            f"  today: {filed} articles filed under stories: {joined} joined"
            f" ({joined / filed:.0%}), {related} related ({related / filed:.0%}),"
            f" {today.get('new', 0)} new"
        )
    else:
        lines.append("  today: no article filed under a story yet")
    return lines


def _header(config: Config, store: Store, now: datetime, tz: tzinfo) -> list[str]:
    return [
        f"config:   {config.path}",
        f"database: {config.database_label} (schema {store.schema_version()})",
        f"now:      {_local(now, tz)} {config.timezone.key}",
    ]


def _workers(config: Config, store: Store, now: datetime, tz: tzinfo) -> list[str]:
    """The workers sharing the store, heard from lately, and what each holds."""
    live = store.live_workers(now - LIVE)
    lines = [f"Workers ({len(live)} live)"]
    for worker in live:
        roles = ", ".join(worker["roles"]) or "none"
        sources = worker["sources"]
        shown = ", ".join(sources[:SOURCES_SHOWN]) + (
            ", ..." if len(sources) > SOURCES_SHOWN else ""
        )
        lines.append(
            f"  {worker['id']} (since {_local(worker['started'], tz)},"
            f" last heard {_local(worker['heartbeat'], tz)})"
        )
        lines.append(f"    roles: {roles}; sources leased: {len(sources)}"
                     + (f" ({shown})" if sources else ""))  # fmt: skip
    if not live:
        lines.append("  none running (or none heard from lately)")
    holders = [w["id"] for w in live if "bot" in w["roles"]]
    if live and not holders and config.telegram is not None:
        lines.append("  no worker holds the Telegram bot: commands go unanswered")
    return lines


def _sources(config: Config, store: Store, tz: tzinfo) -> list[str]:
    lines = [f"Sources ({len(config.sources)})"]
    configured = set()
    for source in config.sources:
        configured.add(source.name)
        health, _ = store.source_state(source.name)
        lines.append(f"  {source.name} [{source.type}] {source.url}")
        lines.append(f"    {describe_health(health, tz)}")
        if left_out := describe_left_out(health):
            lines.append(f"    {left_out}")
    for name in store.source_names():
        if name not in configured:
            health, _ = store.source_state(name)
            lines.append(f"  {name} (not in config): {describe_health(health, tz)}")
            if left_out := describe_left_out(health):
                lines.append(f"    {left_out}")
    if len(lines) == 1:
        lines.append("  none")
    return lines


def _watches(config: Config, store: Store) -> list[str]:
    lines = [f"Watches ({len(config.watches)} in config)"]
    lines += [f"  {_watch_line(watch)}" for watch in config.watches]
    lines += [f"  excluded: {x.name}: {x.query}" for x in config.exclusions]
    titles = {chat.chat_id: chat.title for chat in store.chats()}
    watches_of = store.all_chat_watches()
    exclusions_of = store.all_chat_exclusions()
    for chat_id in sorted({*watches_of, *exclusions_of}):
        title = titles.get(chat_id)
        lines.append(f"  chat {chat_id}" + (f" ({title})" if title else "") + ":")
        lines += [f"    {_watch_line(watch)}" for watch in watches_of.get(chat_id, ())]
        lines += [f"    excluded: {x.name}: {x.query}" for x in exclusions_of.get(chat_id, ())]
    if len(lines) == 1:
        lines.append("  none")
    return lines


def _watch_line(watch: Watch) -> str:
    """A watch as `status` lists it: name, query, and what narrows it."""
    line = f"{watch.name}: {watch.query}"
    if watch.sources:
        line += f" (only from {', '.join(watch.sources)})"
    if watch.topic is not None:
        line += f" (topic {watch.topic})"
    return line


def _chats(store: Store, tz: tzinfo) -> list[str]:
    chats = store.chats()
    lines = [f"Chats ({len(chats)})"]
    for chat in chats:
        lines.append(
            f"  {chat.chat_id} {chat.kind} {chat.title or '-'}"
            f" (last seen {_local(chat.last_seen, tz)})"
        )
    return lines


def _outbox(store: Store, tz: tzinfo) -> list[str]:
    failed = store.failed_rows(FAILED_SHOWN)
    lines = [f"Outbox: {store.pending_count()} pending"]
    if failed:
        lines.append(f"  failed, most recent first (up to {FAILED_SHOWN}):")
    for row in failed:
        lines.append(
            f"  #{row.id} {row.channel} {row.recipient} story {row.story_id}"
            f" failed {_local(row.finished, tz)}: {row.last_error}"
        )
    return lines


def _recap(store: Store, tz: tzinfo) -> list[str]:
    last = store.last_recap()
    if last is None:
        return ["Last recap: never"]
    date_key, sent_at = last
    lines = [f"Last recap: {date_key} (sent {_local(sent_at, tz)})"]
    for delivery in store.recap_deliveries(date_key):
        if delivery.sent:
            lines.append(f"  {delivery.address}")
        else:
            lines.append(f"  FAILED {delivery.address or 'recap_to'}: {delivery.error}")
    return lines
