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
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, OrganisationKind, Role, User
from accounts.selectors import memberships_of_user
from accounts.services import audit_record
from accounts.tenancy import Actor

DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10


# --- Reads ---------------------------------------------------------------------------


def confirmed_device(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def is_privileged(*, user: User) -> bool:
    """Staff, superusers, organisation administrators and agency moderators.

    They can change who belongs where, publish for everyone or reach every tenant
    in /admin/, so they always sign in with a second factor and their idle sessions
    end sooner (accounts.middleware.SessionLifetimeMiddleware). This is a rule about
    authentication strength, not about access: what each role may do is in the
    access modules.
    """
    if user.is_staff or user.is_superuser:
        return True
    return any(_privileged_membership(m.role, m.organisation.kind) for m in memberships_of_user(user=user))


def _privileged_membership(role: str, kind: str) -> bool:
    return role == Role.ADMIN or (kind == OrganisationKind.AGENCY and role == Role.MODERATOR)


def two_factor_required(*, user: User, memberships: list[Membership] | None = None) -> bool:
    """True for privileged people, and for members of an organisation that requires it.

    ``memberships`` saves the query when the caller has ``memberships_of_user`` already.
    """
    if user.is_staff or user.is_superuser:
        return True
    if memberships is None:
        memberships = memberships_of_user(user=user)
    return any(
        m.organisation.require_two_factor or _privileged_membership(m.role, m.organisation.kind) for m in memberships
    )


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


def recovery_device(*, user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True).first()


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE_NAME).count()


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def verify_recovery_code(*, user: User, code: str) -> StaticDevice | None:
    """The recovery-code device if ``code`` is one of its unused codes; the code is then spent.

    ``StaticDevice.verify_token`` deletes the matching token in the same statement
    that finds it, so a code works once even when two requests race.
    """
    with transaction.atomic():
        device = (
            StaticDevice.objects.select_for_update()
            .filter(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
            .first()
        )
        if device is None:
            return None
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            return None
        if device.verify_token(normalise_recovery_code(code)):
            return device
        return None


def session_verified(request: HttpRequest, device: TOTPDevice | StaticDevice) -> None:
    """Mark this session as having passed the second factor, under a new session key.

    Passing the second factor is a privilege change: the key rotates so that a key
    learnt before (a fixation) is worth nothing afterwards.
    """
    request.session.cycle_key()
    django_otp.login(request, device)


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
    session_verified(request, device)
    return True


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    """Ten new single-use recovery codes; the old ones stop working.

    The codes are shown once, right now: only the codes themselves are stored (as
    django-otp's static plugin does), so keep them like a password.
    """
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    audit_record(
        actor=Actor(user=user, organisation=None, role=None), action="two_factor.recovery_codes_issued", obj=device
    )
    return codes


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    devices = list(TOTPDevice.objects.filter(user=user))
    for device in devices:
        audit_record(actor=Actor(user=user, organisation=None, role=None), action="two_factor.disabled", obj=device)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME).delete()


# --- Enforcement ---------------------------------------------------------------------

# Paths a signed-in but unverified person who must use a second factor may still reach.
EXEMPT_PREFIXES = ("/i18n/", "/api/schema/", "/api/docs/", "/help/")


def _exempt_prefixes() -> tuple[str, ...]:
    return (*EXEMPT_PREFIXES, settings.STATIC_URL)


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("accounts:two_factor_setup"),
        reverse("accounts:login_verify"),
        reverse("accounts:logout"),
    )


def must_verify(request: HttpRequest) -> bool:
    """True if this request's session user must pass a second factor and has not.

    Worked out afresh on each request (only for sessions not yet verified), so a
    rule switched on or off applies at once.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_verified():
        return False
    from config.web import web_memberships  # the request's own read, shared with the header and the actor

    return two_factor_required(user=user, memberships=web_memberships(request))


class TwoFactorEnforcementMiddleware:
    """Until the second factor is passed, every page sends the person to enrolment.

    Applies to privileged people (``is_privileged``) and to members of organisations
    that require two-factor sign-in; ``/admin/`` included (config/urls.py also checks
    ``is_verified`` in the admin site itself, so the rule holds even if this
    middleware were removed). An API request that carries a session gets a 403 JSON
    error instead of a redirect; an API token is not a session and is unaffected
    (a token is issued only from a session that passed the rule, or by an operator
    with ``manage.py issuetoken``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            not request.path.startswith(_exempt_prefixes())
            and request.path not in _exempt_paths()
            and not (request.path.startswith("/api/") and request.headers.get("Authorization"))
            and must_verify(request)
        ):
            message = _("Your account must use two-factor authentication. Set it up to continue.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": "two_factor_required"}, status=403)
            messages.warning(request, message, fail_silently=True)
            return redirect("accounts:two_factor_setup")
        return self.get_response(request)
