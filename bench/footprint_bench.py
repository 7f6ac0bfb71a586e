"""Benchmark of the whole bot's footprint and responsiveness, in one run (issue 13).

It prints figures, never fails. Every scenario runs the bot the way a user does (`python -m
alertbot run` on a config and a `state/` directory, with Telegram pointed at the Bot API
stand-in, `testsupport/botapi.py`, over real HTTP), or opens the app the way `alertbot
run` does, in a process of its own. The site (RSS feeds of teaser items linking to article
pages made from real Arabic corpus articles, so every page is fetched and extracted) is
`bench/pipeline_bench.py`'s, served from a child process.

1. Memory (`--items` 20,000 stored items, `--story-share` half of them in stories within
   the window, a poll of `--feeds` 8 feeds x `--articles` 40 with full-text extraction):
   `alertbot run` on the filled state directory. Every ~50 ms the bot's whole process tree
   is sampled (/proc/<pid>/status VmRSS and /proc/<pid>/smaps_rollup Pss of the main
   process and every process it started: extraction workers, the resource tracker, ...).
   Peak per process and peak of the sum (at one instant), and steady (the mean over a few
   seconds once the poll is recorded and its alerts sent). `ru_maxrss` cannot say this:
   it does not add up processes that live at the same time.
2. Start-up: `alertbot run` from its start until it is ready to poll (the "notifiers:"
   line, printed once the app is open and just before the scheduler starts), on a fresh
   state directory (first run) and again on the same one (second run); and the wall time
   of `alertbot match --text ...`. Twice: with the environment as it is (here
   PYTHONDONTWRITEBYTECODE=1, so no bytecode cache: every import compiles its module), and
   with a bytecode cache (PYTHONPYCACHEPREFIX in a temporary directory, primed by one run),
   as a deployed install has.
3. Throughput, articles/s, in the same run: bare extraction (every page fetched and put
   through `extract()` on a process pool like the app's) next to the pipeline
   (`App.run_once`: poll, fetch, extract, match, cluster, record, dispatch), COLD (a new
   process, a fresh state directory, the lemmatizer opened as `alertbot run` opens it),
   WARM (the same process again, its caches full) and COLD AFTER RESTART (another new
   process opening the lemmatizer and the app on the same config and state directory, as
   a restarted `alertbot run` does: whatever the first one kept under `state/` is used).
   The three passes read the same articles under fresh URLs; the warm and restarted ones
   carry one extra line, so that they are new items (not "same content seen") that join
   the cold pass's stories, and the two do identical work.
4. Responsiveness: `alertbot run` on a fresh state directory with `--resp-feeds` 10 feeds x
   `--resp-articles` 40 (a 400-article first poll). While it runs, bot commands (/list,
   /test TEXT, /watch NAME: QUERY with its backtest), `--rate` per second, are sent from
   admins' private chats through the stand-in. Reply latency = the stand-in receiving the
   reply's sendMessage - getUpdates handing the command out. The /watch answer comes in two
   steps (the watch confirmed, then its backtest edited in): both are reported. Also the
   alerts the dispatcher sent during the poll, and the longest gap between them.

Run it from the repository root:

    export CAMELTOOLS_DATA=/path/to/camel-data
    uv run python bench/footprint_bench.py [--quick] [--skip memory|startup|throughput|resp]

`--quick` is a short smoke run (200 stored items, 2 feeds x 10, a 30-article poll for
the commands, one start-up variant, its cache primed by the first run): its figures say
the benchmark works, not what the bot does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pipeline_bench as pb

from testsupport.botapi import TOKEN, BotApi
from testsupport.processes import Child, alertbot_process

ROOT = pb.ROOT
TARGET_TOTAL_MB = 300.0
TARGET_STARTUP_S = 2.0
TARGET_RESTART_RATIO = 0.8
TARGET_RATIO = pb.TARGET_RATIO
TARGET_REPLY_P95_MS = 300.0
SAMPLE_EVERY = 0.05  # seconds between two samples of the process tree
READY = "notifiers:"  # the line `alertbot run` prints when the app is open
ALERT_CHAT = -1009999  # the group the config's watches alert
ADMIN_CHATS = tuple(range(501, 513))  # private chats of admins, one command at a time each
TEST_TEXT = (
    "قال الأمين العام للأمم المتحدة إن مجلس الأمن سيعقد جلسة طارئة لبحث وقف إطلاق النار"
    " في غزة، بينما أعلنت إيران أن وفدها سيشارك في المشاورات."
)
WATCH_QUERIES = ("إيران", '"مجلس الأمن"', "ترامب OR Trump", "الضبعة OR Dabaa")


# -- the bot as a user runs it -----------------------------------------------------------


def toml_str(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def write_config(
    home: Path, feeds: Sequence[pb.Feed], prefix: str, bench: Any, api: BotApi | None
) -> Path:
    """`home/alertbot.toml`: the database in `home/state/`, the feeds as sources, the bench
    watches; Telegram at the stand-in (token from $TELEGRAM_BOT_TOKEN), alerting ALERT_CHAT,
    with the ADMIN_CHATS as admins."""
    (home / "state").mkdir(parents=True, exist_ok=True)
    lines = [
        f"timezone = {toml_str(bench.timezone.key)}",
        'database = "state/alertbot.db"',
        "",
    ]
    if api is not None:
        lines += [
            "[telegram]",
            'token = "${TELEGRAM_BOT_TOKEN}"',
            f"api_url = {toml_str(api.url)}",
            f"admins = {list(ADMIN_CHATS)}",
            f"alert_chats = [{ALERT_CHAT}]",
            "",
        ]
    lines += ["[polling]", 'interval = "1h"', 'timeout = "20s"', "concurrency = 8", ""]
    for n, feed in enumerate(feeds):
        lines += ["[[source]]", f'name = "{prefix} feed {n}"', f"url = {toml_str(feed.url)}", ""]
    for watch in bench.watches:
        lines += ["[[watch]]", f"name = {toml_str(watch.name)}",
                  f"query = {toml_str(watch.query)}", ""]  # fmt: skip
    path = home / "alertbot.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def bot_env(bytecode: Path | None) -> dict[str, str]:
    """The environment of an `alertbot` child: this one's, the stand-in's token, and with
    `bytecode` a bytecode cache there instead of none."""
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN)
    if bytecode is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    return env


@contextlib.contextmanager
def running_bot(home: Path, env: dict[str, str]) -> Iterator[tuple[Child, float]]:
    """`alertbot run` in `home`; yields it and the perf_counter() it was started at. On the
    way out it is told to stop (SIGTERM), then its process group is killed."""
    started = time.perf_counter()
    with alertbot_process(["run", "--config", str(home / "alertbot.toml")], env, home) as child:
        try:
            yield child, started
        finally:
            with contextlib.suppress(ProcessLookupError):
                child.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(15)


def wait_ready(child: Child, started: float, timeout: float) -> float:
    """Seconds from the start until `alertbot run` said it is ready to poll."""
    if not child.err.wait_for(lambda lines: any(READY in x for x in lines), timeout):
        raise SystemExit(f"footprint_bench: alertbot run not ready in {timeout:g} s:\n{child.err}")
    return time.perf_counter() - started


def count(database: Path, sql: str) -> int:
    """One number from the bot's database, read beside it (WAL: never in its way)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout = 2000")
        return int(db.execute(sql).fetchone()[0])


