"""The full text of an article page, with trafilatura, from HTML we fetched ourselves.

Feed entries whose content is only a teaser (and every entry found on a page or in a
sitemap) are completed by extracting the linked page. Extraction is CPU work (tens of
milliseconds a page): the caller runs it off the event loop. It never fetches anything:
trafilatura gets the HTML string, never a URL to download.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import trafilatura
from lxml.html import HtmlElement

from alertbot.sources.dates import parse_published
from alertbot.sources.htmltext import one_line, tidy_text
from alertbot.sources.language import language_tag, script_language
from alertbot.text.sanitize import remove_controls

# Less text than this is a failed extraction (a cookie wall, a video page, an error page);
# the source's own text is kept instead.
MIN_TEXT_CHARS = 150

# htmldate's extensive search guesses from loose text and file names (it dated the 2013
# CNN Arabic page 2013-01-01); only dates the page states in its markup are kept.
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_PUBLISHED_META = (
    "//meta[@property='article:published_time' or @property='og:published_time'"
    " or @name='pubdate' or @name='publishdate' or @itemprop='datePublished']"
    " | //time[@itemprop='datePublished']"
)


@dataclass(frozen=True)
class Extracted:
    """What trafilatura found on an article page."""

    title: str | None
    text: str  # plain text, one paragraph a line
    published: datetime | None  # timezone-aware UTC, only when the page states it
    language: str | None  # ISO 639-1
    published_date_only: bool = False  # the page states a day, no time of day


def extract(html: str | bytes, url: str, *, now: datetime | None = None) -> Extracted | None:
    """The main text and metadata of an article page, or None when there is too little.

    `now` bounds the publication dates trafilatura accepts (none in the future); without
    it trafilatura reads the clock itself.
    """
    if not html or not html.strip():
        return None
    if isinstance(html, str):
        # trafilatura drops a lone ESC but keeps the rest of its sequence ("[2J") as text:
        # the sequences go whole first (alertbot.text.sanitize).
        html = remove_controls(html)
    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    date_params: dict[str, object] = {
        "original_date": True,
        "extensive_search": False,
        "outputformat": _DATE_FORMAT,
    }
    if now is not None:
        date_params["max_date"] = now.strftime("%Y-%m-%d")
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,  # its cache is process-global; dedup is the store's job
        date_extraction_params=date_params,
    )
    if document is None:
        return None
    # bare_extraction returns a Document unless asked for a dict (as_dict, never set here).
    assert isinstance(document, trafilatura.settings.Document)
    text = tidy_text(document.text)
    if len(text) < MIN_TEXT_CHARS:
        return None
    published, date_only = _published(tree, document.date)
    return Extracted(
        title=one_line(document.title) or None,
        text=text,
        published=published,
        language=_declared_language(tree) or script_language(text),
        published_date_only=date_only,
    )


def _published(tree: HtmlElement, found: str | None) -> tuple[datetime | None, bool]:
    """htmldate's date, with the time of day from the page's metadata when it has one;
    and whether it is a date only (`alertbot.sources.dates.parse_published`).

    htmldate trusts a date in the URL first (`/2018/03/01/...`) and then reports no time
    (midnight); the page's `article:published_time` usually has it.
    """
    published, date_only = parse_published(found)
    if published is None or not date_only:
        return published, date_only
    for meta in tree.xpath(_PUBLISHED_META):
        stated, stated_date_only = parse_published(meta.get("content") or meta.get("datetime"))
        # the same day, give or take the page's UTC offset
        if (
            stated is not None
            and not stated_date_only
            and abs(stated - published) <= timedelta(days=1)
        ):
            return stated, False
    return published, True


def _declared_language(tree: HtmlElement) -> str | None:
    """The language the page declares: <html lang>, content-language, og:locale."""
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("http-equiv") or meta.get("property") or meta.get("name") or "").lower()
        if key in ("content-language", "og:locale", "language", "dc.language"):
            candidates.append(meta.get("content"))
    for candidate in candidates:
        tag = language_tag(candidate)
        if tag:
            return tag
    return None
