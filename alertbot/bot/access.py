"""Who may do what in the bot: one gate for every command.

admin     a user id in `telegram.admins`: everything, in any chat
allowed   a chat in `telegram.allowed_chats` or `telegram.alert_chats`, a chat an admin
          allowed with /allow, or an admin's private chat: the reading and watching
          commands
manage    changing a chat's watches, mutes and pauses: anyone in a private chat that is
          allowed; in a group, the group's administrators and the bot's admins only
stranger  anyone else: one polite refusal that shows the chat id (so they can ask an
          admin), at most once an hour per chat, and nothing else happens
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum

from alertbot.config import TelegramConfig
from alertbot.store import StoreRunner


class Level(Enum):
    """What a command needs."""

    ALLOWED = "allowed"
    MANAGE = "manage"
    ADMIN = "admin"


@dataclass
class Gate:
    """Decides access from the config, the store's allowed chats, and group admins."""

    config: TelegramConfig
    db: StoreRunner
    refused_at: dict[int, float] = field(default_factory=dict)

    def is_admin(self, user_id: int | None) -> bool:
        """True for a bot admin."""
        return user_id is not None and user_id in self.config.admins

    async def chat_allowed(self, chat_id: int, user_id: int | None) -> bool:
        """True when the chat may use the bot."""
        if chat_id in self.config.allowed_chats or chat_id in self.config.alert_chats:
            return True
        if chat_id > 0 and self.is_admin(user_id) and chat_id == user_id:
            return True
        chat = await self.db.run(self.db.store.chat, chat_id)
        return chat is not None and chat.allowed

    async def permits(
        self,
        level: Level,
        chat_id: int,
        chat_type: str,
        user_id: int | None,
        group_admins: Callable[[], Awaitable[set[int]]],
    ) -> bool:
        """True when `user_id` in `chat_id` may run a command of `level`."""
        if self.is_admin(user_id):
            return True
        if level is Level.ADMIN or not await self.chat_allowed(chat_id, user_id):
            return False
        if level is Level.MANAGE and chat_type != "private":
            return user_id is not None and user_id in await group_admins()
        return True

    def should_refuse(self, chat_id: int, now: float) -> bool:
        """True when a stranger's chat has not been answered in the last hour."""
        last = self.refused_at.get(chat_id)
        if last is not None and now - last < 3600:
            return False
        self.refused_at[chat_id] = now
        return True