def wait_recorded(
    database: Path, items: int, child: Child, timeout: float, every: float = 0.25
) -> float:
    """Wait until the database holds `items` seen items and no pending alert; returns the
    perf_counter() when it did (the poll is over)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if child.proc.poll() is not None:
            raise SystemExit(f"footprint_bench: alertbot run exited:\n{child.err}")
        with contextlib.suppress(sqlite3.OperationalError):  # not created yet, or busy
            seen = count(database, "SELECT count(*) FROM seen_items")
            pending = count(database, "SELECT count(*) FROM outbox WHERE state = 'pending'")
            if seen >= items and not pending:
                return time.perf_counter()
        time.sleep(every)
    raise SystemExit(f"footprint_bench: {items} items not recorded in {timeout:g} s")


# -- 1. memory of the process tree --------------------------------------------------------


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _pss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _parents() -> dict[int, int]:
    """Every process's parent, from /proc/*/stat."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        out[int(entry.name)] = int(text[text.rindex(")") + 2 :].split()[1])
    return out


def role_of(pid: int, root: int) -> str:
    """What a process of the bot is, from its command line."""
    if pid == root:
        return "main (alertbot run)"
    try:
        line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    for marker, role in (
        ("resource_tracker", "resource tracker"),
        ("forkserver", "forkserver"),
        ("multiprocessing", "extraction worker"),
    ):
        if marker in line:
            return role
    return line[:40]


