"""Which URLs and addresses a source added at run time may point at. No network: literal
addresses are checked without a lookup, and `localhost` resolves from the hosts file."""

from __future__ import annotations

import ipaddress

import pytest

from alertbot.sources.safety import check_address, check_url, is_public_address


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/rss",
        "https://example.org:8443/a?b=c#d",
        "HTTPS://EXAMPLE.ORG/",
        "https://[2606:4700::1111]/",
    ],
)
def test_check_url_accepts_plain_http_urls(url):
    assert check_url(url) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.org/rss", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("example.org/rss", "scheme"),
        ("http:///rss", "no host"),
        ("http://user:secret@example.org/", "credentials"),
        ("http://user@example.org/", "credentials"),
        ("http://example.org:99999/", "malformed"),
        ("http://example.org:0/", "port 0"),
        ("http://exa mple.org/", "whitespace"),
        ("http://[::1/", "malformed"),
    ],
)
def test_check_url_refuses(url, words):
    problem = check_url(url)
    assert problem is not None
    assert words in problem


def test_check_url_allows_credentials_when_asked():
    assert check_url("https://user:secret@example.org/", allow_userinfo=True) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "100.64.0.1",
        "100.127.255.254",
        "169.254.169.254",
        "169.254.1.1",
        "fd00:ec2::254",
        "fd12:3456::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
        "255.255.255.255",
    ],
)
def test_non_public_addresses(address):
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "1.1.1.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses(address):
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "::1", "[::1]", "10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1"]
)
async def test_check_address_refuses_private_literals(host):
    problem = await check_address(host, 80)
    assert problem is not None
    assert "not a public address" in problem


async def test_check_address_accepts_a_public_literal():
    assert await check_address("93.184.216.34", 443) is None


async def test_check_address_refuses_localhost():
    problem = await check_address("localhost", 80)
    assert problem is not None
    assert problem.startswith("localhost (")


async def test_check_address_uses_the_given_policy():
    def only_127_0_0_2(ip):
        return ip == ipaddress.ip_address("127.0.0.2")

    assert await check_address("127.0.0.2", 80, is_public=only_127_0_0_2) is None
    assert await check_address("127.0.0.1", 80, is_public=only_127_0_0_2) is not None
