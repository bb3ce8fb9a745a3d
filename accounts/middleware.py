"""Per-user language and time zone.

The language follows the browser's Accept-Language (Django's LocaleMiddleware
logic) until the user picks one; from then on the profile's choice wins.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers


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
