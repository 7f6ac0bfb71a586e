"""Chats the bot has talked to, their state, their watches and their exclusions.

A chat is `active` until it blocks or removes the bot, `allowed` when an admin allowed it,
`paused` by /pause, and muted until `muted_until` by /mute. Watches with no chat are the
config file's `[[watch]]` entries, synced at start. A watch may be limited to some sources
(their names, a JSON list) and send its alerts to a forum topic. A chat's exclusions
(/exclude) are queries whose matches alert nobody in the chat.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from alertbot.store.base import StoreBase
from alertbot.store.model import Chat, chat_from_row, parse_ts_or_none, ts, ts_or_none
from alertbot.watch.match import Watch


class ChatsMixin(StoreBase):
    """Chats and watches."""

    def upsert_chat(self, chat_id: int, kind: str, title: str | None, now: datetime) -> None:
        """Remember a chat, or refresh its kind, title and last-seen time (a chat that writes
        to the bot is active again)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO chats (chat_id, kind, title, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
                " kind = excluded.kind, title = excluded.title, last_seen = excluded.last_seen,"
                " active = 1",
                (chat_id, kind, title, ts(now), ts(now)),
            )

    def chats(self) -> list[Chat]:
        """Every chat the bot knows."""
        return [chat_from_row(r) for r in self._rows("SELECT * FROM chats ORDER BY chat_id")]

    def chat(self, chat_id: int) -> Chat | None:
        """One chat, or None if the bot has not seen it."""
        rows = self._rows("SELECT * FROM chats WHERE chat_id = ?", (chat_id,))
        return chat_from_row(rows[0]) if rows else None

    def set_chat_flag(self, chat_id: int, flag: str, value: bool, now: datetime) -> None:
        """Set `active`, `allowed` or `paused` on a chat (creating its row if needed)."""
        if flag not in ("active", "allowed", "paused"):
            raise ValueError(f"not a chat flag: {flag!r}")
        with self._write() as db:
            db.execute(
                "INSERT INTO chats (chat_id, kind, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO NOTHING",
                (chat_id, "private" if chat_id > 0 else "group", ts(now), ts(now)),
            )
            db.execute(f"UPDATE chats SET {flag} = ? WHERE chat_id = ?", (int(value), chat_id))

    def set_muted_until(self, chat_id: int, until: datetime | None) -> None:
        """Mute a chat's alerts until a time (None: unmute)."""
        with self._write() as db:
            db.execute(
                "UPDATE chats SET muted_until = ? WHERE chat_id = ?",
                (ts_or_none(until), chat_id),
            )

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: move its row, watches and alerts to the new id."""
        with self._write() as db:
            self.bump()  # the other workers compile the watches again
            if not self._value("SELECT 1 FROM chats WHERE chat_id = ?", (new_id,)):
                db.execute("UPDATE chats SET chat_id = ? WHERE chat_id = ?", (new_id, old_id))
            else:
                db.execute("DELETE FROM chats WHERE chat_id = ?", (old_id,))
            # A row the new id already has (a watch of the same name, an alert of the same
            # story) is kept and the old one dropped.
            db.execute(
                "UPDATE watches SET chat_id = ? WHERE chat_id = ? AND name_key NOT IN"
                " (SELECT name_key FROM watches WHERE chat_id = ?)",
                (new_id, old_id, new_id),
            )
            db.execute("DELETE FROM watches WHERE chat_id = ?", (old_id,))
            db.execute(
                "UPDATE outbox SET recipient = ? WHERE channel = 'telegram' AND recipient = ?"
                " AND NOT EXISTS (SELECT 1 FROM outbox AS taken WHERE taken.channel = 'telegram'"
                " AND taken.recipient = ? AND taken.story_id = outbox.story_id"
                " AND taken.topic = outbox.topic)",
                (str(new_id), str(old_id), str(new_id)),
            )
            db.execute(
                "UPDATE chat_emails SET chat_id = ? WHERE chat_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM chat_emails WHERE chat_id = ?)",
                (new_id, old_id, new_id),
            )
            db.execute(
                "UPDATE exclusions SET chat_id = ? WHERE chat_id = ? AND name_key NOT IN"
                " (SELECT name_key FROM exclusions WHERE chat_id = ?)",
                (new_id, old_id, new_id),
            )
            db.execute("DELETE FROM exclusions WHERE chat_id = ?", (old_id,))

    def add_watch(
        self,
        chat_id: int | None,
        name: str,
        query: str,
        now: datetime,
        *,
        sources: Sequence[str] = (),
        topic: int | None = None,
    ) -> bool:
        """Add a watch to a chat (None: the config's watches), limited to `sources` (names;
        none: every source), alerting in forum `topic` (None: the chat itself); True if new,
        False if it replaced an existing watch of that name. Committed when this returns."""
        limited = json.dumps(list(sources), ensure_ascii=False) if sources else None
        with self._write() as db:
            self.bump()  # the other workers compile the watches again
            cursor = db.execute(
                "UPDATE watches SET name = ?, query = ?, sources = ?, topic = ?"
                " WHERE coalesce(chat_id, 0) = ? AND name_key = ?",
                (name, query, limited, topic, chat_id or 0, name.casefold()),
            )
            if cursor.rowcount:
                return False
            db.execute(
                "INSERT INTO watches (chat_id, name, name_key, query, sources, topic, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chat_id, name, name.casefold(), query, limited, topic, ts(now)),
            )
            return True

    def remove_watch(self, chat_id: int | None, name: str) -> bool:
        """Remove a chat's watch by name (any case); False if it had none by that name."""
        with self._write() as db:
            self.bump()  # the other workers compile the watches again
            return bool(
                db.execute(
                    "DELETE FROM watches WHERE coalesce(chat_id, 0) = ? AND name_key = ?",
                    (chat_id or 0, name.casefold()),
                ).rowcount
            )

    def chat_watches(self, chat_id: int | None) -> list[Watch]:
        """A chat's watches (None: the config's), in the order they were added."""
        rows = self._rows(
            "SELECT name, query, sources, topic FROM watches WHERE coalesce(chat_id, 0) = ?"
            " ORDER BY id",
            (chat_id or 0,),
        )
        return [_watch(r) for r in rows]

    def all_chat_watches(self) -> dict[int, list[Watch]]:
        """Every chat's own watches, by chat id (config watches not included)."""
        out: dict[int, list[Watch]] = {}
        for r in self._rows(
            "SELECT chat_id, name, query, sources, topic FROM watches"
            " WHERE chat_id IS NOT NULL ORDER BY id"
        ):
            out.setdefault(r["chat_id"], []).append(_watch(r))
        return out

    def sync_config_watches(self, watches: Iterable[Watch], now: datetime) -> None:
        """Make the stored config watches exactly `watches` (run at start)."""
        watches = list(watches)
        with self._write() as db:
            keep = [w.name.casefold() for w in watches]
            marks = ", ".join("?" * len(keep))
            db.execute(
                f"DELETE FROM watches WHERE chat_id IS NULL AND name_key NOT IN ({marks})",
                keep,
            )
            for watch in watches:
                self.add_watch(
                    None, watch.name, watch.query, now, sources=watch.sources, topic=watch.topic
                )

    # -- exclusions --------------------------------------------------------------------

    def add_exclusion(self, chat_id: int, name: str, query: str, now: datetime) -> bool:
        """Add an exclusion to a chat; True if new, False if it replaced the query of one of
        that name. Committed when this returns."""
        with self._write() as db:
            self.bump()  # the other workers compile the watches again
            cursor = db.execute(
                "UPDATE exclusions SET name = ?, query = ? WHERE chat_id = ? AND name_key = ?",
                (name, query, chat_id, name.casefold()),
            )
            if cursor.rowcount:
                return False
            db.execute(
                "INSERT INTO exclusions (chat_id, name, name_key, query, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (chat_id, name, name.casefold(), query, ts(now)),
            )
            return True

    def remove_exclusion(self, chat_id: int, name: str) -> bool:
        """Remove a chat's exclusion by name (any case); False if it had none by that name."""
        with self._write() as db:
            self.bump()  # the other workers compile the watches again
            return bool(
                db.execute(
                    "DELETE FROM exclusions WHERE chat_id = ? AND name_key = ?",
                    (chat_id, name.casefold()),
                ).rowcount
            )

    def chat_exclusions(self, chat_id: int) -> list[Watch]:
        """A chat's exclusions (Watch with `excludes`), in the order they were added."""
        rows = self._rows(
            "SELECT name, query FROM exclusions WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        return [Watch(r["name"], r["query"], excludes=True) for r in rows]

    def all_chat_exclusions(self) -> dict[int, list[Watch]]:
        """Every chat's exclusions, by chat id."""
        out: dict[int, list[Watch]] = {}
        for r in self._rows("SELECT chat_id, name, query FROM exclusions ORDER BY id"):
            out.setdefault(r["chat_id"], []).append(Watch(r["name"], r["query"], excludes=True))
        return out

    # -- recap by email ----------------------------------------------------------------

    def set_chat_email(
        self, chat_id: int, address: str, code_hash: str, expires: datetime, now: datetime
    ) -> None:
        """Start (or restart) subscribing a chat's address: unverified, with a code's hash."""
        with self._write() as db:
            db.execute(
                "INSERT INTO chat_emails (chat_id, address, code_hash, code_expires, attempts,"
                " verified, updated) VALUES (?, ?, ?, ?, 0, 0, ?) ON CONFLICT (chat_id) DO UPDATE"
                " SET address = excluded.address, code_hash = excluded.code_hash,"
                " code_expires = excluded.code_expires, attempts = 0, verified = 0,"
                " updated = excluded.updated",
                (chat_id, address, code_hash, ts(expires), ts(now)),
            )

    def chat_email(self, chat_id: int) -> dict[str, Any] | None:
        """A chat's address row: address, code_hash, code_expires, attempts, verified."""
        rows = self._rows("SELECT * FROM chat_emails WHERE chat_id = ?", (chat_id,))
        if not rows:
            return None
        row = rows[0]
        row["code_expires"] = parse_ts_or_none(row["code_expires"])
        row["verified"] = bool(row["verified"])
        return row

    def count_email_attempt(self, chat_id: int) -> None:
        """Count one wrong verification code."""
        with self._write() as db:
            db.execute(
                "UPDATE chat_emails SET attempts = attempts + 1 WHERE chat_id = ?", (chat_id,)
            )

    def verify_chat_email(self, chat_id: int, now: datetime) -> None:
        """Mark a chat's address verified (the code was right)."""
        with self._write() as db:
            db.execute(
                "UPDATE chat_emails SET verified = 1, code_hash = NULL, code_expires = NULL,"
                " updated = ? WHERE chat_id = ?",
                (ts(now), chat_id),
            )

    def remove_chat_email(self, chat_id: int) -> bool:
        """Stop a chat's recap by email; False if it had none."""
        with self._write() as db:
            return bool(
                db.execute("DELETE FROM chat_emails WHERE chat_id = ?", (chat_id,)).rowcount
            )

    def verified_chat_emails(self) -> list[tuple[int, str]]:
        """(chat id, address) of every verified recap subscription."""
        rows = self._rows(
            "SELECT chat_id, address FROM chat_emails WHERE verified = 1 ORDER BY chat_id"
        )
        return [(r["chat_id"], r["address"]) for r in rows]


def _watch(row: dict[str, Any]) -> Watch:
    """A `watches` row as a Watch (its owner left for the caller to set)."""
    sources = tuple(json.loads(row["sources"])) if row["sources"] else ()
    return Watch(row["name"], row["query"], sources=sources, topic=row["topic"])
