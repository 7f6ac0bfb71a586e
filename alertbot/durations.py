"""Durations as people write them: `30s`, `5m`, `2h`, `1d`, or combined, `2h30m`.

One grammar for the config (`interval = "5m"`, `retention = "30d"`) and the bot (`/mute 2h`):
whole numbers, each followed by one of the units s, m, h, d, in any order, with spaces and
letter case ignored; Arabic-Indic and Persian digits, as phones type them, count as digits.
Every caller then decides what range it accepts.
"""

from __future__ import annotations

import re

from alertbot.errors import AlertbotError

# Arabic-Indic and Extended (Persian/Urdu) digits.
_DIGITS = {cp: ord("0") + cp % 16 for cp in (*range(0x0660, 0x066A), *range(0x06F0, 0x06FA))}
_PART = re.compile(r"(\d+)([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# Far beyond any sensible duration, small enough for a timedelta.
MAX_SECONDS = 100 * 365 * 86400

HELP = "use a whole number and s, m, h or d: 30s, 5m, 2h, 1d, or combined as 2h30m"


class DurationError(AlertbotError, ValueError):
    """Text that is not a duration; the message says what a duration looks like."""


def parse_duration(text: str) -> int:
    """The seconds in a duration (> 0); DurationError for anything else."""
    compact = "".join(str(text).translate(_DIGITS).casefold().split())
    if not compact or _PART.sub("", compact):
        raise DurationError(f"bad duration {text!r} ({HELP})")
    # Summed as integers first: a huge number must be an error, not an OverflowError.
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(compact))
    if not 0 < seconds <= MAX_SECONDS:
        raise DurationError(f"bad duration {text!r} (a positive duration up to 100 years)")
    return seconds
