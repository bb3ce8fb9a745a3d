"""Where Corridor's server may send a request: the one guard against server-side request forgery.

Two features make the server fetch a URL someone typed: webhooks (a partner's
receiver) and single sign-on (an organisation's identity provider). Both go through
:func:`resolve_public` before connecting: the host is resolved once, every address it
resolves to must be public (:func:`forbidden_reason`: loopback, private, link-local,
the cloud metadata address, IPv4 carried inside IPv6, …), and the caller then connects
to one of the returned addresses itself, so a second DNS answer can never redirect the
request. The caller owns its messages: :class:`EgressRefused` names the rule that
refused (``rule``) and the facts (host, address, reason) to word one from.

``allow_private`` switches the address check off (development and tests; each caller
reads its own setting), never the host name syntax or resolution checks.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
from functools import cache
from typing import Literal

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}

HOST_NAME = re.compile(r"[a-z0-9_.-]+")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

Rule = Literal["localhost", "unresolvable", "forbidden_address"]


class EgressRefused(Exception):
    """The server may not connect to ``host``; ``rule`` says which check refused it.

    ``localhost``: the name is this server itself. ``unresolvable``: DNS gave no
    address. ``forbidden_address``: ``address`` is not public; ``reason`` says why
    (``loopback``, ``private``, ``link-local``, …). ``code`` is the validation error
    code callers report: ``unresolvable``, or ``private_address`` for the other two.
    """

    def __init__(self, rule: Rule, *, host: str, purpose: str, address: str = "", reason: str = "") -> None:
        self.rule: Rule = rule
        self.host = host
        self.address = address
        self.reason = reason
        self.purpose = purpose
        self.code = "unresolvable" if rule == "unresolvable" else "private_address"
        detail = f"{address} is a {reason} address" if rule == "forbidden_address" else rule
        super().__init__(f"{purpose} to {host} refused: {detail}")


def host_syntax_error(host: str) -> Literal["ipv6", "host_name"] | None:
    """What is wrong with a lower-case ASCII host (a name or an IPv6 literal without brackets), if anything."""
    if ":" in host:
        try:
            if "%" in host:  # an interface (zone) is never a partner's address
                raise ValueError(host)
            ipaddress.IPv6Address(host)
        except ValueError:
            return "ipv6"
        return None
    if not HOST_NAME.fullmatch(host):
        return "host_name"
    return None


def resolve_public(host: str, port: int, *, allow_private: bool, purpose: str) -> tuple[str, ...]:
    """Every address ``host`` resolves to, in resolver order, each one checked public.

    ``host`` is lower-case ASCII (IDNA) or an IP literal without brackets. Connect
    only to the returned addresses (pinning), never to ``host`` again. ``purpose``
    names the caller (``"webhook"``) in the exception's text, for logs. Raises
    :class:`EgressRefused`; with ``allow_private`` only ``unresolvable``.
    """
    name = host.rstrip(".")
    if not allow_private and (name == "localhost" or name.endswith(".localhost")):
        raise EgressRefused("localhost", host=host, purpose=purpose)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise EgressRefused("unresolvable", host=host, purpose=purpose) from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise EgressRefused("unresolvable", host=host, purpose=purpose)
    if not allow_private:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                raise EgressRefused("forbidden_address", host=host, purpose=purpose, address=address, reason=reason)
    return addresses


def forbidden_reason(address: str) -> str | None:
    """Why the server may not connect to an IP address, or None if it is a public one."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    except ValueError:
        return "unrecognised"
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 carried inside IPv6 is judged as the IPv4 address it reaches.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return forbidden_reason(str(embedded))
    checks = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    )
    return next((reason for reason, hit in checks if hit), None)


@cache
def tls_context() -> ssl.SSLContext:
    """The CA bundle httpx verifies against, loaded once per process."""
    return httpx.create_ssl_context()