@dataclass
class ProcessMemory:
    """One process's samples: (time, RSS kB, PSS kB)."""

    pid: int
    role: str
    samples: list[tuple[float, int, int]] = field(default_factory=list)


class TreeSampler:
    """Samples the memory of `root` and all its descendants every SAMPLE_EVERY s, on a
    thread; `mark()` notes when the steady phase begins."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.processes: dict[int, ProcessMemory] = {}
        self.sums: list[tuple[float, int, int]] = []  # (time, RSS kB, PSS kB) of the tree
        self.steady_from: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def mark(self) -> None:
        """The steady phase starts now."""
        self.steady_from = time.perf_counter()

    def _tree(self) -> list[int]:
        parents = _parents()
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            if pid in parents or pid == self.root:
                tree.append(pid)
                todo.extend(child for child, parent in parents.items() if parent == pid)
        return tree

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.perf_counter()
            total_rss = total_pss = 0
            for pid in self._tree():
                rss, pss = _status_kb(pid, "VmRSS:"), _pss_kb(pid)
                if rss is None or pss is None:
                    continue
                known = self.processes.get(pid)
                if known is None:
                    known = self.processes[pid] = ProcessMemory(pid, role_of(pid, self.root))
                known.samples.append((now, rss, pss))
                total_rss += rss
                total_pss += pss
            if total_rss:
                self.sums.append((now, total_rss, total_pss))
            self._stop.wait(max(0.0, SAMPLE_EVERY - (time.perf_counter() - now)))


def memory_rows(samples: Sequence[tuple[float, int, int]], steady_from: float | None) -> dict:
    """Peak and steady (mean from `steady_from`) RSS and PSS, in MB."""
    steady = [s for s in samples if steady_from is not None and s[0] >= steady_from]
    return {
        "peak_rss": max(s[1] for s in samples) / 1024,
        "peak_pss": max(s[2] for s in samples) / 1024,
        "steady_rss": statistics.mean(s[1] for s in steady) / 1024 if steady else None,
        "steady_pss": statistics.mean(s[2] for s in steady) / 1024 if steady else None,
    }


def memory(server: pb.Server, args: argparse.Namespace, env: dict[str, str], pool: Any) -> dict:
    """`alertbot run` on a filled state directory, one poll, its process tree sampled."""
    bench = pb.bench_config(args.config)
    with tempfile.TemporaryDirectory(prefix="footprint-mem-") as tmp, BotApi() as api:
        home = Path(tmp)
        site = pb.build_feeds(server.root, "mem", args.feeds, args.articles, datetime.now(UTC))
        server.add([r for f in site for r in f.routes])
        write_config(home, site, "mem", bench, api)
        database = home / "state" / "alertbot.db"
        fill_s = pb.fill_state(database, args.items, args.story_share, pool)
        with running_bot(home, env) as (child, started), TreeSampler(child.proc.pid) as sampler:
            ready_s = wait_ready(child, started, 600)
            done = wait_recorded(database, args.items + len(site) * args.articles, child, 900)
            sampler.mark()
            time.sleep(args.steady)
        alerts = len(api.sent(ALERT_CHAT))
    processes = []
    for p in sorted(sampler.processes.values(), key=lambda p: p.samples[0][0]):
        processes.append(
            {"pid": p.pid, "role": p.role, **memory_rows(p.samples, sampler.steady_from)}
        )
    return {
        "fill_s": fill_s,
        "ready_s": ready_s,
        "poll_s": done - started - ready_s,
        "alerts": alerts,
        "samples": len(sampler.sums),
        "processes": processes,
        "total": memory_rows(sampler.sums, sampler.steady_from),
    }


# -- 2. start-up ----------------------------------------------------------------------------


def startup(
    server: pb.Server, args: argparse.Namespace, bytecode: Path | None, prime: bool = True
) -> dict:
    """Seconds to ready of a first and a second `alertbot run` on one state directory, and
    the wall time of `alertbot match --text`; with `bytecode`, the cache there is first
    primed by a run of its own when `prime`, else by the first run."""
    bench = pb.bench_config(args.config)
    env = bot_env(bytecode)
    out: dict[str, float] = {}
    site = pb.build_feeds(server.root, "start", 1, 5, datetime.now(UTC))
    server.add([r for f in site for r in f.routes])
    with tempfile.TemporaryDirectory(prefix="footprint-start-") as tmp, BotApi() as api:
        home = Path(tmp)
        config = write_config(home, site, "start", bench, api)
        if bytecode is not None and prime:  # a deployed install has run before
            with tempfile.TemporaryDirectory(prefix="footprint-prime-") as prime:
                write_config(Path(prime), site, "start", bench, api)
                with running_bot(Path(prime), env) as (child, started):
                    wait_ready(child, started, 300)
        for name in ("first run", "second run"):
            with running_bot(home, env) as (child, started):
                out[name] = wait_ready(child, started, 300)
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "alertbot", "match", "--config", str(config), "--text",
             TEST_TEXT],
            env=env, cwd=home, capture_output=True, text=True, check=False,
        )  # fmt: skip
        out["match --text"] = time.perf_counter() - t0
        if done.returncode != 0 or '"watch"' not in done.stdout:
            raise SystemExit(f"footprint_bench: alertbot match failed:\n{done.stderr}")
    return out


# -- 3. throughput: cold, warm, cold after a restart -----------------------------------------


def marked(feeds: Sequence[pb.Feed], root: str, prefix: str, mark: str) -> list[pb.Feed]:
    """The same articles as `feeds` under `/{prefix}/`, each with one more line (`mark`),
    so that they are new items that join the first ones' stories."""
    out = []
    for n, feed in enumerate(feeds):
        base = f"{root}/{prefix}/f{n}"
        items = [
            replace(i, url=i.url.replace(f"/cold/f{n}", f"/{prefix}/f{n}"),
                    text=f"{i.text}\n{mark} {k}")
            for k, i in enumerate(feed.items)
        ]  # fmt: skip
        path = f"/{prefix}/f{n}/rss.xml"
        routes = [pb.feed_routes(path, base, items, 1)] + [pb.page_route(i, base) for i in items]
        out.append(pb.Feed(root + path, items, routes))
    return out


