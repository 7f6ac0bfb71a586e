"""An SMTP server on loopback for the email tests: aiosmtpd's Controller in a thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from testsupport.ports import free_port

# aiosmtpd's Controller connects to its own port to start, so it cannot take port 0: it
# is given a `free_port` (which the SMTP tests also import from here).


class Inbox:
    """A handler that keeps every envelope, or answers RCPT or DATA with a set reply."""

    def __init__(self, *, rcpt_reply: str | None = None, data_reply: str | None = None) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 OK"


def authenticator(login: str, password: str) -> Callable[..., AuthResult]:
    """An aiosmtpd authenticator accepting one login and password (AUTH PLAIN or LOGIN)."""

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            login.encode(),
            password.encode(),
        )
        return AuthResult(success=good, handled=False)

    return authenticate


@contextmanager
def smtp_server(handler: object, **options: Any) -> Iterator[Controller]:
    """A started Controller on 127.0.0.1 (`options` go to aiosmtpd: `tls_context`,
    `ssl_context`, `authenticator`, ...), stopped on exit."""
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), server_hostname="mail.test", **options
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()
