"""Benchmark of several `alertbot run` workers on one PostgreSQL store (issue 15).

What it measures, in one run (a benchmark, not a test: it prints figures, never fails):

- a site on a loopback HTTP server (`bench/pipeline_bench.py`'s, in a separate process so
  that serving does not eat the measured CPU): `--feeds` RSS feeds (200) of `--articles`
  teaser items (5), 1,000 articles, each linking to an article page built from a real
  Arabic corpus article (`testsupport/sourcefixtures.py`), so that every page is fetched
  and extracted, as in production. Every pass gets the same articles under fresh URLs, so
  nothing is "already seen". Telegram is the Bot API stand-in (`testsupport/botapi.py`)
  with one alert chat; the watches are four broad ones (`WATCHES`), so that a realistic
  share of the articles match;
- throughput: SQLite x1 (one process) next to PostgreSQL x1, x2 and x3, in turn, for
  `--repeat` rounds (2). The workers are real `python -m alertbot run` processes, each
  in a working folder of its own (its own `state/`, as on its own machine), on a fresh
  database: one PostgreSQL server for the whole run (`testsupport/postgres.py`), a fresh
  database per pass; polling interval 30 s. Once each worker has printed its start lines:
  articles/s = articles recorded / (the last one's `first_seen` - the first one's), read
  from the store; and the time from the first article recorded to the last alert marked
  sent (`outbox.finished`). Beside them: what each worker did (articles from its own
  `/metrics`, `--listen`; leases held, from `source_leases`), the CPU seconds of each
  worker's process tree and of the PostgreSQL server (from /proc), and how many articles
  were recorded before the last worker was ready. Then SIGTERM. Min / median / max over
  the rounds (the machine is shared and noisy), and the ratio to SQLite x1 of the same
  run: of the medians, and the range of the per-round ratios. A worker spreads its first
  polls over its first 10 s (`alertbot.scheduler`), so a pass cannot show more than
  feeds x articles / 10 s (100 articles/s at the defaults): a figure near that says the
  site is too small (raise `--articles`), not how fast alertbot is;
- caches: an untimed `alertbot run --once` over the same articles first fills a `state/`
  (the morphology tables, the analysis cache), which is copied into every worker's folder
  before each pass: every pass starts as a restarted worker does, and none pays for the
  first analysis of the corpus' words (`bench/footprint_bench.py` measures that);
- latency, PostgreSQL x2 with the interval at 10 s: after the initial load (recorded and
  alerted) and a quiet window, `--latency-articles` (20) articles that match a watch
  (screened with `alertbot match`) are added to random feeds at random moments over
  `--latency-span` seconds (120); latency = when the stand-in received the sendMessage
  (or the edit, for an article that joined a story already told) naming its story - when
  it appeared in the feed; p50, p95, max. The quiet window (two intervals, every feed
  unchanged: 304s) gives the CPU cost of an unchanged poll, workers and PostgreSQL;
- on paper, from those figures: the sources (at `--per-source` 100 articles a day each,
  polled every 5 minutes, an unchanged poll costing what the quiet window measured) and
  the articles a day that fill the machine at the measured median rate of 1, 2 and 3
  workers, and of 6 workers, extrapolated: on this machine (its cores are
  shared: workers beyond them compete for CPU) and on three such machines (an upper
  bound: the one PostgreSQL server and the serialised recording are left out). Figures
  at full speed: a deployment wants headroom.

Run it from the repository root (PostgreSQL installed: Debian's `postgresql` package):

    export CAMELTOOLS_DATA=/path/to/camel-data
    uv run python bench/scale_bench.py [--feeds 200] [--articles 5] [--repeat 2]
        [--latency-articles 20] [--latency-span 120] [--per-source 100] [--skip latency]
        [--quick]

`--quick` is a smoke run (20 feeds x 3, one round, 5 latency articles over 30 s) that takes
a few minutes: its figures say the benchmark works, not how fast alertbot is. The full run
takes about 10-15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pipeline_bench as pb

import testsupport.sourcefixtures as fx
from testsupport.botapi import TOKEN, BotApi
from testsupport.ports import free_port
from testsupport.processes import Child, alertbot_process, children_of, run_cli

INTERVAL = "30s"  # the throughput passes' polling interval
LATENCY_INTERVAL_S = 10
ALERT_CHAT = -1007700  # the group the watches alert
ADMIN = 111
WATCHES = (("Egypt", "مصر"), ("Russia", "روسيا"), ("Gaza", "غزة"), ("America", "أمريكا"))
START_TIMEOUT = 300.0  # s for a worker to print its start lines (3 starting on 2 cores)
STALL = 180.0  # s without progress after which a pass is given up
POLL_EVERY_S = 300  # the paper estimate's poll interval: 5 minutes
STATE_KEEP = ("alertbot.db", "alertbot.db-wal", "alertbot.db-shm", "alertbot.db.lock")
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Setup:
    """One configuration: the store's engine and how many workers share it."""

    engine: str  # "sqlite" or "postgresql"
    workers: int

    @property
    def label(self) -> str:
        return f"{'SQLite' if self.engine == 'sqlite' else 'PostgreSQL'} x{self.workers}"

    @property
    def shared(self) -> bool:
        return self.engine == "postgresql"