def throughput_sites(root: str, feeds: int, per_feed: int) -> dict[str, list[pb.Feed]]:
    """The cold pass's site and its marked copies for the warm and restarted passes."""
    cold = pb.build_feeds(root, "cold", feeds, per_feed, datetime.now(UTC))
    return {
        "cold": cold,
        "warm": marked(cold, root, "warm", "تحديث"),
        "restart": marked(cold, root, "restart", "متابعة"),
    }


def open_like_run(config: Any) -> Any:
    """The lemmatizer, opened with the call `alertbot run` makes (`alertbot.cli`), so that
    what it keeps in the config's state folder (the parsed database, the analyses of word
    forms) is used; `close()` it as `alertbot run` does when it ends."""
    from alertbot.cli import open_lemmatizer

    return open_lemmatizer(config.database.parent, load_ahead=True)


async def app_pass(config: Any, lemmatizer: Any, pool: Any) -> pb.Pass:
    """`run_once` of the app opened on `config` (its state directory as it is)."""
    from alertbot.app import open_app

    notifier = pb.NullNotifier()
    runtime = await open_app(config, lemmatizer, executor=pool, notifiers={"console": notifier})
    try:
        spent = pb.time_pipeline(runtime.scheduler)
        cpu0 = pb._cpu_seconds()
        t0 = time.perf_counter()
        outcomes, _ = await runtime.scheduler.run_once()
        seconds = time.perf_counter() - t0
        cpu = pb._cpu_seconds() - cpu0
        await runtime.scheduler.shutdown()
    finally:
        await runtime.stack.aclose()
    return pb.Pass(
        seconds,
        sum(o.counts.articles for o in outcomes),
        cpu,
        spent[0],
        matched=sum(o.counts.matched for o in outcomes),
        queued=sum(o.counts.queued for o in outcomes),
        sent=notifier.calls,
        errors=[f"{o.source}: {o.error.message}" for o in outcomes if o.error],
    )


