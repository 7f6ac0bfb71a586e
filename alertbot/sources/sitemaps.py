"""Sitemaps as entries: `<urlset>` (including Google News sitemaps) and sitemap indexes.

A news site's sitemap lists its article URLs with `<lastmod>`, and a Google News sitemap
(`xmlns:news`) adds `<news:publication_date>` and `<news:title>`. A sitemap index lists
further sitemaps, returned as `children` for the poller to fetch next (newest first, so a
budget of a few fetches reaches the current month's sitemap).

Sitemaps list each page's canonical URL by design and can hold 50,000 of them, so entries
are deduplicated by the URL as written (without fragment), not through `canonical_url`.
A `<url>` without a `<loc>`, with one that is not an http(s) URL, or repeated, is counted
in the sitemap's `skipped`, never dropped silently.

Parsed with lxml's XML parser hardened against hostile documents: no entity expansion, no
network, no DTD, no huge trees. Elements are matched by local name, whatever their
namespace, because sites often misspell the sitemap namespace or leave it out.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar, cast

from lxml import etree

from alertbot.sources.dates import parse_datetime, parse_published
from alertbot.sources.errors import SourceParseError
from alertbot.sources.htmltext import one_line
from alertbot.sources.model import Entry, Skipped, SkipReason
from alertbot.sources.sniff import document_start, is_html_page
from alertbot.sources.urls import absolute_url

# The sitemap protocol's own limit for one file, uncompressed.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024

T = TypeVar("T")

# Text nodes only: an unexpanded entity reference (`&xxe;`) is not text.
_TEXT_NODES = etree.XPath(".//text()")

_GZIP_MAGIC = b"\x1f\x8b"
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: its article entries, or the child sitemaps an index points to;
    and the entries it skipped, per reason."""

    entries: list[Entry] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    skipped: Skipped = field(default_factory=Skipped)


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """The entries (newest first) or child sitemaps of a sitemap document.

    Accepts XML sitemaps, gzip-compressed ones (`.xml.gz` served as a file), and the
    protocol's plain-text form (one URL a line). Raises SourceParseError otherwise.
    """
    if body.startswith(_GZIP_MAGIC):
        body = _gunzip(body)
    start = document_start(body)
    if not start:
        raise SourceParseError("empty document")
    if is_html_page(start):
        raise SourceParseError("not a sitemap: HTML page (<html>)")
    if not start.startswith("<"):
        return _parse_text_sitemap(body)
    root = _parse_xml(body)
    name = root.tag.rpartition("}")[2] if isinstance(root.tag, str) else ""
    if name == "urlset":
        entries, skipped = _url_entries(root, url)
        return Sitemap(entries=entries, skipped=skipped)
    if name == "sitemapindex":
        return Sitemap(children=_child_sitemaps(root, url))
    raise SourceParseError(f"not a sitemap: root element <{name}>")


def _gunzip(body: bytes) -> bytes:
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        data = decompressor.decompress(body, MAX_SITEMAP_BYTES)
    except zlib.error as exc:
        raise SourceParseError(f"malformed gzip sitemap: {exc}") from exc
    if decompressor.unconsumed_tail:
        raise SourceParseError("gzip sitemap over 50 MB uncompressed")
    if not decompressor.eof:
        raise SourceParseError("malformed gzip sitemap: truncated")
    return data


def _parse_xml(body: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise SourceParseError(f"malformed XML at line {exc.lineno}: {exc.msg}") from exc
    if root is None:
        raise SourceParseError("empty document")
    return root


def _url_entries(root: etree._Element, base: str) -> tuple[list[Entry], Skipped]:
    entries: list[Entry] = []
    seen: set[str] = set()
    skipped: list[SkipReason] = []
    for element in _children(root, "url"):
        loc = _child_text(element, "loc")
        url = absolute_url(loc, base)
        if url is None:
            skipped.append(SkipReason.BAD_LINK if loc else SkipReason.NO_LINK)
            continue
        key = url.partition("#")[0]
        if key in seen:
            skipped.append(SkipReason.DUPLICATE)
            continue
        seen.add(key)
        news = next(_children(element, "news"), None)
        title = one_line(_child_text(news, "title")) if news is not None else ""
        news_date = _child_text(news, "publication_date") if news is not None else None
        published, date_only = parse_published(news_date)
        if published is None:
            published, date_only = parse_published(_child_text(element, "lastmod"))
        entries.append(
            Entry(url=url, title=title or None, published=published, published_date_only=date_only)
        )
    return _newest_first(entries, lambda entry: entry.published), Skipped.of(skipped)


def _child_sitemaps(root: etree._Element, base: str) -> list[str]:
    children: list[tuple[str, datetime | None]] = []
    seen: set[str] = set()
    for element in _children(root, "sitemap"):
        url = absolute_url(_child_text(element, "loc"), base)
        if url is None or url in seen:
            continue
        seen.add(url)
        children.append((url, parse_datetime(_child_text(element, "lastmod"))))
    return [url for url, _ in _newest_first(children, lambda child: child[1])]


def _parse_text_sitemap(body: bytes) -> Sitemap:
    entries: list[Entry] = []
    seen: set[str] = set()
    duplicates = 0
    for line in body.decode("utf-8", errors="replace").splitlines():
        url = absolute_url(line, None)
        if url is None:
            if line.strip():
                raise SourceParseError("not a sitemap: neither XML nor a list of URLs")
            continue
        key = url.partition("#")[0]
        if key in seen:
            duplicates += 1
        else:
            seen.add(key)
            entries.append(Entry(url=url))
    return Sitemap(entries=entries, skipped=Skipped(duplicate=duplicates))


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """Child elements with this local name, whatever their namespace."""
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and tag.rpartition("}")[2] == name:
            yield child


def _child_text(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    child = next(_children(element, name), None)
    if child is None:
        return None
    text = "".join(cast(list[str], _TEXT_NODES(child))).strip()  # text(), by the path
    return text or None


def _newest_first(items: list[T], date_of: Callable[[T], datetime | None]) -> list[T]:
    """Sorted newest first; the sort is stable, so ties and undated items keep their order."""
    return sorted(items, key=lambda item: date_of(item) or _OLDEST, reverse=True)
