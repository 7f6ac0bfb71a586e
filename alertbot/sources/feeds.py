"""Feed documents as entries: RSS 0.9x/1.0/2.0 and Atom (with feedparser), JSON Feed.

Everything here works on bytes already fetched: feedparser is handed a `BytesIO`, never a
string (given a string or bytes it may open a URL or a local file of that name), and the
feed URL only as the base for relative links. Its SAX parser has external entities
disabled and it strips DOCTYPE entity declarations, so `<!ENTITY x SYSTEM "file:...">`
comes out as literal text.

What counts as an error of the source (`SourceParseError`): an empty body, an HTML page
served where a feed was expected, and a document so broken that no entry could be read.
A feed with some broken markup but readable entries (feedparser's "bozo" with entries) is
kept; a well-formed feed with no items is an empty list.

Nothing is dropped silently: what is left out is counted in the listing's `Skipped`. An
item with text but no usable link is kept, linked to the feed's website (its `<link>` or
`home_page_url`, else the feed's own URL; `Entry.linked` is False); an item with neither
is skipped. A repeated link or guid is skipped. A truncated document (broken XML that
ends before its root element closes) loses its last item, which may be cut mid-text: it
is skipped as cut, to be read whole at the next poll.
"""

from __future__ import annotations

import io
import json
import re
import xml.sax
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import feedparser

from alertbot.sources.dates import parse_published, published_from
from alertbot.sources.errors import SourceParseError
from alertbot.sources.htmltext import html_to_text, one_line, tidy_text
from alertbot.sources.model import Entry, Listing, Skipped, SkipReason
from alertbot.sources.sniff import document_start, is_html_page
from alertbot.sources.urls import absolute_url
from alertbot.text.sanitize import clean_line

_JSON_FEED_VERSION = "https://jsonfeed.org/version/"
# The end of a whole feed document: its root element closing (`</rss>`, `</feed>`,
# `</rdf:RDF>`), then only whitespace and comments (caches append "generated in 0.2 s").
_ROOT_CLOSED = re.compile(
    rb"</\s*(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>(?:\s|<!--.*?-->)*$", re.IGNORECASE | re.DOTALL
)


def parse_feed(body: bytes, url: str, *, http_charset: str | None = None) -> Listing:
    """The entries of an RSS, Atom or JSON Feed document, in the feed's order.

    `url` is the feed's (final) URL, the base for relative links. `http_charset` is the
    charset the HTTP Content-Type header declared, if any: for XML it outranks the XML
    declaration (RFC 7303). Raises SourceParseError when the body is not a readable feed.
    """
    start = document_start(body)
    if not start:
        raise SourceParseError("empty document")
    if start.startswith(("{", "[")):
        return _parse_json_feed(body, url)
    if is_html_page(start):
        raise SourceParseError("not a feed: HTML page (<html>)")
    if not start.startswith("<"):
        raise SourceParseError("not a feed: neither XML nor JSON")
    return _parse_xml_feed(body, url, http_charset)


# -- RSS and Atom -------------------------------------------------------------------------


def _parse_xml_feed(body: bytes, url: str, http_charset: str | None) -> Listing:
    # Without a Content-Type feedparser assumes ISO-8859-1; application/xml makes it follow
    # the BOM and XML declaration, defaulting to UTF-8 as XML does.
    content_type = "application/xml"
    if http_charset:
        content_type += f"; charset={http_charset}"
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-location": url, "content-type": content_type},
        # The HTML is only ever read for its text (scripts and styles skipped), never
        # rendered: feedparser's sanitizer and link rewriting would double the parse time.
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    raw_entries = list(parsed.get("entries") or [])
    cut: list[SkipReason] = []
    if raw_entries and parsed.get("bozo") and not _ROOT_CLOSED.search(body[-1024:]):
        raw_entries.pop()  # the document stops early: its last item may be cut mid-text
        cut.append(SkipReason.CUT)
    feed = parsed.get("feed") or {}
    site = absolute_url(dict.get(feed, "link"), url) or url
    listing = _unique((_xml_entry(raw, url, site) for raw in raw_entries), cut)
    if not listing.entries:
        if parsed.get("bozo"):
            raise SourceParseError(_bozo_message(parsed.get("bozo_exception"), body))
        if not parsed.get("version"):
            raise SourceParseError("not a feed: no RSS, RDF or Atom root element")
    return listing


def _bozo_message(exc: object, body: bytes) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        # feedparser puts its own XML declaration on a line of its own when there was none
        added = 0 if body.removeprefix(b"\xef\xbb\xbf").startswith(b"<?xml") else 1
        line = max(1, (exc.getLineNumber() or 1) - added)
        return f"malformed XML at line {line}: {exc.getMessage()}"
    return f"malformed feed: {one_line(str(exc)) or type(exc).__name__}"