def passes_child(args: argparse.Namespace) -> None:
    """`--only first|restart`: in this new process, in `--home`, open the lemmatizer as
    `alertbot run` does and run the passes; print them as one JSON line."""
    from alertbot.sources.poll import cpu_pool

    os.chdir(args.home)
    sites = throughput_sites(args.server_root, args.feeds, args.articles)
    config = replace(
        pb.bench_config(args.config), database=Path(args.home) / "state" / "alertbot.db"
    )
    urls = [i.url for f in sites["cold"] for i in f.items]
    out: dict[str, Any] = {}

    async def run() -> None:
        with cpu_pool() as pool:
            await pb.warm_pool(pool, pool._max_workers)
            t0 = time.perf_counter()
            lemmatizer = open_like_run(config)
            out["open_s"] = time.perf_counter() - t0
            now = datetime.now(UTC)
            out["bare before"] = await pb.bare_pass(config, pool, urls, now)
            order = ("cold", "warm") if args.only == "first" else ("restart",)
            for name in order:
                sources = pb.sources_for(sites[name], name)
                out[name] = await app_pass(replace(config, sources=sources), lemmatizer, pool)
            out["bare after"] = await pb.bare_pass(config, pool, urls, now)
            lemmatizer.close()

    asyncio.run(run())
    print("PASSES_JSON " + json.dumps({k: asdict(v) if isinstance(v, pb.Pass) else v
                                       for k, v in out.items()}))  # fmt: skip


