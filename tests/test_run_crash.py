"""Crash safety: `alertbot run --once` killed with SIGKILL in the middle of dispatching, then
run again: no alert is lost, and at most one is printed twice."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from alertbot import camel_data
from alertbot.config import load_config
from alertbot.errors import CamelDataError
from alertbot.sources.poll import MAX_ENTRIES_PER_POLL
from alertbot.stories.cluster import JOIN
from alertbot.stories.fingerprint import THRESHOLD, fingerprint, similarity
from alertbot.stories.stream import word_reader
from alertbot.stories.vectors import DocumentFrequencies, cosine, terms_of
from alertbot.text.lemmatize import Lemmatizer
from alertbot.watch.match import Matcher
from testsupport.httpserver import LocalServer
from testsupport.sourcefixtures import news_items, rss

BROAD = "مصر OR سوريا OR روسيا OR لبنان OR العراق OR غزة OR إيران OR السعودية"
KILL_AFTER = 10  # alert blocks read before the kill
PIPE_SIZE = 4096  # the smallest pipe Linux allows: one page
DEADLINE = 90.0  # seconds a run may take
STEP = timedelta(minutes=10)


def complete_lines(data: bytes) -> list[str]:
    """The newline-terminated lines of what the child printed (a cut-off tail is dropped)."""
    return data.decode("utf-8", errors="replace").split("\n")[:-1]


def alerted_urls(lines: list[str]) -> list[str]:
    """The URL line of each console alert block whose URL line was printed in full."""
    urls = []
    for index, line in enumerate(lines):
        if line.startswith("● ") and index + 3 < len(lines):
            url = lines[index + 3].strip()
            assert url.startswith("http://"), f"no URL line in the alert block at line {index}"
            urls.append(url)
    return urls


def _close_to_another(items: list, lemmatizer: Lemmatizer, margin: float = 0.15) -> set[str]:
    """URLs of articles whose vectors (document frequencies of all of them) come within
    `margin` of the join threshold with another's: the clustering might join them."""
    read_words = word_reader(lemmatizer)
    frequencies = DocumentFrequencies()
    read = []
    for item in items:
        terms = terms_of(read_words(item.plain_title, item.plain_text))
        counts = Counter([*terms.title, *(t for _, line in terms.lines for t in line)])
        frequencies.add(counts)
        read.append((item.url, counts, terms))
    vectors = [(url, frequencies.vector(c, t.title, t.names)) for url, c, t in read]
    close = set()
    for (a, va), (b, vb) in combinations(vectors, 2):
        if cosine(va, vb) >= JOIN - margin:
            close |= {a, b}
    return close


