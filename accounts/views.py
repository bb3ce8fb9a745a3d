from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

login_view = LoginView.as_view(template_name="accounts/login.html")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("home")


def lockout_response(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    """Same words whether or not the account exists: no user enumeration."""
    return render(
        request,
        "accounts/locked.html",
        {"message": _("Too many failed sign-in attempts. Wait 15 minutes and try again.")},
        status=429,
    )
