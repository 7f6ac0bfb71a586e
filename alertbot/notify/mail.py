"""Email messages: an alert as a multipart/alternative `EmailMessage`, and the HTML blocks
the recap's email is built from too (`alertbot.recap.render`).

    alert_message(alert, tz, sender=, to=, now=)   one story, as the Telegram alert says it
    email_message(subject, text, html, ...)        any message: headers, text and HTML parts
    rtl_text(text)                                 plain text marked to read right to left
    document, bdi, ltr, nowrap, title_html, quote_html, names   HTML building blocks

Pure: the messages are built here and sent elsewhere (no SMTP, no clock: `now` is the
Date header). Each message has a text/plain part first and a text/html part last, in
UTF-8; an Arabic subject or display name is encoded by the SMTP policy (RFC 2047).

Direction. Mail clients disagree about where they take it from, so it is given everywhere:

* HTML: `<html lang="ar" dir="rtl">`, and `direction:rtl;text-align:right` inline on every
  block, since some clients drop the root's attributes (and most drop `<style>`). Outside
  strings (titles, outlets, watch names) and our English UI strings are wrapped in `<bdi>`
  so a Latin run keeps its order inside a right-to-left line; times and dates are
  `<bdi dir="ltr">` so "2025-03-01 14:05" is not laid out as "14:05 2025-03-01".
* Plain text: clients pick the direction per paragraph from its first strong letter, so
  `rtl_text` starts with RLM (U+200F) every line that would otherwise run left to right.

Everything from outside is escaped with `html.escape(..., quote=True)`, and only an http(s)
URL goes into an href (`alertbot.notify.layout.linkable`); anything else is shown as text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from zoneinfo import ZoneInfo

from alertbot.notify.alert import Alert
from alertbot.notify.layout import (
    BELL,
    RLM,
    clean_snippet,
    clean_text,
    clip,
    esc,
    linkable,
    shorten,
    shorten_quote,
    shown_time,
)
from alertbot.notify.telegram_html import alert_plain
from alertbot.watch.snippet import Snippet

SUBJECT_PREFIX = "[alertbot]"
DEFAULT_DOMAIN = "alertbot.local"

_SUBJECT_TITLE_CHARS = 120
_SUBJECT_WATCHES_CHARS = 80
_TITLE_CHARS = 300
_QUOTE_CHARS = 600
_NAME_CHARS = 60  # a watch or outlet name
_URL_TEXT_CHARS = 200  # a URL shown as text (not linkable)

# Inline styles: direction and alignment on every block, the rest for a phone's screen.
_DIR = "direction:rtl;text-align:right"
_BODY = f"{_DIR};margin:0;padding:0;background:#ffffff"
_PAGE = (
    f"{_DIR};max-width:640px;margin:0 auto;padding:16px;"
    "font-family:Tahoma,Arial,'Segoe UI',sans-serif;font-size:17px;line-height:1.6;"
    "color:#1a1a1a"
)
H1 = f"{_DIR};font-size:22px;line-height:1.4;margin:0 0 8px 0"
H2 = (
    f"{_DIR};font-size:19px;line-height:1.4;margin:24px 0 8px 0;padding-bottom:4px;"
    "border-bottom:2px solid #dddddd"
)
P = f"{_DIR};font-size:17px;margin:0 0 6px 0"
META = f"{_DIR};font-size:16px;margin:0 0 6px 0;color:#555555"
TITLE = f"{_DIR};font-size:19px;font-weight:bold;line-height:1.4;margin:0 0 6px 0"
_QUOTE = (
    f"{_DIR};font-size:17px;margin:0 0 6px 0;padding:0 10px 0 0;"
    "border-right:3px solid #cccccc;color:#333333"
)
STORY = f"{_DIR};margin:0 0 18px 0"
_LINK = "color:#0b57d0;text-decoration:underline"


# --- messages ----------------------------------------------------------------------------


def alert_message(
    alert: Alert, timezone: ZoneInfo, *, sender: str, to: str, now: datetime
) -> EmailMessage:
    """One alert as an email: the Telegram alert's content, as plain text and HTML."""
    text = rtl_text(alert_plain(alert, timezone))
    return email_message(
        _alert_subject(alert),
        text,
        _alert_html(alert, timezone),
        sender=sender,
        to=to,
        now=now,
    )


def email_message(
    subject: str, text: str, html_body: str, *, sender: str, to: str, now: datetime
) -> EmailMessage:
    """A multipart/alternative message: text first, HTML last, UTF-8, machine-sent headers."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=_domain(sender))
    _set_subject(msg, subject)
    # An alert is a machine's message: no out-of-office replies, no read receipts.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(html_body, subtype="html", charset="utf-8")
    return msg


def _set_subject(msg: EmailMessage, subject: str) -> None:
    """The subject, RFC 2047 encoded when it is not ASCII.

    Python 3.11's folder drops the space between two encoded words when it wraps a long
    header (a CPython bug), so "عاجل الرئيس" would arrive as "عاجلالرئيس". The legacy
    `Header` keeps spaces inside the encoded words; its lines fit 78 columns, so the
    policy passes them through unchanged.
    """
    if subject.isascii():
        msg["Subject"] = subject
    else:
        msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


def _domain(sender: str) -> str:
    """The domain of the sender's address, for the Message-ID."""
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2] if "@" in address else ""
    ok = domain and all(c.isascii() and (c.isalnum() or c in ".-") for c in domain)
    return domain.lower() if ok else DEFAULT_DOMAIN


