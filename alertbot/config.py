"""Loading and validating the TOML configuration into frozen dataclasses.

Every problem names its key path (`source[2].interval: bad duration '5x'`). Unknown keys
are errors, so a typo never silently disables a feature. A missing optional section
disables its feature. `${VAR}` in a string reads the environment when the file is loaded.
A variable that is not set is an error naming the key and the variable
(`email.password: ${SMTP_PASSWORD} is not set`), except in `telegram.token`, where it
means "no Telegram": the default config reads `${TELEGRAM_BOT_TOKEN}`, so that without
one `alertbot run` prints its alerts to the console. A variable set to the empty string is
set, to an empty value (a required key then "must not be empty"; an empty token is no
Telegram too).

`load_config` raises the first problem; `validate_config` (for `alertbot check`) reads on
past each one and returns them all.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, overload
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alertbot import durations
from alertbot.dburl import is_postgres_url, redact
from alertbot.errors import ConfigError, QuerySyntaxError
from alertbot.watch.match import Watch
from alertbot.watch.query import parse_query

DEFAULT_CONFIG = Path("config/alertbot.toml")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
SOURCE_TYPES = ("feed", "page", "sitemap", "telegram")
SECURITY_MODES = ("starttls", "ssl", "none")

T = TypeVar("T")


# `scheme://` at the start of a value (RFC 3986 scheme letters): a URL, not a file path.
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# A host name to bind: dot-separated labels of letters, digits and inner hyphens.
_HOST_NAME = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


@dataclass(frozen=True)
class TelegramConfig:
    """The `[telegram]` section."""

    token: str
    api_url: str = "https://api.telegram.org/bot"
    admins: tuple[int, ...] = ()
    alert_chats: tuple[int, ...] = ()
    allowed_chats: tuple[int, ...] = ()
    link_preview: bool = False

    def __repr__(self) -> str:  # never print the token
        return f"TelegramConfig(api_url={self.api_url!r}, admins={self.admins!r}, ...)"


@dataclass(frozen=True)
class EmailConfig:
    """The `[email]` section."""

    smtp_host: str
    sender: str
    smtp_port: int = 587
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    recap_to: tuple[str, ...] = ()
    recap_at: str = "08:00"
    alert_to: tuple[str, ...] = ()
    recap_empty: bool = True  # send a short "nothing matched" recap on a quiet day

    @property
    def recap_time(self) -> tuple[int, int]:
        """`recap_at` as (hour, minute)."""
        hour, minute = self.recap_at.split(":")
        return int(hour), int(minute)


@dataclass(frozen=True)
class PollingConfig:
    """The `[polling]` section (durations in seconds)."""

    interval: int = 300
    timeout: int = 20
    max_bytes: int = 5_000_000
    concurrency: int = 8
    user_agent: str = "alertbot (+https://example.org/contact)"
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class SourceConfig:
    """One `[[source]]` entry."""

    name: str
    url: str
    type: str = "feed"
    interval: int | None = None
    full_text: bool = True


@dataclass(frozen=True)
class ListenAddress:
    """Where `alertbot run` serves /healthz and /metrics: a host (an IP address or a name)
    and a port. Only that address is bound; there is no default."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class MetricsConfig:
    """The `[metrics]` section (or `alertbot run --listen`, which wins)."""

    listen: ListenAddress


@dataclass(frozen=True)
class Config:
    """The whole configuration, validated."""

    path: Path
    timezone: ZoneInfo
    database: Path
    retention: int
    polling: PollingConfig
    telegram: TelegramConfig | None
    email: EmailConfig | None
    sources: tuple[SourceConfig, ...]
    watches: tuple[Watch, ...]
    # `[[exclude]]`: what they match alerts none of the config's recipients about the
    # config's watches (Watch with `excludes`).
    exclusions: tuple[Watch, ...] = ()
    # `database = "postgresql://..."`: the server's URL (`database` is then only the
    # caches' folder, `state/`, and several workers may share the store).
    database_url: str | None = None
    metrics: MetricsConfig | None = None  # `[metrics]`: serve /healthz and /metrics

    @property
    def store_target(self) -> Path | str:
        """What `Store.open` takes: the PostgreSQL URL, or the SQLite file's path."""
        return self.database_url if self.database_url is not None else self.database

    @property
    def state_dir(self) -> Path:
        """The folder of the caches (tables, paradigms): beside the SQLite file, or
        `state/` with PostgreSQL."""
        return self.database.parent

    @property
    def database_label(self) -> str:
        """The database as messages name it: the file, or the URL without its password."""
        return str(self.database) if self.database_url is None else redact(self.database_url)

    @property
    def shared_store(self) -> bool:
        """Whether several workers may run on this store (PostgreSQL)."""
        return self.database_url is not None


