"""The `alertbot` command line: parsing arguments and printing, nothing more.

Each command imports what it needs when it runs, so `alertbot match` loads neither
python-telegram-bot nor APScheduler nor trafilatura, and `alertbot --help` loads nothing.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from alertbot.errors import AlertbotError, ConfigError

if TYPE_CHECKING:
    from alertbot.config import Config, ListenAddress
    from alertbot.stories.stream import StreamItem
    from alertbot.text.lemmatize import Lemmatizer
    from alertbot.watch.match import Matcher, WatchMatch

# Exit status for a configuration or setup problem (click uses 2 for usage errors too).
EXIT_CONFIG = 2


def _fail(error: AlertbotError) -> NoReturn:
    click.echo(f"alertbot: {error}", err=True)
    sys.exit(EXIT_CONFIG)


def open_lemmatizer(state: Path | None = None, *, load_ahead: bool = False) -> Lemmatizer:
    """Load the morphology database, installing it first on a machine that lacks it.

    With `state` (the config's state folder) the parsed database and the analyses of word
    forms are cached there (`load_lemmatizer`); new analyses are written back when the
    command ends.
    """
    from alertbot import camel_data
    from alertbot.text.lemmatize import load_lemmatizer

    data = camel_data.camel_data_dir()
    if not data.is_installed():
        camel_data.install(data)
    lemmatizer = load_lemmatizer(data.database, state=state, load_ahead=load_ahead)
    if state is not None:
        from alertbot.text.paradigms import PARADIGMS

        PARADIGMS.keep_in(state / "paradigms.json")  # Russian words' case forms
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(lemmatizer.close)
    return lemmatizer


def _config(config_file: Path | None) -> Config:
    """The config of `--config`, `$ALERTBOT_CONFIG` or the default file."""
    from alertbot.config import config_path, load_config

    return load_config(config_path(str(config_file) if config_file else None))


config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: $ALERTBOT_CONFIG, else config/alertbot.toml).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="alertbot", prog_name="alertbot", message="%(prog)s %(version)s")
def cli() -> None:
    """alertbot: Telegram and email alerts for watched keywords in Arabic news."""


@cli.command()
@click.option(
    "--watchlist",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file of [[watch]] entries.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Use the [[watch]] entries of this config file (default: $ALERTBOT_CONFIG, else"
    " config/alertbot.toml).",
)
@click.option(
    "--input",
    "input_file",
    type=click.File("rb"),
    default="-",
    help="JSON Lines of {id, title?, text}, UTF-8; - for stdin (the default).",
)
@click.option("--text", help="Match this text instead of reading JSON Lines.")
@click.option(
    "--explain",
    is_flag=True,
    help="First tell on stderr how each watch's words are understood and, with --config,"
    " which other spellings of its names the stored items of the last 7 days carry.",
)
@click.pass_context
def match(
    ctx: click.Context,
    watchlist: Path | None,
    config_file: Path | None,
    input_file: IO[bytes],
    text: str | None,
    explain: bool,
) -> None:
    """Match watches against articles, offline: one JSON line out per line in."""
    if watchlist is not None and config_file is not None:
        raise click.UsageError("give --watchlist FILE or --config PATH, not both")
    input_given = ctx.get_parameter_source("input_file") is not click.core.ParameterSource.DEFAULT
    if text is not None and input_given:
        raise click.UsageError("give --input or --text, not both")
    if text is not None and not _encodable(text):
        raise click.BadParameter("not valid UTF-8 text", param_hint="--text")
    from alertbot.config import load_watchlist
    from alertbot.watch.match import Matcher

    try:
        if watchlist is not None:
            watches, state = load_watchlist(watchlist), None
        else:
            config = _config(config_file)
            watches, state = config.watches, config.state_dir
        lemmatizer = open_lemmatizer(state)
        matcher = Matcher(watches, lemmatizer)
        if explain:
            database = config.store_target if watchlist is None else None
            _explain(matcher, lemmatizer, database)
    except AlertbotError as exc:
        _fail(exc)
    out = sys.stdout
    if text is not None:
        _write(out, "text", matcher.match_article(None, text))
        return
    name = _input_name(input_file)
    bad = 0
    for lineno, item in _read_items(input_file):
        if isinstance(item, str):
            bad += 1
            click.echo(f"alertbot match: {name}:{lineno}: {item}; line skipped", err=True)
            continue
        _write(out, item["id"], matcher.match_article(item.get("title"), item["text"]))
    out.flush()
    sys.exit(1 if bad else 0)


def _explain(matcher: Matcher, lemmatizer: Lemmatizer, database: Path | str | None) -> None:
    """`match --explain`: each watch's words as understood, and the other spellings of its
    names in the stored items of the last days (the /watch backtest's count)."""
    from alertbot.bot.service import WatchService
    from alertbot.clock import utc_now
    from alertbot.store import Store

    exists = isinstance(database, str) or (database is not None and database.exists())
    store = Store.open_to_read(database) if database is not None and exists else None
    service = WatchService(lemmatizer, utc_now)
    try:
        for compiled in matcher.watches:
            words = [
                f"{word} → {', '.join(forms) or 'as written'}"
                for word, forms in matcher.understood(compiled)
            ]
            click.echo(f"{compiled.watch.name}: " + "; ".join(words), err=True)
            if store is not None and matcher.variants(compiled):
                bt = service.backtest(store, compiled.watch)
                for word, spellings in bt.spellings:
                    also = ", ".join(f"{spelt} ({n})" for spelt, n in spellings)
                    click.echo(f"  {word} → also {also}", err=True)
    finally:
        if store is not None:
            store.close()


def _input_name(source: IO[bytes]) -> str:
    """How an input is named in a message about one of its lines."""
    name = getattr(source, "name", "-")
    return "<stdin>" if not isinstance(name, str) or name == "-" else name


def _read_items(source: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Each non-blank line as an `alertbot match` item, or as the reason it is malformed."""
    for lineno, item in _json_objects(source):
        if isinstance(item, str):
            yield lineno, item
        elif not isinstance(item.get("id"), str):
            yield lineno, '"id" must be a string'
        elif not isinstance(item.get("text"), str):
            yield lineno, '"text" must be a string'
        elif item.get("title") is not None and not isinstance(item["title"], str):
            yield lineno, '"title" must be a string or null'
        elif not all(_encodable(item.get(k) or "") for k in ("id", "title", "text")):
            yield lineno, "contains an unpaired surrogate (\\ud800-\\udfff), which is not text"
        else:
            yield lineno, item


def _json_objects(source: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Each non-blank line as a JSON object, or as the reason it is not one.

    Lines are read as bytes and decoded one at a time, so a line that is not UTF-8 (or is
    binary) is one bad line, not the end of the input. A UTF-8 BOM may start the file.
    """
    for lineno, raw in enumerate(source, 1):
        if lineno == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if not raw.strip():
            continue
        if b"\0" in raw:
            yield lineno, "contains a NUL byte (binary data, not JSON Lines)"
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1})"
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield lineno, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        except RecursionError:
            yield lineno, "JSON nested too deeply to read"
            continue
        except ValueError as exc:  # e.g. an integer over Python's 4300-digit limit
            yield lineno, f"not valid JSON ({' '.join(str(exc).split())})"
            continue
        if not isinstance(item, dict):
            yield lineno, f"expected a JSON object, got {type(item).__name__}"
        else:
            yield lineno, item


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _write(out: IO[str], item_id: str, matches: list[WatchMatch]) -> None:
    record = {
        "id": item_id,
        "matches": [
            {
                "watch": m.watch,
                "spans": [
                    {"field": s.field, "start": s.start, "end": s.end, "text": s.text}
                    for s in m.spans
                ],
            }
            for m in matches
        ],
    }
    out.write(json.dumps(record, ensure_ascii=False) + "\n")


@cli.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An alertbot config file to validate first (optional).",
)
@click.option(
    "--input",
    "input_file",
    type=click.File("rb"),
    required=True,
    help="JSON Lines of {id, title, text, outlet, url?, published}; - for stdin.",
)
def stories(config_file: Path | None, input_file: IO[bytes]) -> None:
    """Cluster articles into stories, offline: one JSON line out per line in."""
    from alertbot.config import load_config
    from alertbot.stories.stream import cluster_stream, word_reader

    try:
        state = load_config(config_file).state_dir if config_file is not None else None
        read = word_reader(open_lemmatizer(state))
    except AlertbotError as exc:
        _fail(exc)
    name = _input_name(input_file)
    bad = 0

    def items() -> Iterator[StreamItem]:
        nonlocal bad
        for lineno, item in _read_stream_items(input_file):
            if isinstance(item, str):
                bad += 1
                click.echo(f"alertbot stories: {name}:{lineno}: {item}; line skipped", err=True)
                continue
            yield item

    out = sys.stdout
    for result in cluster_stream(items(), read):
        record = {
            "id": result.id,
            "story": result.story,
            "relation": result.relation.value,
            "related_to": result.related_to,
            "score": round(result.score, 4),
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    sys.exit(1 if bad else 0)


def _read_stream_items(source: IO[bytes]) -> Iterator[tuple[int, StreamItem | str]]:
    """Each non-blank line as an `alertbot stories` item, or as the reason it is malformed."""
    from alertbot.stories.stream import StreamItem

    for lineno, item in _json_objects(source):
        if isinstance(item, str):
            yield lineno, item
            continue
        problem = next(
            (
                f'"{key}" must be a string'
                for key in ("id", "text", "outlet", "published")
                if not isinstance(item.get(key), str)
            ),
            None,
        )
        if problem is None:
            problem = next(
                (
                    f'"{key}" must be a string or null'
                    for key in ("title", "url")
                    if item.get(key) is not None and not isinstance(item[key], str)
                ),
                None,
            )
        if problem is None and not all(
            _encodable(item.get(k) or "") for k in ("id", "title", "text", "outlet")
        ):
            problem = "contains an unpaired surrogate (\\ud800-\\udfff), which is not text"
        if problem is not None:
            yield lineno, problem
            continue
        try:
            published = datetime.fromisoformat(item["published"])
        except ValueError:
            yield lineno, f'"published" is not an ISO 8601 time: {item["published"]!r}'
            continue
        if published.tzinfo is None or published.utcoffset() is None:
            yield lineno, f'"published" needs a UTC offset: {item["published"]!r}'
            continue
        title = item.get("title") or ""
        yield lineno, StreamItem(item["id"], title, item["text"], item["outlet"], published)


def _listen_address(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> ListenAddress | None:
    """`--listen HOST:PORT`, checked as `[metrics] listen` is."""
    if value is None:
        return None
    from alertbot.config import parse_listen

    try:
        return parse_listen(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@config_option
@click.option("--once", is_flag=True, help="Poll every source once, deliver everything, exit.")
@click.option(
    "--listen",
    metavar="HOST:PORT",
    callback=_listen_address,
    help="Serve /healthz and /metrics (Prometheus) there, e.g. 127.0.0.1:9108 (default: the"
    " config's [metrics] listen, else not at all).",
)
def run(config_file: Path | None, once: bool, listen: ListenAddress | None) -> None:
    """Poll the sources and deliver alerts: the main job."""
    from alertbot.config import MetricsConfig
    from alertbot.runlock import hold_run_lock

    setup_logging()
    try:
        config = _config(config_file)
        if listen is not None:  # the option wins over [metrics] listen
            config = replace(config, metrics=MetricsConfig(listen))
        # Taken before the slow imports and the morphology load, so that a second run on
        # the same SQLite file is refused at once. Workers sharing a PostgreSQL store
        # share the work instead (alertbot.workers).
        with contextlib.nullcontext() if config.shared_store else hold_run_lock(config.database):
            from alertbot import app

            lemmatizer = open_lemmatizer(config.state_dir, load_ahead=True)
            status = asyncio.run(
                app.run(config, lemmatizer, once=once, echo=lambda line: _say(f"alertbot: {line}"))
            )
    except AlertbotError as exc:  # the config, the database (unusable, too new, in use), ...
        _fail(exc)
    sys.exit(status)


def _say(line: str) -> None:
    click.echo(line, err=True)


@cli.command()
@config_option
def status(config_file: Path | None) -> None:
    """Sources and their health, watches, chats, pending and failed alerts, last recap."""
    from alertbot.clock import utc_now
    from alertbot.status import render_status
    from alertbot.store import Store

    try:
        config = _config(config_file)
        store = Store.open_to_read(config.store_target)  # a read-only database is shown too
    except AlertbotError as exc:
        _fail(exc)
    try:
        click.echo(render_status(config, store, utc_now()), nl=False)
    finally:
        store.close()


@cli.command()
@config_option
def check(config_file: Path | None) -> None:
    """Validate the config, then try the database, Telegram, SMTP and every source once."""
    from alertbot.check import run_checks
    from alertbot.config import config_path

    setup_logging(logging.ERROR)
    path = config_path(str(config_file) if config_file else None)
    ok = asyncio.run(run_checks(path, echo=click.echo))
    sys.exit(0 if ok else 1)


@cli.command()
@config_option
@click.option("--date", "date_key", help="The local day YYYY-MM-DD (default: the last 24 h).")
@click.option("--print", "to_print", is_flag=True, help="Print the recap as text.")
@click.option("--send", "to_send", is_flag=True, help="Email it to email.recap_to now.")
def recap(config_file: Path | None, date_key: str | None, to_print: bool, to_send: bool) -> None:
    """Build the daily recap for a local date, and print it or send it now."""
    from alertbot.clock import utc_now
    from alertbot.notify.base import DeliveryError
    from alertbot.notify.smtp import send_message
    from alertbot.recap.build import build_recap, day_bounds
    from alertbot.recap.render import recap_message, recap_subject, recap_text
    from alertbot.store import Store

    if to_print == to_send:
        raise click.UsageError("give exactly one of --print or --send")
    try:
        config = _config(config_file)
        if to_send and (config.email is None or not config.email.recap_to):
            raise ConfigError("--send needs [email] with recap_to", path=str(config.path))
        # Only read (a sent recap is not recorded here): a read-only database will do.
        store = Store.open_to_read(config.store_target)
    except AlertbotError as exc:
        _fail(exc)
    now = utc_now()
    try:
        if date_key is None:
            start, end = now - timedelta(hours=24), now
            date_key = now.astimezone(config.timezone).date().isoformat()
        else:
            try:
                start, end = day_bounds(date_key, config.timezone)
            except ValueError:
                raise click.BadParameter(
                    f"{date_key!r} is not a date YYYY-MM-DD", param_hint="--date"
                ) from None
        built = build_recap(store, start, end, config.timezone, date_key=date_key)
    finally:
        store.close()
    if to_print:
        click.echo(recap_text(built))
        return
    assert config.email is not None
    to = ", ".join(config.email.recap_to)
    try:
        send_message(config.email, recap_message(built, sender=config.email.sender, to=to, now=now))
    except DeliveryError as exc:
        click.echo(f"alertbot recap: not sent: {exc}", err=True)
        sys.exit(1)
    click.echo(f"alertbot recap: {recap_subject(built)}: sent to {to}", err=True)


def setup_logging(level: int = logging.INFO) -> None:
    """Log to stderr; keep the libraries' chatter (and the Bot API URLs with the token
    that httpx logs at INFO) out."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for name in ("httpx", "httpcore", "apscheduler", "telegram", "hpack"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("trafilatura", "htmldate", "courlan", "charset_normalizer", "readability"):
        logging.getLogger(name).setLevel(logging.ERROR)


def main() -> None:
    """Entry point of the `alertbot` console script."""
    # python-telegram-bot 22: durations as timedeltas (the integer form is deprecated and
    # warns on every 429).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    cli()
