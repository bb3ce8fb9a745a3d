"""Signed webhooks: the body, the Standard Webhooks signature, and one guarded POST.

Pure functions: no Celery, no database writes. The delivery engine decides when to
call :func:`post` and what to do with the :class:`WebhookResult` it returns. Channels
and events are only read, attribute by attribute, so stand-in objects work too.

Signing follows Standard Webhooks (https://www.standardwebhooks.com/): headers
``webhook-id`` (the delivery id, the same on every retry), ``webhook-timestamp``
(whole seconds) and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of
``"{id}.{timestamp}.{body}"``, keyed with the base64-decoded ``whsec_`` secret).
While a rotated-out secret is still within its overlap, a second signature made with
it follows the first, space-separated, so receivers on either key keep verifying.

Server-side request forgery: a webhook URL is a URL of the partner's choosing that
our workers fetch. It is checked at registration (:func:`validate_url`) and again at
send time, because DNS can change in between. At send time every address the host
resolves to must be public, and the connection then goes to the checked address
itself (the host name only travels in the Host header and, for https, as the TLS
server name the certificate is verified against), so a second DNS answer can never
redirect it. Redirects are not followed. ``settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES``
switches the address check off, for development and tests only.

Transport: with ``settings.WEBHOOK_REQUIRE_HTTPS`` (on in production) a plain
``http://`` URL is refused at registration and again at send time, so an endpoint
saved before the setting was turned on is never sent to in the clear. Of the
receiver's answer we read at most ``settings.WEBHOOK_MAX_RESPONSE_BYTES`` (and only
a failing one's, to quote it): a receiver cannot make a worker read without end.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from config import egress
from config.egress import DEFAULT_PORTS

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
SECRET_BYTES = 32
USER_AGENT = "Corridor-Webhooks/1.0"
# Only a failing receiver's body is read, and only to quote the start of it; the
# default when settings.WEBHOOK_MAX_RESPONSE_BYTES is not set.
MAX_RESPONSE_BYTES = 64 * 1024
ERROR_SNIPPET_CHARS = 200
MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60
_DIGITS = re.compile(r"\d+", re.ASCII)


class SigningChannel(Protocol):
    """What this module reads of a channel (``exchange.models.Channel`` fits)."""

    url: str
    secret: str
    previous_secret: str
    previous_secret_expires_at: datetime | None


class WebhookEvent(Protocol):
    """What this module reads of an event (``exchange.models.Event`` fits)."""

    id: Any
    type: str
    created_at: datetime
    data: Any


@dataclass(frozen=True)
class WebhookResult:
    """The outcome of one POST. ``error`` is empty when ``ok``; never an exception."""

    ok: bool
    status_code: int | None = None
    error: str = ""
    retry_after: int | None = None  # seconds the receiver asked us to wait (429 / 503)
    gone: bool = False  # the receiver answered 410 Gone: stop sending to it


# --- Secrets, bodies and signatures ---------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def body_for(event: WebhookEvent) -> bytes:
    """The JSON body of an event: compact, ASCII, and the same bytes on every call.

    The keys inside ``data`` are sorted, because PostgreSQL's jsonb does not keep the
    order they were written in: a retry after a reload must sign the same bytes.
    """
    data = json.loads(json.dumps(event.data, cls=DjangoJSONEncoder, sort_keys=True))
    payload = {"id": str(event.id), "type": event.type, "created_at": _iso_utc(event.created_at), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def signature_headers(*, channel: SigningChannel, delivery_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt.

    Signed with the current secret and, while ``previous_secret_expires_at`` is after
    ``now``, with the previous one as well. Raises ``ValueError`` if a secret is
    missing or malformed.
    """
    moment = _utc(now)
    timestamp = math.floor(moment.timestamp())
    signed_at = datetime.fromtimestamp(timestamp, tz=UTC)
    message_id = str(delivery_id)
    payload = body.decode("utf-8")
    signatures = [_signer(channel.secret).sign(message_id, signed_at, payload)]
    expires_at = channel.previous_secret_expires_at
    if channel.previous_secret and expires_at is not None and _utc(expires_at) > moment:
        signatures.append(_signer(channel.previous_secret).sign(message_id, signed_at, payload))
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def _signer(secret: str) -> Webhook:
    if not secret:
        raise ValueError("the channel has no signing secret")
    try:
        return Webhook(secret)
    except (binascii.Error, ValueError, EmptyWebhookSecretError):
        raise ValueError("the channel's signing secret is malformed") from None


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso_utc(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --- Where a webhook may go ---------------------------------------------------------


class _Refused(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class _Target:
    url: httpx.URL
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    addresses: tuple[str, ...]  # every address the host resolved to, checked


def validate_url(url: str) -> str:
    """Check a webhook URL at registration; return it unchanged.

    Raises ``ValidationError({"url": ...})`` unless it is an http(s) URL (https only
    when ``settings.WEBHOOK_REQUIRE_HTTPS``) without credentials whose host resolves,
    and resolves only to public addresses (the last is skipped when
    ``settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` is true).
    """
    try:
        _resolve(url)
    except _Refused as refused:
        raise ValidationError({"url": ValidationError(refused.message, code=refused.code)}) from None
    return url


def _allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))


