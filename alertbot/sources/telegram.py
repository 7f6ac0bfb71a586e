"""A public Telegram channel's web preview (`https://t.me/s/<channel>`) as entries.

Each post on the page is a `div.tgme_widget_message` with `data-post="channel/123"`; its
text is `div.tgme_widget_message_text` (line breaks as `<br/>`, emoji as `<i class="emoji">`
around the character), its date `a.tgme_widget_message_date > time[datetime]`. A post
becomes an entry whose url is its t.me link, guid its `data-post`, content its text, title
its first line, and `outbound_url` the first link in the text that leaves Telegram (else
the link preview's target). A reply's quote of the earlier post is not the post's text.
The page lists posts oldest first; entries are returned newest first, as feeds list them.
A post listed twice, or whose `data-post` is not `channel/number`, is counted as skipped;
service messages ("channel created", "pinned a message") are not news and not entries.
"""

from __future__ import annotations

import re
from typing import cast
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from alertbot.sources.dates import parse_published
from alertbot.sources.errors import SourceParseError
from alertbot.sources.htmltext import element_text
from alertbot.sources.model import Entry, Listing, Skipped, SkipReason
from alertbot.sources.urls import TELEGRAM_HOSTS, absolute_url

TITLE_CHARS = 120

_POST = re.compile(r"([A-Za-z][A-Za-z0-9_]{3,31})/(\d+)")


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_MESSAGES = f"//div[{_has_class('tgme_widget_message')} and @data-post]"
_TEXT = (
    f".//div[{_has_class('tgme_widget_message_text')}]"
    f"[not(ancestor::*[{_has_class('tgme_widget_message_reply')}])]"
)
_DATE = f".//a[{_has_class('tgme_widget_message_date')}]"
_PREVIEW = f".//a[{_has_class('tgme_widget_message_link_preview')}]/@href"


def parse_channel(html: str, url: str) -> Listing:
    """The posts on a channel's t.me/s page, newest first.

    Raises SourceParseError when the page is empty or is not a channel preview (t.me
    serves a plain "join" page for channels without a public preview).
    """
    if not html or not html.strip():
        raise SourceParseError("empty document")
    try:
        root = lxml.html.document_fromstring(html)
    except etree.ParserError as exc:
        raise SourceParseError(f"not an HTML page: {exc}") from exc
    messages = cast(
        list[lxml.html.HtmlElement], root.xpath(_MESSAGES)
    )  # an element set, by the path
    if not messages and not root.xpath(f"//*[{_has_class('tgme_channel_history')}]"):
        raise SourceParseError("not a Telegram channel preview (no tgme_channel_history)")
    entries: list[Entry] = []
    seen: set[str] = set()
    skipped: list[SkipReason] = []
    for message in messages:
        entry = _post_entry(message, url)
        if isinstance(entry, SkipReason):
            skipped.append(entry)
        elif entry is None:
            continue
        elif entry.guid in seen:
            skipped.append(SkipReason.DUPLICATE)
        else:
            seen.add(entry.guid or "")
            entries.append(entry)
    entries.reverse()
    return Listing(entries, Skipped.of(skipped))


def _post_entry(message: lxml.html.HtmlElement, page_url: str) -> Entry | SkipReason | None:
    """The post as an entry; None for a service message; the reason it cannot be one."""
    if "service_message" in (message.get("class") or ""):
        return None
    match = _POST.fullmatch(message.get("data-post") or "")
    if match is None:
        return SkipReason.NO_LINK
    guid = match[0]
    text_div = next(iter(message.xpath(_TEXT)), None)
    content = element_text(text_div) if text_div is not None else ""
    date_link = next(iter(message.xpath(_DATE)), None)
    published, date_only = None, False
    link = None
    if date_link is not None:
        link = absolute_url(date_link.get("href"), page_url)
        stamp = next(date_link.iter("time"), None)
        if stamp is not None:
            published, date_only = parse_published(stamp.get("datetime"))
    return Entry(
        url=link or f"https://t.me/{guid}",
        title=_title(content),
        guid=guid,
        content=content or None,
        published=published,
        outbound_url=_outbound(text_div, message, page_url),
        published_date_only=date_only,
    )


def _title(content: str) -> str | None:
    first = content.split("\n", 1)[0].strip()
    if not first:
        return None
    if len(first) <= TITLE_CHARS:
        return first
    cut = first[:TITLE_CHARS].rsplit(" ", 1)[0] or first[:TITLE_CHARS]
    return f"{cut}…"


def _outbound(
    text_div: lxml.html.HtmlElement | None, message: lxml.html.HtmlElement, page_url: str
) -> str | None:
    hrefs = [anchor.get("href") for anchor in text_div.iter("a")] if text_div is not None else []
    hrefs += message.xpath(_PREVIEW)
    for href in hrefs:
        link = absolute_url(href, page_url)
        if link is not None and (urlsplit(link).hostname or "").lower() not in TELEGRAM_HOSTS:
            return link
    return None
