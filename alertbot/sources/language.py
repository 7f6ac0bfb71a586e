"""What language a page or a text is in, as an ISO 639-1 code.

A page's declared language (`<html lang="ar-EG">`, `content-language`, `og:locale`) is
trusted first. Without one, the script of the text decides among the three alertbot reads
(Arabic, Latin, Cyrillic): Arabic script is "ar"; Latin and Cyrillic are too many languages
to name from the script alone, so only a clear majority of Cyrillic says "ru" and Latin
says nothing.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"[A-Za-z]{2,3}(?=$|[-_])")

# Share of letters a script needs to name the language.
_MAJORITY = 0.6


def language_tag(declared: str | None) -> str | None:
    """The primary subtag of a declared language, lower-cased ("ar-EG" → "ar"), or None."""
    if not declared:
        return None
    match = _TAG.match(declared.strip())
    return match[0].lower() if match else None


def script_language(text: str | None) -> str | None:
    """ "ar" or "ru" when most letters of the text are in that script, else None."""
    if not text:
        return None
    arabic = cyrillic = letters = 0
    for char in text[:5000]:
        if not char.isalpha():
            continue
        letters += 1
        code = ord(char)
        if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
            arabic += 1
        elif 0x0400 <= code <= 0x04FF:
            cyrillic += 1
    if not letters:
        return None
    if arabic / letters >= _MAJORITY:
        return "ar"
    if cyrillic / letters >= _MAJORITY:
        return "ru"
    return None