SETUPS = (Setup("sqlite", 1), Setup("postgresql", 1), Setup("postgresql", 2),
          Setup("postgresql", 3))  # fmt: skip
BASELINE = SETUPS[0]


# -- the workers, as a user runs them -----------------------------------------------------


def toml_str(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def write_config(
    path: Path, database: str, feeds: Sequence[pb.Feed], prefix: str, api: BotApi, interval: str
) -> Path:
    """The workers' config: the store, Telegram at the stand-in, the feeds, the watches."""
    lines = [
        f"database = {toml_str(database)}",
        "",
        "[telegram]",
        'token = "${TELEGRAM_BOT_TOKEN}"',
        f"api_url = {toml_str(api.url)}",
        f"admins = [{ADMIN}]",
        f"alert_chats = [{ALERT_CHAT}]",
        "",
        "[polling]",
        f'interval = "{interval}"',
        "",
    ]
    for n, feed in enumerate(feeds):
        lines += ["[[source]]", f'name = "{prefix} feed {n}"', f"url = {toml_str(feed.url)}", ""]
    for name, query in WATCHES:
        lines += ["[[watch]]", f"name = {toml_str(name)}", f"query = {toml_str(query)}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@dataclass
class Worker:
    """One `alertbot run`: its process, its /metrics port, its folder."""

    child: Child
    port: int
    home: Path

    @property
    def pid(self) -> int:
        return self.child.proc.pid


class WorkerFailed(Exception):
    """A worker did not start, or exited during a pass; the message says how."""


def ready(lines: list[str], shared: bool) -> bool:
    """Whether `alertbot run` printed its start lines (on PostgreSQL: its worker name)."""
    opened = any("notifiers:" in line for line in lines)
    return opened and (not shared or any(" shares the sources" in line for line in lines))


@contextlib.contextmanager
def workers_running(
    config: Path, homes: Sequence[Path], env: dict[str, str], shared: bool
) -> Iterator[list[Worker]]:
    """`alertbot run --listen` in each folder, started together, yielded once each has
    printed its start lines; told to stop (SIGTERM) on the way out, then killed."""
    with contextlib.ExitStack() as stack:
        workers = []
        for home in homes:
            port = free_port()
            args = ["run", "--config", str(config), "--listen", f"127.0.0.1:{port}"]
            child = stack.enter_context(alertbot_process(args, env, home))
            workers.append(Worker(child, port, home))
        try:
            for worker in workers:
                lines = worker.child.err
                if not lines.wait_for(lambda got: ready(got, shared), START_TIMEOUT):
                    raise WorkerFailed(f"worker in {worker.home.name} did not start:\n{lines}")
            yield workers
        finally:
            for worker in workers:
                with contextlib.suppress(ProcessLookupError):
                    worker.child.proc.send_signal(signal.SIGTERM)
            for worker in workers:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.child.proc.wait(15)


def bot_env() -> dict[str, str]:
    """A child's environment: this one's, the stand-in's token, no $ALERTBOT_CONFIG."""
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN)
    env.pop("ALERTBOT_CONFIG", None)
    return env


def scrape(port: int) -> dict[str, float]:
    """A worker's /metrics, each metric summed over its labels ({} if it did not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
            text = page.read().decode()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        key = name.split("{", 1)[0]
        with contextlib.suppress(ValueError):
            out[key] = out.get(key, 0.0) + float(value)
    return out


# -- CPU, from /proc -------------------------------------------------------------------------


def _cpu_of(pid: int) -> float:
    """CPU seconds of one process and of its children it has reaped."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return sum(int(x) for x in fields[11:15]) / TICK  # utime, stime, cutime, cstime


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and every process below it, living or reaped."""
    total, todo, seen = 0.0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _cpu_of(current)
        todo.extend(children_of(current))
    return total


# -- the store, read beside the workers ---------------------------------------------------


class Desk:
    """The store as the benchmark reads it: SQLite read-only, or a PostgreSQL connection."""

    def __init__(self, target: str | Path) -> None:
        self.target = target
        self._pg: Any = None

    def row(self, sql: str, *params: object) -> tuple | None:
        """One row of a query; None while the store or the table is not there yet."""
        if isinstance(self.target, Path):
            try:
                uri = f"file:{self.target}?mode=ro"
                with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
                    db.execute("PRAGMA busy_timeout = 2000")
                    return db.execute(sql.replace("%s", "?"), params).fetchone()
            except sqlite3.OperationalError:
                return None
        import psycopg

        if self._pg is None:
            self._pg = psycopg.connect(self.target, autocommit=True)
        try:
            return self._pg.execute(sql, params or None).fetchone()
        except psycopg.errors.UndefinedTable:
            return None

    def rows(self, sql: str) -> list[tuple]:
        """Every row of a query (PostgreSQL only)."""
        return [] if isinstance(self.target, Path) else self._pg.execute(sql).fetchall()

    def count(self, sql: str, *params: object) -> int:
        got = self.row(sql, *params)
        return int(got[0]) if got else 0

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()


def wait_done(desk: Desk, total: int, workers: Sequence[Worker]) -> str | None:
    """Wait until `total` articles are recorded and no alert is pending; None, or why it
    stopped waiting (a worker exited, nothing moved for STALL s)."""
    last, moved = None, time.monotonic()
    while True:
        for worker in workers:
            if worker.child.proc.poll() is not None:
                return f"a worker exited ({worker.child.proc.returncode}):\n{worker.child.err}"
        seen = desk.count("SELECT count(*) FROM seen_items")
        pending = desk.count("SELECT count(*) FROM outbox WHERE state = 'pending'")
        if seen >= total and pending == 0:
            return None
        if (seen, pending) != last:
            last, moved = (seen, pending), time.monotonic()
        elif time.monotonic() - moved > STALL:
            return f"stalled at {seen}/{total} recorded, {pending} alerts pending"
        time.sleep(0.5)


def most_within(times: Sequence[float], seconds: float) -> int:
    """The most of `times` that fall in any window of `seconds`."""
    ordered, most, start = sorted(times), 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def seconds_between(first: str | None, last: str | None) -> float | None:
    if not first or not last:
        return None
    return (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()


# -- the benchmark's own state ------------------------------------------------------------


@dataclass
class Bench:
    """What every pass shares: the site's server, PostgreSQL, the primed caches."""

    args: argparse.Namespace
    server: pb.Server
    postgres: Any
    root: Path
    caches: Path  # a primed state/ folder
    env: dict[str, str]
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def site(self, prefix: str) -> list[pb.Feed]:
        """The feeds under fresh URLs (the same articles every time), served."""
        feeds = pb.build_feeds(
            self.server.root, prefix, self.args.feeds, self.args.articles, self.now
        )
        self.server.add([r for f in feeds for r in f.routes])
        return feeds

    def homes(self, folder: Path, count: int) -> list[Path]:
        """`count` worker folders under `folder`, each with a copy of the primed caches."""
        out = []
        for n in range(count):
            home = folder / f"worker{n}"
            shutil.copytree(self.caches, home / "state")
            out.append(home)
        return out

    def postmaster_cpu(self) -> float | None:
        """CPU seconds of the PostgreSQL server (every backend it reaped included)."""
        pid_file = self.postgres.folder / "data" / "postmaster.pid"
        try:
            return tree_cpu(int(pid_file.read_text().split()[0]))
        except (OSError, ValueError):
            return None


def prime(server: pb.Server, args: argparse.Namespace, root: Path, env: dict[str, str]) -> Path:
    """`alertbot run --once` on SQLite over the site's articles (console alerts): a state/
    folder with warm caches; returns it without the database."""
    home = root / "prime"
    (home / "state").mkdir(parents=True)
    feeds = pb.build_feeds(server.root, "prime", args.feeds, args.articles, datetime.now(UTC))
    server.add([r for f in feeds for r in f.routes])
    lines = [f"database = {toml_str(str(home / 'state' / 'alertbot.db'))}", ""]
    for n, feed in enumerate(feeds):
        lines += ["[[source]]", f'name = "prime feed {n}"', f"url = {toml_str(feed.url)}", ""]
    for name, query in WATCHES:
        lines += ["[[watch]]", f"name = {toml_str(name)}", f"query = {toml_str(query)}", ""]
    config = home / "alertbot.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    done = run_cli(["run", "--once", "--config", str(config)], env, home, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"scale_bench: priming failed ({done.returncode}):\n{done.stderr}")
    caches = root / "caches"
    shutil.copytree(home / "state", caches, ignore=shutil.ignore_patterns(*STATE_KEEP))
    return caches


# -- throughput ---------------------------------------------------------------------------


@dataclass
class Pass:
    """One configuration's pass over the site."""

    setup: Setup
    round: int
    total: int
    recorded: int = 0
    span_s: float | None = None  # first article recorded -> last
    alerts: int = 0  # outbox rows sent
    alerts_s: float | None = None  # first article recorded -> last alert marked sent
    failed: int = 0  # outbox rows failed
    messages: int = 0  # sendMessage calls to the alert chat
    busiest_minute: int = 0  # the most of them in any 60 s (Telegram allows a group 20)
    ready_s: float = 0.0  # start -> every worker ready
    before_ready: int = 0  # recorded before the last worker was ready
    shares: list[int] = field(default_factory=list)  # articles per worker (/metrics)
    leases: list[int] = field(default_factory=list)  # leases per worker at the end
    cpu: list[float] = field(default_factory=list)  # CPU s per worker, from ready to done
    pg_cpu: float | None = None  # CPU s of PostgreSQL over the same time
    error: str | None = None

    @property
    def per_second(self) -> float | None:
        if self.error or not self.span_s:
            return None
        return self.recorded / self.span_s


def throughput_pass(bench: Bench, setup: Setup, round_no: int) -> Pass:
    """The site through `setup`'s workers on a fresh store, once."""
    prefix = f"{setup.engine[:2]}{setup.workers}r{round_no}"
    folder = bench.root / prefix
    feeds = bench.site(prefix)
    homes = bench.homes(folder, setup.workers)
    total = len(feeds) * bench.args.articles
    target: str | Path = (
        bench.postgres.fresh_database() if setup.shared else homes[0] / "state" / "alertbot.db"
    )
    result = Pass(setup, round_no, total)
    desk = Desk(target)
    try:
        with BotApi(clock=time.time) as api:
            config = write_config(folder / "alertbot.toml", str(target), feeds, prefix, api,
                                  INTERVAL)  # fmt: skip
            started = time.perf_counter()
            with workers_running(config, homes, bench.env, setup.shared) as workers:
                result.ready_s = time.perf_counter() - started
                ready_at = datetime.now(UTC).isoformat(timespec="microseconds")
                cpu0 = [tree_cpu(w.pid) for w in workers]
                pg0 = bench.postmaster_cpu() if setup.shared else None
                result.error = wait_done(desk, total, workers)
                result.cpu = [tree_cpu(w.pid) - c for w, c in zip(workers, cpu0, strict=True)]
                if pg0 is not None:
                    pg1 = bench.postmaster_cpu()
                    result.pg_cpu = None if pg1 is None else pg1 - pg0
                result.shares = [int(scrape(w.port).get("alertbot_articles_total", 0))
                                 for w in workers]  # fmt: skip
                if setup.shared:
                    held = dict(desk.rows("SELECT worker, count(*) FROM source_leases"
                                          " WHERE worker <> '' GROUP BY worker"))  # fmt: skip
                    by_pid = {int(name.split(":")[1]): n for name, n in held.items()}
                    result.leases = [by_pid.get(w.pid, 0) for w in workers]
            sent_at = [m.time for m in api.sent(ALERT_CHAT)]
            result.messages = len(sent_at)
            result.busiest_minute = most_within(sent_at, 60.0)
        row = desk.row("SELECT count(*), min(first_seen), max(first_seen) FROM seen_items")
        if row:
            result.recorded, first, last = int(row[0]), row[1], row[2]
            result.span_s = seconds_between(first, last)
            sent = desk.row("SELECT count(*), max(finished) FROM outbox WHERE state = 'sent'")
            if sent:
                result.alerts = int(sent[0])
                result.alerts_s = seconds_between(first, sent[1])
        result.failed = desk.count("SELECT count(*) FROM outbox WHERE state = 'failed'")
        result.before_ready = desk.count(
            "SELECT count(*) FROM seen_items WHERE first_seen < %s", ready_at
        )
    except WorkerFailed as exc:
        result.error = str(exc)
    finally:
        desk.close()
    return result


# -- latency ------------------------------------------------------------------------------


@dataclass
class Latency:
    seconds: list[float]  # per article alerted
    added: int
    edits: int  # of those, alerted as an edit (joined a story already told)
    quiet_polls: float  # polls in the quiet window
    quiet_s: float
    quiet_cpu: float  # CPU s of the workers over it
    quiet_pg_cpu: float | None  # and of PostgreSQL
    error: str | None = None

    @property
    def poll_cpu_ms(self) -> float | None:
        """CPU ms an unchanged poll costs, workers and PostgreSQL together."""
        if not self.quiet_polls:
            return None
        return 1000 * (self.quiet_cpu + (self.quiet_pg_cpu or 0.0)) / self.quiet_polls


def latency_candidates(bench: Bench, count: int) -> list[fx.NewsItem]:
    """`count` corpus articles after the site's that match a watch (`alertbot match` on
    the primed state), in a fixed random order."""
    skip = bench.args.feeds * bench.args.articles
    rows = fx.corpus_rows(min_chars=pb.MIN_CHARS, min_paragraphs=pb.MIN_PARAGRAPHS)[skip:]
    rows = [r for r in rows if any(query in r["text"] for _, query in WATCHES)]
    random.Random(7).shuffle(rows)
    rows = rows[: 4 * count + 10]
    home = bench.root / "prime"
    lines = "".join(
        json.dumps({"id": r["id"], "title": r["title"], "text": r["text"]}, ensure_ascii=False)
        + "\n"
        for r in rows
    )
    (home / "candidates.jsonl").write_text(lines, encoding="utf-8")
    done = run_cli(["match", "--config", str(home / "alertbot.toml"), "--input",
                    str(home / "candidates.jsonl")], bench.env, home, timeout=600)  # fmt: skip
    matched = [json.loads(x)["id"] for x in done.stdout.splitlines() if '"matches": [{' in x]
    return fx.news_items(ids=matched[:count], base_url="", start=datetime.now(UTC))


def latency_pass(bench: Bench) -> Latency:
    """PostgreSQL x2, interval 10 s: the initial load, a quiet window, then articles added
    to random feeds at random moments."""
    args = bench.args
    setup = Setup("postgresql", 2)
    prefix = "latency"
    folder = bench.root / prefix
    feeds = bench.site(prefix)
    homes = bench.homes(folder, setup.workers)
    total = len(feeds) * args.articles
    url = bench.postgres.fresh_database()
    rng = random.Random(11)
    picked = latency_candidates(bench, args.latency_articles)
    # Each new article goes to a random feed, as a page of that feed's site.
    placed: list[tuple[int, str, fx.NewsItem]] = []
    for item in picked:
        n = rng.randrange(len(feeds))
        base = f"{bench.server.root}/{prefix}/f{n}"
        placed.append((n, base, replace(item, url=base + item.url)))
    bench.server.add([pb.page_route(item, base) for _, base, item in placed])
    moments = sorted(rng.uniform(0, args.latency_span) for _ in placed)
    listed = {n: list(f.items) for n, f in enumerate(feeds)}
    desk = Desk(url)
    result = Latency([], len(placed), 0, 0.0, 0.0, 0.0, None)
    appeared: dict[str, float] = {}  # guid -> time.time() it was listed
    try:
        with BotApi(clock=time.time) as api:
            config = write_config(folder / "alertbot.toml", url, feeds, prefix, api,
                                  f"{LATENCY_INTERVAL_S}s")  # fmt: skip
            with workers_running(config, homes, bench.env, True) as workers:
                error = wait_done(desk, total, workers)
                if error:
                    result.error = f"initial load: {error}"
                    return result
                # The quiet window: every feed unchanged, polled every interval.
                polls0 = sum(scrape(w.port).get("alertbot_polls_total", 0) for w in workers)
                cpu0 = sum(tree_cpu(w.pid) for w in workers)
                pg0 = bench.postmaster_cpu()
                t0 = time.perf_counter()
                time.sleep(2 * LATENCY_INTERVAL_S)
                result.quiet_s = time.perf_counter() - t0
                result.quiet_cpu = sum(tree_cpu(w.pid) for w in workers) - cpu0
                pg1 = bench.postmaster_cpu()
                result.quiet_pg_cpu = None if pg0 is None or pg1 is None else pg1 - pg0
                result.quiet_polls = (
                    sum(scrape(w.port).get("alertbot_polls_total", 0) for w in workers) - polls0
                )
                started = time.monotonic()
                for version, (moment, (n, base, item)) in enumerate(
                    zip(moments, placed, strict=True), start=2
                ):
                    time.sleep(max(0.0, started + moment - time.monotonic()))
                    item = replace(item, published=datetime.now(UTC))
                    listed[n].insert(0, item)
                    path = f"/{prefix}/f{n}/rss.xml"
                    route = pb.feed_routes(path, base, listed[n], version)
                    appeared[item.id] = time.time()
                    bench.server.add([route])
                deadline = time.monotonic() + 2 * LATENCY_INTERVAL_S + 30
                while time.monotonic() < deadline:
                    told = alert_times(desk, api, appeared)
                    if len(told) == len(appeared):
                        break
                    time.sleep(0.5)
            told = alert_times(desk, api, appeared)
    except WorkerFailed as exc:
        result.error = str(exc)
        return result
    finally:
        desk.close()
    result.seconds = [when - appeared[guid] for guid, (when, _) in told.items()]
    result.edits = sum(1 for _, edited in told.values() if edited)
    return result


def alert_times(desk: Desk, api: BotApi, appeared: dict[str, float]) -> dict[str, tuple]:
    """For each added article (by guid) already alerted: when the stand-in first received
    a message naming its story after it appeared, and whether that was an edit."""
    out: dict[str, tuple] = {}
    messages = [(m.time, m.html, False) for m in api.sent(ALERT_CHAT)]
    messages += [(e.time, e.html, True) for e in api.edits(ALERT_CHAT)]
    messages.sort()
    for guid, since in appeared.items():
        row = desk.row(
            "SELECT s.url FROM seen_items i JOIN stories s ON s.id = i.story_id WHERE i.guid = %s",
            guid,
        )
        if row is None:
            continue
        href = f'href="{row[0]}"'
        for when, html, edited in messages:
            if when >= since and href in html:
                out[guid] = (when, edited)
                break
    return out


# -- report -------------------------------------------------------------------------------


def spread(values: Sequence[float], unit: str = "", digits: int = 1) -> str:
    """min / median / max (one value alone when there is one)."""
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:,.{digits}f}{unit}"
    parts = (min(values), statistics.median(values), max(values))
    return " / ".join(f"{v:,.{digits}f}" for v in parts) + unit


