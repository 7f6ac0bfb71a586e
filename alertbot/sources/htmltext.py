"""HTML fragments (feed summaries, Telegram posts) as plain text, one line per paragraph.

Block elements and `<br>` end a line; whitespace inside a line is collapsed as a browser
would; empty lines are dropped, so paragraphs come out separated by a single newline, the
way the corpus and trafilatura's text output write them. Scripts, styles and other
non-text elements are skipped.
"""

from __future__ import annotations

import lxml.html
from lxml import etree

from alertbot.text.sanitize import remove_controls

# fmt: off
_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "legend", "li", "main", "nav", "ol",
    "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "ul",
})
_SKIP = frozenset({
    "script", "style", "noscript", "template", "head", "title", "iframe", "object", "embed",
    "svg", "math", "select", "button", "canvas", "audio", "video",
})
# fmt: on


class _Break:
    """A line break between pieces of text."""


_BREAK = _Break()


def html_to_text(markup: str | None) -> str:
    """The text of an HTML fragment, one line per paragraph or `<br>`."""
    if not markup or not markup.strip():
        return ""
    # lxml refuses a fragment whose leading text has a control character (ValueError), and
    # a feed item with an escape sequence in its summary would fail the whole feed.
    markup = remove_controls(markup)
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except etree.ParserError:  # nothing parseable (only a comment, a bare DOCTYPE)
        return ""
    return element_text(root)


def element_text(element: lxml.html.HtmlElement) -> str:
    """The text of a parsed element, one line per block or `<br>`, whitespace collapsed."""
    pieces: list[str | _Break] = []
    _collect(element, pieces, root=True)
    return _join(pieces)


def tidy_text(text: str | None) -> str:
    """Plain text with whitespace collapsed inside lines and empty lines dropped."""
    if not text:
        return ""
    return _tidy_lines(text.splitlines())


def one_line(text: str | None) -> str:
    """Text collapsed to a single line (for titles and anchor text)."""
    return " ".join(text.split()) if text else ""


def _collect(element: etree._Element, pieces: list[str | _Break], *, root: bool = False) -> None:
    tag = element.tag
    if not isinstance(tag, str):  # comment or processing instruction: only its tail counts
        if element.tail and not root:
            pieces.append(element.tail)
        return
    name = etree.QName(tag).localname.lower() if "}" in tag else tag.lower()
    if name in _SKIP:
        pass
    elif name == "br":
        pieces.append(_BREAK)
    else:
        block = name in _BLOCK
        if block:
            pieces.append(_BREAK)
        if element.text:
            pieces.append(element.text)
        for child in element:
            _collect(child, pieces)
        if block:
            pieces.append(_BREAK)
    if element.tail and not root:
        pieces.append(element.tail)


def _join(pieces: list[str | _Break]) -> str:
    lines: list[str] = []
    current: list[str] = []
    for piece in pieces:
        if isinstance(piece, _Break):
            lines.append("".join(current))
            current = []
        else:
            current.append(piece)
    lines.append("".join(current))
    return _tidy_lines(lines)


def _tidy_lines(lines: list[str]) -> str:
    cleaned = (" ".join(line.split()) for line in lines)
    return "\n".join(line for line in cleaned if line)
