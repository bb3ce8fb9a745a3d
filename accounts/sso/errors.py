"""What can go wrong in a single sign-on, as the page a person is shown says it."""

from __future__ import annotations

from django.utils.functional import Promise


class SingleSignOnError(Exception):
    """A sign-in that cannot go on; ``status`` is the error page's HTTP status."""

    status = 400
    title: str | Promise = ""

    def __init__(self, message: str | Promise, *, code: str = "") -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code or self.__class__.__name__


class ProviderUnavailable(SingleSignOnError):
    """The provider could not be reached, or did not answer in time (503)."""

    status = 503


class ProviderMisconfigured(SingleSignOnError):
    """The provider answered, but not with something Corridor can trust or use (502)."""

    status = 502


class SignInRefused(SingleSignOnError):
    """The provider signed the person in, but Corridor's rules refuse them (403)."""

    status = 403


class SignInInvalid(SingleSignOnError):
    """The callback does not belong to a sign-in started here (400)."""

    status = 400
