"""The one SSRF guard webhooks and single sign-on share: which addresses the server refuses to reach."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from config.egress import EgressRefused, forbidden_reason, host_syntax_error, resolve_public


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    """Resolve the given names to the given addresses, IP literals as usual, nothing else."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            if _is_literal(host):
                return real(host, port, *args, **kwargs)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456:789a::1", "private"),  # IPv6 unique local
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("169.254.10.20", "link-local"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("fe80::1", "link-local"),
        ("::ffff:10.0.0.1", "private"),  # IPv4-mapped IPv6
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 wrapping 169.254.169.254
        ("64:ff9b::a00:1", "private"),  # NAT64 wrapping 10.0.0.1
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address refused, not bound
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
    ],
)
def test_it_refuses_every_non_public_address_literal_naming_the_reason(address: str, reason: str) -> None:
    assert forbidden_reason(address) == reason

    with pytest.raises(EgressRefused) as refused:
        resolve_public(address, 443, allow_private=False, purpose="webhook")

    assert refused.value.rule == "forbidden_address"
    assert (refused.value.address, refused.value.reason) == (address, reason)
    assert refused.value.code == "private_address"
    assert f"webhook to {address} refused: {address} is a {reason} address" == str(refused.value)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34"])
def test_it_returns_a_public_address_literal_as_the_pinned_address(address: str) -> None:
    assert forbidden_reason(address) is None
    assert resolve_public(address, 443, allow_private=False, purpose="webhook") == (address,)


def test_it_refuses_a_name_that_resolves_to_a_private_address(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"idp.partner.example": ["10.0.0.7"]})

    with pytest.raises(EgressRefused) as refused:
        resolve_public("idp.partner.example", 443, allow_private=False, purpose="identity provider")

    assert (refused.value.rule, refused.value.host, refused.value.address) == (
        "forbidden_address",
        "idp.partner.example",
        "10.0.0.7",
    )
    assert str(refused.value) == "identity provider to idp.partner.example refused: 10.0.0.7 is a private address"


def test_one_private_address_among_public_ones_refuses_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver answering public first and metadata second must not slip through."""
    fake_dns(monkeypatch, {"hooks.partner.example": ["93.184.216.34", "169.254.169.254"]})

    with pytest.raises(EgressRefused) as refused:
        resolve_public("hooks.partner.example", 443, allow_private=False, purpose="webhook")

    assert (refused.value.address, refused.value.reason) == ("169.254.169.254", "link-local")


def test_it_pins_every_public_address_once_in_resolver_order(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"hooks.partner.example": ["2606:2800:220:1::1", "93.184.216.34", "93.184.216.34"]})

    addresses = resolve_public("hooks.partner.example", 443, allow_private=False, purpose="webhook")

    assert addresses == ("2606:2800:220:1::1", "93.184.216.34")


@pytest.mark.parametrize("host", ["localhost", "localhost.", "api.localhost"])
def test_it_refuses_localhost_names_before_asking_dns(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {host: ["93.184.216.34"]})  # even a resolver that says otherwise

    with pytest.raises(EgressRefused) as refused:
        resolve_public(host, 443, allow_private=False, purpose="webhook")

    assert (refused.value.rule, refused.value.code) == ("localhost", "private_address")


def test_a_name_that_does_not_resolve_is_refused_even_when_private_addresses_are_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {})

    with pytest.raises(EgressRefused) as refused:
        resolve_public("nowhere.example", 443, allow_private=True, purpose="webhook")

    assert (refused.value.rule, refused.value.code) == ("unresolvable", "unresolvable")


def test_allowing_private_addresses_lets_loopback_and_private_names_through(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"receiver.internal": ["10.0.0.7"]})

    assert resolve_public("receiver.internal", 80, allow_private=True, purpose="webhook") == ("10.0.0.7",)
    assert resolve_public("127.0.0.1", 80, allow_private=True, purpose="webhook") == ("127.0.0.1",)


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("partner.example", None),
        ("2001:db8::1", None),
        ("fe80::1%eth0", "ipv6"),  # an interface (zone) is never a partner's address
        ("2001:db8::zz", "ipv6"),
        ("partner example", "host_name"),
        ("partner/example", "host_name"),
    ],
)
def test_it_names_what_is_wrong_with_a_host(host: str, problem: str | None) -> None:
    assert host_syntax_error(host) == problem
