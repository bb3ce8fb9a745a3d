"""Per-user language and time zone, session lifetime, and the Permissions-Policy header.

The language follows the browser's Accept-Language (Django's LocaleMiddleware
logic) until the user picks one; from then on the profile's choice wins.
"""

from __future__ import annotations

import hashlib
import time
import zoneinfo
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase

    from accounts.models import Membership, User


class UserLanguageMiddleware:
    """Activate the profile language, else the session/cookie choice, else Accept-Language.

    Placed after the session middleware but before authentication, so it reads the
    user lazily from the session when one is needed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self._profile_language(request) or translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response

    @staticmethod
    def _profile_language(request: HttpRequest) -> str | None:
        from django.contrib.auth import get_user

        user = get_user(request) if hasattr(request, "session") else None
        if user is not None:
            # AuthenticationMiddleware's lazy request.user reads this first: one read of the user per request.
            request._cached_user = user  # type: ignore[attr-defined]
        code = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        return code if code in dict(settings.LANGUAGES) else None


class UserTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tz_name = getattr(request.user, "time_zone", "") if request.user.is_authenticated else ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


# Session keys (seconds since the epoch): when this session signed in, when it was
# last used; and, as of ``CHECKED_AT_KEY``, a digest of the user's privileges and
# whether they count as privileged for the idle limit.
SIGNED_IN_AT_KEY = "corridor_signed_in_at"
SEEN_AT_KEY = "corridor_seen_at"
PRIVILEGES_KEY = "corridor_privileges"
PRIVILEGED_KEY = "corridor_privileged"
CHECKED_AT_KEY = "corridor_privileges_checked_at"
# Writing the session on every request would cost a query each time; a minute's
# precision is plenty for a 30-minute idle limit, and a role change is noticed
# (and the key rotated) within a minute too.
RECHECK_SECONDS = 60


def privileges_digest(user: User, memberships: list[Membership]) -> str:
    """What the user may do, as a short digest: their role in each organisation, and staff flags.

    (Passing the second factor rotates the key where it happens: ``two_factor.session_verified``.)
    """
    roles = sorted(f"{m.organisation_id}:{m.role}" for m in memberships)
    raw = "|".join([*roles, f"staff={user.is_staff}", f"super={user.is_superuser}"])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _record_privileges(session: SessionBase, user: User, now: float) -> str:
    from accounts.selectors import memberships_of_user
    from accounts.two_factor import two_factor_required

    memberships = memberships_of_user(user=user)
    digest = privileges_digest(user, memberships)
    session[PRIVILEGED_KEY] = two_factor_required(user=user, memberships=memberships)
    session[CHECKED_AT_KEY] = now
    session[SEEN_AT_KEY] = now
    return digest


@receiver(user_logged_in, dispatch_uid="corridor_session_signed_in")
def session_signed_in(sender: object, request: HttpRequest, user: User, **kwargs: object) -> None:
    """Start the clocks when someone signs in (``login`` has just rotated the key)."""
    now = time.time()
    request.session[SIGNED_IN_AT_KEY] = now
    request.session[PRIVILEGES_KEY] = _record_privileges(request.session, user, now)


class SessionLifetimeMiddleware:
    """End sessions 12 hours after sign-in, or after an idle spell; rotate keys on a privilege change.

    The idle limit is ``SESSION_IDLE_SECONDS_PRIVILEGED`` (30 minutes) for people who
    must use a second factor and ``SESSION_IDLE_SECONDS`` (8 hours) for the others.
    An ended session is flushed on the server (``logout``), so its cookie is worth
    nothing afterwards, and the request goes on as anonymous: pages that need a
    signed-in person send it to the sign-in page, the API answers 401/403.

    When the user's roles or staff flags change, the session key rotates
    (``cycle_key``): a key learnt while the session was less privileged does not
    carry the new privileges. Placed after the OTP and message middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request, user)
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: User) -> None:
        from django.contrib import messages
        from django.contrib.auth import logout
        from django.utils.translation import gettext as _

        session = request.session
        now = time.time()
        signed_in_at = float(session.get(SIGNED_IN_AT_KEY) or now)
        seen_at = float(session.get(SEEN_AT_KEY) or now)
        privileged = session.get(PRIVILEGED_KEY, True)  # unknown yet: the stricter limit
        idle_limit = settings.SESSION_IDLE_SECONDS_PRIVILEGED if privileged else settings.SESSION_IDLE_SECONDS
        if now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS or now - seen_at > idle_limit:
            logout(request)
            messages.info(request, _("You were signed out to protect your account. Sign in again."))
            return
        if SIGNED_IN_AT_KEY not in session:
            session[SIGNED_IN_AT_KEY] = now
        if now - float(session.get(CHECKED_AT_KEY) or 0) >= RECHECK_SECONDS:
            previous = session.get(PRIVILEGES_KEY)
            digest = _record_privileges(session, user, now)
            if previous is not None and previous != digest:
                session.cycle_key()
            session[PRIVILEGES_KEY] = digest


class PermissionsPolicyMiddleware:
    """The ``Permissions-Policy`` header (Django has a setting for the referrer policy, not this)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
