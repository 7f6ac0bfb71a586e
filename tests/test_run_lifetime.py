"""What an `alertbot run` process owns dies with it, and one database has one run at a time."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from alertbot.cli import cli
from testsupport.httpserver import LocalServer
from testsupport.processes import (
    alertbot_process,
    children_of,
    command_line,
    exited,
    serve_news_feed,
    write_run_config,
)

START_TIMEOUT = 90.0  # morphology load, first poll and first alert
GONE_TIMEOUT = 10.0  # for the orphans of a killed run to notice and exit
LOGGERS = ("httpx", "httpcore", "apscheduler", "telegram", "hpack", "alertbot")


@pytest.fixture
def logger_levels() -> Iterator[None]:
    """The CLI sets library loggers' levels: put them back for the tests that follow."""
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_one_run_per_database_and_nothing_outlives_a_killed_run(
    tmp_path: Path, child_env: dict[str, str], logger_levels: None
) -> None:
    """Pins issue 11: a second `alertbot run` on the same database exits 2 naming the
    first one's pid, while `status` and `check` still work beside it; after kill -9 of the
    first, its pool workers and the resource tracker exit by themselves (they were left
    running, reparented to init), and the OS has released the lock: a new run takes it."""
    database = tmp_path / "state" / "alertbot.db"
    with LocalServer() as server:
        feed_url = serve_news_feed(server)
        config_file = write_run_config(tmp_path / "alertbot.toml", database, "News", feed_url)
        run = ["run", "--config", str(config_file)]
        with alertbot_process(run, child_env, tmp_path) as first:
            # The first alert comes after the feed was parsed in a pool worker.
            alerted = first.out.wait_for(
                lambda lines: any(line.startswith("● ") for line in lines), START_TIMEOUT
            )
            assert alerted, str(first.err)
            owned = children_of(first.proc.pid)
            commands = [command_line(pid) for pid in owned]
            assert any("spawn_main" in c for c in commands), commands
            assert any("resource_tracker" in c for c in commands), commands

            with alertbot_process([*run, "--once"], child_env, tmp_path) as second:
                status = second.proc.wait(timeout=START_TIMEOUT)
                second.err.close()
            assert status == 2, str(second.err)
            assert second.err.lines == [
                f"alertbot: {database}: in use by another alertbot run"
                f" (pid {first.proc.pid}): one run per database"
            ]

            runner = CliRunner()
            shown = runner.invoke(cli, ["status", "--config", str(config_file)])
            assert shown.exit_code == 0, shown.output
            assert "News" in shown.output
            checked = runner.invoke(cli, ["check", "--config", str(config_file)])
            assert checked.exit_code == 0, checked.output
            assert "ok   source News: 2 entries" in checked.output

            os.kill(first.proc.pid, signal.SIGKILL)
            first.proc.wait()
            deadline = time.monotonic() + GONE_TIMEOUT
            while not all(exited(pid) for pid in owned) and time.monotonic() < deadline:
                time.sleep(0.05)
            left = {pid: command_line(pid) for pid in owned if not exited(pid)}
            assert not left, f"still running after the run was killed: {left}"

        # A new run takes the lock (and writes its pid in the lock file) at once.
        lock = database.with_name("alertbot.db.lock")
        with alertbot_process(run, child_env, tmp_path) as third:
            deadline = time.monotonic() + START_TIMEOUT
            while lock.read_text().strip() != str(third.proc.pid):
                assert third.proc.poll() is None, str(third.err)
                assert time.monotonic() < deadline, str(third.err)
                time.sleep(0.05)
