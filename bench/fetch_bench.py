"""Benchmark of the sources layer: polling feeds on loopback, against bare trafilatura.

What it measures, in one run (a benchmark, not a test: it prints figures, never fails):

- a site on a loopback HTTP server (`testsupport/httpserver.py`, by default in a separate
  process so the layer's figures do not pay for serving): `--feeds` RSS feeds (200) of
  `--per-feed` teaser-only items (20), each linking to a realistic article page built from
  a real Arabic corpus article (`testsupport/sourcefixtures.py`). Every feed has an ETag and a
  Last-Modified and answers a matching conditional GET with a 304;
- the first poll: every feed polled at once (`asyncio.gather` of `Poller.poll`) through
  one `Fetcher` with the default `PollingConfig` (concurrency 8, per host 2): fetch, feed
  parse, article page fetch, charset decode and full-text extraction. Articles/s;
- a plain single-threaded loop of `trafilatura.bare_extraction(html, url=url,
  with_metadata=True)` over the same article pages (the same HTML strings the server
  sends), in the same run. Articles/s. Also, for reading the gap, the same loop with
  alertbot's own `extract()` (what the poll runs per page);
- the second poll with the validators the first one returned, nothing changed on the
  server: its time, and a check that every feed was a 304 and no article page was
  requested again;
- peak RSS (`ru_maxrss`) of this process after the polls and at the end (the bare loop
  runs after the polls), and the server process's own.

Targets (from the issue): the layer reaches at least 0.8 of the bare extraction rate; the
second poll of all feeds takes under 2 s.

The corpus has 2,127 articles long enough for `news_items`' default filters (600 chars,
3 paragraphs); 200 feeds of 20 need 4,000, so feeds reuse articles: feed n gets the
(n mod 106)-th window of 20, under its own base URL (`/f{n}/...`), so every article URL
is distinct and no article appears twice in a feed, but most texts are served twice.

Run it from the repository root:

    export CAMELTOOLS_DATA=/path/to/camel-data
    uv run python bench/fetch_bench.py [--feeds 200] [--per-feed 20]
        [--server process|thread] [--concurrency 8] [--per-host 2] [--workers N]
        [--nagle] [--profile] [--no-extract-loop]

`--workers N` gives the event loop a default executor of N threads (what
`asyncio.to_thread` runs decoding, feed parsing and extraction on) instead of asyncio's
min(32, CPUs + 4); `--profile` runs cProfile in every thread during the first poll;
`--nagle` keeps the test server's 40 ms stall per answer (see `no_delay`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import multiprocessing
import os
import pstats
import resource
import sys
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import testsupport.sourcefixtures as fx
from testsupport import httpserver
from testsupport.httpserver import LocalServer

ROOT = Path(__file__).resolve().parent.parent

TARGET_RATIO = 0.8
TARGET_SECOND_POLL_S = 2.0
MIN_CHARS = 600
MIN_PARAGRAPHS = 3


# -- the site -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    """One feed of the site: its path, what it serves, and the items it lists."""

    number: int
    base: str  # the feed's site, http://127.0.0.1:PORT/f{n}
    path: str
    headers: dict[str, str]
    body: bytes
    items: list[fx.NewsItem]


def build_site(root_url: str, feeds: int, per_feed: int) -> list[Feed]:
    """The feeds, deterministic for a given root URL (the parent and the server agree)."""
    pool = len(fx.corpus_rows(min_chars=MIN_CHARS, min_paragraphs=MIN_PARAGRAPHS))
    windows = pool // per_feed
    if windows < 1:
        raise SystemExit(f"--per-feed {per_feed} is more than the {pool} corpus articles")
    site = []
    for number in range(feeds):
        base = f"{root_url.rstrip('/')}/f{number}"
        items = fx.news_items(
            per_feed,
            base_url=base,
            offset=(number % windows) * per_feed,
            min_chars=MIN_CHARS,
            min_paragraphs=MIN_PARAGRAPHS,
        )
        headers = {
            "Content-Type": "application/rss+xml; charset=utf-8",
            "ETag": f'"feed-{number}-v1"',
            "Last-Modified": format_datetime(items[0].published, usegmt=True),
        }
        body = fx.rss(items, base_url=base)
        site.append(Feed(number, base, f"/f{number}/rss.xml", headers, body, items))
    return site


def page_html(feed: Feed, item: fx.NewsItem) -> str:
    """The article page served for an item (the string; the server sends it as UTF-8)."""
    return fx.article_page(item, base_url=feed.base)


PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8"}


def serve_site(server: LocalServer, feeds: int, per_feed: int) -> list[Feed]:
    """Route every feed and article page of the site on `server`."""
    site = build_site(server.url(""), feeds, per_feed)
    for feed in site:
        server.route(feed.path, feed.body, headers=feed.headers, conditional=True)
        for item in feed.items:
            server.route(
                urlsplit(item.url).path, page_html(feed, item).encode("utf-8"), headers=PAGE_HEADERS
            )
    return site


def no_delay(enabled: bool) -> None:
    """Make the test server send its answers without waiting (TCP_NODELAY), or not.

    `testsupport/httpserver.py` writes the headers and the body of an answer in two `send`s on a
    socket with Nagle's algorithm on: the body waits for the client's (delayed) ACK of the
    headers, about 40 ms on Linux loopback, on every request with a body. No production
    server stalls like that, so by default the benchmark turns Nagle off on the server's
    sockets (`--nagle` keeps it, to see the stall).
    """
    httpserver._RequestHandler.disable_nagle_algorithm = enabled


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _server_process(conn: Any, feeds: int, per_feed: int, nodelay: bool) -> None:
    """The server in its own process, answering commands from the benchmark on `conn`."""
    no_delay(nodelay)
    server = LocalServer()
    serve_site(server, feeds, per_feed)
    server.start()
    conn.send(("ready", server.port))
    mark = 0
    cpu_mark = _cpu_seconds()
    while True:
        command = conn.recv()
        if command == "mark":
            mark = len(server.requests)
            cpu_mark = _cpu_seconds()
            conn.send(None)
        elif command == "since":
            seen = [(r.method, r.path, dict(r.headers)) for r in server.requests[mark:]]
            conn.send((seen, _cpu_seconds() - cpu_mark))
        elif command == "stop":
            server.close()
            conn.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            conn.close()
            return


class Server:
    """The loopback server, in a child process or in a thread of this one."""

    def __init__(self, mode: str, feeds: int, per_feed: int, nodelay: bool) -> None:
        self.mode = mode
        self.server_rss_kb: int | None = None
        if mode == "process":
            context = multiprocessing.get_context("spawn")
            self._conn, child = context.Pipe()
            self._process = context.Process(
                target=_server_process, args=(child, feeds, per_feed, nodelay), daemon=True
            )
            self._process.start()
            status, port = self._conn.recv()
            assert status == "ready"
            self.root = f"http://127.0.0.1:{port}"
        else:
            no_delay(nodelay)
            self._local = LocalServer()
            serve_site(self._local, feeds, per_feed)
            self._local.start()
            self.root = self._local.url("").rstrip("/")
            self._mark = 0

    def mark(self) -> None:
        """Start counting requests (and, in a process, server CPU time) from now."""
        if self.mode == "process":
            self._conn.send("mark")
            self._conn.recv()
        else:
            self._mark = len(self._local.requests)

    def since(self) -> tuple[list[tuple[str, str, dict[str, str]]], float | None]:
        """Requests seen since the mark, and the server's CPU seconds (process mode only)."""
        if self.mode == "process":
            self._conn.send("since")
            return self._conn.recv()
        seen = [(r.method, r.path, dict(r.headers)) for r in self._local.requests[self._mark :]]
        return seen, None

    def close(self) -> None:
        if self.mode == "process":
            self._conn.send("stop")
            self.server_rss_kb = self._conn.recv()
            self._process.join(5)
        else:
            self._local.close()


