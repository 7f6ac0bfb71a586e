"""Pacing Telegram sends so that no chat is flooded and the Bot API never has to say 429.

Telegram's limits: about one message a second to a private chat, 20 a minute to a group or
channel, about 30 a second overall. python-telegram-bot's AIORateLimiter covers groups and
the overall rate but not private chats, and alertbot sends from one dispatcher anyway, so
one small pacer covers all three: before each send, `wait(chat_id)` sleeps until a slot
is free in the chat's window and in the global one.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

PRIVATE = (1, 1.0)  # messages, per seconds
GROUP = (20, 60.0)
OVERALL = (25, 1.0)


class _Window:
    """At most `count` events in any `period` seconds."""

    def __init__(self, count: int, period: float) -> None:
        self.count = count
        self.period = period
        self.times: deque[float] = deque()

    def delay(self, now: float) -> float:
        """Seconds until one more event fits."""
        while self.times and now - self.times[0] >= self.period:
            self.times.popleft()
        if len(self.times) < self.count:
            return 0.0
        return self.times[0] + self.period - now

    def record(self, now: float) -> None:
        self.times.append(now)


class Pacer:
    """Per-chat and overall send windows; `clock` and `sleep` are injectable for tests."""

    def __init__(
        self,
        *,
        private: tuple[int, float] = PRIVATE,
        group: tuple[int, float] = GROUP,
        overall: tuple[int, float] = OVERALL,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._private = private
        self._group = group
        self._overall = _Window(*overall)
        self._chats: dict[int, _Window] = {}
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()

    def _window(self, chat_id: int) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            # Positive ids are users (private chats); groups and channels are negative.
            window = _Window(*(self._private if chat_id > 0 else self._group))
            self._chats[chat_id] = window
        return window

    async def wait(self, chat_id: int) -> None:
        """Sleep until a message to `chat_id` may be sent, and count it as sent."""
        async with self._lock:
            chat = self._window(chat_id)
            while True:
                now = self._clock()
                delay = max(chat.delay(now), self._overall.delay(now))
                if delay <= 0:
                    break
                await self._sleep(delay)
            chat.record(now)
            self._overall.record(now)

    def penalize(self, chat_id: int, seconds: float) -> None:
        """After a 429 for a chat, keep it quiet for `seconds`."""
        chat = self._window(chat_id)
        until = self._clock() + seconds
        chat.times.clear()
        chat.times.extend([until - chat.period] * chat.count)
