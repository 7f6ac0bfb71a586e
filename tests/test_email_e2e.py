"""Email end to end on aiosmtpd: alerts through the outbox, `alertbot recap`, /email."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from alertbot.app import open_app
from alertbot.cli import cli
from alertbot.config import load_config
from alertbot.store import NewItem, Recipient, Store
from testsupport.botapi import TOKEN, BotApi
from testsupport.httpserver import LocalServer
from testsupport.smtpserver import Inbox, smtp_server
from testsupport.sourcefixtures import news_items, rss
from testsupport.storefixtures import article


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with LocalServer() as server:
        items = news_items(4, base_url=server.url(""), start=datetime.now(UTC) - timedelta(hours=1))
        feed = rss(items, base_url=server.url(""), full_text=True)
        server.route("/feed", feed, headers={"Content-Type": "application/rss+xml"})
        yield server


def write_config(tmp_path: Path, port: int, extra: str = "", watch: str = "في") -> Path:
    path = tmp_path / "alertbot.toml"
    path.write_text(
        f'timezone = "Africa/Cairo"\ndatabase = "{tmp_path / "db.sqlite"}"\n{extra}'
        f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsecurity = "none"\n'
        'sender = "alertbot <alerts@example.org>"\nrecap_to = ["desk@example.org"]\n'
        'alert_to = ["analyst@example.org"]\n'
        f'[[watch]]\nname = "عام"\nquery = "{watch}"\n',
        encoding="utf-8",
    )
    return path


def messages(inbox: Inbox) -> list:
    return [message_from_bytes(e.content, policy=policy.default) for e in inbox.envelopes]


async def test_email_alerts_go_out_through_the_outbox_one_per_story(tmp_path, site, lemmatizer):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        path = write_config(tmp_path, server.port, watch="في")
        source = f'[[source]]\nname = "Loop"\nurl = "{site.url("/feed")}"\n'
        path.write_text(path.read_text(encoding="utf-8") + source, encoding="utf-8")
        config = load_config(path)
        runtime = await open_app(config, lemmatizer)
        async with runtime.stack:
            assert set(runtime.notifiers) == {"console", "email"}
            outcomes, sent = await runtime.scheduler.run_once()
            assert sent.failed == 0
            await runtime.scheduler.shutdown()
    mails = [m for m in messages(inbox) if m["To"] == "analyst@example.org"]
    assert outcomes[0].error is None and len(mails) == outcomes[0].counts.new_stories >= 1
    mail = mails[0]
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Subject"].startswith("[alertbot] عام: ")
    assert 'dir="rtl"' in mail.get_body(("html",)).get_content()


def _store_with_a_story(path: Path, when: datetime) -> None:
    store = Store.open(path)
    url = "https://ahram.example/1"
    item = article(url, text="نص", fetched=when, published=when)
    store.record_item(
        NewItem(item, "h1", None, None, ["Naryshkin"], "", [Recipient("telegram", "5")]), when
    )
    store.close()


def test_recap_print_and_send(tmp_path):
    inbox = Inbox()
    with smtp_server(inbox) as server:
        config = write_config(tmp_path, server.port)
        _store_with_a_story(tmp_path / "db.sqlite", datetime.now(UTC) - timedelta(hours=2))
        runner = CliRunner()
        printed = runner.invoke(cli, ["recap", "--config", str(config), "--print"])
        assert printed.exit_code == 0, printed.output
        assert "السيسي يستقبل ناريشكين" in printed.output and "Naryshkin" in printed.output
        sent = runner.invoke(cli, ["recap", "--config", str(config), "--send"])
        assert sent.exit_code == 0, sent.output
        (mail,) = messages(inbox)
        assert mail["To"] == "desk@example.org" and "1 story" in mail["Subject"]
        day = runner.invoke(cli, ["recap", "--config", str(config), "--date", "2020-01-01",
                                  "--print"])  # fmt: skip
        assert day.exit_code == 0 and "Nothing matched" in day.output
        bad = runner.invoke(cli, ["recap", "--config", str(config), "--date", "01/02", "--print"])
        assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
        both = runner.invoke(cli, ["recap", "--config", str(config)])
        assert both.exit_code == 2


def test_recap_send_refused_exits_1_with_the_servers_reply(tmp_path):
    with smtp_server(Inbox(rcpt_reply="550 5.1.1 User unknown")) as server:
        config = write_config(tmp_path, server.port)
        result = CliRunner().invoke(cli, ["recap", "--config", str(config), "--send"])
    assert result.exit_code == 1
    assert "550 5.1.1 User unknown" in result.output


async def test_email_and_verify_subscribe_a_chat_to_its_recap(tmp_path, lemmatizer):
    inbox = Inbox()
    with smtp_server(inbox) as server, BotApi() as api:
        telegram = f'[telegram]\ntoken = "{TOKEN}"\napi_url = "{api.url}"\nallowed_chats = [5]\n'
        config = load_config(write_config(tmp_path, server.port, telegram))
        runtime = await open_app(config, lemmatizer)
        async with runtime.stack:
            runtime.scheduler.telegram.start()
            await api.until(lambda a: a.calls_to("deleteWebhook"), timeout=10)
            api.send_text(5, "/email reader@example.org")
            await api.until(lambda a: a.sent(5), timeout=10)
            assert "code was mailed" in api.sent(5)[0].text
            (mail,) = messages(inbox)
            assert mail["To"] == "reader@example.org"
            code = re.search(r"\b(\d{6})\b", mail["Subject"]).group(1)
            api.send_text(5, f"/verify {code}")
            await api.until(lambda a: len(a.sent(5)) == 2, timeout=10)
            assert "reader@example.org will get" in api.sent(5)[1].text
            assert runtime.scheduler.store.verified_chat_emails() == [(5, "reader@example.org")]
            api.send_text(5, "/email off")
            await api.until(lambda a: len(a.sent(5)) == 3, timeout=10)
            assert runtime.scheduler.store.verified_chat_emails() == []
            await runtime.scheduler.shutdown()