def print_rows(rows: Sequence[tuple[str, ...]]) -> None:
    """Figure and value, aligned; an empty row is a gap."""
    width = max((len(r[0]) for r in rows if r), default=0)
    for row in rows:
        print(f"{row[0].ljust(width)}  {row[1]}".rstrip() if row else "")


def throughput_rows(passes: Sequence[Pass], rounds: int) -> list[tuple[str, ...]]:
    by_setup = {s: [p for p in passes if p.setup == s] for s in SETUPS}
    base = {p.round: p.per_second for p in by_setup[BASELINE] if p.per_second}
    base_median = statistics.median(base.values()) if base else None
    many = " (min / median / max)" if rounds > 1 else ""
    rows: list[tuple[str, ...]] = []
    for setup, mine in by_setup.items():
        rates = [p.per_second for p in mine if p.per_second]
        ok = [p for p in mine if p.per_second]
        rows.append((f"{setup.label}: articles/s{many}", spread(rates)))
        if rates and base_median and setup != BASELINE:
            ratios = [p.per_second / base[p.round] for p in ok if p.round in base and p.per_second]
            ratio = statistics.median(rates) / base_median
            rows.append((f"  ratio to {BASELINE.label}, medians; per round",
                         f"{ratio:.2f}; {spread(ratios, '', 2)}"))  # fmt: skip
        rows += [
            ("  recorded / listed", ", ".join(f"{p.recorded}/{p.total}" for p in mine)),
            ("  first to last recorded", spread([p.span_s for p in ok if p.span_s], " s")),
            ("  first recorded to last alert sent",
             spread([p.alerts_s for p in ok if p.alerts_s], " s")),
            ("  alerts sent (messages to the alert chat)",
             ", ".join(f"{p.alerts} ({p.messages})" + (f", {p.failed} failed" if p.failed else "")
                       for p in mine)),
            ("  most messages to the alert chat in 60 s",
             ", ".join(str(p.busiest_minute) for p in mine)),
            ("  start to every worker ready", spread([p.ready_s for p in mine], " s")),
            ("  recorded before the last worker was ready",
             ", ".join(str(p.before_ready) for p in mine)),
            ("  articles per worker (/metrics), per round",
             "; ".join("/".join(map(str, p.shares)) for p in mine)),
        ]  # fmt: skip
        if setup.shared:
            rows.append(("  leases per worker at the end, per round",
                         "; ".join("/".join(map(str, p.leases)) for p in mine)))  # fmt: skip
        rows.append(("  CPU s per worker tree, per round",
                     "; ".join("/".join(f"{c:.0f}" for c in p.cpu) for p in mine)))  # fmt: skip
        if setup.shared:
            rows.append(("  CPU s of PostgreSQL, per round",
                         ", ".join("n/a" if p.pg_cpu is None else f"{p.pg_cpu:.0f}"
                                   for p in mine)))  # fmt: skip
        for p in mine:
            if p.error:
                rows.append((f"  round {p.round}: gave up", p.error.splitlines()[0]))
        rows.append(())
    return rows


