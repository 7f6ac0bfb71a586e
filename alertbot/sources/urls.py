"""URLs as sources write them: resolved, checked, and reduced to one canonical form.

`canonical_url` is the key the seen-store dedupes on, so it must map the same story's
URL variants (tracking parameters, fragment, host case, default port, `%d8` vs `%D8`,
dot segments) to one string while never merging two different stories: query parameters
that are not trackers are kept, because Arabic news sites often identify stories by them
(`?NewsID=123`, `?storyId=9`). courlan's strict mode keeps only a short allow-list of keys
(`id`, `p`, `page`...) and would merge `?NewsID=1` with `?NewsID=2`, so its default
mode is used, which drops known trackers (utm_*, fbclid, gclid, ref, ...) only.

`absolute_url` is where every URL a source lists enters, so it also makes it safe to show:
tabs and line breaks are removed (as browsers do), other control characters and bidi
controls are percent-encoded (`%1B`, `%E2%80%AE`), and a host containing one is refused.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from courlan import normalize_url, scrub_url

from alertbot.text.sanitize import has_unsafe, unsafe_char

_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_TAB_OR_NEWLINE = re.compile(r"[\t\r\n]")


def absolute_url(value: object, base: str | None = None) -> str | None:
    """`value` as an absolute http(s) URL, resolved against `base` if given, or None;
    control and bidi characters percent-encoded."""
    if not isinstance(value, str) or not value.strip():
        return None
    candidate = _TAB_OR_NEWLINE.sub("", value.strip())
    if base:
        candidate = urljoin(base, candidate)
    try:
        parts = urlsplit(candidate)
        host = parts.hostname
    except ValueError:  # a malformed IPv6 host or port
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or has_unsafe(parts.netloc):
        return None
    return _escaped(candidate) if has_unsafe(candidate) else candidate


def safe_url(url: str) -> str:
    """The URL as `absolute_url` returns it: no tabs or line breaks, control and bidi
    characters percent-encoded (unchanged when it has none)."""
    return _escaped(_TAB_OR_NEWLINE.sub("", url)) if has_unsafe(url) else url


def _escaped(url: str) -> str:
    """The URL with its control and bidi characters percent-encoded (a lone surrogate as
    U+FFFD)."""
    return "".join(
        quote("\ufffd" if "\ud800" <= c <= "\udfff" else c, safe="") if unsafe_char(c) else c
        for c in url
    )


def site_host(url: str) -> str:
    """The host a URL belongs to, lower-case and without `www.` ("" when there is none)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def canonical_url(url: str) -> str:
    """The URL with trackers, fragment, default port and case noise removed.

    Raises ValueError when `url` is not an absolute http(s) URL.
    """
    if absolute_url(url) is None:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    cleaned = normalize_url(scrub_url(url), strict=False)
    scheme, netloc, path, query, _fragment = urlsplit(cleaned)
    path = _remove_dot_segments(path) or "/"
    path = _PERCENT.sub(lambda match: match[0].upper(), path)
    return urlunsplit((scheme, netloc.rstrip("."), path, query, ""))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: `/a/./b/../c` → `/a/c` (urljoin leaves absolute URLs as they are)."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for segment in segments[1:] if path.startswith("/") else segments:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = "/" if segments[-1] in (".", "..") else ""
    return "/" + "/".join(output) + trailing


# -- Telegram channels ---------------------------------------------------------------------

TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "telegram.dog", "www.t.me"})
# Public usernames: 4 to 32 letters, digits and underscores, starting with a letter.
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")


def channel_url(name_or_url: str) -> str:
    """The web preview URL (`https://t.me/s/<name>`) of a public channel.

    Accepts `@name`, `name`, `t.me/name`, `https://t.me/name`, `https://t.me/s/name` and a
    post link (`https://t.me/name/123`). Raises ValueError for anything else, including
    private invite links (`t.me/+...`, `t.me/joinchat/...`), which have no public preview.
    """
    text = name_or_url.strip()
    if text.startswith("@"):
        name = text[1:]
    elif "/" in text or "." in text:
        name = _name_from_url(text)
    else:
        name = text
    if not _USERNAME.fullmatch(name) or name.lower() in ("joinchat", "addstickers", "share"):
        raise ValueError(f"not a public Telegram channel: {name_or_url!r}")
    return f"https://t.me/s/{name}"


def _name_from_url(text: str) -> str:
    candidate = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower()
    except ValueError:  # a malformed host or port
        return ""
    if host not in TELEGRAM_HOSTS:
        return ""
    segments = [segment for segment in parts.path.split("/") if segment]
    if segments[:1] == ["s"]:
        segments = segments[1:]
    return segments[0] if segments else ""