def _require_https() -> bool:
    return bool(getattr(settings, "WEBHOOK_REQUIRE_HTTPS", False))


def _max_response_bytes() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_RESPONSE_BYTES", MAX_RESPONSE_BYTES))


def _resolve(url: str) -> _Target:
    """Parse and resolve a webhook URL the way :func:`post` will send to it."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, TypeError, ValueError):
        raise _Refused(_("Enter a valid URL."), "invalid") from None
    if parsed.scheme not in DEFAULT_PORTS:
        raise _Refused(_("Use an http:// or https:// URL."), "scheme")
    if parsed.scheme != "https" and _require_https():
        raise _Refused(_("Use an https:// URL: webhooks are only sent encrypted."), "https_required")
    if parsed.userinfo:
        raise _Refused(
            _("Remove the user name and password from the URL: every request is signed instead."), "credentials"
        )
    if not host:
        raise _Refused(_("The URL has no host."), "invalid")
    syntax = egress.host_syntax_error(host)
    if syntax == "ipv6":
        raise _Refused(_("The URL's IPv6 address is not valid."), "invalid")
    if syntax == "host_name":
        raise _Refused(_("The URL's host name is not valid."), "invalid")
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    if not 0 < port < 65536:
        raise _Refused(_("The URL's port is not valid."), "invalid")
    try:
        addresses = egress.resolve_public(host, port, allow_private=_allow_private(), purpose="webhook")
    except egress.EgressRefused as refused:
        raise _Refused(_refusal_message(refused), refused.code) from None
    return _Target(url=parsed, host=host, addresses=addresses)


def _refusal_message(refused: egress.EgressRefused) -> str:
    values = {"host": refused.host, "address": refused.address, "reason": refused.reason}
    if refused.rule == "localhost":
        return _("%(host)s is this server itself; webhooks only go to public addresses.") % values
    if refused.rule == "unresolvable":
        return _("The host %(host)s could not be resolved.") % values
    if refused.address == refused.host:
        return _("%(address)s is a %(reason)s address; webhooks only go to public addresses.") % values
    return (
        _("%(host)s resolves to %(address)s, which is a %(reason)s address; webhooks only go to public addresses.")
        % values
    )


# --- Sending ------------------------------------------------------------------------


def post(*, channel: SigningChannel, delivery_id: str, body: bytes, now: datetime) -> WebhookResult:
    """POST one signed body to the channel's URL, guarded against SSRF. Never raises.

    The host is resolved and every address checked (unless private addresses are
    allowed); the request then goes to a checked address, trying the next one only if
    connecting fails. ``settings.WEBHOOK_TIMEOUT_SECONDS`` bounds the attempt.
    """
    timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    try:
        target = _resolve(channel.url)
    except _Refused as refused:
        return WebhookResult(ok=False, error=f"Not sent: {refused.message}")
    try:
        headers = signature_headers(channel=channel, delivery_id=delivery_id, body=body, now=now)
    except (ValueError, UnicodeError) as exc:
        return WebhookResult(ok=False, error=f"Not sent: {exc}")
    headers.update(
        {
            "Host": target.url.netloc.decode("ascii"),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
    )

    failures: list[str] = []
    for address in target.addresses:
        if time.monotonic() >= deadline:
            break
        try:
            return _send(target, address, headers=headers, body=body, deadline=deadline, now=now)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            failures.append(f"{address}: {_describe(exc)}")
        except httpx.TimeoutException as exc:
            return WebhookResult(ok=False, error=f"Timed out after {timeout:g} s ({_describe(exc)})")
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            return WebhookResult(ok=False, error=f"Request failed: {_describe(exc)}")
    if not failures:
        return WebhookResult(ok=False, error=f"Timed out after {timeout:g} s")
    return WebhookResult(ok=False, error="Could not connect: " + "; ".join(failures))


def _send(
    target: _Target, address: str, *, headers: dict[str, str], body: bytes, deadline: float, now: datetime
) -> WebhookResult:
    """One request to one checked address, naming the original host to the receiver."""
    pinned = target.url.copy_with(host=address.split("%", 1)[0])
    extensions: dict[str, Any] = {}
    if target.url.scheme == "https":
        extensions["sni_hostname"] = target.host.rstrip(".")
    remaining = max(deadline - time.monotonic(), 0.001)
    transport = httpx.HTTPTransport(verify=egress.tls_context(), trust_env=False, retries=0)
    with httpx.Client(
        transport=transport, trust_env=False, follow_redirects=False, timeout=httpx.Timeout(remaining)
    ) as client:
        request = client.build_request("POST", pinned, headers=headers, content=body, extensions=extensions)
        response = client.send(request, stream=True)
        try:
            start = b"" if response.is_success else _read_start(response, deadline)
        finally:
            response.close()
    return _result(response, start, now)


def _read_start(response: httpx.Response, deadline: float) -> bytes:
    """Up to WEBHOOK_MAX_RESPONSE_BYTES of the raw (undecoded) body, stopping at the deadline.

    Raw, so a compressed answer cannot expand past the limit; the rest is never read
    (the connection is closed, not drained).
    """
    limit = _max_response_bytes()
    received = bytearray()
    for chunk in response.iter_raw(chunk_size=min(limit, 16 * 1024)):
        received += chunk
        if len(received) >= limit or time.monotonic() >= deadline:
            break
    return bytes(received[:limit])


def _result(response: httpx.Response, start: bytes, now: datetime) -> WebhookResult:
    status = response.status_code
    if response.is_success:
        return WebhookResult(ok=True, status_code=status)
    if response.is_redirect or 300 <= status < 400:
        location = response.headers.get("location", "")
        to = f" (Location: {location[:ERROR_SNIPPET_CHARS]})" if location else ""
        return WebhookResult(ok=False, status_code=status, error=f"HTTP {status}: redirects are not followed{to}")
    retry_after = _retry_after(response.headers.get("retry-after"), now) if status in (429, 503) else None
    error = f"HTTP {status}"
    snippet = " ".join(start.decode("utf-8", errors="replace").split())
    if snippet:
        error += f": {snippet[:ERROR_SNIPPET_CHARS]}"
    return WebhookResult(ok=False, status_code=status, error=error, retry_after=retry_after, gone=status == 410)


def _retry_after(value: str | None, now: datetime) -> int | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    value = value.strip()
    if _DIGITS.fullmatch(value):
        seconds = int(value) if len(value) <= 9 else MAX_RETRY_AFTER_SECONDS
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = math.ceil((_utc(when) - _utc(now)).total_seconds())
    return min(max(seconds, 0), MAX_RETRY_AFTER_SECONDS)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
