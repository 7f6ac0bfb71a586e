"""Delivery: every channel that turns an outbox row into a message.

alert.py          Alert: what one message says; alert_for(store, row)
base.py           Notifier (send, story_grew) and DeliveryError
dispatch.py       Dispatcher: due rows -> notifier -> sent | retry | failed
layout.py         the text toolkit every channel shares (clean, shorten, bidi, links)
console.py        ConsoleNotifier: alerts printed (the channel without a token)
telegram.py       TelegramNotifier: messages, edits, 429s, migrations, backlogs
telegram_html.py  how an alert reads in Telegram (HTML and plain)
pacing.py         Pacer: Telegram's per-chat and overall rates
mail.py           the alert email, and the HTML blocks the recap email shares
smtp.py           EmailNotifier and sending over SMTP
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
