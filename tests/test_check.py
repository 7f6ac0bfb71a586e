"""`alertbot check` on loopback: config problems, the database, Telegram getMe, the SMTP
login and one fetch of each source, each reported on one `ok`/`FAIL` line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import testsupport.sourcefixtures as fx
from alertbot.check import run_checks
from alertbot.store import SCHEMA_VERSION
from testsupport.httpserver import LocalServer, Request, Response
from testsupport.smtpserver import Inbox, authenticator, free_port, smtp_server

TOKEN = "123456:AAH-very-secret-token"
PASSWORD = "p"
WRONG_PASSWORD = "hunter2-wrong"
ME = {"id": 1, "is_bot": True, "first_name": "A", "username": "alert_bot"}


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "alertbot.toml"
    path.write_text(f'database = "{tmp_path / "state" / "alertbot.db"}"\n' + body, "utf-8")
    return path


def source(name: str, url: str, kind: str = "feed") -> str:
    return f'[[source]]\nname = "{name}"\nurl = "{url}"\ntype = "{kind}"\n'


async def check(path: Path, environ: dict[str, str] | None = None) -> tuple[bool, list[str]]:
    out: list[str] = []
    ok = await run_checks(path, environ or {}, echo=out.append, timeout=2.0)
    return ok, out


def feed_server(server: LocalServer) -> None:
    items = fx.news_items(3, base_url=server.url("").rstrip("/"))
    server.route("/rss", fx.rss(items), headers={"Content-Type": "application/rss+xml"})
    page = b"<html><body><p>not a feed</p></body></html>"
    server.route("/html", page, headers={"Content-Type": "text/html"})


# --- config and sources ------------------------------------------------------------------


async def test_good_and_failing_sources(tmp_path, server):
    feed_server(server)
    path = write_config(
        tmp_path,
        source("Good", server.url("/rss"))
        + source("Gone", server.url("/missing"))
        + source("Not a feed", server.url("/html")),
    )
    ok, out = await check(path)
    assert not ok
    assert out[0] == f"ok   config: {path} (3 sources, 0 watches)"
    database = tmp_path / "state" / "alertbot.db"
    assert out[1] == f"ok   database: {database} (schema {SCHEMA_VERSION})"
    assert f"ok   source Good: 3 entries ({server.url('/rss')})" in out
    [gone] = [line for line in out if "source Gone" in line]
    assert gone.startswith("FAIL source Gone: http-status: ")
    assert "404" in gone and gone.endswith(f"({server.url('/missing')})")
    [html] = [line for line in out if "source Not a feed" in line]
    assert html.startswith("FAIL source Not a feed: parse: ")
    assert len(out) == 5
    # Entries count as seen: no article page was fetched.
    assert [r.path for r in server.requests if r.path not in ("/rss", "/missing", "/html")] == []


async def test_everything_good(tmp_path, server):
    feed_server(server)
    path = write_config(tmp_path, source("Good", server.url("/rss")))
    ok, out = await check(path)
    assert ok
    assert all(line.startswith("ok   ") for line in out)
    assert len(out) == 3


async def test_every_config_problem_is_reported_and_nothing_else_is_tried(tmp_path, server):
    path = write_config(
        tmp_path,
        '[polling]\ninterval = "5x"\n'
        + source("A", server.url("/rss"), kind="rss")
        + '[[watch]]\nname = "Dabaa"\nquery = "الضبعة AND"\ncolour = 1\n',
    )
    ok, out = await check(path)
    assert not ok
    assert out == [
        f"FAIL config: {path}: polling.interval: bad duration '5x'"
        " (use a whole number and s, m, h or d: 30s, 5m, 2h, 1d, or combined as 2h30m)",
        f"FAIL config: {path}: source[0].type: must be one of feed, page, sitemap, telegram,"
        " not 'rss'",
        f"FAIL config: {path}: watch[0].colour: unknown key",
        f"FAIL config: {path}: watch[0].query: nothing after AND at column 11",
    ]
    assert server.requests == []
    assert not (tmp_path / "state").exists()


async def test_missing_config_file(tmp_path):
    ok, out = await check(tmp_path / "nope.toml")
    assert not ok
    assert out == [f"FAIL config: {tmp_path / 'nope.toml'}: file not found"]


async def test_unusable_database(tmp_path):
    path = write_config(tmp_path, "")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "alertbot.db").write_bytes(b"this is not sqlite" * 100)
    ok, out = await check(path)
    assert not ok
    assert out[1].startswith("FAIL database: ") and "not a usable alertbot database" in out[1]


# --- Telegram ----------------------------------------------------------------------------


def a_source(server: LocalServer) -> str:
    """One good source on `server`: a config with nothing to poll fails the check."""
    feed_server(server)
    return source("News", server.url("/rss"))


def telegram_config(tmp_path: Path, server: LocalServer) -> Path:
    return write_config(
        tmp_path,
        f'[telegram]\ntoken = "${{TOKEN}}"\napi_url = "{server.url("/bot")}"\n' + a_source(server),
    )


def answer(status: int, payload: dict) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


async def test_telegram_get_me(tmp_path, server):
    def get_me(request: Request) -> Response:
        assert request.method == "POST"
        return answer(200, {"ok": True, "result": ME})

    server.route(f"/bot{TOKEN}/getMe", handler=get_me)
    ok, out = await check(telegram_config(tmp_path, server), {"TOKEN": TOKEN})
    assert ok
    assert "ok   telegram: @alert_bot" in out
    assert server.requests_to(f"/bot{TOKEN}/getMe")


async def test_telegram_rejected_token_is_not_printed(tmp_path, server, caplog):
    unauthorized = {"ok": False, "error_code": 401, "description": "Unauthorized"}
    server.route(f"/bot{TOKEN}/getMe", handler=lambda request: answer(401, unauthorized))
    ok, out = await check(telegram_config(tmp_path, server), {"TOKEN": TOKEN})
    assert not ok
    [line] = [line for line in out if " telegram: " in line]
    assert line.startswith("FAIL telegram: InvalidToken: ")
    assert "<token>" in line  # PTB names the token; we print a placeholder
    text = "\n".join(out) + caplog.text
    assert TOKEN not in text and "very-secret" not in text


async def test_telegram_unreachable(tmp_path):
    port = free_port()
    path = write_config(
        tmp_path, f'[telegram]\ntoken = "{TOKEN}"\napi_url = "http://127.0.0.1:{port}/bot"\n'
    )
    ok, out = await check(path)
    assert not ok
    [line] = [line for line in out if " telegram: " in line]
    assert line.startswith("FAIL telegram: NetworkError: ")
    assert TOKEN not in "\n".join(out)


# --- SMTP --------------------------------------------------------------------------------


@pytest.fixture
def smtp_port() -> Iterator[int]:
    auth = authenticator("u", PASSWORD)
    with smtp_server(Inbox(), authenticator=auth, auth_require_tls=False) as controller:
        yield controller.port


def email_config(
    tmp_path: Path, port: int, password: str, username: str = "u", sources: str = ""
) -> Path:
    return write_config(
        tmp_path,
        f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
        f'username = "{username}"\npassword = "${{SMTP_PASSWORD}}"\nsender = "a@example.org"\n'
        + sources,
    )


async def test_smtp_login(tmp_path, smtp_port, server):
    path = email_config(tmp_path, smtp_port, PASSWORD, sources=a_source(server))
    ok, out = await check(path, {"SMTP_PASSWORD": PASSWORD})
    assert ok
    assert f"ok   smtp: logged in to 127.0.0.1:{smtp_port} as u" in out


async def test_smtp_without_login(tmp_path, smtp_port, server):
    path = email_config(tmp_path, smtp_port, "", username="", sources=a_source(server))
    ok, out = await check(path, {"SMTP_PASSWORD": ""})  # set, to nothing: no login
    assert ok
    assert f"ok   smtp: connected to 127.0.0.1:{smtp_port} (no login)" in out


async def test_smtp_wrong_password_is_not_printed(tmp_path, smtp_port):
    path = email_config(tmp_path, smtp_port, WRONG_PASSWORD)
    ok, out = await check(path, {"SMTP_PASSWORD": WRONG_PASSWORD})
    assert not ok
    [line] = [line for line in out if " smtp: " in line]
    assert line.startswith(f"FAIL smtp: 127.0.0.1:{smtp_port}: 535 ")
    assert WRONG_PASSWORD not in "\n".join(out)


async def test_smtp_unreachable(tmp_path):
    port = free_port()
    ok, out = await check(email_config(tmp_path, port, PASSWORD), {"SMTP_PASSWORD": PASSWORD})
    assert not ok
    [line] = [line for line in out if " smtp: " in line]
    assert line.startswith(f"FAIL smtp: 127.0.0.1:{port}: ConnectionRefusedError: ")
