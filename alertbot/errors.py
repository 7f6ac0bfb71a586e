"""The errors alertbot raises on purpose.

    AlertbotError
    ├── ConfigError            a config or watchlist file is wrong (names the key path)
    ├── QuerySyntaxError       a watch query does not parse (names the column)
    ├── CamelDataError         the camel-tools morphology database is missing or broken
    ├── SourceExistsError      a source of that name is already polled (/addsource)
    ├── SourceParseError       a fetched document is not what its source type expects
    │                          (alertbot.sources.errors; polling turns it into a PARSE
    │                          FetchError of that source, never a crash)
    ├── StoreError             the database cannot be used: locked, not writable,
    │                          corrupt, too new (alertbot.store.model)
    ├── RunLockError           another `alertbot run` holds the database (names its
    │                          pid), or its lock file cannot be made (alertbot.runlock)
    ├── ListenError            `run --listen`'s address cannot be served: in use, not
    │                          this machine's (names it; alertbot.monitor)
    ├── DeliveryError          a message was not delivered: permanent, or retried later
    │   │                      (alertbot.notify.base)
    │   └── SmtpError          the SMTP server refused or failed (alertbot.notify.smtp)
    └── UsageError             a bot command's arguments are wrong; its text is the
                               one-line answer (alertbot.bot.service)

"Unchanged" and "no match" are return values, never exceptions.
"""

from __future__ import annotations


class AlertbotError(Exception):
    """Base class of every error alertbot raises deliberately."""


class ConfigError(AlertbotError):
    """A configuration or watchlist problem, located by file and key path."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        self.path = path
        self.key = key
        self.detail = message
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class QuerySyntaxError(AlertbotError):
    """A watch query that cannot be parsed; `column` is 1-based."""

    def __init__(self, message: str, column: int):
        self.detail = message
        self.column = column
        super().__init__(f"{message} at column {column}")


class CamelDataError(AlertbotError):
    """The camel-tools morphology database cannot be found, installed or read."""


class SourceExistsError(AlertbotError):
    """A source is added under a name that is already polled."""


class RunLockError(AlertbotError):
    """The database is held by another `alertbot run`, or its lock cannot be taken."""

    def __init__(self, message: str, *, path: str | None = None):
        self.path = path
        self.detail = message
        super().__init__(f"{path}: {message}" if path else message)


class ListenError(AlertbotError):
    """The address for /healthz and /metrics cannot be bound; the message names it."""