def test_sigkill_mid_dispatch_loses_nothing_and_repeats_at_most_one(
    tmp_path: Path, lemmatizer: Lemmatizer
) -> None:
    """Pins the outbox promise: SIGKILL during dispatch, restart, and every alert is
    delivered, at most one of them twice (one recipient: the console)."""
    try:
        data = camel_data.require_installed(camel_data.camel_data_dir())
    except CamelDataError as exc:
        pytest.fail(str(exc), pytrace=False)
    env = {**os.environ, "CAMELTOOLS_DATA": str(data.root)}
    database = tmp_path / "alertbot.db"
    with LocalServer() as server:
        # 120 articles, ten minutes apart (all within the last day, well inside
        # pipeline.MAX_AGE), on three feeds of 40: a poll completes at most
        # MAX_ENTRIES_PER_POLL new entries, and every alert must be queued by the first pass.
        chunks = []
        for k in range(3):
            base = server.url(f"/news{k}")
            start = datetime.now(UTC) - timedelta(minutes=5) - 40 * k * STEP
            chunk = news_items(40, base_url=base, min_chars=200, min_paragraphs=1,
                               offset=1500 + 40 * k, arabic_slugs=False, start=start,
                               step=STEP)  # fmt: skip
            assert len(chunk) == 40 <= MAX_ENTRIES_PER_POLL
            chunks.append((base, chunk))
        # Each article must be a story of its own, or fewer alerts are right: leave out any
        # article that story clustering could take for the same event as another.
        close = _close_to_another([i for _, chunk in chunks for i in chunk], lemmatizer)
        items, sources = [], []
        for k, (base, chunk) in enumerate(chunks):
            chunk = [i for i in chunk if i.url not in close]
            feed = rss(chunk, base_url=base, full_text=True)  # whole articles: no page fetch
            server.route(f"/news{k}/rss.xml", feed, headers={"Content-Type": "application/rss+xml"})
            items += chunk
            sources.append(
                f'[[source]]\nname = "News {k}"\n'
                f"url = {json.dumps(server.url(f'/news{k}/rss.xml'))}\n\n"
            )
        config_file = tmp_path / "alertbot.toml"
        config_file.write_text(
            f"database = {json.dumps(str(database))}\n\n{''.join(sources)}"
            f'[[watch]]\nname = "Region"\nquery = {json.dumps(BROAD, ensure_ascii=False)}\n',
            encoding="utf-8",
        )
        matcher = Matcher(load_config(config_file).watches, lemmatizer)
        matched = [i for i in items if matcher.match_article(i.plain_title, i.plain_text)]
        expected = {i.url for i in matched}
        assert len(expected) >= 40
        prints = [fingerprint(i.plain_title, i.plain_text) for i in matched]
        assert all(similarity(a, b) < THRESHOLD for a, b in combinations(prints, 2))
        args = [sys.executable, "-m", "alertbot", "run", "--once", "--config", str(config_file)]

        # The child's stdout is a pipe shrunk to one page. Dispatching all the alerts takes
        # about a second, faster than a reader can react; but once the pipe holds a page
        # the child's next print blocks (before that alert is marked sent) until we read.
        # So we read KILL_AFTER alerts, stop reading, and the child stalls a few alerts
        # further on: the SIGKILL lands mid-dispatch every time, with rows still pending.
        read_fd, write_fd = os.pipe()
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        with open(tmp_path / "first.stderr", "wb") as stderr:
            proc = subprocess.Popen(
                args, stdout=write_fd, stderr=stderr, env=env, cwd=tmp_path,
                start_new_session=True,
            )  # fmt: skip
        os.close(write_fd)
        first = b""
        try:
            deadline = time.monotonic() + DEADLINE
            while len(alerted_urls(complete_lines(first))) < KILL_AFTER:
                assert proc.poll() is None, "the first run ended before it was killed"
                left = deadline - time.monotonic()
                assert left > 0, "the first run printed too few alerts in time"
                ready, _, _ = select.select([read_fd], [], [], left)
                if ready:
                    first += os.read(read_fd, 65536)
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
            # Its spawned pool workers hold the pipe open too; a crash takes them along.
            _kill_group(proc.pid)
            # What was already in the pipe was printed too: read it, up to the end.
            deadline = time.monotonic() + 20
            while chunk := _read_some(read_fd, deadline):
                first += chunk
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            _kill_group(proc.pid)
            os.close(read_fd)
        first_urls = alerted_urls(complete_lines(first))
        assert KILL_AFTER <= len(first_urls) < len(expected)

        second = subprocess.run(
            args, env=env, cwd=tmp_path, capture_output=True, timeout=DEADLINE
        )  # fmt: skip
        assert second.returncode == 0, second.stderr.decode()
        second_urls = alerted_urls(complete_lines(second.stdout))

    counts = Counter(first_urls + second_urls)
    assert set(counts) == expected  # nothing lost, nothing extra
    repeated = [url for url, n in counts.items() if n > 1]
    assert len(repeated) <= 1, repeated
    assert all(n <= 2 for n in counts.values())

    with sqlite3.connect(database) as db:
        states = dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        per_story = db.execute(
            "SELECT stories.url, count(*), sum(outbox.state = 'sent') FROM outbox"
            " JOIN stories ON stories.id = outbox.story_id GROUP BY outbox.story_id"
        ).fetchall()
    assert states == {"sent": len(expected)}  # none left pending or failed
    assert {url for url, _, _ in per_story} == expected
    assert all(rows == 1 and sent == 1 for _, rows, sent in per_story)


def _read_some(fd: int, deadline: float) -> bytes:
    """The next bytes from `fd`, b"" at its end or once `deadline` has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        return b""
    ready, _, _ = select.select([fd], [], [], left)
    return os.read(fd, 65536) if ready else b""


def _kill_group(pgid: int) -> None:
    """Kill what is left of the child's session (its spawned pool workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