def parse_listen(value: str) -> ListenAddress:
    """`host:port` (`[address]:port` for IPv6) as a ListenAddress; a ValueError saying
    what is wrong otherwise."""
    example = "e.g. 127.0.0.1:9108"
    if value.startswith("["):
        host, bracket, port = value[1:].partition("]:")
        if not bracket:
            raise ValueError(f"expected [address]:port, e.g. [::1]:9108, got {value!r}")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} in brackets is not an IPv6 address") from None
    else:
        host, colon, port = value.rpartition(":")
        if not colon:
            raise ValueError(f"expected host:port, {example}, got {value!r}")
        if ":" in host:
            raise ValueError(f"an IPv6 address goes in brackets, e.g. [::1]:9108, got {value!r}")
        if not host:
            raise ValueError(f"no host in {value!r}: give the address to bind, {example}")
        if not _HOST_NAME.fullmatch(host) or (
            host.replace(".", "").isdigit() and not _is_ipv4(host)
        ):
            raise ValueError(f"{host!r} is not an IP address or host name")
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise ValueError(f"the port must be a number from 1 to 65535, got {port!r}")
    return ListenAddress(host, int(port))


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def parse_duration(value: str, key: str, path: str | None = None) -> int:
    """Seconds in a duration such as `30s`, `5m`, `2h`, `1d` (`alertbot.durations`)."""
    try:
        return durations.parse_duration(value)
    except durations.DurationError as exc:
        raise ConfigError(str(exc), path=path, key=key) from None


