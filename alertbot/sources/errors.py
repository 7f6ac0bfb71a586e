"""The error a source's document can raise when it is not what the source type expects.

    AlertbotError                       alertbot.errors
    └── SourceParseError                a feed, sitemap or page that cannot be read as one

A fetch that fails is a value (`FetchResult.error`), and an empty feed is an empty list;
a body that is not a feed at all (an HTML page where RSS was expected, broken XML, an empty
document) is an error of the source. The poller reports it as `FetchErrorKind.PARSE` with
`str(error)` as the message, which is kept to one line an operator can act on.
"""

from __future__ import annotations

from alertbot.errors import AlertbotError


class SourceParseError(AlertbotError):
    """A fetched document that cannot be parsed as the source's type (one-line message)."""
