"""Checks for sources added at run time, before any byte is sent to them.

Sources in the config file are trusted. A source added from Telegram is not: its URL must
be http or https with a host and no credentials, and every address its host resolves to
must be public, on the first request and on every redirect hop, unless
`polling.allow_private_addresses` is set. Refused: loopback, private (RFC 1918, unique
local fc00::/7), link-local (including the cloud metadata addresses 169.254.169.254 and
fd00:ec2::254), carrier-grade NAT (100.64.0.0/10), multicast, reserved and unspecified
addresses, and IPv6 addresses that embed one of those (IPv4-mapped, 6to4, NAT64).

    check_url(url)              -> message | None     syntax only, no I/O
    check_address(host, port)   -> message | None     resolves the host
    is_public_address(ip)       -> bool               the policy, pure

The check resolves the name itself and the HTTP client resolves it again to connect, so a
name whose DNS answer changes in between (DNS rebinding) is not covered here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]

ALLOWED_SCHEMES = ("http", "https")
CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
METADATA_ADDRESSES = frozenset(
    {ipaddress.IPv4Address("169.254.169.254"), ipaddress.IPv6Address("fd00:ec2::254")}
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def check_url(url: str, *, allow_userinfo: bool = False) -> str | None:
    """What is wrong with the URL's syntax for fetching (scheme, host, credentials), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a port that is not a number in range
    except ValueError as exc:
        return f"malformed URL: {exc}"
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return f"scheme {parts.scheme or '(none)'!r} is not http or https"
    if not parts.hostname:
        return "URL has no host"
    if not allow_userinfo and "@" in parts.netloc:
        return "URL carries credentials (user@host)"
    if port == 0:
        return "URL has port 0"
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        return "URL contains whitespace or control characters"
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True if the address is a public unicast one that a runtime source may point at."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
    if ip in METADATA_ADDRESSES or (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT):
        return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def check_address(
    host: str, port: int, *, is_public: AddressPolicy = is_public_address
) -> str | None:
    """Why the host may not be fetched (one of its addresses is not public), or None.

    A literal address is checked without any lookup. A name that does not resolve is not
    refused here: there is nothing unsafe to point at, and the connection attempt that
    follows fails with its own error.
    """
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return None
        addresses = []
        for *_, sockaddr in infos:
            address = _literal(str(sockaddr[0]))
            if address is None:
                return f"{host} resolves to an unparsable address {sockaddr[0]!r}"
            addresses.append(address)
    for address in addresses:
        if not is_public(address):
            shown = host if str(address) == host else f"{host} ({address})"
            return f"{shown} is not a public address"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None
