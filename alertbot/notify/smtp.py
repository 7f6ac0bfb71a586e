"""The email channel: alerts sent through the SMTP server of the `[email]` section.

`security` is `starttls` (port 587: plain connection, then STARTTLS, refused if the server
does not offer it), `ssl` (port 465: TLS from the first byte) or `none`. The server's
certificate is verified against the system's trust store (`ssl.create_default_context()`;
smtplib verifies nothing unless it is handed such a context). A username means a login.

Every failure becomes an `SmtpError` (a `DeliveryError`):

    temporary   a 4xx reply, a refused or dropped connection, a timeout, a TLS failure
                other than an untrusted certificate: the dispatcher retries with backoff
    permanent   a 5xx reply (address unknown, login refused), an untrusted certificate,
                no STARTTLS, an extension the message needs: the row is marked failed
                with the server's reply

The password never appears in an error message. smtplib blocks, so `connect` and
`send_message` run in a worker thread (`EmailNotifier` does that).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from alertbot.config import EmailConfig
from alertbot.notify.alert import Alert
from alertbot.notify.base import DeliveryError
from alertbot.stories import StoryId

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0  # seconds, for each connect, read and write
MIN_SECRET = 4  # a shorter password is not redacted (it would mangle every message)


class SmtpError(DeliveryError):
    """An SMTP failure; `code` and `reply` are the server's answer when it gave one."""

    def __init__(
        self, message: str, *, permanent: bool = False, code: int | None = None, reply: str = ""
    ) -> None:
        self.code = code
        self.reply = reply
        super().__init__(message, permanent=permanent)


def connect(
    config: EmailConfig, *, timeout: float = DEFAULT_TIMEOUT, context: ssl.SSLContext | None = None
) -> smtplib.SMTP:
    """An open SMTP connection, secured as configured and logged in when a user is set.

    `context` replaces the default verifying TLS context (tests pass one trusting their
    own CA). The caller closes the connection (`quit_quietly`).
    """
    tls = context or ssl.create_default_context()
    with _translated(config):
        smtp: smtplib.SMTP
        if config.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                config.smtp_host, config.smtp_port, context=tls, timeout=timeout
            )
        else:
            smtp = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=timeout)
    try:
        with _translated(config):
            smtp.ehlo_or_helo_if_needed()
            if config.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SmtpError("server does not offer STARTTLS", permanent=True)
                smtp.starttls(context=tls)
                smtp.ehlo_or_helo_if_needed()
            if config.username:
                smtp.login(config.username, config.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def send_message(
    config: EmailConfig,
    message: EmailMessage,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    context: ssl.SSLContext | None = None,
) -> None:
    """Send one message from `config.sender` to the addresses in its headers (blocking).

    A message refused for some of its recipients but accepted for others counts as sent
    (sending it again would repeat it to the others); the refusals are logged.
    """
    smtp = connect(config, timeout=timeout, context=context)
    try:
        with _translated(config):
            refused = smtp.send_message(message, from_addr=config.sender)
    finally:
        quit_quietly(smtp)
    for address, (code, reply) in refused.items():
        log.warning("email to %s refused: %d %s", address, code, _text(reply))


def quit_quietly(smtp: smtplib.SMTP) -> None:
    """Say QUIT and close the connection, whatever the server answers."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass  # the message is sent or already failed; a rude goodbye changes nothing
    finally:
        smtp.close()


class EmailNotifier:
    """Sends each alert as an email built by `render`, in a worker thread.

    `on_failure` is told (with the error text) when an alert cannot be sent at all, so
    that someone hears of a dead address; its own failures are logged, never raised.
    """

    channel = "email"

    def __init__(
        self,
        config: EmailConfig,
        render: Callable[[Alert], EmailMessage],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        context: ssl.SSLContext | None = None,
        on_failure: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._config = config
        self._render = render
        self._timeout = timeout
        self._context = context
        self._on_failure = on_failure

    async def story_grew(self, story_id: StoryId) -> int:
        """A sent email cannot be changed: nothing to update."""
        return 0

    async def send(self, alert: Alert) -> str | None:
        """Send one alert; return its Message-ID, or raise SmtpError."""
        message = self._render(alert)
        if message["From"] is None:
            message["From"] = self._config.sender
        if message["To"] is None:
            message["To"] = alert.recipient
        if message["Message-ID"] is None:
            # make_msgid() without a domain asks DNS for this host's name: use the sender's.
            domain = parseaddr(self._config.sender)[1].rpartition("@")[2] or None
            message["Message-ID"] = make_msgid(domain=domain)
        try:
            await asyncio.to_thread(
                send_message, self._config, message, timeout=self._timeout, context=self._context
            )
        except SmtpError as exc:
            if exc.permanent and self._on_failure is not None:
                await self._tell(f"email alert to {alert.recipient} failed: {exc}")
            raise
        return message["Message-ID"]

    async def _tell(self, text: str) -> None:
        try:
            await self._on_failure(text)  # type: ignore[misc]  # checked by the caller
        except Exception:  # a broken side channel must not hide the failure it reports
            log.exception("could not report an email failure: %s", text)


@contextmanager
def _translated(config: EmailConfig) -> Iterator[None]:
    """Turn smtplib's, ssl's and socket errors into SmtpError, the password redacted."""
    try:
        yield
    except SmtpError:
        raise
    except smtplib.SMTPResponseException as exc:
        # SMTPAuthenticationError, SMTPSenderRefused, SMTPDataError, SMTPConnectError, ...
        raise _from_reply(config, exc.smtp_code, exc.smtp_error) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refused(config, exc.recipients) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise SmtpError(_redact(config, f"connection closed: {exc}")) from None
    except smtplib.SMTPException as exc:
        # No AUTH or no SMTPUTF8 offered, no usable login mechanism: asking again won't help.
        raise SmtpError(_redact(config, str(exc)), permanent=True) from None
    except ssl.SSLCertVerificationError as exc:
        message = f"certificate not trusted: {exc.verify_message or exc}"
        raise SmtpError(message, permanent=True) from None
    except OSError as exc:  # refused, reset, timed out, DNS, other TLS failures
        raise SmtpError(_redact(config, f"{type(exc).__name__}: {exc}")) from None


def _from_reply(config: EmailConfig, code: int, reply: bytes | str) -> SmtpError:
    text = _redact(config, _text(reply))
    return SmtpError(f"{code} {text}", permanent=500 <= code < 600, code=code, reply=text)


def _refused(config: EmailConfig, recipients: Mapping[str, tuple[int, bytes | str]]) -> SmtpError:
    """Every recipient refused: permanent only when every refusal is a 5xx."""
    answers = {address: (code, _text(reply)) for address, (code, reply) in recipients.items()}
    text = _redact(config, "; ".join(f"{a}: {c} {r}" for a, (c, r) in answers.items()))
    codes = [code for code, _ in answers.values()]
    return SmtpError(
        f"recipients refused: {text}",
        permanent=all(500 <= code < 600 for code in codes),
        code=codes[0] if codes else None,
        reply=text,
    )


def _text(reply: bytes | str) -> str:
    """A server reply on one line (smtplib joins a multi-line reply with newlines)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _redact(config: EmailConfig, text: str) -> str:
    if len(config.password) >= MIN_SECRET:
        text = text.replace(config.password, "<password>")
    return text
