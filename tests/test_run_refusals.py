"""`alertbot run` and `alertbot check` answer bad input in one line naming it (issue 11): a
Telegram `api_url` that is not http(s), a `${VAR}` that is not set, nothing to poll, a
database that cannot be written. `run` exits 2, `check` prints a FAIL line and exits 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import alertbot.scheduler
from alertbot.cli import cli
from alertbot.config import SourceConfig
from alertbot.store import Store

pytestmark = pytest.mark.usefixtures("cli_in_process")
CLOSED_PORT_URL = "http://127.0.0.1:1/rss.xml"  # nothing listens on port 1


def write(tmp_path: Path, body: str, *, source: bool = True) -> Path:
    """A config with its database in tmp_path, `body`, and (with `source`) one source."""
    path = tmp_path / "alertbot.toml"
    text = f"database = {json.dumps(str(tmp_path / 'alertbot.db'))}\n{body}\n"
    if source:
        text += f'[[source]]\nname = "News"\nurl = "{CLOSED_PORT_URL}"\n'
    path.write_text(text, encoding="utf-8")
    return path


def run_process(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`alertbot run --once` in a child process (a config problem is found before the
    morphology database is loaded, so it is quick)."""
    return subprocess.run(
        [sys.executable, "-m", "alertbot", "run", "--once", "--config", str(config)],
        capture_output=True, text=True, env=env, cwd=config.parent, timeout=90,
    )  # fmt: skip


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_a_telegram_api_url_that_is_not_http_is_refused(tmp_path):
    """`file:///etc/passwd` was accepted (and fetched from, as the Bot API)."""
    config = write(tmp_path, '[telegram]\ntoken = "123:abc"\napi_url = "file:///etc/passwd"')
    done = run_process(config, dict(os.environ))
    line = (
        f"{config}: telegram.api_url: expected an http:// or https:// URL, got 'file:///etc/passwd'"
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"alertbot: {line}"]
    assert done.stdout == ""
    checked = invoke("check", "--config", str(config))
    assert checked.exit_code == 1
    assert checked.output.splitlines() == [f"FAIL config: {line}"]


def test_an_unset_variable_is_an_error_naming_the_key_and_the_variable(tmp_path, monkeypatch):
    """An unset SMTP_PASSWORD was silently an empty password, an unset `${DB}` gave
    "cannot open the database: ."; an unset TELEGRAM_BOT_TOKEN still means no Telegram."""
    config = write(
        tmp_path,
        '[telegram]\ntoken = "${TELEGRAM_BOT_TOKEN}"\n'
        '[email]\nsmtp_host = "127.0.0.1"\nsender = "a@example.org"\n'
        'username = "desk"\npassword = "${SMTP_PASSWORD}"\n',
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SMTP_PASSWORD", "TELEGRAM_BOT_TOKEN")}
    done = run_process(config, env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"alertbot: {config}: email.password: ${{SMTP_PASSWORD}} is not set"
    ]

    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("ALERTBOT_TEST_DB", raising=False)
    text = config.read_text(encoding="utf-8").splitlines()
    config.write_text("\n".join(['database = "${ALERTBOT_TEST_DB}"', *text[1:]]), "utf-8")
    checked = invoke("check", "--config", str(config))
    assert checked.exit_code == 1
    assert checked.output.splitlines() == [
        f"FAIL config: {config}: database: ${{ALERTBOT_TEST_DB}} is not set",
        f"FAIL config: {config}: email.password: ${{SMTP_PASSWORD}} is not set",
    ]


def test_nothing_to_poll_is_refused_by_run_and_check(tmp_path, monkeypatch):
    """An empty config, or one with no [[source]], ran idle and exited 0."""

    async def idle(self, stop):
        raise AssertionError("the scheduler started with nothing to poll")

    monkeypatch.setattr(alertbot.scheduler.Scheduler, "run_forever", idle)
    config = write(tmp_path, "", source=False)
    line = f"{config}: nothing to poll: no [[source]] entries, and no sources added from Telegram"
    for once in ([], ["--once"]):
        refused = invoke("run", *once, "--config", str(config))
        assert refused.exit_code == 2, refused.output
        assert refused.stderr.splitlines() == [f"alertbot: {line}"]
    checked = invoke("check", "--config", str(config))
    assert checked.exit_code == 1
    assert checked.output.splitlines()[-1] == (
        "FAIL sources: nothing to poll: no [[source]] entries, and no sources added from Telegram"
    )


def test_a_source_added_from_telegram_is_something_to_poll(tmp_path):
    config = write(tmp_path, "", source=False)
    store = Store.open(tmp_path / "alertbot.db")
    store.add_runtime_source(SourceConfig("Added", CLOSED_PORT_URL), 42, datetime.now(UTC))
    store.close()
    ran = invoke("run", "--once", "--config", str(config))
    assert ran.exit_code == 1, ran.output  # it polled the one source, which failed
    assert "alertbot: polled 1 sources (1 failed)" in ran.stderr
    checked = invoke("check", "--config", str(config))
    assert "sources:" not in checked.output
    assert checked.exit_code == 0, checked.output


def test_a_bot_with_admins_starts_without_sources_but_once_does_not(tmp_path):
    """Its admins can add sources with /addsource; `--once` would have nothing to do."""
    config = write(
        tmp_path,
        '[telegram]\ntoken = "123:abc"\napi_url = "http://127.0.0.1:1/bot"\nadmins = [42]',
        source=False,
    )
    refused = invoke("run", "--once", "--config", str(config))
    assert refused.exit_code == 2
    assert "nothing to poll" in refused.stderr
    checked = invoke("check", "--config", str(config))
    assert "ok   sources: none yet: telegram.admins can add them with /addsource" in (
        checked.output.splitlines()
    )


def test_run_on_a_read_only_database_is_refused_in_one_line(tmp_path, read_only):
    """It raised a raw sqlite3.OperationalError (a traceback) from syncing the watches."""
    config = write(tmp_path, "")
    database = tmp_path / "alertbot.db"
    Store.open(database).close()
    read_only(database)
    refused = invoke("run", "--once", "--config", str(config))
    assert refused.exit_code == 2, refused.output
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"alertbot: {database}: cannot write the database (attempt to write")
    assert line.endswith(f"read-only for this user (uid {os.geteuid()})")