# -- measuring ----------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def normalized(text: str) -> str:
    """Whitespace collapsed and format characters (RLM, ZWNJ, bidi embeddings) left out:
    alertbot's tidy_text drops the latter, which some corpus texts carry."""
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return " ".join(text.split())


@dataclass
class FirstPoll:
    seconds: float
    cpu_seconds: float
    articles: int
    errors: list[str]
    short_feeds: int
    empty_texts: int
    full_texts: int  # the article's text is the whole corpus text (not the teaser)

    @property
    def per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else float("inf")


async def run_polls(
    server: Server,
    site: list[Feed],
    concurrency: int,
    per_host: int,
    per_feed: int,
    workers: int | None,
    profiler: ThreadProfiler | None = None,
    cpu: str = "process",
    cpu_workers: int | None = None,
) -> tuple[FirstPoll, float, list[str], float | None, float | None]:
    """The first poll, then the second with the validators it returned."""
    if workers is not None or profiler is not None:
        # What asyncio.to_thread runs on (decoding, feed parsing, extraction); asyncio's
        # own default is min(32, CPUs + 4) threads.
        count = workers or min(32, (os.cpu_count() or 1) + 4)
        initializer = profiler.start_thread if profiler else None
        executor = ThreadPoolExecutor(count, initializer=initializer)
        asyncio.get_running_loop().set_default_executor(executor)
    from alertbot.config import PollingConfig, SourceConfig
    from alertbot.sources.extract import extract
    from alertbot.sources.fetch import Fetcher
    from alertbot.sources.model import Validators
    from alertbot.sources.poll import MAX_ENTRIES_PER_POLL, Poller, cpu_pool

    polling = PollingConfig(concurrency=concurrency)
    sources = [SourceConfig(name=f"feed {f.number}", url=server.root + f.path) for f in site]
    expected = {item.url: item for f in site for item in f.items}
    now = datetime.now(UTC)

    pool = cpu_pool(cpu_workers) if cpu == "process" else None
    if pool is not None:
        # Start the worker and import trafilatura in it before the clock runs, as the
        # application does once at start.
        await asyncio.get_running_loop().run_in_executor(pool, extract, "<p>x</p>", "http://x/")
    async with (
        Fetcher(polling, per_host=per_host) as fetcher,
        Poller(fetcher, executor=pool, max_entries=max(MAX_ENTRIES_PER_POLL, per_feed)) as poller,
    ):
        server.mark()
        if profiler is not None:
            profiler.start_thread()
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        results = await asyncio.gather(*(poller.poll(s, Validators(), now) for s in sources))
        first_s = time.perf_counter() - t0
        first_cpu = _cpu_seconds() - cpu0
        if profiler is not None:
            profiler.stop()
        _, server_cpu_first = server.since()

        errors = [f"{r.source}: {r.error.kind}: {r.error.message}" for r in results if r.error]
        articles = [a for r in results for a in r.articles]
        first = FirstPoll(
            seconds=first_s,
            cpu_seconds=first_cpu,
            articles=len(articles),
            errors=errors,
            short_feeds=sum(1 for r in results if len(r.articles) != per_feed),
            empty_texts=sum(1 for a in articles if not a.text.strip()),
            full_texts=sum(
                1
                for a in articles
                if a.url in expected
                and normalized(a.text) == normalized(expected[a.url].plain_text)
            ),
        )

        server.mark()
        t0 = time.perf_counter()
        second = await asyncio.gather(
            *(poller.poll(s, r.validators, now) for s, r in zip(sources, results, strict=True))
        )
        second_s = time.perf_counter() - t0
        requests, server_cpu_second = server.since()
    if pool is not None:
        pool.shutdown()

    feed_paths = {f.path for f in site}
    problems = []
    not_modified = sum(1 for r in second if r.not_modified and not r.error)
    if not_modified != len(site):
        problems.append(f"only {not_modified}/{len(site)} feeds came back not modified")
    new_articles = sum(len(r.articles) for r in second)
    if new_articles:
        problems.append(f"{new_articles} articles came back from the second poll")
    page_requests = [path for _, path, _ in requests if path.split("?", 1)[0] not in feed_paths]
    if page_requests:
        problems.append(f"{len(page_requests)} requests were not for a feed: {page_requests[:3]}")
    feed_requests = [(path, h) for _, path, h in requests if path.split("?", 1)[0] in feed_paths]
    if len(feed_requests) != len(site):
        problems.append(f"{len(feed_requests)} feed requests for {len(site)} feeds")
    unconditional = [p for p, h in feed_requests if "if-none-match" not in h]
    if unconditional:
        problems.append(f"{len(unconditional)} feed requests without If-None-Match")
    return first, second_s, problems, server_cpu_first, server_cpu_second


