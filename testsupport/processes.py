"""`alertbot` child processes in tests: their output as it comes, their own children.

    with alertbot_process(["run", "--config", str(path)], env, cwd) as child:
        child.err.wait_for(lambda lines: any("notifiers:" in l for l in lines), 90)
        children_of(child.proc.pid)           # pids whose parent is the child (/proc)
    # on leaving: the child's whole process group is killed, its pipes closed

Each child starts in a session of its own, so that killing its process group on the way
out also takes whatever it started, whether the test passed or not: no test leaves an
orphan behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from testsupport.httpserver import LocalServer
from testsupport.sourcefixtures import news_items, rss


class Lines:
    """The lines a child writes to one pipe, read on a thread as they come."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: list[str] = []
        self.ended = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            with self._changed:
                self.lines.append(raw.decode("utf-8", errors="replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float) -> bool:
        """True once `predicate(lines)` holds; False if it does not within `timeout` s or
        by the end of the stream."""
        with self._changed:
            self._changed.wait_for(lambda: self.ended or predicate(self.lines), timeout)
            return predicate(self.lines)

    def close(self, timeout: float = 5.0) -> None:
        """Wait for the end of the stream (the child has exited)."""
        self._thread.join(timeout)

    def __str__(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Child:
    """A running `alertbot` process and the lines of its stdout and stderr."""

    proc: subprocess.Popen[bytes]
    out: Lines
    err: Lines


@contextlib.contextmanager
def alertbot_process(args: Sequence[str], env: Mapping[str, str], cwd: Path) -> Iterator[Child]:
    """`python -m alertbot ARGS` in a session of its own; its process group is killed on
    the way out."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "alertbot", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env), cwd=cwd,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        yield Child(proc, Lines(proc.stdout), Lines(proc.stderr))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()


def children_of(pid: int) -> set[int]:
    """The processes whose parent is `pid`, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _stat(int(entry.name)).get("ppid") == pid:
            found.add(int(entry.name))
    return found


def exited(pid: int) -> bool:
    """True if process `pid` has ended: gone, or a zombie its new parent has not reaped."""
    return _stat(pid).get("state", "Z") == "Z"


def command_line(pid: int) -> str:
    """The command line of process `pid` ("" if it has gone)."""
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _stat(pid: int) -> dict[str, object]:
    try:
        text = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:  # gone between the listing and the read, or never there
        return {}
    # The command name is in parentheses and may hold spaces; the fields after it are not.
    fields = text[text.rindex(")") + 2 :].split()
    return {"state": fields[0], "ppid": int(fields[1])}


def run_cli(
    args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """`python -m alertbot ARGS` to completion (killed if it outlives `timeout`)."""
    return subprocess.run(
        [sys.executable, "-m", "alertbot", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def serve_news_feed(server: LocalServer) -> str:
    """Two corpus articles (one mentions Egypt) as a whole-text feed at /news/rss.xml,
    published an hour ago; returns the feed's URL."""
    base = server.url("/news")
    items = news_items(ids=["ant-2", "ant-9"], base_url=base, arabic_slugs=False,
                       start=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
    feed = rss(items, base_url=base, full_text=True)
    server.route("/news/rss.xml", feed, headers={"Content-Type": "application/rss+xml"})
    return server.url("/news/rss.xml")


def write_run_config(config_file: Path, database: Path, source: str, url: str) -> Path:
    """A config polling one source, with one watch (Egypt, مصر), for an `alertbot run`."""
    config_file.write_text(
        f"database = {json.dumps(str(database))}\n\n"
        f'[[source]]\nname = "{source}"\nurl = {json.dumps(url)}\n\n'
        '[[watch]]\nname = "Egypt"\nquery = "مصر"\n',
        encoding="utf-8",
    )
    return config_file
