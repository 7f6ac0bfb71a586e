"""An HTML listing page (a section front, a ministry's news page) as entries: its article links.

A link is an entry when it
- stays on the page's site (same host, `www.` ignored);
- looks like an article: its path carries a story id (a run of 5+ digits, a number after
  a word segment as in `/news/42`, or `?id=55`), a date followed by more path, or a slug of three
  or more words (`/2018/02/16/ابنة-جوني-هاليداي`, `assad.army-day`); and is neither the
  section itself nor one of its parents, nor a tag, category, author, search, login,
  pagination (`/page/3`, `?page=2`) or static-file URL;
- is not site chrome: not inside `<nav>`, `<aside>`, `<menu>`, an ARIA navigation, banner,
  contentinfo or complementary region, nor a page-level `<header>`/`<footer>` (a
  `<header>` inside an `<article>` card holds the headline and counts). Older sites
  mark their chrome only by id and class (`cnn_hdr`, `cnn_ftrcntnt`, `main-menu`), so
  those names count too.

The anchor's text is the title (the one inside a heading wins when a card links a story
more than once); a `<time datetime>` and first paragraph in the same card give the date
and summary. Entries come in page order, each canonical URL once.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import parse_qsl, unquote, urlsplit

import lxml.html
from lxml import etree

from alertbot.sources.dates import parse_published
from alertbot.sources.errors import SourceParseError
from alertbot.sources.htmltext import one_line
from alertbot.sources.model import Entry
from alertbot.sources.urls import absolute_url, canonical_url, site_host

# Anchor text shorter than this is a label ("المزيد", "›"), not a headline.
MIN_TITLE_CHARS = 8
MAX_TITLE_CHARS = 300

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)

_CHROME_TAGS = frozenset({"nav", "aside", "menu"})
_PAGE_CHROME_TAGS = frozenset({"header", "footer"})
_CHROME_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "menu", "menubar", "search"}
)
# id/class words (prefixes) that mark navigation wherever they are...
_CHROME_NAMES = ("nav", "menu", "breadcrumb", "pagination", "pager", "sidebar", "share", "social")
# ...and words that mark the page's own header and footer when they are near the top of the
# tree (a card's `item-header` deep in the listing is not the site header).
_PAGE_CHROME_NAMES = ("header", "hdr", "footer", "ftr", "masthead", "topbar", "copyright")
_PAGE_CHROME_DEPTH = 5
_NAME_SPLIT = re.compile(r"[\s_-]+")

# fmt: off
_NOT_ARTICLE_SEGMENTS = frozenset({
    "tag", "tags", "topic", "topics", "category", "categories", "cat", "author", "authors",
    "writer", "writers", "columnist", "columnists", "profile", "user", "users", "login",
    "signin", "sign-in", "signup", "register", "logout", "account", "search", "feed",
    "feeds", "rss", "subscribe", "newsletter", "newsletters", "contact", "contact-us",
    "about", "about-us", "privacy", "privacy-policy", "terms", "cookies", "advertise",
    "careers", "jobs", "sitemap", "wp-admin", "wp-login.php", "cdn-cgi", "static", "assets",
    "uploads", "wp-content", "images", "img", "وسم", "تصنيف", "كاتب", "بحث",
})
_STATIC_EXTENSIONS = frozenset({
    "jpg", "jpeg", "png", "gif", "webp", "svg", "ico", "bmp", "avif", "css", "js", "json",
    "xml", "rss", "atom", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip", "rar",
    "gz", "mp3", "mp4", "m4a", "wav", "ogg", "webm", "avi", "mov", "woff", "woff2", "ttf",
    "eot", "txt", "csv", "apk", "exe",
})
_NOT_ARTICLE_QUERY = frozenset({
    "page", "paged", "s", "q", "search", "query", "tag", "cat", "category", "author",
    "sort", "order", "orderby", "filter", "replytocom", "share", "print", "output",
})
# fmt: on

_ID_QUERY_KEY = re.compile(r"(?:^|_)(?:id|p|nid|sid|aid|post|article|story|news)(?:id)?$", re.I)
_LONG_NUMBER = re.compile(r"\d{5,}")
_YEAR = re.compile(r"(?:19|20)\d{2}")
_SLUG_WORDS = re.compile(r"[-_.+~]+")
_PAGE_EXTENSION = re.compile(r"\.(?:s?html?|php|aspx?|jsp|cfm)$", re.IGNORECASE)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


@dataclass(frozen=True)
class _Found:
    entry: Entry
    in_heading: bool


def links_on_page(html: str, url: str) -> list[Entry]:
    """The article links on an HTML listing page, in page order, each story once.

    `url` is the page's (final) URL: the site links must stay on, and the base for
    relative links unless the page has a `<base href>`; it must be an absolute http(s)
    URL. Raises SourceParseError when the document is empty or not HTML.
    """
    root = _parse_html(html)
    base = absolute_url(next(iter(root.xpath("//base/@href")), None), url) or url
    host = site_host(url)
    page_key = canonical_url(url)
    page_path = _trimmed_path(urlsplit(url).path)
    found: dict[str, _Found] = {}
    for anchor in root.iter("a"):
        link = absolute_url(anchor.get("href"), base)
        if link is None or site_host(link) != host:
            continue
        if "sponsored" in (anchor.get("rel") or "").lower().split():
            continue
        if not _looks_like_article(link, page_path) or _in_chrome(anchor):
            continue
        key = canonical_url(link)
        if key == page_key:
            continue
        published, date_only = _card_date(anchor)
        candidate = _Found(
            Entry(
                url=link,
                title=_anchor_title(anchor),
                summary=_card_summary(anchor),
                published=published,
                published_date_only=date_only,
            ),
            _in_heading(anchor),
        )
        earlier = found.get(key)
        found[key] = candidate if earlier is None else _merge(earlier, candidate)
    return [item.entry for item in found.values()]


def _parse_html(html: str) -> lxml.html.HtmlElement:
    if not html or not html.strip():
        raise SourceParseError("empty document")
    # lxml refuses str input that carries an encoding declaration (XHTML pages).
    text = _XML_DECLARATION.sub("", html, count=1)
    try:
        return lxml.html.document_fromstring(text)
    except etree.ParserError as exc:
        raise SourceParseError(f"not an HTML page: {exc}") from exc


def _merge(earlier: _Found, later: _Found) -> _Found:
    """One entry for a story linked twice (image, headline, "read more"): the best title."""
    title = earlier.entry.title
    in_heading = earlier.in_heading
    if later.entry.title and (
        title is None
        or (later.in_heading and not in_heading)
        or (later.in_heading == in_heading and len(later.entry.title) > len(title))
    ):
        title, in_heading = later.entry.title, later.in_heading
    dated = earlier.entry if earlier.entry.published is not None else later.entry
    entry = replace(
        earlier.entry,
        title=title,
        summary=earlier.entry.summary or later.entry.summary,
        published=dated.published,
        published_date_only=dated.published_date_only,
    )
    return _Found(entry, in_heading)


# -- is it an article URL? ----------------------------------------------------------------


def _looks_like_article(link: str, page_path: str) -> bool:
    parts = urlsplit(link)
    path = _trimmed_path(parts.path)
    segments = [unquote(segment) for segment in path.split("/") if segment]
    query = parse_qsl(parts.query)
    if any(key.lower() in _NOT_ARTICLE_QUERY for key, _ in query):
        return False
    if segments and _extension(segments[-1]) in _STATIC_EXTENSIONS:
        return False
    lowered = [segment.lower() for segment in segments]
    if any(segment in _NOT_ARTICLE_SEGMENTS for segment in lowered):
        return False
    if any(a == "page" and b.isdigit() for a, b in itertools.pairwise(lowered)):
        return False  # `/politics/page/3`
    if any(_ID_QUERY_KEY.search(key) and value.isdigit() for key, value in query):
        return True  # `/news.php?id=55`, `/?p=123`
    if path == page_path or page_path.startswith(path + "/"):
        return False  # the section itself, or one of its parents
    if not segments:
        return False
    words = [_PAGE_EXTENSION.sub("", segment) for segment in segments]
    if any(_is_slug(word) for word in words):
        return True
    if any(_LONG_NUMBER.search(word) for word in words):
        return True
    if _dated_name(words):
        return True
    # `/news/42`: a number after a word. Not `/news/2024` or `/2024/05`, date archives.
    *before, last = words
    return (
        last.isdigit()
        and any(not word.isdigit() for word in before)
        and not any(_YEAR.fullmatch(word) for word in words)
    )


def _dated_name(words: list[str]) -> bool:
    """A year, a month or day after it, then a name: `/2014/middle_east/1/9/saudi.waleed`."""
    year_at = next((i for i, word in enumerate(words) if _YEAR.fullmatch(word)), None)
    if year_at is None:
        return False
    date_end = None
    for i in range(year_at + 1, len(words)):
        if words[i].isdigit() and len(words[i]) <= 2:
            date_end = i
    if date_end is None:
        return False
    return any(
        not word.isdigit() and word.lower() not in ("index", "default")
        for word in words[date_end + 1 :]
    )


def _is_slug(word: str) -> bool:
    pieces = [piece for piece in _SLUG_WORDS.split(word) if piece]
    return len(pieces) >= 3 and sum(not piece.isdigit() for piece in pieces) >= 2


def _extension(segment: str) -> str:
    _, dot, extension = segment.rpartition(".")
    return extension.lower() if dot else ""


def _trimmed_path(path: str) -> str:
    return path.rstrip("/") or ""


# -- is the link part of the site's chrome? -----------------------------------------------


def _in_chrome(anchor: lxml.html.HtmlElement) -> bool:
    chain = [anchor, *anchor.iterancestors()]  # from the anchor up to <html>
    # An element below an <article> (a card's own header or footer) is not page chrome.
    article_at = next(
        (i for i, el in enumerate(chain) if el.tag == "article" or el.get("role") == "article"),
        len(chain),
    )
    for position, element in enumerate(chain):
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        role = (element.get("role") or "").lower()
        names = _names(element)
        if tag in _CHROME_TAGS or role in _CHROME_ROLES:
            return True
        if any(name.startswith(_CHROME_NAMES) for name in names):
            return True
        if position < article_at < len(chain):
            continue
        depth = len(chain) - 1 - position  # <html> is 0, <body> 1
        if tag in _PAGE_CHROME_TAGS:
            return True
        if depth <= _PAGE_CHROME_DEPTH and any(
            name.startswith(_PAGE_CHROME_NAMES) for name in names
        ):
            return True
    return False


def _names(element: lxml.html.HtmlElement) -> list[str]:
    raw = f"{element.get('id') or ''} {element.get('class') or ''}".lower()
    return [name for name in _NAME_SPLIT.split(raw) if name]


# -- what the card says about the story ---------------------------------------------------


def _anchor_title(anchor: lxml.html.HtmlElement) -> str | None:
    heading = next((el for el in anchor.iterdescendants() if el.tag in _HEADINGS), None)
    text = one_line((heading if heading is not None else anchor).text_content())
    if not text:
        image = next(anchor.iter("img"), None)
        text = one_line(anchor.get("title") or (image.get("alt") if image is not None else ""))
    if MIN_TITLE_CHARS <= len(text) <= MAX_TITLE_CHARS:
        return text
    return None


def _in_heading(anchor: lxml.html.HtmlElement) -> bool:
    if any(el.tag in _HEADINGS for el in anchor.iterdescendants()):
        return True
    for level, ancestor in enumerate(anchor.iterancestors()):
        if ancestor.tag in _HEADINGS:
            return True
        if level >= 2:
            break
    return False


def _card(anchor: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The story card the anchor sits in (an `<article>` or list item), if any."""
    for ancestor in anchor.iterancestors():
        if ancestor.tag in ("article", "li"):
            return ancestor
        if ancestor.tag in ("body", "main", "section", "ul", "ol"):
            return None
    return None


def _card_date(anchor: lxml.html.HtmlElement) -> tuple[datetime | None, bool]:
    """The card's `<time datetime>`, and whether it gives only a date."""
    card = _card(anchor)
    if card is None:
        return None, False
    for time_element in card.iter("time"):
        published, date_only = parse_published(time_element.get("datetime"))
        if published is not None:
            return published, date_only
    return None, False


def _card_summary(anchor: lxml.html.HtmlElement) -> str | None:
    card = _card(anchor)
    if card is None:
        return None
    around = set(anchor.iterancestors())
    for paragraph in card.iter("p"):
        if paragraph in around or anchor in set(paragraph.iterancestors()):
            continue
        text = one_line(paragraph.text_content())
        if len(text) >= 20:
            return text
    return None