class ThreadProfiler:
    """cProfile in the event loop's thread and in every executor thread (`--profile`).

    Times are per thread and wall-clock: a thread waiting for the GIL or for a lock inside
    a C function (lxml's XPath evaluation lock, say) shows that wait as time in the function.
    """

    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def start_thread(self) -> None:
        profile = cProfile.Profile()
        with self._lock:
            self._profiles.append(profile)
        profile.enable()

    def stop(self) -> None:
        """Stop every profile (each from its own thread: cProfile is per thread)."""
        for profile in self._profiles:
            profile.disable()  # only effective in the calling thread; the rest are read as is

    def print(self, limit: int = 30) -> None:
        stats = None
        for profile in self._profiles:
            profile.create_stats()
            if stats is None:
                stats = pstats.Stats(profile)
            else:
                stats.add(profile)
        if stats is None:
            return
        print(f"\nprofile of the first poll, all threads ({len(self._profiles)}), by own time:")
        stats.sort_stats("tottime").print_stats(limit)


def bare_loop(pages: list[tuple[str, str]]) -> tuple[float, int]:
    """`trafilatura.bare_extraction` over the pages, one after the other: (seconds, texts)."""
    import trafilatura

    with_text = 0
    t0 = time.perf_counter()
    for url, html in pages:
        document = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        if document is not None and document.text:
            with_text += 1
    return time.perf_counter() - t0, with_text


