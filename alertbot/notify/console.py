"""The console notifier: each alert printed as a short block of text.

It is the channel when no Telegram token is configured, so `alertbot run` works out of the
box and its output can be read, piped and tested:

    ● Naryshkin · El-Dabaa nuclear plant
      السيسي يستقبل ناريشكين في القاهرة
      Ahram Online · 2025-03-12 14:05 (Africa/Cairo)
      https://example.org/news/1
      « استقبل الرئيس السيسي اليوم **ناريشكين** مدير جهاز المخابرات… »

The matched words are set in `**` (or bold, on a terminal). Each line of outside text is
wrapped in Unicode first-strong isolates so that a terminal that applies the bidi algorithm
lays an Arabic line out right to left without pulling the neighbouring Latin along.
"""

from __future__ import annotations

import sys
from typing import TextIO
from zoneinfo import ZoneInfo

from alertbot.notify.alert import Alert
from alertbot.notify.base import DeliveryError
from alertbot.notify.layout import clean_snippet, clean_text, isolate, shown_time
from alertbot.stories import StoryId

_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def format_alert(alert: Alert, timezone: ZoneInfo, *, ansi: bool = False) -> str:
    """The console text of an alert (ends with a blank line)."""
    mark = (lambda s: f"{_BOLD}{s}{_RESET}") if ansi else (lambda s: f"**{s}**")
    lines = [
        "● " + " · ".join(isolate(clean_text(w)) for w in alert.watches),
        "  " + isolate(clean_text(alert.title)),
        f"  {isolate(clean_text(alert.outlet))} · "
        + shown_time(alert.published, timezone, date_only=alert.date_only, zone=True),
        f"  {clean_text(alert.url)}",
    ]
    # Cleaned before rendering: the bold marks are ours, everything else is outside text.
    quote = clean_snippet(alert.snippet).render(mark)
    if quote.strip():
        lines.append("  " + isolate(f"« {quote} »"))
    if alert.also:
        lines.append("  also: " + ", ".join(isolate(clean_text(o)) for o in alert.also))
    return "\n".join(lines) + "\n\n"


class ConsoleNotifier:
    """Prints alerts to a stream (stdout by default)."""

    channel = "console"

    def __init__(self, timezone: ZoneInfo, stream: TextIO | None = None) -> None:
        self._timezone = timezone
        self._stream = stream

    async def send(self, alert: Alert) -> str | None:
        """Print one alert; a closed or broken stream is a delivery failure, not a crash."""
        stream = self._stream or sys.stdout
        try:
            ansi = stream.isatty()
            stream.write(format_alert(alert, self._timezone, ansi=ansi))
            stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: I/O on a closed file
            raise DeliveryError(f"cannot write to the console: {exc}") from None
        return None

    async def story_grew(self, story_id: StoryId) -> int:
        """A printed alert cannot be changed: nothing to update."""
        return 0