def _alert_subject(alert: Alert) -> str:
    """ "[alertbot] Naryshkin, Dabaa: <title>", the title cut to about 120 characters."""
    names = ", ".join(n for n in (clean_text(w) for w in alert.watches) if n)
    names = shorten(names, _SUBJECT_WATCHES_CHARS)
    title = clip(alert.title, _SUBJECT_TITLE_CHARS) or "(no title)"
    return f"{SUBJECT_PREFIX} {names}: {title}" if names else f"{SUBJECT_PREFIX} {title}"


# --- plain text --------------------------------------------------------------------------

_ISOLATES = frozenset("\u2066\u2067\u2068")  # LRI, RLI, FSI: closed by PDI
_PDI = "\u2069"


def rtl_text(text: str) -> str:
    """The text with RLM before every line that would otherwise run left to right: its
    first strong letter is Latin, it has none, or it starts with a digit."""
    return "\n".join(_rtl_line(line) for line in text.split("\n"))


def _rtl_line(line: str) -> str:
    if not line.strip() or line.startswith(RLM):
        return line
    if line.lstrip()[0].isdigit() or _first_strong(line) != "R":
        return RLM + line
    return line


def _first_strong(line: str) -> str | None:
    """ "L" or "R" by the line's first strong character outside isolates, as a client
    applying the bidi algorithm finds it (rule P2); None when there is none."""
    depth = 0
    for c in line:
        if c in _ISOLATES:
            depth += 1
        elif c == _PDI:
            depth = max(0, depth - 1)
        elif depth == 0:
            kind = unicodedata.bidirectional(c)
            if kind in ("R", "AL"):
                return "R"
            if kind == "L":
                return "L"
    return None


# --- HTML --------------------------------------------------------------------------------


def bdi(text: str) -> str:
    """Outside (or English) text isolated: right to left when it has any Arabic letter (a
    title that starts "PWC: مؤشرات" is still an Arabic title), else by its first letter."""
    return f"<bdi{_dir(text)}>{esc(text)}</bdi>"


def _dir(text: str) -> str:
    return ' dir="rtl"' if _ARABIC.search(text) else ""


def nowrap(text: str) -> str:
    """An outlet name kept on one line (a phone must not break "Sky News | Arabia")."""
    return f'<bdi{_dir(text)} style="white-space:nowrap">{esc(text)}</bdi>'


_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def ltr(text: str) -> str:
    """A time or date: left to right whatever surrounds it."""
    return f'<bdi dir="ltr">{esc(text)}</bdi>'


def document(subject: str, blocks: Iterable[str]) -> str:
    body = "\n".join(blocks)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="ar" dir="rtl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(subject)}</title>\n</head>\n"
        f'<body dir="rtl" style="{_BODY}">\n'
        f'<div dir="rtl" style="{_PAGE}">\n{body}\n</div>\n</body>\n</html>\n'
    )


def title_html(title: str, url: str, style: str, tag: str = "p") -> list[str]:
    """The title as a link when the URL is http(s); else the title, then the URL as text."""
    title = clip(title, _TITLE_CHARS) or "(no title)"
    url = clean_text(url)
    if linkable(url):
        link = f'<a href="{esc(url)}" style="{_LINK}">{bdi(title)}</a>'
        return [f'<{tag} style="{style}">{link}</{tag}>']
    blocks = [f'<{tag} style="{style}">{bdi(title)}</{tag}>']
    if url:
        blocks.append(f'<p style="{META}">{bdi(shorten(url, _URL_TEXT_CHARS))}</p>')
    return blocks


def quote_html(snippet: Snippet) -> list[str]:
    """The quote in «», the matches in bold; nothing when there is no quote."""
    quote = shorten_quote(clean_snippet(snippet), _QUOTE_CHARS)
    if not quote.text:
        return []
    body = quote.render(lambda s: f"<strong>{esc(s)}</strong>", esc)
    return [f'<p style="{_QUOTE}"><bdi{_dir(quote.text)}>« {body} »</bdi></p>']


def names(items: Sequence[str]) -> list[str]:
    """Watch or outlet names cleaned and cut, the empty ones dropped."""
    return [n for n in (clip(n, _NAME_CHARS) for n in items) if n]


def _alert_html(alert: Alert, timezone: ZoneInfo) -> str:
    """Watches, linked title, outlet · time, the quote, the other outlets."""
    watches = " · ".join(bdi(n) for n in names(alert.watches))
    blocks = [f'<p style="{P}"><strong>{BELL} {watches}</strong></p>']
    blocks += title_html(alert.title, alert.url, TITLE)
    outlet = names([alert.outlet])
    when = ltr(shown_time(alert.published, timezone, date_only=alert.date_only))
    meta = f"{bdi(outlet[0])} · {when}" if outlet else when
    blocks.append(f'<p style="{META}">{meta}</p>')
    blocks += quote_html(alert.snippet)
    if also := names(alert.also):
        line = f"{bdi('also:')} " + " · ".join(nowrap(n) for n in also)
        blocks.append(f'<p style="{META}">{line}</p>')
    if alert.related_to is not None:
        # A follow-up says which story it follows, as the recap lists it under that story.
        earlier = clip(alert.related_title or "", _TITLE_CHARS) or "an earlier story"
        blocks.append(f'<p style="{META}">{bdi("follows up:")} {bdi(earlier)}</p>')
    return document(_alert_subject(alert), blocks)