def latency_rows(lat: Latency) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (f"latency, PostgreSQL x2, {LATENCY_INTERVAL_S} s poll: alerted",
         f"{len(lat.seconds)}/{lat.added}" + (f" ({lat.edits} as an edit)" if lat.edits else "")),
    ]  # fmt: skip
    if lat.error:
        rows.append(("  gave up", lat.error.splitlines()[0]))
    if lat.seconds:
        rows += [
            ("  p50 / p95 / max",
             f"{statistics.median(lat.seconds):.1f} / {pb.percentile(lat.seconds, 0.95):.1f}"
             f" / {max(lat.seconds):.1f} s"),
            ("  each (s)", ", ".join(f"{s:.1f}" for s in sorted(lat.seconds))),
        ]  # fmt: skip
    if lat.quiet_polls:
        pg = "n/a" if lat.quiet_pg_cpu is None else f"{lat.quiet_pg_cpu:.1f}"
        rows += [
            (f"unchanged polls ({lat.quiet_s:.0f} s quiet window)",
             f"{lat.quiet_polls / lat.quiet_s:.1f} polls/s; CPU {lat.quiet_cpu:.1f} s workers,"
             f" {pg} s PostgreSQL"),
            ("  CPU per unchanged poll", f"{lat.poll_cpu_ms:.1f} ms"),
        ]  # fmt: skip
    return [*rows, ()]