def _xml_entry(raw: dict[str, Any], feed_url: str, site: str) -> Entry | SkipReason:
    guid = _clean(dict.get(raw, "id"))
    link = dict.get(raw, "link")
    target = absolute_url(link, feed_url) or absolute_url(guid, None)
    content = _join_unique(_detail_text(part) for part in dict.get(raw, "content") or [])
    summary: str | None = _detail_text(dict.get(raw, "summary_detail"))
    if summary and summary == content:  # feedparser copies content into summary
        summary = None
    if target is None and not (content or summary):
        return SkipReason.BAD_LINK if _clean(link) else SkipReason.NO_LINK
    published, date_only = published_from(
        dict.get(raw, "published"), dict.get(raw, "published_parsed")
    )
    if published is None:
        published, date_only = published_from(
            dict.get(raw, "updated"), dict.get(raw, "updated_parsed")
        )
    return Entry(
        url=target or site,
        title=one_line(_detail_text(dict.get(raw, "title_detail"))) or None,
        guid=guid,
        summary=summary or None,
        content=content or None,
        published=published,
        published_date_only=date_only,
        linked=target is not None,
    )


def _detail_text(detail: dict[str, Any] | None) -> str:
    """The plain text of a feedparser text construct (its `type` says HTML or not)."""
    if not detail:
        return ""
    value = dict.get(detail, "value") or ""
    kind = (dict.get(detail, "type") or "").lower()
    if "html" in kind:
        return html_to_text(value)
    return tidy_text(value)


# -- JSON Feed ----------------------------------------------------------------------------


def _parse_json_feed(body: bytes, url: str) -> Listing:
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise SourceParseError(f"malformed JSON at line {exc.lineno}: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise SourceParseError("malformed JSON: not UTF-8") from exc
    except RecursionError as exc:
        raise SourceParseError("malformed JSON: nested too deeply") from exc
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        _JSON_FEED_VERSION
    ):
        raise SourceParseError("not a feed: JSON without a jsonfeed.org version")
    items = document.get("items")
    if not isinstance(items, list):
        raise SourceParseError("malformed JSON Feed: `items` is not a list")
    site = absolute_url(document.get("home_page_url"), url) or url
    return _unique(
        _json_entry(item, url, site) if isinstance(item, dict) else SkipReason.NO_LINK
        for item in items
    )


def _json_entry(item: Mapping[str, Any], base: str, site: str) -> Entry | SkipReason:
    raw_id = item.get("id")
    guid = _clean(str(raw_id)) if isinstance(raw_id, str | int) else None
    target = (
        absolute_url(item.get("url"), base)
        or absolute_url(item.get("external_url"), base)
        or absolute_url(guid, None)
    )
    content_html = item.get("content_html")
    content_text = item.get("content_text")
    if isinstance(content_html, str) and content_html.strip():
        content = html_to_text(content_html)
    else:
        content = tidy_text(content_text) if isinstance(content_text, str) else ""
    summary = item.get("summary")
    summary = tidy_text(summary) if isinstance(summary, str) else ""
    if target is None and not (content or summary):
        given = any(_clean(item.get(key)) for key in ("url", "external_url"))
        return SkipReason.BAD_LINK if given else SkipReason.NO_LINK
    title = item.get("title")
    published, date_only = _json_date(item.get("date_published"))
    if published is None:
        published, date_only = _json_date(item.get("date_modified"))
    return Entry(
        url=target or site,
        title=(one_line(title) or None) if isinstance(title, str) else None,
        guid=guid,
        summary=summary or None,
        content=content or None,
        published=published,
        published_date_only=date_only,
        linked=target is not None,
    )


def _json_date(value: object) -> tuple[datetime | None, bool]:
    return parse_published(value) if isinstance(value, str) else (None, False)


# -- shared -------------------------------------------------------------------------------


def _clean(value: object) -> str | None:
    """A guid (or a given link) as one clean line (the same as the Article will store),
    or None."""
    if not isinstance(value, str):
        return None
    return clean_line(value) or None


def _join_unique(texts: Iterable[str]) -> str:
    out: list[str] = []
    for text in texts:
        if text and text not in out:
            out.append(text)
    return "\n".join(out)


def _unique(entries: Iterable[Entry | SkipReason], skipped: Iterable[SkipReason] = ()) -> Listing:
    """Entries in order, each story once (a repeated link or guid is skipped), with the
    reasons for every item left out."""
    seen: set[str] = set()
    out: list[Entry] = []
    reasons = list(skipped)
    for entry in entries:
        if isinstance(entry, SkipReason):
            reasons.append(entry)
            continue
        keys = {f"url:{entry.key}"}
        if entry.guid:
            keys.add(f"guid:{entry.guid}")
        if keys & seen:
            reasons.append(SkipReason.DUPLICATE)
            continue
        seen |= keys
        out.append(entry)
    return Listing(out, Skipped.of(reasons))
