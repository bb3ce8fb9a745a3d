"""Every request Corridor's server makes to an identity provider, guarded as webhooks are.

An issuer is a URL an organisation's administrator types, and the server then fetches
it and the endpoints its discovery document names: the same server-side request
forgery risk as a webhook URL. So the same guard applies, ``config.egress`` (webhooks
use it too): the host is resolved and every address must be public
(``egress.forbidden_reason``: loopback, private, link-local, IPv4 inside IPv6, …),
the connection then goes to the checked address itself (the host name travels in the
Host header and as the TLS server name the certificate is checked against), redirects
are not followed, and at most ``SSO_MAX_RESPONSE_BYTES`` of an answer is read.

``SSO_ALLOW_PRIVATE_ADDRESSES`` switches the address check off (tests, development),
``SSO_REQUIRE_HTTPS`` (on in production) refuses plain ``http://``. The timeout is
short (``SSO_TIMEOUT_SECONDS``): a person waits on every one of these requests.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from accounts.sso.errors import ProviderMisconfigured, ProviderUnavailable
from config import egress
from config.egress import DEFAULT_PORTS

USER_AGENT = "Corridor-SSO/1.0"


class AddressRefused(Exception):
    """The URL may not be fetched by the server (scheme, credentials, or a non-public address)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Target:
    url: httpx.URL
    host: str
    addresses: tuple[str, ...]


def resolve(url: str) -> Target:
    """Parse ``url`` and resolve its host, refusing what the server must not fetch."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeError):
        raise AddressRefused(_("Enter a valid URL."), "invalid") from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise AddressRefused(_("Use an https:// URL."), "scheme")
    if parsed.scheme != "https" and settings.SSO_REQUIRE_HTTPS:
        raise AddressRefused(_("Use an https:// URL: OpenID Connect providers are only reached encrypted."), "https")
    if parsed.userinfo:
        raise AddressRefused(_("Remove the user name and password from the URL."), "credentials")
    if not host or egress.host_syntax_error(host):
        raise AddressRefused(_("The URL's host name is not valid."), "invalid")
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    try:
        addresses = egress.resolve_public(
            host, port, allow_private=settings.SSO_ALLOW_PRIVATE_ADDRESSES, purpose="identity provider"
        )
    except egress.EgressRefused as refused:
        raise AddressRefused(_refusal_message(refused), refused.code) from None
    return Target(url=parsed, host=host, addresses=addresses)


def _refusal_message(refused: egress.EgressRefused) -> str:
    values = {"host": refused.host, "address": refused.address, "reason": refused.reason}
    if refused.rule == "localhost":
        return _("%(host)s is this server itself; an identity provider must be on a public address.") % values
    if refused.rule == "unresolvable":
        return _("The host %(host)s could not be resolved.") % values
    return (
        _(
            "%(host)s resolves to %(address)s, which is a %(reason)s address; "
            "an identity provider must be on a public address."
        )
        % values
    )


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None


def request(
    method: str,
    url: str,
    *,
    provider: str,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One guarded request; raises ``ProviderUnavailable`` or ``ProviderMisconfigured``.

    ``provider`` names the organisation whose provider this is, for the error page.
    """
    try:
        target = resolve(url)
    except AddressRefused as refused:
        raise ProviderMisconfigured(
            _("The identity provider of %(org)s is set up with an address Corridor may not use: %(reason)s")
            % {"org": provider, "reason": refused.message},
            code="address_refused",
        ) from None
    timeout = float(settings.SSO_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    sent_headers = {
        "Host": target.url.netloc.decode("ascii"),
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": USER_AGENT,
        **(headers or {}),
    }
    last_error: Exception | None = None
    for address in target.addresses:
        if time.monotonic() >= deadline:
            break
        try:
            return _send(target, address, method=method, headers=sent_headers, data=data, deadline=deadline)
        except (httpx.HTTPError, OSError, ValueError) as exc:
            last_error = exc
    raise ProviderUnavailable(
        _("The identity provider of %(org)s could not be reached. Try again in a few minutes.") % {"org": provider},
        code=f"unreachable: {type(last_error).__name__ if last_error else 'timeout'}",
    )


def _send(
    target: Target,
    address: str,
    *,
    method: str,
    headers: dict[str, str],
    data: dict[str, str] | None,
    deadline: float,
) -> Answer:
    pinned = target.url.copy_with(host=address.split("%", 1)[0])
    extensions: dict[str, Any] = {}
    if target.url.scheme == "https":
        extensions["sni_hostname"] = target.host.rstrip(".")
    remaining = max(deadline - time.monotonic(), 0.001)
    transport = httpx.HTTPTransport(verify=egress.tls_context(), trust_env=False, retries=0)
    limit = int(settings.SSO_MAX_RESPONSE_BYTES)
    with httpx.Client(
        transport=transport, trust_env=False, follow_redirects=False, timeout=httpx.Timeout(remaining)
    ) as client:
        built = client.build_request(method, pinned, headers=headers, data=data, extensions=extensions)
        response = client.send(built, stream=True)
        try:
            received = bytearray()
            for chunk in response.iter_raw(chunk_size=16 * 1024):
                received += chunk
                if len(received) > limit:
                    raise ValueError("answer too large")
                if time.monotonic() >= deadline:
                    raise httpx.ReadTimeout("deadline")
        finally:
            response.close()
    return Answer(
        status=response.status_code,
        content_type=response.headers.get("content-type", "").split(";", 1)[0].strip().lower(),
        body=bytes(received),
    )