def paper_rows(
    passes: Sequence[Pass], lat: Latency | None, per_source: int
) -> tuple[list[tuple[str, ...]], list[str]]:
    """Articles a day and sources that n workers carry, from the measured medians; and
    the notes that say how."""
    rates: dict[Setup, float] = {}
    for setup in SETUPS:
        got = [p.per_second for p in passes if p.setup == setup and p.per_second]
        if got:
            rates[setup] = statistics.median(got)
    workers = {s.workers: r for s, r in rates.items() if s.shared}
    if not workers:
        return [], []
    cores = os.cpu_count() or 1
    poll_ms = lat.poll_cpu_ms if lat is not None else None

    def carried(rate: float, machines: int = 1) -> str:
        # A source costs per_source articles a day at 1/rate of the machine each, and an
        # unchanged poll every POLL_EVERY_S at poll_ms of one core: the sources that fill
        # the machine(s).
        articles_only = rate * 86_400 / per_source
        if poll_ms is None:
            return f"{articles_only:,.0f} sources = {rate * 86_400:,.0f} articles/day"
        poll_share = poll_ms / 1000 / (POLL_EVERY_S * cores * machines)
        sources = 1 / (per_source / 86_400 / rate + poll_share)
        return (
            f"{sources:,.0f} sources = {sources * per_source:,.0f} articles/day"
            f" ({100 * sources * poll_share:.0f}% of the CPU on unchanged polls);"
            f" articles alone: {articles_only:,.0f} sources"
        )

    rows: list[tuple[str, ...]] = [
        (f"on paper ({per_source} articles/day a source, polled every"
         f" {POLL_EVERY_S // 60} min)", ""),
    ]  # fmt: skip
    for setup, rate in rates.items():
        rows.append((f"  {setup.label} ({rate:.1f} art/s, measured)", carried(rate)))
    best = max(workers.values())
    rows.append(("  PostgreSQL x6, this machine (extrapolated)", carried(best)))
    if 2 in workers:
        rows.append(("  PostgreSQL x6, 3 machines x 2 (extrapolated)", carried(3 * workers[2], 3)))
    notes = [
        "on paper: a source costs its articles a day at the median articles/s of each"
        " configuration (measured flat out, the whole machine busy)"
        + (
            f" plus one unchanged poll every {POLL_EVERY_S} s at {poll_ms:.1f} ms of CPU (the"
            f" quiet window of PostgreSQL x2, used for every row) out of {cores} cores;"
            " sources = the number that fills the machine, 1 / (articles a day / 86,400 /"
            " articles/s + CPU s a poll / (interval x cores))"
            if poll_ms is not None
            else "; sources = articles/s x 86,400 / articles a day (unchanged polls not"
            " measured: --skip latency)"
        )
        + ". Flat out: a deployment wants headroom.",
        f"x6 on this machine: this machine has {cores} cores, and workers beyond them compete"
        " for CPU, so six carry no more than the best measured configuration (an"
        " extrapolation).",
        "x6 on 3 machines: three times the x2 figure, one worker per core (an extrapolation and"
        " an upper bound: it leaves out the one PostgreSQL server, on this machine here, and"
        " the serialised recording, which six workers contend for).",
    ]
    if 2 not in workers:
        notes.pop()
    return [*rows, ()], notes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--feeds", type=int, default=None, help="feeds (200; 20 with --quick)")
    parser.add_argument("--articles", type=int, default=None, help="per feed (5; 3 --quick)")
    parser.add_argument("--repeat", type=int, default=None, help="rounds (2; 1 with --quick)")
    parser.add_argument("--latency-articles", type=int, default=None, help="(20; 5 --quick)")
    parser.add_argument("--latency-span", type=float, default=None, help="s (120; 30 --quick)")
    parser.add_argument("--per-source", type=int, default=100, help="articles/day a source")
    parser.add_argument("--skip", action="append", default=[], choices=("latency",))
    args = parser.parse_args(argv)
    sizes = (
        ("feeds", 200, 20),
        ("articles", 5, 3),
        ("repeat", 2, 1),
        ("latency_articles", 20, 5),
        ("latency_span", 120.0, 30.0),
    )
    return pb.with_sizes(args, sizes)


