"""A loopback port for a server a test or benchmark starts (one that cannot take port 0:
a child process told its port, aiosmtpd's Controller, PostgreSQL)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nobody listens on (for now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
