"""The email channel on a loopback aiosmtpd: TLS verified, login, 4xx retried, 5xx failed."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default

import pytest
import trustme

from alertbot.config import EmailConfig
from alertbot.notify import Alert, Dispatcher, retry_delay
from alertbot.notify.smtp import EmailNotifier, SmtpError, connect, quit_quietly, send_message
from alertbot.store import NewItem, Recipient, StoreRunner
from alertbot.watch.snippet import Snippet
from testsupport.smtpserver import Inbox, authenticator, free_port, smtp_server
from testsupport.storefixtures import article

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TIMEOUT = 5.0
SENDER = "alerts@example.org"
DESK = "desk@example.org"
SUBJECT = "تنبيه: السيسي يستقبل ناريشكين في القاهرة"
PASSWORD = "correct-horse"
WRONG_PASSWORD = "hunter2-wrong"


def email_config(port: int, security: str = "none", **fields) -> EmailConfig:
    return EmailConfig(
        smtp_host="127.0.0.1", smtp_port=port, security=security, sender=SENDER, **fields
    )


def arabic_message(to: str = DESK) -> EmailMessage:
    message = EmailMessage()
    message["From"] = Address("تنبيهات الأخبار", addr_spec=SENDER)
    message["To"] = Address("مكتب الأخبار", addr_spec=to)
    message["Subject"] = SUBJECT
    message.set_content("استقبل الرئيس السيسي اليوم ناريشكين مدير جهاز المخابرات.\n")
    return message


def received(inbox: Inbox) -> EmailMessage:
    [envelope] = inbox.envelopes
    return message_from_bytes(envelope.content, policy=default)


def send_error(config: EmailConfig, **options) -> SmtpError:
    """The SmtpError that sending the Arabic message raises."""
    with pytest.raises(SmtpError) as caught:
        send_message(config, arabic_message(), **{"timeout": TIMEOUT, **options})
    return caught.value


# --- TLS: a throwaway CA (trustme) that only the test's client context trusts -------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


# --- sending -------------------------------------------------------------------------------


def test_plain_delivery_keeps_the_arabic_subject():
    inbox = Inbox()
    with smtp_server(inbox) as server:
        send_message(email_config(server.port), arabic_message(), timeout=TIMEOUT)
    message = received(inbox)
    assert message["Subject"] == SUBJECT
    assert message["From"].addresses[0].display_name == "تنبيهات الأخبار"
    assert "ناريشكين" in message.get_content()
    assert (inbox.envelopes[0].mail_from, inbox.envelopes[0].rcpt_tos) == (SENDER, [DESK])


def test_starttls_delivers_to_a_server_whose_certificate_is_trusted(server_tls, client_tls):
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_tls, require_starttls=True) as server:
        config = email_config(server.port, "starttls")
        send_message(config, arabic_message(), timeout=TIMEOUT, context=client_tls)
    assert received(inbox)["Subject"] == SUBJECT


def test_starttls_verifies_the_certificate_by_default(server_tls):
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_tls, require_starttls=True) as server:
        error = send_error(email_config(server.port, "starttls"))
    assert error.permanent
    assert str(error).startswith("certificate not trusted: ")
    assert inbox.envelopes == []


def test_starttls_is_required_when_configured():
    inbox = Inbox()
    with smtp_server(inbox) as server:  # no tls_context: no STARTTLS in the EHLO answer
        error = send_error(email_config(server.port, "starttls"))
    assert error.permanent
    assert str(error) == "server does not offer STARTTLS"
    assert inbox.envelopes == []


def test_implicit_tls_delivers(server_tls, client_tls):
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=server_tls) as server:
        config = email_config(server.port, "ssl")
        send_message(config, arabic_message(), timeout=TIMEOUT, context=client_tls)
    assert received(inbox)["Subject"] == SUBJECT


def test_implicit_tls_verifies_the_certificate_by_default(server_tls):
    with smtp_server(Inbox(), ssl_context=server_tls) as server:
        error = send_error(email_config(server.port, "ssl"))
    assert error.permanent
    assert "certificate" in str(error)


# --- login ---------------------------------------------------------------------------------


@pytest.fixture
def auth_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    options = {"authenticator": authenticator("u", PASSWORD), "auth_require_tls": False}
    with smtp_server(inbox, **options) as server:
        yield inbox, server.port


def test_login_then_delivery(auth_server):
    inbox, port = auth_server
    config = email_config(port, username="u", password=PASSWORD)
    send_message(config, arabic_message(), timeout=TIMEOUT)
    assert received(inbox)["Subject"] == SUBJECT


def test_login_after_starttls(server_tls, client_tls):
    # aiosmtpd refuses AUTH on a connection that is not encrypted yet (auth_require_tls).
    auth = authenticator("u", PASSWORD)
    with smtp_server(Inbox(), tls_context=server_tls, authenticator=auth) as server:
        config = email_config(server.port, "starttls", username="u", password=PASSWORD)
        smtp = connect(config, timeout=TIMEOUT, context=client_tls)
        try:
            assert smtp.noop()[0] == 250
        finally:
            quit_quietly(smtp)


def test_a_wrong_password_is_permanent_and_never_named(auth_server):
    inbox, port = auth_server
    config = email_config(port, username="u", password=WRONG_PASSWORD)
    error = send_error(config)
    assert (error.permanent, error.code) == (True, 535)
    assert str(error).startswith("535 ")
    assert WRONG_PASSWORD not in f"{error} {error.reply} {error!r}"
    assert inbox.envelopes == []


# --- the server's answers ------------------------------------------------------------------


@pytest.mark.parametrize("where", ["rcpt_reply", "data_reply"])
def test_a_4xx_answer_is_temporary(where):
    with smtp_server(Inbox(**{where: "451 4.3.0 Try again later"})) as server:
        error = send_error(email_config(server.port))
    assert not error.permanent
    assert "451 4.3.0 Try again later" in str(error)
    assert (error.code, error.reply.endswith("4.3.0 Try again later")) == (451, True)


@pytest.mark.parametrize("where", ["rcpt_reply", "data_reply"])
def test_a_5xx_answer_is_permanent_with_the_reply(where):
    with smtp_server(Inbox(**{where: "550 5.1.1 User unknown"})) as server:
        error = send_error(email_config(server.port))
    assert error.permanent
    assert "550 5.1.1 User unknown" in str(error)
    assert (error.code, error.reply.endswith("5.1.1 User unknown")) == (550, True)


def test_a_refused_recipient_is_named():
    with smtp_server(Inbox(rcpt_reply="550 5.1.1 User unknown")) as server:
        error = send_error(email_config(server.port))
    assert str(error) == f"recipients refused: {DESK}: 550 5.1.1 User unknown"


def test_a_server_that_is_down_is_temporary():
    error = send_error(email_config(free_port()))
    assert not error.permanent
    assert str(error).startswith("ConnectionRefusedError: ")


def test_a_silent_server_times_out_as_temporary():
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts, never greets
        port = listener.getsockname()[1]
        error = send_error(email_config(port), timeout=0.3)
    assert not error.permanent
    assert "timed out" in str(error)


# --- EmailNotifier -------------------------------------------------------------------------


def render(alert: Alert) -> EmailMessage:
    """A plain alert email (the real one is built elsewhere); To is left to the notifier."""
    message = EmailMessage()
    message["Subject"] = f"تنبيه: {alert.title}"
    message.set_content(f"{alert.title}\n{alert.url}\n")
    return message


def an_alert(recipient: str = DESK) -> Alert:
    return Alert(
        outbox_id=1,
        story_id=1,
        channel="email",
        recipient=recipient,
        watches=("Naryshkin",),
        title="السيسي يستقبل ناريشكين",
        url="https://ahram.example/1",
        outlet="Ahram",
        published=NOW,
        snippet=Snippet("استقبل السيسي ناريشكين اليوم", ()),
        also=(),
        attempts=0,
    )


async def test_the_notifier_sends_to_the_recipient_and_returns_the_message_id():
    inbox = Inbox()
    with smtp_server(inbox) as server:
        notifier = EmailNotifier(email_config(server.port), render, timeout=TIMEOUT)
        ref = await notifier.send(an_alert())
    message = received(inbox)
    assert ref is not None and ref == message["Message-ID"]
    assert ref.endswith("@example.org>")
    assert (message["To"], message["From"]) == (DESK, SENDER)
    assert message["Subject"] == "تنبيه: السيسي يستقبل ناريشكين"
    assert inbox.envelopes[0].rcpt_tos == [DESK]


async def test_the_notifier_reports_a_permanent_failure_and_raises():
    told: list[str] = []

    async def tell_admins(text: str) -> None:
        told.append(text)

    with smtp_server(Inbox(rcpt_reply="550 5.1.1 User unknown")) as server:
        config = email_config(server.port)
        notifier = EmailNotifier(config, render, timeout=TIMEOUT, on_failure=tell_admins)
        with pytest.raises(SmtpError) as caught:
            await notifier.send(an_alert())
    assert caught.value.permanent
    [text] = told
    assert text.startswith(f"email alert to {DESK} failed: ")
    assert "550 5.1.1 User unknown" in text


async def test_the_notifier_does_not_report_a_temporary_failure():
    told: list[str] = []

    async def tell_admins(text: str) -> None:
        told.append(text)

    notifier = EmailNotifier(
        email_config(free_port()), render, timeout=TIMEOUT, on_failure=tell_admins
    )
    with pytest.raises(SmtpError):
        await notifier.send(an_alert())
    assert told == []


async def test_a_failing_report_is_logged_and_the_delivery_error_still_raised(caplog):
    async def broken(text: str) -> None:
        raise RuntimeError("telegram is down")

    with smtp_server(Inbox(data_reply="554 5.7.1 Rejected")) as server:
        notifier = EmailNotifier(email_config(server.port), render, on_failure=broken)
        with pytest.raises(SmtpError, match=r"554 5\.7\.1 Rejected"):
            await notifier.send(an_alert())
    assert "could not report an email failure" in caplog.text
    assert "telegram is down" in caplog.text


# --- through the dispatcher and a real outbox ----------------------------------------------


def queue_email(store) -> int:
    snippet = Snippet("استقبل السيسي ناريشكين اليوم", ()).to_json()
    outcome = store.record_item(
        NewItem(
            article("https://ahram.example/1"),
            "hash-1",
            None,
            None,
            ["Naryshkin"],
            snippet,
            [Recipient("email", DESK)],
        ),
        NOW,
    )
    [row_id] = outcome.outbox_ids
    return row_id


async def test_a_4xx_leaves_the_row_pending_for_a_later_attempt(store):
    row_id = queue_email(store)
    with smtp_server(Inbox(rcpt_reply="451 4.3.0 Try again later")) as server:
        notifier = EmailNotifier(email_config(server.port), render, timeout=TIMEOUT)
        counts = await Dispatcher(StoreRunner(store), {"email": notifier}, lambda: NOW).dispatch()
    assert counts.retried == 1
    row = store.outbox_row(row_id)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.next_attempt == NOW + retry_delay(1)
    assert "451 4.3.0 Try again later" in row.last_error


async def test_a_5xx_fails_the_row_with_the_reply(store):
    row_id = queue_email(store)
    told: list[str] = []

    async def tell_admins(text: str) -> None:
        told.append(text)

    with smtp_server(Inbox(rcpt_reply="550 5.1.1 User unknown")) as server:
        config = email_config(server.port)
        notifier = EmailNotifier(config, render, timeout=TIMEOUT, on_failure=tell_admins)
        counts = await Dispatcher(StoreRunner(store), {"email": notifier}, lambda: NOW).dispatch()
    assert counts.failed == 1
    row = store.outbox_row(row_id)
    assert row.state == "failed"
    assert row.last_error == f"recipients refused: {DESK}: 550 5.1.1 User unknown"
    assert len(told) == 1


async def test_a_sent_row_keeps_the_message_id(store):
    row_id = queue_email(store)
    inbox = Inbox()
    with smtp_server(inbox) as server:
        notifier = EmailNotifier(email_config(server.port), render, timeout=TIMEOUT)
        counts = await Dispatcher(StoreRunner(store), {"email": notifier}, lambda: NOW).dispatch()
    assert counts.sent == 1
    row = store.outbox_row(row_id)
    assert row.state == "sent"
    assert row.message_ref == received(inbox)["Message-ID"]
