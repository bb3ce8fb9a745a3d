"""Two-factor authentication (TOTP) for the web UI: services, QR code and enforcement.

Devices are django-otp ``TOTPDevice`` rows. A user has at most one: it starts
unconfirmed while they enrol and becomes confirmed once they type a valid code.
Failed codes are throttled by the device itself (exponential back-off).
"""

from __future__ import annotations

import io
from base64 import b32encode
from collections.abc import Callable

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.selectors import memberships_of_user
from accounts.services import audit_record
from accounts.tenancy import Actor

DEVICE_NAME = "Authenticator app"


# --- Reads ---------------------------------------------------------------------------


def confirmed_device(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def two_factor_required(*, user: User) -> bool:
    """True if any active organisation the user belongs to requires two-factor sign-in."""
    return any(m.organisation.require_two_factor for m in memberships_of_user(user=user))


def secret_base32(device: TOTPDevice) -> str:
    """The shared secret as people type it into an authenticator app (groups of four)."""
    raw = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_code_svg(data: str) -> str:
    """An inline SVG QR code, rendered locally: the secret never leaves the server."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    # Drop the XML declaration: the SVG is embedded in an HTML page.
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1]
    return svg.strip()


def verify_code(*, device: TOTPDevice, code: str) -> bool:
    """Check a code against a device, honouring (and updating) its throttle."""
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _info = locked.verify_is_allowed()
        if not allowed:
            return False
        return bool(locked.verify_token((code or "").replace(" ", "")))


def code_throttled(*, device: TOTPDevice) -> bool:
    allowed, _info = TOTPDevice.objects.get(pk=device.pk).verify_is_allowed()
    return not allowed


# --- Writes --------------------------------------------------------------------------


@transaction.atomic
def enrolment_start(*, user: User) -> TOTPDevice:
    """The user's unconfirmed device, created on first visit and reused on reloads."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def enrolment_confirm(*, request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Confirm the device with a valid code and mark this session as verified."""
    if not verify_code(device=device, code=code):
        return False
    device.refresh_from_db()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # Only one confirmed device per person: drop any leftovers.
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    audit_record(actor=Actor(user=device.user, organisation=None, role=None), action="two_factor.enabled", obj=device)
    django_otp.login(request, device)
    return True


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    devices = list(TOTPDevice.objects.filter(user=user))
    for device in devices:
        audit_record(actor=Actor(user=user, organisation=None, role=None), action="two_factor.disabled", obj=device)
    TOTPDevice.objects.filter(user=user).delete()


# --- Enforcement ---------------------------------------------------------------------

# Paths a signed-in but unverified member of a 2FA organisation may still reach.
EXEMPT_PREFIXES = ("/i18n/", "/api/")


def _exempt_prefixes() -> tuple[str, ...]:
    return (*EXEMPT_PREFIXES, settings.STATIC_URL)


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("accounts:two_factor_setup"),
        reverse("accounts:login_verify"),
        reverse("accounts:logout"),
    )


class TwoFactorEnforcementMiddleware:
    """Send unverified members of organisations that require 2FA to the enrolment page.

    The API is exempt here because its base view applies the same rule itself and
    answers with a 403 JSON error rather than a redirect.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_exempt_prefixes())
            and request.path not in _exempt_paths()
            and not user.is_verified()
            and two_factor_required(user=user)
        ):
            messages.warning(
                request,
                _("Your organisation requires two-factor authentication. Set it up to continue."),
                fail_silently=True,
            )
            return redirect("accounts:two_factor_setup")
        return self.get_response(request)
