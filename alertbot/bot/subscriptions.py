"""A chat's daily recap by email: `/email ADDRESS`, `/verify CODE`, `/email off`.

No one can make the bot mail an address they do not control: `/email` mails a six-digit
code to the address, and only `/verify` with that code (within an hour, five tries)
subscribes it. Only the code's hash is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from alertbot.bot.service import UsageError
from alertbot.store import StoreRunner

CODE_VALID = timedelta(hours=1)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(minutes=1)
EMAIL_USAGE = "usage: /email ADDRESS (a code is mailed to it), /verify CODE, or /email off"
# Deliberately plain: one @, a dot in the domain, no spaces or angle brackets.
_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


def code_hash(chat_id: int, code: str) -> str:
    """The stored form of a code: bound to the chat, so a code works only where it was asked."""
    return hashlib.sha256(f"{chat_id}:{code}".encode()).hexdigest()


class EmailSubscriptions:
    """Starts, verifies and ends a chat's recap subscription.

    `send_code(address, code)` mails the code (blocking, so it runs in a worker thread of
    its own, never the store's; it raises on failure, and then nothing is stored).
    """

    def __init__(
        self,
        db: StoreRunner,
        send_code: Callable[[str, str], None],
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._send_code = send_code
        self._clock = clock

    async def start(self, chat_id: int, address: str) -> str:
        """Mail a code to `address` for this chat; returns the address."""
        address = address.strip()
        if not address or len(address) > 254 or not _ADDRESS.match(address):
            raise UsageError(EMAIL_USAGE)
        now = self._clock()
        store = self._db.store
        current = await self._db.run(store.chat_email, chat_id)
        if current is not None and not current["verified"] and current["code_expires"]:
            sent_at = current["code_expires"] - CODE_VALID
            if now - sent_at < RESEND_AFTER:
                raise UsageError("A code was just sent; wait a minute before asking again.")
        code = f"{secrets.randbelow(10**6):06d}"
        await asyncio.to_thread(self._send_code, address, code)
        expires = now + CODE_VALID
        hashed = code_hash(chat_id, code)
        await self._db.run(store.set_chat_email, chat_id, address, hashed, expires, now)
        return address

    async def verify(self, chat_id: int, code: str) -> str:
        """Subscribe the chat's address if `code` is right; returns the address."""
        code = code.strip()
        store = self._db.store
        row = await self._db.run(store.chat_email, chat_id)
        if not code:
            raise UsageError("usage: /verify CODE (the six digits mailed to you)")
        if row is None or row["verified"] or row["code_hash"] is None:
            raise UsageError("No code is waiting: send /email ADDRESS first.")
        if row["attempts"] >= MAX_ATTEMPTS:
            raise UsageError("Too many wrong codes: send /email ADDRESS again for a new one.")
        if row["code_expires"] is None or self._clock() > row["code_expires"]:
            raise UsageError("That code has expired: send /email ADDRESS again.")
        if not hmac.compare_digest(row["code_hash"], code_hash(chat_id, code)):
            await self._db.run(store.count_email_attempt, chat_id)
            raise UsageError("That is not the code that was mailed.")
        await self._db.run(store.verify_chat_email, chat_id, self._clock())
        return str(row["address"])

    async def off(self, chat_id: int) -> bool:
        """End the subscription (or a pending one); False if there was none."""
        return await self._db.run(self._db.store.remove_chat_email, chat_id)
