"""Outside text made safe to store and show: no terminal escapes, no bidi overrides.

    clean_text(text)       paragraphs kept ("\\n"), everything below made harmless, tidied
    clean_line(text)       the same on one line (titles, names, guids)
    remove_controls(text)  only the removals, spacing kept (HTML before parsing, reports)
    unsafe_char(c)         True for a character that must not reach a terminal or a store
    has_unsafe(text)       True when `text` has one

Feed items, pages and Telegram posts are written by strangers. Their text is cleaned once,
where it enters: `alertbot.sources.article.make_article` cleans every field of the
Article (URLs are percent-encoded instead, by `alertbot.sources.urls`), so the store,
every channel, `status` and the recap all get the same clean text. (HTML is also rid of
its controls before lxml or trafilatura parse it: lxml refuses some, trafilatura drops a
lone ESC and would keep the rest of its sequence as text.)

- ANSI/ECMA-48 escape sequences are removed whole, not only their ESC: CSI (`ESC [ 2 J`,
  `ESC [ 31 m`, and the one-byte CSI U+009B), OSC and the other string sequences (`ESC ]
  0;title BEL`, DCS, APC, PM, SOS, ended by BEL or ST) and two-character escapes (`ESC c`).
  An unterminated string sequence loses only its introducer: what follows is plain text.
- Every other C0 and C1 control character and DEL is removed; line breaks (CR, CRLF, VT,
  FF, NEL, U+2028/U+2029) become "\\n" and a tab becomes a space.
- Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) are removed: an
  unpaired RLO in a title would reverse the rest of a line wherever it is shown. The
  marks (LRM, RLM, ALM) are harmless and kept.
- A lone surrogate (a JSON feed's "\\ud800") becomes U+FFFD: it is not text, and SQLite
  cannot store it.

Spaces are collapsed inside each line and empty lines dropped, as the sources' text
already is (`alertbot.sources.htmltext`). Pure and idempotent.
"""

from __future__ import annotations

import re

# Embedding, override and isolate controls (the marks LRM, RLM and ALM are not here).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# ECMA-48: CSI = ESC [ (or U+009B), parameters 0x30-0x3F, intermediates 0x20-0x2F, a final
# byte 0x40-0x7E. String sequences (OSC, DCS, SOS, PM, APC) run to BEL or ST (ESC \ or
# U+009C). Any other escape is ESC, intermediates, and one final byte 0x30-0x7E.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Cc is exactly U+0000-U+001F and U+007F-U+009F; the newline is kept.
_DROPPED = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def unsafe_char(c: str) -> bool:
    """True for a control character (C0, DEL, C1; not the newline), a line or paragraph
    separator, a bidi embedding, override or isolate, or a lone surrogate: what
    `clean_text` removes or replaces."""
    return _UNSAFE.fullmatch(c) is not None


def has_unsafe(text: str) -> bool:
    """True when `text` has a character `unsafe_char` is True for."""
    return _UNSAFE.search(text) is not None


def clean_text(text: str | None) -> str:
    """Outside text without escapes, controls or bidi overrides; lines kept, tidied."""
    if not text:
        return ""
    cleaned = (" ".join(line.split()) for line in remove_controls(text).split("\n"))
    return "\n".join(line for line in cleaned if line)


def remove_controls(text: str) -> str:
    """`text` without escapes, controls or bidi overrides, its spacing as it was (line
    breaks as "\n", a tab as a space): for our own reports that quote stored values."""
    if not _UNSAFE.search(text):
        return text
    text = _SEQUENCES.sub("", text)
    text = _LINE_BREAKS.sub("\n", text).replace("\t", " ")
    return _DROPPED.sub("", _SURROGATES.sub("\ufffd", text))


def clean_line(text: str | None) -> str:
    """Outside text cleaned as `clean_text`, on one line (its line breaks are spaces)."""
    return " ".join(clean_text(text).split("\n"))