def start_postgres(folder: Path) -> Any:
    """The run's PostgreSQL server, or an exit saying how to install it."""
    try:
        from testsupport.postgres import PostgresServer

        return PostgresServer.start(folder)
    except (RuntimeError, ImportError) as exc:
        raise SystemExit(f"scale_bench: cannot start PostgreSQL: {exc}") from exc


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    from alertbot import camel_data

    data = camel_data.camel_data_dir()
    if not data.is_installed():
        sys.exit(
            f"scale_bench: no camel-tools morphology database under {data.root}; "
            "export CAMELTOOLS_DATA=/path/to/camel-data"
        )
    started = time.perf_counter()
    env = bot_env()
    passes: list[Pass] = []
    lat: Latency | None = None
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        root = Path(tmp)
        postgres = start_postgres(root / "postgres")
        server = pb.Server()
        try:
            t0 = time.perf_counter()
            caches = prime(server, args, root, env)
            prime_s = time.perf_counter() - t0
            bench = Bench(args, server, postgres, root, caches, env)
            for round_no in range(1, args.repeat + 1):
                for setup in SETUPS:
                    done = throughput_pass(bench, setup, round_no)
                    rate = done.per_second
                    print(f"scale_bench: round {round_no}, {setup.label}: "
                          + (f"{rate:.1f} articles/s" if rate else f"gave up: {done.error}"),
                          file=sys.stderr, flush=True)  # fmt: skip
                    passes.append(done)
            if "latency" not in args.skip:
                lat = latency_pass(bench)
        finally:
            server.close()
            postgres.stop()

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    total = args.feeds * args.articles
    print("Scale benchmark: alertbot run workers on PostgreSQL next to one on SQLite, loopback")
    print(f"python {sys.version.split()[0]}, {sys.platform}, {os.cpu_count()} CPUs, load {load};"
          " site server, PostgreSQL and the Bot API stand-in on the same machine")  # fmt: skip
    print(f"site: {args.feeds} feeds x {args.articles} teaser items = {total} article pages a"
          f" pass, fresh URLs each pass; {len(WATCHES)} watches ("
          + ", ".join(q for _, q in WATCHES) + f"); interval {INTERVAL};"
          f" {args.repeat} round{'s' if args.repeat > 1 else ''};"
          f" caches primed by one untimed `alertbot run --once` ({prime_s:.0f} s)")  # fmt: skip
    print()
    rows = throughput_rows(passes, args.repeat)
    if lat is not None:
        rows += latency_rows(lat)
    paper, notes = paper_rows(passes, lat, args.per_source)
    rows += paper
    rows.append(("benchmark wall time", f"{time.perf_counter() - started:.0f} s"))
    print_rows(rows)
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