class _Table:
    """Reads the keys of one TOML table, checking types; `done()` rejects the rest.

    Without a sink (`errors=None`) the first problem raises its `ConfigError`. With one,
    every problem is appended to it and reading goes on with a safe value, so that
    `validate_config` can report them all; `bad(name)` says a key already had a problem, so
    that a check built on its value does not report it twice.
    """

    def __init__(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        environ: Mapping[str, str],
        errors: list[ConfigError] | None = None,
    ):
        self.key = key
        self.path = path
        self.environ = environ
        self.errors = errors
        self._bad: set[str] = set()
        self.is_table = isinstance(data, Mapping)
        if not self.is_table:
            self._report(ConfigError(f"expected a table, got {_kind(data)}", path=path, key=key))
            data = {}
        self.data = dict(data)

    def _at(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def _report(self, error: ConfigError) -> None:
        if self.errors is None:
            raise error from None
        self.errors.append(error)

    def fail(self, name: str, message: str) -> None:
        """Report a problem with key `name`: raise it, or record it and carry on."""
        self._bad.add(name)
        self._report(ConfigError(message, path=self.path, key=self._at(name)))

    def bad(self, name: str) -> bool:
        """True if key `name` already had a problem reported."""
        return name in self._bad

    def get(
        self,
        name: str,
        kind: type[T],
        default: Any = ...,
        *,
        required: bool = False,
        unset_is_empty: bool = False,
    ) -> T:
        if name not in self.data:
            if required or default is ...:
                self.fail(name, "is required")
                return kind()
            return default
        value = self.data.pop(name)
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            self.fail(name, f"expected {_kind_name(kind)}, got {_kind(value)}")
            return kind() if default is ... else default
        if isinstance(value, str):
            value = self._expand(name, value, unset_is_empty=unset_is_empty)
        return value

    def text(self, name: str, default: Any = ..., *, non_empty: bool = True) -> str:
        value = self.get(name, str, default)
        if non_empty and not value.strip() and default is ... and not self.bad(name):
            self.fail(name, "must not be empty")
        return value

    @overload
    def duration(self, name: str, default: int) -> int: ...
    @overload
    def duration(self, name: str, default: None) -> int | None: ...
    def duration(self, name: str, default: int | None) -> int | None:
        if name not in self.data:
            return default
        raw = self.get(name, str)
        if self.bad(name):
            return default
        try:
            return parse_duration(raw, self._at(name), self.path)
        except ConfigError as exc:
            self.fail(name, exc.detail)
            return default

    def int_list(self, name: str) -> tuple[int, ...]:
        values = []
        for i, v in enumerate(self.get(name, list, [])):
            if isinstance(v, bool) or not isinstance(v, int):
                self.fail(f"{name}[{i}]", f"expected an integer chat or user id, got {_kind(v)}")
            else:
                values.append(v)
        return tuple(values)

    def str_list(self, name: str) -> tuple[str, ...]:
        values = []
        for i, v in enumerate(self.get(name, list, [])):
            if not isinstance(v, str):
                self.fail(f"{name}[{i}]", f"expected a string, got {_kind(v)}")
            else:
                values.append(self._expand(f"{name}[{i}]", v))
        return tuple(values)

    def table(self, name: str) -> _Table | None:
        if name not in self.data:
            return None
        return self._child(self.data.pop(name), self._at(name))

    def array_of_tables(self, name: str) -> list[_Table]:
        values = self.get(name, list, [])
        tables = [self._child(v, f"{self._at(name)}[{i}]") for i, v in enumerate(values)]
        return [t for t in tables if t.is_table]

    def _child(self, data: Any, key: str) -> _Table:
        return _Table(data, key, self.path, self.environ, self.errors)

    def done(self) -> None:
        for name in self.data:
            self.fail(name, "unknown key")

    def _expand(self, name: str, value: str, *, unset_is_empty: bool = False) -> str:
        """`value` with each `${VAR}` replaced from the environment; a variable that is not
        set is a problem of key `name` (it reads as empty where `unset_is_empty`)."""
        unset: list[str] = []

        def variable(match: re.Match[str]) -> str:
            var = match.group(1)
            if var not in self.environ:
                unset.append(f"${{{var}}}")
            return self.environ.get(var, "")

        expanded = _VAR_RE.sub(variable, value)
        if unset and not unset_is_empty:
            self.fail(name, f"{', '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set")
        return expanded


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _kind_name(kind: type) -> str:
    return {bool: "a boolean", int: "an integer", str: "a string", list: "an array"}.get(
        kind, kind.__name__
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from None


MAX_NAME = 40  # characters in a watch's or an exclusion's name


def short_name(query: str) -> str:
    """A query as a name, for a watch or an exclusion given none: one line, cut to
    MAX_NAME characters at a word boundary."""
    flat = " ".join(query.split())
    if len(flat) <= MAX_NAME:
        return flat
    cut = flat[: MAX_NAME + 1].rfind(" ")
    return flat[:cut] if cut > 0 else flat[:MAX_NAME]


def _watches(root: _Table, sources: Mapping[str, str] | None) -> tuple[Watch, ...]:
    """The `[[watch]]` entries. `sources` maps the casefolded name of each `[[source]]`
    to its name, which a watch's `sources` must name; None in a watchlist file, which
    has no sources to name."""
    watches = []
    names: dict[str, str] = {}
    for entry in root.array_of_tables("watch"):
        name = entry.text("name").strip()
        query = entry.text("query")
        limited = _watch_sources(entry, name, sources)
        topic = _topic(entry)
        entry.done()
        if entry.bad("name") or entry.bad("query"):
            continue
        if name.casefold() in names:
            entry.fail("name", f"duplicate watch name {name!r} (also {names[name.casefold()]})")
            continue
        names[name.casefold()] = entry.key
        try:
            parse_query(query)
        except QuerySyntaxError as exc:
            entry.fail("query", str(exc))
            continue
        watches.append(Watch(name, query, sources=limited, topic=topic))
    return tuple(watches)


def _watch_sources(entry: _Table, name: str, sources: Mapping[str, str] | None) -> tuple[str, ...]:
    """A watch's `sources`: names of `[[source]]` entries (any case; kept as the source
    spells it), at least one when the key is given."""
    if "sources" not in entry.data:
        return ()
    names = entry.str_list("sources")
    if entry.bad("sources"):
        return ()
    where = f"watch {name!r}"
    if not names:
        entry.fail("sources", f"lists no source ({where}): leave the key out for every source")
        return ()
    if sources is None:
        entry.fail("sources", f"a watchlist file has no [[source]] entries to name ({where})")
        return ()
    limited: list[str] = []
    for i, wanted in enumerate(names):
        known = sources.get(wanted.strip().casefold())
        if known is None:
            listed = ", ".join(repr(n) for n in sources.values()) or "none"
            entry.fail(f"sources[{i}]", f"no source named {wanted!r} ({where}); the sources"
                                        f" are: {listed}")  # fmt: skip
        elif known not in limited:
            limited.append(known)
    return tuple(limited)


def _topic(entry: _Table) -> int | None:
    """A watch's `topic`: the message thread id of a forum topic, a positive integer."""
    if "topic" not in entry.data:
        return None
    topic = entry.get("topic", int, None)
    if topic is None:
        return None
    if topic <= 0:
        entry.fail("topic", f"must be a positive message thread id, got {topic}")
        return None
    return topic


def _exclusions(root: _Table) -> tuple[Watch, ...]:
    """The `[[exclude]]` entries: a query (and an optional name) whose matches alert none
    of the config's recipients about the config's watches."""
    exclusions = []
    names: dict[str, str] = {}
    for entry in root.array_of_tables("exclude"):
        query = entry.text("query")
        name = entry.text("name", "").strip()  # none or empty: named after its query
        entry.done()
        if entry.bad("query") or entry.bad("name"):
            continue
        try:
            parse_query(query)
        except QuerySyntaxError as exc:
            entry.fail("query", str(exc))
            continue
        name = name or short_name(query)
        if len(name) > MAX_NAME:
            entry.fail("name", f"at most {MAX_NAME} characters ({len(name)} given)")
            continue
        if name.casefold() in names:
            entry.fail("name", f"duplicate exclusion name {name!r} (also {names[name.casefold()]})")
            continue
        names[name.casefold()] = entry.key
        exclusions.append(Watch(name, query, excludes=True))
    return tuple(exclusions)


def load_watchlist(path: Path, environ: Mapping[str, str] = os.environ) -> tuple[Watch, ...]:
    """Read a watchlist file: a TOML file of `[[watch]]` entries and nothing else."""
    root = _Table(_read_toml(path), "", str(path), environ)
    watches = _watches(root, None)
    root.done()
    if not watches:
        raise ConfigError("no [[watch]] entries", path=str(path))
    return watches


def load_config(path: Path, environ: Mapping[str, str] = os.environ) -> Config:
    """Read and validate a configuration file, raising its first problem."""
    return _read_config(path, environ, None)


def validate_config(path: Path, environ: Mapping[str, str] = os.environ) -> list[ConfigError]:
    """Every problem in a configuration file, in file order as far as practical; [] if none."""
    errors: list[ConfigError] = []
    try:
        _read_config(path, environ, errors)
    except ConfigError as exc:  # the file itself: missing, unreadable, not TOML
        errors.append(exc)
    return errors


def _read_config(
    path: Path, environ: Mapping[str, str], errors: list[ConfigError] | None
) -> Config:
    """The config in `path`; each problem raises, or goes to `errors` when that is a list."""
    root = _Table(_read_toml(path), "", str(path), environ, errors)
    tz_name = root.text("timezone", "UTC")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        root.fail("timezone", f"unknown time zone {tz_name!r}")
        timezone = ZoneInfo("UTC")
    database_name = root.text("database", "state/alertbot.db")
    if not database_name.strip() and not root.bad("database"):
        root.fail("database", "must not be empty")
    database_url = None
    if is_postgres_url(database_name):
        database_url = database_name
        database_name = "state/alertbot.db"  # not opened: its folder keeps the caches
    elif (scheme := _URL_SCHEME.match(database_name)) and not root.bad("database"):
        # Taken for a relative path, a URL would make an SQLite file named "mysql:".
        root.fail(
            "database",
            f"{scheme.group(1)!r} URLs are not supported: give the path of an SQLite file,"
            " or a postgresql:// URL",
        )
    database = Path(database_name)
    retention = root.duration("retention", 30 * 86400)

    polling = PollingConfig()
    if (t := root.table("polling")) is not None:
        polling = PollingConfig(
            interval=t.duration("interval", polling.interval),
            timeout=t.duration("timeout", polling.timeout),
            max_bytes=_positive(t, "max_bytes", polling.max_bytes),
            concurrency=_positive(t, "concurrency", polling.concurrency),
            user_agent=t.text("user_agent", polling.user_agent),
            allow_private_addresses=t.get("allow_private_addresses", bool, False),
        )
        t.done()

    telegram = None
    if (t := root.table("telegram")) is not None:
        # Unset, the token's variable means "no Telegram" (see the module docstring).
        token = t.get("token", str, "", unset_is_empty=True).strip()
        api_url = t.text("api_url", TelegramConfig.api_url).strip()
        if not t.bad("api_url") and not _is_http_url(api_url):
            t.fail("api_url", f"expected an http:// or https:// URL, got {api_url!r}")
        telegram_config = TelegramConfig(
            token=token,
            api_url=api_url,
            admins=t.int_list("admins"),
            alert_chats=t.int_list("alert_chats"),
            allowed_chats=t.int_list("allowed_chats"),
            link_preview=t.get("link_preview", bool, False),
        )
        t.done()
        telegram = telegram_config if token else None

    email = None
    if (t := root.table("email")) is not None:
        security = t.text("security", "starttls")
        if security not in SECURITY_MODES:
            t.fail("security", f"must be one of {', '.join(SECURITY_MODES)}, not {security!r}")
            security = "starttls"
        recap_at = t.text("recap_at", "08:00")
        if not _TIME_RE.match(recap_at):
            t.fail("recap_at", f"expected a local time as HH:MM, got {recap_at!r}")
            recap_at = "08:00"
        email = EmailConfig(
            smtp_host=t.text("smtp_host"),
            smtp_port=_positive(t, "smtp_port", 465 if security == "ssl" else 587),
            security=security,
            username=t.get("username", str, ""),
            password=t.get("password", str, ""),
            sender=t.text("sender"),
            recap_to=t.str_list("recap_to"),
            recap_at=recap_at,
            alert_to=t.str_list("alert_to"),
            recap_empty=t.get("recap_empty", bool, True),
        )
        t.done()

    metrics = None
    if (t := root.table("metrics")) is not None:
        listen = t.text("listen")
        if not t.bad("listen"):
            try:
                metrics = MetricsConfig(parse_listen(listen))
            except ValueError as exc:
                t.fail("listen", str(exc))
        t.done()

    sources = []
    seen_names: set[str] = set()
    for t in root.array_of_tables("source"):
        kind = t.text("type", "feed")
        if kind not in SOURCE_TYPES:
            t.fail("type", f"must be one of {', '.join(SOURCE_TYPES)}, not {kind!r}")
            kind = "feed"
        source = SourceConfig(
            name=t.text("name").strip(),
            url=t.text("url").strip(),
            type=kind,
            interval=t.duration("interval", None),
            full_text=t.get("full_text", bool, True),
        )
        if not t.bad("url") and not _is_http_url(source.url):
            t.fail("url", f"expected an http:// or https:// URL, got {source.url!r}")
        if not t.bad("name") and source.name.casefold() in seen_names:
            t.fail("name", f"duplicate source name {source.name!r}")
        seen_names.add(source.name.casefold())
        t.done()
        sources.append(source)

    watches = _watches(root, {source.name.casefold(): source.name for source in sources})
    exclusions = _exclusions(root)
    root.done()
    return Config(
        path=path,
        timezone=timezone,
        database=database,
        database_url=database_url,
        retention=retention or 0,
        polling=polling,
        telegram=telegram,
        email=email,
        sources=tuple(sources),
        watches=watches,
        exclusions=exclusions,
        metrics=metrics,
    )


def _is_http_url(value: str) -> bool:
    """Whether `value` is an http:// or https:// URL with a host (not `file:///etc/passwd`,
    not `http://`)."""
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port
    except ValueError:  # an unclosed [ in the host, a port that is not a number
        return False
    return parts.scheme in ("http", "https") and bool(host)


def _positive(t: _Table, name: str, default: int) -> int:
    value = t.get(name, int, default)
    if value <= 0:
        t.fail(name, f"must be a positive integer, got {value}")
        return default
    return value


def config_path(option: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """The config file to use: the option, else `$ALERTBOT_CONFIG`, else the default."""
    return Path(option or environ.get("ALERTBOT_CONFIG") or DEFAULT_CONFIG)


def nothing_to_poll(config: Config, added_sources: int, *, once: bool) -> ConfigError | None:
    """Why `alertbot run` would have nothing to poll, or None if it has something.

    Sources are the config's `[[source]]` entries and those added from Telegram (kept in
    the database: `added_sources`). With neither, a run would sit idle and say nothing;
    except that a bot with admins can still be given sources (`/addsource`), so a run
    that keeps going (not `once`) starts without any.
    """
    if config.sources or added_sources:
        return None
    if not once and config.telegram is not None and config.telegram.admins:
        return None
    return ConfigError(
        "nothing to poll: no [[source]] entries, and no sources added from Telegram",
        path=str(config.path),
    )
