"""`alertbot run` (scheduled, no --once) stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from alertbot import camel_data
from alertbot.errors import CamelDataError
from testsupport.httpserver import LocalServer
from testsupport.sourcefixtures import news_items, rss

START_TIMEOUT = 90.0  # morphology load, first poll and first alert
STOP_TIMEOUT = 10.0


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


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    """Pins shutdown: the scheduled `run` exits 0 within 10 s of SIGTERM or SIGINT, its
    last word on stderr being "alertbot: stopped"."""
    try:
        data = camel_data.require_installed(camel_data.camel_data_dir())
    except CamelDataError as exc:
        pytest.fail(str(exc), pytrace=False)
    env = {**os.environ, "CAMELTOOLS_DATA": str(data.root)}
    with LocalServer() as server:
        base = server.url("/news")
        items = news_items(ids=["ant-2", "ant-9"], base_url=base, arabic_slugs=False,
                           start=datetime.now(UTC) - timedelta(hours=1))  # fmt: skip
        feed = rss(items, base_url=base, full_text=True)
        server.route("/news/rss.xml", feed, headers={"Content-Type": "application/rss+xml"})
        config_file = tmp_path / "alertbot.toml"
        config_file.write_text(
            f"database = {json.dumps(str(tmp_path / 'alertbot.db'))}\n\n"
            f'[[source]]\nname = "News"\nurl = {json.dumps(server.url("/news/rss.xml"))}\n\n'
            '[[watch]]\nname = "Egypt"\nquery = "مصر"\n',
            encoding="utf-8",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "alertbot", "run", "--config", str(config_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
            start_new_session=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None and proc.stderr is not None
            out, err = Lines(proc.stdout), Lines(proc.stderr)
            started = err.wait_for(
                lambda lines: any("alertbot: notifiers: console" in line for line in lines),
                START_TIMEOUT,
            )
            assert started, "\n".join(err.lines)
            # The start lines are printed just before the signal handlers are installed;
            # the first alert comes from the scheduler, after them.
            alerted = out.wait_for(
                lambda lines: any(line.startswith("● ") for line in lines), START_TIMEOUT
            )
            assert alerted, "\n".join(err.lines)
            proc.send_signal(sig)
            asked = time.monotonic()
            status = proc.wait(timeout=STOP_TIMEOUT)
            took = time.monotonic() - asked
            out.close()
            err.close()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
    assert status == 0, "\n".join(err.lines)
    assert took < STOP_TIMEOUT
    assert any(line.startswith("alertbot: config ") for line in err.lines)
    assert any("no Telegram token configured" in line for line in err.lines)
    assert err.lines[-1] == "alertbot: stopped", "\n".join(err.lines)
