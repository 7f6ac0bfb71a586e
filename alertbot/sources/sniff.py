"""What a fetched body is, from its first bytes: nothing, JSON, an HTML page, or other.

Feeds and sitemaps are often misconfigured to serve the site's HTML front page (or an
error page); saying "not a feed: HTML page" is more useful to an operator than the XML
parser's complaint about line 1.
"""

from __future__ import annotations

import re

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

# An HTML page, possibly behind an XML declaration, comments or a DOCTYPE.
_HTML_START = re.compile(
    r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])",
    re.IGNORECASE | re.DOTALL,
)


def document_start(body: bytes, size: int = 4096) -> str:
    """The first `size` bytes as text, without BOM or leading whitespace ("" if empty)."""
    chunk = body[:size]
    encoding = "utf-8"
    for bom, name in _BOMS:
        if chunk.startswith(bom):
            chunk, encoding = chunk[len(bom) :], name
            break
    return chunk.decode(encoding, errors="replace").lstrip()


def is_html_page(start: str) -> bool:
    """True when the document (given by its start) is an HTML page."""
    return bool(_HTML_START.match(start))