def throughput(server: pb.Server, args: argparse.Namespace, env: dict[str, str]) -> dict:
    """The first process (cold, warm) and the restarted one (cold after restart), each with
    bare extraction before and after."""
    sites = throughput_sites(server.root, args.feeds, args.articles)
    server.add([r for feeds in sites.values() for f in feeds for r in f.routes])
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="footprint-passes-") as home:
        (Path(home) / "state").mkdir()
        for which in ("first", "restart"):
            command = [
                sys.executable, str(Path(__file__).resolve()), "--only", which,
                "--home", home, "--server-root", server.root, "--feeds", str(args.feeds),
                "--articles", str(args.articles), "--config", str(args.config),
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            lines = [x for x in done.stdout.splitlines() if x.startswith("PASSES_JSON ")]
            if done.returncode != 0 or not lines:
                sys.stderr.write(done.stdout + done.stderr)
                raise SystemExit(f"footprint_bench: the {which} child failed ({done.returncode})")
            got = json.loads(lines[-1].split(" ", 1)[1])
            for name, value in got.items():
                key = name if name in ("cold", "warm", "restart") else f"{which}: {name}"
                out[key] = pb.Pass(**value) if isinstance(value, dict) else value
    return out


# -- 4. commands during a big poll -----------------------------------------------------------


@dataclass
class Command:
    """One command sent, and when its answers arrived (stand-in clock, monotonic)."""

    kind: str
    chat: int
    update_id: int
    sent: float
    delivered: float | None = None
    replied: float | None = None
    edited: float | None = None  # /watch: its backtest edited into the answer

    @property
    def latency(self) -> float | None:
        if self.delivered is None or self.replied is None:
            return None
        return self.replied - self.delivered


def command_text(kind: str, n: int) -> str:
    if kind == "/list":
        return "/list"
    if kind == "/test":
        return f"/test {TEST_TEXT}"
    return f"/watch bench: {WATCH_QUERIES[n % len(WATCH_QUERIES)]}"


class CommandDriver:
    """Sends /list, /test and /watch in turn, `rate` a second, each from a private chat
    with no command of its own waiting for an answer; matches the answers afterwards."""

    KINDS = ("/list", "/test", "/watch")

    def __init__(self, api: BotApi, rate: float) -> None:
        self.api = api
        self.rate = rate
        self.commands: list[Command] = []
        self.busy_ticks = 0  # ticks at which every chat still waited for an answer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def answers(self, chat: int) -> list[Any]:
        """The messages sent to `chat` that answer a command: not the alerts its /watch
        brings (each carries buttons; a digest of several says "while you were away")."""
        return [
            m
            for m in self.api.sent(chat)
            if "reply_markup" not in m.params and "while you were away" not in m.text
        ]

    def _answered(self, chat: int) -> bool:
        mine = [c for c in self.commands if c.chat == chat]
        return len(self.answers(chat)) >= len(mine)

    def _run(self) -> None:
        n = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            free = next((c for c in ADMIN_CHATS if self._answered(c)), None)
            if free is None:
                self.busy_ticks += 1
            else:
                kind = self.KINDS[n % len(self.KINDS)]
                update_id = self.api.send_text(free, command_text(kind, n // len(self.KINDS)))
                self.commands.append(Command(kind, free, update_id, self.api.clock()))
                n += 1
            next_at += 1 / self.rate
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def settle(self, timeout: float) -> None:
        """Wait for the answers still due, then pair every command with its answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(self._answered(c) for c in ADMIN_CHATS):
            time.sleep(0.1)
        for chat in ADMIN_CHATS:
            mine = [c for c in self.commands if c.chat == chat]
            for command, message in zip(mine, self.answers(chat), strict=False):
                command.delivered = self.api.delivered(command.update_id)
                command.replied = message.time
                edits = self.api.edits(chat, message.message_id)
                command.edited = edits[0].time if edits else None


def responsiveness(server: pb.Server, args: argparse.Namespace, env: dict[str, str]) -> dict:
    """Commands sent while `alertbot run` polls `resp_feeds x resp_articles` articles."""
    bench = pb.bench_config(args.config)
    with tempfile.TemporaryDirectory(prefix="footprint-resp-") as tmp, BotApi() as api:
        home = Path(tmp)
        site = pb.build_feeds(
            server.root, "resp", args.resp_feeds, args.resp_articles, datetime.now(UTC),
            offset=2 * args.feeds * args.articles,
        )  # fmt: skip
        server.add([r for f in site for r in f.routes])
        write_config(home, site, "resp", bench, api)
        database = home / "state" / "alertbot.db"
        driver = CommandDriver(api, args.rate)
        with running_bot(home, env) as (child, started):
            ready_s = wait_ready(child, started, 300)
            api.wait_for(lambda a: a.polls(), 120)  # answering commands
            answering_s = time.perf_counter() - started
            seen_then = count(database, "SELECT count(*) FROM seen_items")
            poll_from = api.clock()
            driver.start()
            wall0 = time.perf_counter()
            done = wait_recorded(database, len(site) * args.resp_articles, child, 900, 0.5)
            poll_s = done - wall0
            poll_to = api.clock()
            driver.stop()
            driver.settle(60)
            articles = count(database, "SELECT count(*) FROM seen_items")
        alerts = [m.time for m in api.sent(ALERT_CHAT)]
    during = [t for t in alerts if poll_from <= t <= poll_to]
    gaps = [b - a for a, b in zip([poll_from, *during], [*during, poll_to], strict=True)]
    return {
        "ready_s": ready_s,
        "answering_s": answering_s,
        "seen_then": seen_then,
        "poll_s": poll_s,
        "articles": articles,
        "commands": driver.commands,
        "busy_ticks": driver.busy_ticks,
        "alerts_during": len(during),
        "alerts_total": len(alerts),
        "longest_gap": max(gaps) if gaps else None,
    }


# -- report ---------------------------------------------------------------------------------


def mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MB"


def report_memory(mem: dict, args: argparse.Namespace) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (
            f"memory: {args.items:,} stored items, poll of {args.feeds} x {args.articles}",
            f"{mem['samples']} samples",
        ),
        ("  fill the state directory (untimed)", f"{mem['fill_s']:.0f} s"),
        ("  alertbot run ready on it", f"{mem['ready_s']:.1f} s"),
        ("  its first poll, recorded and sent", f"{mem['poll_s']:.1f} s"),
        ("  process: peak RSS / PSS; steady RSS / PSS", ""),
    ]
    for p in mem["processes"]:
        rows.append((
            f"    {p['role']} (pid {p['pid']})",
            f"{mb(p['peak_rss'])} / {mb(p['peak_pss'])}; "
            f"{mb(p['steady_rss'])} / {mb(p['steady_pss'])}",
        ))  # fmt: skip
    total = mem["total"]
    rows += [
        ("  whole bot, peak RSS (sum at one instant)", mb(total["peak_rss"]),
         f"<= {TARGET_TOTAL_MB:.0f} MB", pb.verdict(total["peak_rss"] <= TARGET_TOTAL_MB)),
        ("  whole bot, peak PSS (sum at one instant)", mb(total["peak_pss"]),
         f"<= {TARGET_TOTAL_MB:.0f} MB", pb.verdict(total["peak_pss"] <= TARGET_TOTAL_MB)),
        ("  whole bot, steady RSS / PSS", f"{mb(total['steady_rss'])} / {mb(total['steady_pss'])}"),
        ("  sum of per-process peaks, RSS / PSS",
         f"{mb(sum(p['peak_rss'] for p in mem['processes']))} / "
         f"{mb(sum(p['peak_pss'] for p in mem['processes']))}"),
        (),
    ]  # fmt: skip
    return rows


def report_startup(variants: dict[str, dict[str, float]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for label, got in variants.items():
        rows += [
            (f"start-up, {label}", ""),
            ("  alertbot run ready to poll, first run", f"{got['first run']:.2f} s"),
            ("  alertbot run ready to poll, second run", f"{got['second run']:.2f} s",
             f"<= {TARGET_STARTUP_S:g} s", pb.verdict(got["second run"] <= TARGET_STARTUP_S)),
            ("  alertbot match --text (wall)", f"{got['match --text']:.2f} s",
             f"<= {TARGET_STARTUP_S:g} s", pb.verdict(got["match --text"] <= TARGET_STARTUP_S)),
        ]  # fmt: skip
    return [*rows, ()]


def report_throughput(passes: dict[str, Any]) -> list[tuple[str, ...]]:
    bares = [p for k, p in passes.items() if "bare" in k]
    bare = max(bares, key=lambda p: p.per_second)
    cold, warm, restart = passes["cold"], passes["warm"], passes["restart"]

    def ratio(name: str, a: pb.Pass, b: pb.Pass, target: float) -> tuple[str, ...]:
        value = a.per_second / b.per_second
        return (name, f"{value:.2f}", f">= {target}", pb.verdict(value >= target))

    return [
        ("bare extraction (best of 4 passes)", f"{bare.per_second:,.1f} art/s"),
        (
            "  each: "
            + ", ".join(k.replace("bare ", "") for k, p in passes.items() if "bare" in k),
            " / ".join(f"{p.per_second:.1f}" for p in bares),
        ),
        ("pipeline, cold (new process, fresh state)", f"{cold.per_second:,.1f} art/s"),
        ("pipeline, cold after restart (same state)", f"{restart.per_second:,.1f} art/s"),
        ("pipeline, warm (same process, caches full)", f"{warm.per_second:,.1f} art/s"),
        ratio("ratio cold after restart / warm", restart, warm, TARGET_RESTART_RATIO),
        ratio("ratio warm / bare", warm, bare, TARGET_RATIO),
        ratio("ratio cold after restart / bare", restart, bare, TARGET_RATIO),
        (
            "  lemmatizer open, first / restarted process",
            f"{passes['first: open_s']:.1f} / {passes['restart: open_s']:.1f} s",
        ),
        (),
    ]


def report_responsiveness(resp: dict, args: argparse.Namespace) -> list[tuple[str, ...]]:
    commands: list[Command] = resp["commands"]
    answered = [c for c in commands if c.latency is not None]
    rows: list[tuple[str, ...]] = [
        (
            f"commands during a {resp['articles']}-article poll ({resp['poll_s']:.0f} s)",
            f"{len(answered)}/{len(commands)} answered",
        ),
        (
            "  ready; answering commands (getUpdates) at",
            f"{resp['ready_s']:.1f} s; {resp['answering_s']:.1f} s",
        ),
        ("  articles recorded before the bot answered", f"{resp['seen_then']}"),
    ]
    if answered:
        ms = [1000 * c.latency for c in answered if c.latency is not None]
        p95 = pb.percentile(ms, 0.95)
        rows += [
            ("  reply latency p50 / p95 / max",
             f"{statistics.median(ms):.0f} / {p95:.0f} / {max(ms):.0f} ms",
             f"p95 <= {TARGET_REPLY_P95_MS:.0f} ms", pb.verdict(p95 <= TARGET_REPLY_P95_MS)),
        ]  # fmt: skip
        for kind in CommandDriver.KINDS:
            mine = [1000 * c.latency for c in answered if c.kind == kind and c.latency is not None]
            if mine:
                rows.append((f"    {kind} ({len(mine)}) p50 / p95 / max",
                             f"{statistics.median(mine):.0f} / {pb.percentile(mine, 0.95):.0f}"
                             f" / {max(mine):.0f} ms"))  # fmt: skip
        full = [1000 * (c.edited - c.delivered) for c in answered
                if c.edited is not None and c.delivered is not None]  # fmt: skip
        if full:
            rows.append(("    /watch with its backtest p50 / p95 / max",
                         f"{statistics.median(full):.0f} / {pb.percentile(full, 0.95):.0f}"
                         f" / {max(full):.0f} ms"))  # fmt: skip
    gap = resp["longest_gap"]
    sent = f"{resp['alerts_during']} / {resp['alerts_total']}"
    kept = pb.verdict(resp["alerts_during"] > 0)
    rows += [
        (f"  ticks with every chat waiting ({args.rate:g}/s)", f"{resp['busy_ticks']}"),
        ("  alerts sent during the poll / in all", sent, "> 0", kept),
        ("  longest time without an alert sent", "n/a" if gap is None else f"{gap:.1f} s"),
        (),
    ]  # fmt: skip
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--feeds", type=int, default=None, help="feeds (8; 2 with --quick)")
    parser.add_argument("--articles", type=int, default=None, help="per feed (40; 10 --quick)")
    parser.add_argument("--items", type=int, default=None, help="stored items (20000; 200)")
    parser.add_argument("--story-share", type=float, default=0.5)
    parser.add_argument("--steady", type=float, default=None, help="s sampled idle (3; 1)")
    parser.add_argument("--resp-feeds", type=int, default=None, help="(10; 2 with --quick)")
    parser.add_argument("--resp-articles", type=int, default=None, help="(40; 15 --quick)")
    parser.add_argument("--rate", type=float, default=2.0, help="commands a second (2)")
    parser.add_argument("--config", type=Path, default=pb.DEFAULT_CONFIG)
    parser.add_argument(
        "--skip", action="append", default=[],
        choices=("memory", "startup", "throughput", "resp"),
    )  # fmt: skip
    parser.add_argument("--only", choices=("first", "restart"), help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--server-root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = (
        ("feeds", 8, 2),
        ("articles", 40, 10),
        ("items", 20_000, 200),
        ("steady", 3.0, 1.0),
        ("resp_feeds", 10, 2),
        ("resp_articles", 40, 15),
    )
    return pb.with_sizes(args, sizes)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.only is not None:
        passes_child(args)
        return
    from alertbot.sources.poll import cpu_pool

    started = time.perf_counter()
    server = pb.Server()
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory(prefix="footprint-pyc-") as pyc:
        cached = bot_env(Path(pyc))
        try:
            if "startup" not in args.skip:
                variants = {}
                if not args.quick:
                    bare = os.environ.get("PYTHONDONTWRITEBYTECODE")
                    label = "no bytecode cache" if bare else "as set"
                    variants[f"environment as it is ({label})"] = startup(server, args, None)
                variants["with a bytecode cache"] = startup(server, args, Path(pyc), not args.quick)
                rows += report_startup(variants)
            if "memory" not in args.skip:
                with cpu_pool() as pool:  # fills the database's fingerprints
                    mem = memory(server, args, cached, pool)
                rows += report_memory(mem, args)
            if "throughput" not in args.skip:
                rows += report_throughput(throughput(server, args, cached))
            if "resp" not in args.skip:
                rows += report_responsiveness(responsiveness(server, args, cached), args)
        finally:
            server.close()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print("Footprint benchmark: the whole bot (alertbot run, every process), on loopback")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {load}; "
          f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")  # fmt: skip
    rows.append(("benchmark wall time", f"{time.perf_counter() - started:.0f} s"))
    pb.print_table(rows)


if __name__ == "__main__":
    main()
