"""`alertbot run` (scheduled, no --once) stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testsupport.httpserver import LocalServer
from testsupport.processes import Lines, alertbot_process, serve_news_feed, write_run_config

START_TIMEOUT = 90.0  # morphology load, first poll and first alert
STOP_TIMEOUT = 10.0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_stops_cleanly_on_signal(
    tmp_path: Path, sig: signal.Signals, child_env: dict[str, str]
) -> None:
    """Pins shutdown: the scheduled `run` exits 0 within 10 s of SIGTERM or SIGINT, its
    last word on stderr being "alertbot: stopped"."""
    with LocalServer() as server:
        feed_url = serve_news_feed(server)
        config_file = write_run_config(
            tmp_path / "alertbot.toml",
            tmp_path / "alertbot.db",
            "News",
            feed_url,
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "alertbot", "run", "--config", str(config_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env, cwd=tmp_path,
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


def test_sigterm_with_a_hung_poll_abandons_it_quietly_within_the_grace(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    """Pins the README's 5 s of grace (issue 11): SIGTERM while a source's fetch hangs
    exits 0 within GRACE + 2 s, with one line naming the abandoned poll and no traceback
    (APScheduler logged one CancelledError traceback per cancelled job, and the exit took
    up to 16 s)."""
    from alertbot.scheduler import GRACE

    with LocalServer() as server:
        server.hang("/feed")
        config_file = write_run_config(
            tmp_path / "alertbot.toml", tmp_path / "alertbot.db", "Hung", server.url("/feed")
        )
        with alertbot_process(["run", "--config", str(config_file)], child_env, tmp_path) as child:
            # The fetch of the hung source is under way (the server holds it unanswered).
            deadline = time.monotonic() + START_TIMEOUT
            while not server.requests_to("/feed") and child.proc.poll() is None:
                assert time.monotonic() < deadline, str(child.err)
                time.sleep(0.05)
            assert child.proc.poll() is None, str(child.err)
            child.proc.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            status = child.proc.wait(timeout=STOP_TIMEOUT)
            took = time.monotonic() - asked
            child.err.close()
    err = str(child.err)
    assert status == 0, err
    assert took < GRACE + 2, f"exit took {took:.1f} s\n{err}"
    assert "Traceback" not in err and "CancelledError" not in err, err
    abandoned = [line for line in child.err.lines if "abandoned" in line]
    assert len(abandoned) == 1, err
    assert abandoned[0].endswith(
        f"shutdown: abandoned poll of Hung (still running after {GRACE:g} s)"
    ), err
    assert child.err.lines[-1] == "alertbot: stopped", err
