"""Turning a fetched body into text, once, with the right character set.

    decode(body, content_type) -> (text, encoding)

The order, first match wins:

1. a byte order mark (UTF-8, UTF-16, UTF-32);
2. a declared charset: the HTTP header, then an XML declaration, then `<meta charset>` or
   `<meta http-equiv="Content-Type">` in the first 4 KB, each used only if the bytes decode
   with it strictly and the result is plausible. A single-byte declaration on bytes that are
   valid multi-byte UTF-8 is wrong (UTF-8 wins); a Latin declaration (latin-1, windows-1252)
   on bytes that read as Arabic in windows-1256 or ISO-8859-6 is wrong (Arabic wins);
3. strict UTF-8;
4. detection: windows-1256 and ISO-8859-6 against charset-normalizer's best guess, scored
   by how much of the non-ASCII text falls in Arabic words.

The encoding returned is a Python codec name (`utf-8`, `cp1256`, `iso8859-6`, ...).

Parsers of XML must not see a declaration that contradicts the text they are given:
`xml_declaration_removed` is for lxml fed a `str`, `utf8_xml` for parsers fed bytes
(feedparser), re-encoded as UTF-8 with a declaration that says so.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

PRESCAN_BYTES = 4096

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.IGNORECASE)
_XML_DECL_RE = re.compile(
    rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_META_RE = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_XML_DECL_TEXT_RE = re.compile(r"^\ufeff?\s*<\?xml\b[^>]*\?>", re.IGNORECASE)
_XML_ENCODING_ATTR_RE = re.compile(r"""(\bencoding\s*=\s*)(["'])[^"']*\2""", re.IGNORECASE)

# Declarations that are often a server default rather than a statement about the page.
_LATIN = frozenset({"latin-1", "iso8859-1", "cp1252", "iso8859-15", "ascii"})
_WIDE = ("utf-16", "utf-32")
_ARABIC_CODECS = ("cp1256", "iso8859-6")

# Arabic letters, tatweel and harakat (not Arabic punctuation or digits).
_ARABIC_WORD_RE = re.compile(r"[\u0620-\u065f\u066e-\u06d3]{2,}")
_OTHER_RE = re.compile(r"[^\x00-\x7f\s]+")
_SAMPLE_CHARS = 200_000  # enough to judge; a 5 MB page need not be read to the end
_ARABIC_SHARE = 0.7  # of the non-ASCII, non-space characters, inside Arabic words
_ALEF_LAM_SHARE = 0.1  # alef and lam are about a fifth of the letters of any Arabic text


def decode(body: bytes, content_type: str | None) -> tuple[str, str]:
    """The body as text and the codec name used, per the order in the module docstring."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace"), encoding

    has_nul = b"\x00" in body[:PRESCAN_BYTES]
    for encoding in declared_encodings(body, content_type):
        if encoding.startswith(_WIDE) and not has_nul:
            continue  # a UTF-16/32 label on ASCII-compatible bytes (WHATWG treats it as UTF-8)
        text = _strict(body, encoding)
        if text is None:
            continue
        if encoding == "utf-8" or body.isascii():
            return text, encoding
        utf8 = _strict(body, "utf-8")
        if utf8 is not None:
            return utf8, "utf-8"
        if encoding in _LATIN and (arabic := _best_arabic(body)) is not None:
            return arabic
        return text, encoding

    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    return _detect(body)


def declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    """Codec names declared by the header, the XML declaration and the HTML meta, in order."""
    labels = []
    if content_type and (m := _HEADER_CHARSET_RE.search(content_type)):
        labels.append(m.group(1))
    head = body[:PRESCAN_BYTES]
    if xml_decl := _XML_DECL_RE.match(head):
        labels.append(xml_decl.group(1).decode("ascii"))
    if meta := _META_RE.search(head):
        labels.append(meta.group(1).decode("ascii"))
    found: list[str] = []
    for label in labels:
        encoding = codec_name(label)
        if encoding is not None and encoding not in found:
            found.append(encoding)
    return found


def codec_name(label: str) -> str | None:
    """Python's canonical codec name for a charset label, or None if it is unknown."""
    try:
        return codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None


def arabic_share(text: str) -> float:
    """How much of the non-ASCII, non-space text lies inside Arabic words (0.0 to 1.0)."""
    sample = text[:_SAMPLE_CHARS]
    other = sum(map(len, _OTHER_RE.findall(sample)))
    if not other:
        return 0.0
    return sum(map(len, _ARABIC_WORD_RE.findall(sample))) / other


def looks_arabic(text: str) -> bool:
    """True when the text reads as Arabic rather than as another script decoded wrongly."""
    if arabic_share(text) < _ARABIC_SHARE:
        return False
    sample = text[:_SAMPLE_CHARS]
    letters = sum(map(len, _ARABIC_WORD_RE.findall(sample)))
    alef_lam = sample.count("\u0627") + sample.count("\u0644")
    return alef_lam >= _ALEF_LAM_SHARE * letters


def xml_declaration_removed(text: str) -> str:
    """The text without a leading `<?xml ...?>` (lxml refuses a `str` that declares one)."""
    return _XML_DECL_TEXT_RE.sub("", text, count=1)


def utf8_xml(text: str) -> bytes:
    """The text as UTF-8 bytes whose XML declaration, if any, says `encoding="utf-8"`."""
    m = _XML_DECL_TEXT_RE.match(text)
    if m is None:
        return text.lstrip("\ufeff").encode("utf-8")
    declaration = _XML_ENCODING_ATTR_RE.sub(r"\1\2utf-8\2", m.group().lstrip("\ufeff"))
    return (declaration + text[m.end() :]).encode("utf-8")


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except UnicodeDecodeError:
        return None


def _best_arabic(body: bytes) -> tuple[str, str] | None:
    """The Arabic legacy codec under which the bytes read best as Arabic, if any does."""
    scored = []
    for encoding in _ARABIC_CODECS:
        text = _strict(body, encoding)
        if text is not None and looks_arabic(text):
            scored.append((arabic_share(text), text, encoding))
    if not scored:
        return None
    # max() keeps the first of equal scores: windows-1256 is by far the commoner.
    _, text, encoding = max(scored, key=lambda s: s[0])
    return text, encoding


def _detect(body: bytes) -> tuple[str, str]:
    """Neither declared nor UTF-8: Arabic codecs first, then charset-normalizer's guess."""
    arabic = _best_arabic(body)
    guess = charset_normalizer.from_bytes(body).best()
    if guess is not None:
        encoding = codec_name(guess.encoding) or guess.encoding
        text = str(guess)
        if arabic is None or (looks_arabic(text) and arabic_share(text) > arabic_share(arabic[0])):
            return text, encoding
    if arabic is not None:
        return arabic
    return body.decode("utf-8", errors="replace"), "utf-8"