def extract_loop(pages: list[tuple[str, str]], now: datetime) -> tuple[float, int]:
    """alertbot's `extract()` over the pages, one after the other: (seconds, texts)."""
    from alertbot.sources.extract import extract

    with_text = 0
    t0 = time.perf_counter()
    for url, html in pages:
        if extract(html, url, now=now) is not None:
            with_text += 1
    return time.perf_counter() - t0, with_text


# -- report -------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--per-feed", type=int, default=20)
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="serve from a child process (default) or from threads of this process",
    )
    parser.add_argument("--concurrency", type=int, default=None, help="default: the config's")
    parser.add_argument("--per-host", type=int, default=None, help="default: the Fetcher's")
    parser.add_argument(
        "--cpu",
        choices=("process", "thread"),
        default="process",
        help="where parsing and extraction run: a process pool of 1 worker (the application's "
        "setup, alertbot.sources.poll.cpu_pool) or the Poller's own single thread",
    )
    parser.add_argument(
        "--cpu-workers",
        type=int,
        default=None,
        help="processes in the pool (--cpu process); default: cpu_pool's, one per core",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="threads of the loop's default executor (charset decoding runs there); "
        "default: asyncio's, min(32, CPUs + 4)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the first poll in every thread and print the top functions",
    )
    parser.add_argument(
        "--nagle",
        action="store_true",
        help="leave Nagle's algorithm on in the test server (a 40 ms stall per answer)",
    )
    parser.add_argument(
        "--no-extract-loop", action="store_true", help="skip the alertbot extract() loop"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from alertbot.config import PollingConfig
    from alertbot.sources.fetch import PER_HOST

    concurrency = args.concurrency or PollingConfig().concurrency
    per_host = args.per_host or PER_HOST

    profiler = ThreadProfiler() if args.profile else None
    t0 = time.perf_counter()
    server = Server(args.server, args.feeds, args.per_feed, nodelay=not args.nagle)
    setup_s = time.perf_counter() - t0
    try:
        site = build_site(server.root, args.feeds, args.per_feed)
        total = sum(len(f.items) for f in site)
        distinct = len({item.id for f in site for item in f.items})
        first, second_s, problems, server_cpu_first, server_cpu_second = asyncio.run(
            run_polls(
                server,
                site,
                concurrency,
                per_host,
                args.per_feed,
                args.workers,
                profiler,
                args.cpu,
                args.cpu_workers,
            )
        )
    finally:
        server.close()
    rss_after_polls = peak_rss_mb()

    # The pages the server sent, rebuilt here (deterministic), after the polls so that the
    # RSS after the polls is the layer's own.
    pages = [(item.url, page_html(f, item)) for f in site for item in f.items]
    page_chars = sum(len(html) for _, html in pages) / len(pages)
    bare_s, bare_texts = bare_loop(pages)
    bare_rate = len(pages) / bare_s
    if not args.no_extract_loop:
        extract_s, extract_texts = extract_loop(pages, datetime.now(UTC))
    rss_end = peak_rss_mb()

    ratio = first.per_second / bare_rate
    ok_ratio = ratio >= TARGET_RATIO
    ok_second = second_s < TARGET_SECOND_POLL_S and not problems
    checks_ok = (
        not first.errors
        and not first.short_feeds
        and not first.empty_texts
        and first.articles == total
    )

    workers_text = (
        f"{args.workers} threads (--workers)"
        if args.workers
        else f"asyncio's default, {min(32, (os.cpu_count() or 1) + 4)} threads"
    )
    width = 58
    print("Sources layer benchmark: polling RSS feeds of real Arabic articles on loopback")
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"server: {args.server}"
        + (
            " (child process: its CPU is not the layer's)"
            if args.server == "process"
            else " (threads of this process: its CPU counts against the layer)"
        )
        + ("; Nagle on (40 ms stall per answer)" if args.nagle else "; TCP_NODELAY")
    )
    print(
        f"site: {args.feeds} feeds x {args.per_feed} teaser items = {total} article pages "
        f"({distinct} distinct corpus articles, each URL distinct), "
        f"{page_chars:,.0f} chars/page; built in {setup_s:.1f} s"
    )
    print(
        f"fetcher: PollingConfig defaults, concurrency {concurrency}, "
        f"at most {per_host} per host (all feeds are on one host, 127.0.0.1); "
        f"asyncio.to_thread pool: {workers_text}"
    )
    print()
    print(f"{'first poll (fetch + parse + full text)':<{width}} {first.seconds:8.2f} s")
    print(f"{'  articles':<{width}} {first.articles:8d}")
    print(f"{'  articles/s':<{width}} {first.per_second:8.1f}")
    print(f"{'  CPU of this process (all threads)':<{width}} {first.cpu_seconds:8.2f} s")
    if server_cpu_first is not None:
        print(f"{'  CPU of the server process':<{width}} {server_cpu_first:8.2f} s")
    print(f"{'  feed errors':<{width}} {len(first.errors):8d}")
    print(f"{'  feeds without all their articles':<{width}} {first.short_feeds:8d}")
    print(f"{'  articles with empty text':<{width}} {first.empty_texts:8d}")
    print(f"{'  articles whose text is the whole corpus text':<{width}} {first.full_texts:8d}")
    print(f"{'bare trafilatura.bare_extraction loop (1 thread)':<{width}} {bare_s:8.2f} s")
    print(f"{'  articles/s':<{width}} {bare_rate:8.1f}")
    print(f"{'  pages with text':<{width}} {bare_texts:8d}")
    if not args.no_extract_loop:
        print(
            f"{'alertbot extract() loop (1 thread, for reading the gap)':<{width}} "
            f"{extract_s:8.2f} s"
        )
        print(f"{'  articles/s':<{width}} {len(pages) / extract_s:8.1f}")
        print(f"{'  pages with text':<{width}} {extract_texts:8d}")
    print(f"{'second poll, nothing changed':<{width}} {second_s:8.3f} s")
    if server_cpu_second is not None:
        print(f"{'  CPU of the server process':<{width}} {server_cpu_second:8.3f} s")
    print(f"{'peak RSS after the polls':<{width}} {rss_after_polls:8.1f} MB")
    print(f"{'peak RSS at the end (after the extraction loops)':<{width}} {rss_end:8.1f} MB")
    if server.server_rss_kb is not None:
        print(f"{'peak RSS of the server process':<{width}} {server.server_rss_kb / 1024:8.1f} MB")
    print()
    print(f"{'target':<44} {'measured':>12} {'goal':>10}  result")
    print(
        f"{'layer rate / bare extraction rate':<44} {ratio:12.2f} {'>= ' + str(TARGET_RATIO):>10}"
        f"  {verdict(ok_ratio)}"
    )
    print(
        f"{'second poll, all feeds (304s)':<44} {second_s:11.3f}s {'< 2 s':>10}"
        f"  {verdict(ok_second)}"
    )
    print(
        f"{'first poll: every article, with text':<44} {first.articles:12d} {total:>10}"
        f"  {verdict(checks_ok)}"
    )
    for error in first.errors[:5]:
        print(f"  error: {error}")
    for problem in problems:
        print(f"  second poll: {problem}")
    if profiler is not None:
        profiler.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
