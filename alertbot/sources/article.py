"""An entry and what was extracted from its page, made into one `Article`.

The source's own fields win where they are usually cleaner (the feed's title and date);
the fuller text wins, so a teaser is replaced by the extracted article but a failed or
truncated extraction never replaces a feed's full text. `canonical_url` (from
`alertbot.sources.urls`) is the article's identity in the store.

This is where outside text enters: every field of the Article is cleaned here, once
(`alertbot.text.sanitize`: no terminal escapes, control characters or bidi overrides;
the URL's percent-encoded), so the store, every channel, `status` and the recap get
clean text.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from alertbot.sources.language import script_language
from alertbot.sources.model import Article, Entry
from alertbot.sources.urls import canonical_url, safe_url
from alertbot.text.sanitize import clean_line, clean_text

__all__ = ["canonical_url", "is_teaser", "make_article"]

if TYPE_CHECKING:
    from alertbot.sources.extract import Extracted

# A title longer than this is a paragraph someone put in the title slot.
MAX_TITLE_CHARS = 300

# A summary shorter than this, with no full content beside it, is taken for a teaser.
MAX_TEASER_CHARS = 400

# Ends of text that say "there is more on the page".
_TRUNCATED = re.compile(
    r"(?:…|\.\.\.|\[\s*(?:…|\.\.\.)?\s*\]"
    r"|(?<!\w)(?:read more|continue reading|more"
    r"|[اإ]قرأ المزيد|[اإ]قرأ أيضاً?|تابع القراءة|للمزيد|التفاصيل)"
    r")[\W_]*$",
    re.IGNORECASE,
)


def is_teaser(entry: Entry) -> bool:
    """True when the entry's own text is (probably) only the start of the article: its
    page is fetched and extracted."""
    if entry.content:
        return bool(_TRUNCATED.search(entry.content))
    summary = (entry.summary or "").strip()
    if len(summary) < MAX_TEASER_CHARS:
        return True
    return bool(_TRUNCATED.search(summary))


def make_article(
    source: str, entry: Entry, extracted: Extracted | None, fetched: datetime
) -> Article:
    """The article for an entry, preferring the source's own fields and the fuller text."""
    own_text = clean_text(entry.content or entry.summary)
    text = own_text
    if extracted is not None and len(page_text := clean_text(extracted.text)) >= len(own_text):
        text = page_text
    title = _first_title(entry.title, extracted.title if extracted else None, text)
    published, date_only = _published(entry, extracted)
    language = (extracted.language if extracted else None) or script_language(f"{title}\n{text}")
    url = safe_url(entry.url)
    guid = clean_line(entry.guid) or None
    return Article(
        source=source,
        url=url,
        # the key of the entry as cleaned: a feed item without a link of its own is told
        # apart by its guid or its text (`Entry.key`)
        canonical_url=replace(entry, url=url, guid=guid).key,
        title=title,
        text=text,
        summary=clean_text(entry.summary) or None,
        published=published,
        language=language,
        fetched=fetched,
        guid=guid,
        published_date_only=date_only,
    )


def _published(entry: Entry, extracted: Extracted | None) -> tuple[datetime | None, bool]:
    """The source's date, unless it is a date only and the page gives that day's time."""
    published, date_only = entry.published, entry.published_date_only
    page = extracted.published if extracted is not None else None
    if extracted is None or page is None:
        return published, date_only
    if published is None or (
        date_only
        and not extracted.published_date_only
        and abs(page - published) <= timedelta(days=1)
    ):
        return page, extracted.published_date_only
    return published, date_only


def _first_title(*candidates: str | None) -> str:
    """The first usable title: the source's, the page's, else the text's first line."""
    for candidate in candidates:
        if candidate:
            line = clean_text(candidate).split("\n", 1)[0]
            if line:
                return _shorten(line)
    return ""


def _shorten(title: str) -> str:
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    return f"{cut}…"
