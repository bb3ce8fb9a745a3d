"""The client's address, as throttles, the sign-in lockout and the logs must see it.

``REMOTE_ADDR`` is the connecting peer. Behind reverse proxies that is the proxy, and
the client's own address is in ``X-Forwarded-For``, which the client can also write.
So the header is believed only as far as the operator says proxies stand in front of
the site, never by default:

* ``TRUSTED_PROXY_COUNT = N``: the last N hops of ``X-Forwarded-For`` were appended
  by our proxies; the client is the address before them.
* ``TRUSTED_PROXY_NETWORKS = ["10.0.0.0/8", …]``: walk ``X-Forwarded-For`` from the
  right, skipping addresses inside those networks; the first one outside is the client.
  Only a peer (``REMOTE_ADDR``) inside them is allowed to set the header at all.

With neither set (the default) the header is ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR`` unless trusted proxies are configured."""
    peer = request.META.get("REMOTE_ADDR", "") or ""
    count: int = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXY_NETWORKS", ())))
    if not count and not networks:
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if networks:
        peer_address = _address(peer)
        if peer_address is None or not any(peer_address in network for network in networks):
            return peer  # not one of our proxies: it may not speak for the client
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return peer  # a malformed hop: believe nothing further left
            if not any(address in network for network in networks):
                return str(address)
        return peer
    # A count: our N proxies each appended one hop; the client is the one before them.
    if len(hops) < count:
        return peer
    address = _address(hops[-count])
    return str(address) if address is not None else peer
