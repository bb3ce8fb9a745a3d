"""The privacy notice, and a person's own data: download it, or erase the account.

What is kept and why is on the notice (``/privacy/``, public); the rules are in
``accounts.access`` and the work in ``accounts.privacy``.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts import access, lockout
from accounts.models import User
from accounts.privacy import account_erase, holdings_of, personal_data_exported
from config.errors import StateConflict
from config.web import AuthenticatedRequest


@require_GET
def notice_view(request: HttpRequest) -> HttpResponse:
    """Who is the controller, what is kept about officials, why, for how long, their rights."""
    return render(
        request,
        "public/privacy.html",
        {
            "contact": settings.PRIVACY_CONTACT_EMAIL,
            "delivery_days": settings.DELIVERY_RETENTION_DAYS,
            "inbox_days": settings.INBOX_RETENTION_DAYS,
            "session_hours": settings.SESSION_ABSOLUTE_SECONDS // 3600,
        },
    )


@login_required
@never_cache
@require_GET
def data_view(request: AuthenticatedRequest) -> HttpResponse:
    """The signed-in person's own data as a JSON download (GDPR arts. 15 and 20)."""
    access.can_export_personal_data(requested_by=request.user, subject=request.user).check()
    data = personal_data_exported(user=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="corridor-my-data-{stamp}.json"'
    return response


class ErasureForm(forms.Form):
    """The password typed again. Wrong guesses count towards the sign-in back-off
    (accounts/lockout.py), so a borrowed session cannot guess the password here."""

    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=gettext_lazy("To confirm that it is you asking."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = str(self.cleaned_data["password"])
        if lockout.backoff_blocked(email=self.user.email):
            raise forms.ValidationError(_("That is not your password."))  # not even checked, as at sign-in
        if not self.user.check_password(password):
            lockout.backoff_record_failure(email=self.user.email)
            raise forms.ValidationError(_("That is not your password."))
        return password


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def erase_view(request: AuthenticatedRequest) -> HttpResponse:
    """Erase one's own account (GDPR art. 17), after re-entering the password.

    What the person still holds is shown first; while they hold anything, the page
    says what and a POST is refused (the same words as ``accounts.access``).
    """
    user = request.user
    decision = access.can_erase_account(subject=user, holdings=holdings_of(user), requested_by=user)
    form = ErasureForm(data=request.POST or None, user=user)
    if request.method == "POST":
        if not decision:
            messages.error(request, str(decision.reason))
            return redirect("accounts:erase")
        if form.is_valid():
            try:
                account_erase(user=user, requested_by=user)
            except (StateConflict, PermissionDenied) as exc:
                messages.error(request, str(exc))
                return redirect("accounts:erase")
            logout(request)
            messages.success(request, _("Your account is erased. The history keeps a pseudonym in place of your name."))
            return redirect("home")
    return render(
        request,
        "accounts/erase.html",
        {"form": form, "decision": decision},
        status=400 if form.errors else 200,
    )
