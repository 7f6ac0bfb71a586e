"""alertbot's SQLite database: seen items, stories, watches, chats, the outbox, recaps.

    Store.open(path)          schema.py: migrations, WAL + synchronous=FULL + busy timeout
      sources, chats, watches, recaps       store.py
      seen items, stories, record_item      items.py (one transaction per item)
      outbox, delivery log                  outbox.py (one transaction per mark)
      what a recap lists, recap history     recaps.py
    values and row converters               model.py
    StoreRunner: the one way from async code to the store (its thread; a read-only twin)

Every method that needs the time takes `now`; nothing here reads the clock.
"""

from alertbot.store.model import (
    CHANNELS,
    Chat,
    ItemOutcome,
    NewItem,
    OutboxBacklog,
    OutboxRow,
    Outlet,
    PruneCounts,
    RecapDelivery,
    Recipient,
    StoreError,
    Story,
)
from alertbot.store.runner import StoreRunner
from alertbot.store.schema import SCHEMA_VERSION
from alertbot.store.store import Store

__all__ = [
    "CHANNELS",
    "SCHEMA_VERSION",
    "Chat",
    "ItemOutcome",
    "NewItem",
    "OutboxBacklog",
    "OutboxRow",
    "Outlet",
    "PruneCounts",
    "RecapDelivery",
    "Recipient",
    "Store",
    "StoreError",
    "StoreRunner",
    "Story",
]
