"""Delivery: turning outbox rows into messages on a channel.

Alert                  alert.py    what one message says (story, watches, quote)
Notifier, DeliveryError base.py    the interface every channel implements
ConsoleNotifier        console.py  alerts printed to a stream (the default channel)
Dispatcher             dispatch.py due rows -> notifier -> sent | retry | failed
"""

from alertbot.notify.alert import Alert
from alertbot.notify.base import DeliveryError, Notifier
from alertbot.notify.console import ConsoleNotifier
from alertbot.notify.dispatch import DispatchCounts, Dispatcher, retry_delay

__all__ = [
    "Alert",
    "ConsoleNotifier",
    "DeliveryError",
    "DispatchCounts",
    "Dispatcher",
    "Notifier",
    "retry_delay",
]
