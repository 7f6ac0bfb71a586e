"""An entry and what was extracted from its page, made into one `Article`.

The source's own fields win where they are usually cleaner (the feed's title and date);
the fuller text wins, so a teaser is replaced by the extracted article but a failed or
truncated extraction never replaces a feed's full text. `canonical_url` (from
`alertbot.sources.urls`) is the article's identity in the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from alertbot.sources.htmltext import one_line
from alertbot.sources.language import script_language
from alertbot.sources.model import Article, Entry
from alertbot.sources.urls import canonical_url

__all__ = ["canonical_url", "make_article"]

if TYPE_CHECKING:
    from alertbot.sources.extract import Extracted

# A title longer than this is a paragraph someone put in the title slot.
MAX_TITLE_CHARS = 300


def make_article(
    source: str, entry: Entry, extracted: Extracted | None, fetched: datetime
) -> Article:
    """The article for an entry, preferring the source's own fields and the fuller text."""
    own_text = entry.content or entry.summary or ""
    text = own_text
    if extracted is not None and len(extracted.text) >= len(own_text):
        text = extracted.text
    title = _first_title(entry.title, extracted.title if extracted else None, text)
    published = entry.published or (extracted.published if extracted else None)
    language = (extracted.language if extracted else None) or script_language(f"{title}\n{text}")
    return Article(
        source=source,
        url=entry.url,
        canonical_url=entry.key,  # a feed item without a link is told apart by guid or text
        title=title,
        text=text,
        summary=entry.summary,
        published=published,
        language=language,
        fetched=fetched,
        guid=entry.guid,
    )


def _first_title(*candidates: str | None) -> str:
    """The first usable title: the source's, the page's, else the text's first line."""
    for candidate in candidates:
        if candidate:
            line = one_line(candidate.split("\n", 1)[0])
            if line:
                return _shorten(line)
    return ""


def _shorten(title: str) -> str:
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    return f"{cut}…"
