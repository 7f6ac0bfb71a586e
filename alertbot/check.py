"""What `alertbot check` does: validate the config, then try every outside service once.

    config      every problem in the file, with its key path (stops here if any)
    database    open and migrate it, report the schema version
    sources     fails if there is nothing to poll (no [[source]], none added from Telegram)
    telegram    getMe with the configured token (when [telegram] has one)
    smtp        connect and log in (when [email] is configured)
    source X    one fetch and parse of each source, no article pages; the entries it
                lists and those it skips (no link, listed twice, cut off...)

Each step prints one line, `ok   WHAT: detail` or `FAIL WHAT: detail`. Secrets never reach
the output: the Telegram token and the SMTP password are replaced with `<token>` and
`<password>` in anything printed.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import telegram
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from alertbot.clock import utc_now
from alertbot.config import (
    Config,
    EmailConfig,
    SourceConfig,
    TelegramConfig,
    load_config,
    nothing_to_poll,
    validate_config,
)
from alertbot.notify.smtp import SmtpError, connect, quit_quietly
from alertbot.sources.fetch import Fetcher
from alertbot.sources.model import Entry, Validators
from alertbot.sources.poll import Poller, PollResult
from alertbot.store import Store, StoreError

NETWORK_TIMEOUT = 20.0  # seconds, for Telegram and SMTP
MIN_SECRET = 4  # shorter secrets are not redacted (they would mangle every line)


class _Report:
    """Prints `ok`/`FAIL` lines with secrets redacted, and remembers whether any failed."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.ok = True
        self.secrets: dict[str, str] = {}

    def passed(self, what: str, detail: str) -> None:
        self.echo(self._redact(f"ok   {what}: {detail}"))

    def failed(self, what: str, detail: str) -> None:
        self.ok = False
        self.echo(self._redact(f"FAIL {what}: {detail}"))

    def _redact(self, text: str) -> str:
        for secret, placeholder in self.secrets.items():
            # A secret of a character or two cannot be told apart from ordinary text.
            if len(secret) >= MIN_SECRET:
                text = text.replace(secret, placeholder)
        return text


async def run_checks(
    config_path: Path,
    environ: Mapping[str, str] = os.environ,
    *,
    echo: Callable[[str], None] = print,
    timeout: float | None = None,
) -> bool:
    """Run every check, printing one line each through `echo`; True when all passed."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Bot API URLs contain the token
    report = _Report(echo)
    problems = validate_config(config_path, environ)
    for problem in problems:
        report.failed("config", str(problem))
    if problems:
        return False
    config = load_config(config_path, environ)
    counts = f"{len(config.sources)} sources, {len(config.watches)} watches"
    report.passed("config", f"{config_path} ({counts})")
    if config.telegram is not None:
        report.secrets[config.telegram.token] = "<token>"
    if config.email is not None:
        report.secrets[config.email.password] = "<password>"

    added = _check_database(config, report)
    if added is not None:
        _check_something_to_poll(config, added, report)
    if config.telegram is not None:
        await _check_telegram(config.telegram, report, timeout)
    if config.email is not None:
        await _check_smtp(config.email, report, timeout)
    await _check_sources(config, report, timeout)
    return report.ok


def _check_database(config: Config, report: _Report) -> int | None:
    """Open (and migrate) the database and report its schema version; the number of
    sources added from Telegram, or None if it cannot be opened."""
    try:
        store = Store.open(config.store_target)
    except StoreError as exc:
        report.failed("database", str(exc))
        return None
    try:
        report.passed("database", f"{config.database_label} (schema {store.schema_version()})")
        return len(store.runtime_sources())
    finally:
        store.close()


def _check_something_to_poll(config: Config, added: int, report: _Report) -> None:
    """Fail as `alertbot run` would with no source at all; a bot with admins and no
    sources yet is fine (they add them with /addsource)."""
    problem = nothing_to_poll(config, added, once=False)
    if problem is not None:
        report.failed("sources", problem.detail)
    elif not config.sources and not added:
        report.passed("sources", "none yet: telegram.admins can add them with /addsource")


async def _check_telegram(
    config: TelegramConfig, report: _Report, timeout: float | None = None
) -> None:
    """Call getMe with the configured token."""
    seconds = NETWORK_TIMEOUT if timeout is None else timeout
    request = HTTPXRequest(
        connect_timeout=seconds, read_timeout=seconds, write_timeout=seconds, pool_timeout=seconds
    )
    try:
        bot = telegram.Bot(config.token, base_url=config.api_url, request=request)
        async with bot:
            me = await bot.get_me()
    except TelegramError as exc:
        report.failed("telegram", f"{type(exc).__name__}: {exc.message}")
        return
    report.passed("telegram", f"@{me.username}")


async def _check_smtp(config: EmailConfig, report: _Report, timeout: float | None = None) -> None:
    """Connect to the SMTP server (TLS as configured) and log in, in a thread."""
    seconds = NETWORK_TIMEOUT if timeout is None else timeout
    where = f"{config.smtp_host}:{config.smtp_port}"
    try:
        await asyncio.to_thread(_smtp_login, config, seconds)
    except SmtpError as exc:
        report.failed("smtp", f"{where}: {exc}")
        return
    if config.username:
        report.passed("smtp", f"logged in to {where} as {config.username}")
    else:
        report.passed("smtp", f"connected to {where} (no login)")


def _smtp_login(config: EmailConfig, timeout: float) -> None:
    """Connect, secure the connection as configured, log in if a user is set, and quit."""
    quit_quietly(connect(config, timeout=timeout))


async def _check_sources(config: Config, report: _Report, timeout: float | None = None) -> None:
    """Fetch and parse each source once, concurrently, without fetching article pages."""
    if not config.sources:
        return
    now = utc_now()
    async with Fetcher(config.polling, timeout=timeout) as fetcher, Poller(fetcher) as poller:
        polls = [
            poller.poll(source, Validators(), now, seen=_everything_seen)
            for source in config.sources
        ]
        results = await asyncio.gather(*polls)
    for source, result in zip(config.sources, results, strict=True):
        _source_line(source, result, report)


def _source_line(source: SourceConfig, result: PollResult, report: _Report) -> None:
    what = f"source {source.name}"
    if result.error is not None:
        report.failed(what, f"{result.error.kind}: {result.error.message} ({source.url})")
    else:
        skipped = f"; {result.skipped.describe()} skipped" if result.skipped else ""
        report.passed(what, f"{result.entries} entries{skipped} ({source.url})")


async def _everything_seen(entries: Sequence[Entry]) -> list[bool]:
    """Every entry counts as seen, so that a check fetches no article pages."""
    return [True] * len(entries)
