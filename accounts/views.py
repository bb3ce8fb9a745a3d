"""Server-rendered account pages: sign-in (with TOTP), 2FA enrolment, invitations,
profile, password reset and the organisation switcher.

These pages are about a person rather than an organisation, so they are not run in
a tenant scope: every cross-tenant read goes through the selectors and services,
which say why. The organisation settings (members, invitations, tokens) are in
``accounts/web/organisation.py``, behind ``config.web.actor_required``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from accounts import lockout, two_factor
from accounts.forms import (
    CodeForm,
    InvitationSignUpForm,
    OrganisationSwitchForm,
    PasswordResetRequestForm,
    ProfileForm,
    SecondFactorForm,
    SignInForm,
)
from accounts.models import User
from accounts.selectors import membership_for, organisation_get
from accounts.services import InvitationInvalid, invitation_accept, invitation_lookup, profile_update
from accounts.sso import services as sso_services
from config.web import AuthenticatedRequest

SESSION_ORGANISATION_KEY = "corridor_organisation"  # the same key config.api reads
PENDING_USER_KEY = "corridor_pending_user"
PENDING_BACKEND_KEY = "corridor_pending_backend"
PENDING_SINCE_KEY = "corridor_pending_since"
PENDING_NEXT_KEY = "corridor_pending_next"
PENDING_TTL_SECONDS = 5 * 60
NEW_RECOVERY_CODES_KEY = "corridor_new_recovery_codes"
DEFAULT_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- django-axes hooks ---------------------------------------------------------------


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The key axes counts failures under: the e-mail, trimmed and lower-cased.

    Normalising stops ``Alice@…`` and ``alice@…`` from being counted separately.
    """
    source = credentials or {"email": request.POST.get("email")}
    value = source.get("email") or source.get("username")
    return str(value or "").strip().lower()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """Same words whether or not the account exists: no user enumeration."""
    return render(
        request,
        "accounts/locked.html",
        {"message": _("Too many failed sign-in attempts. Wait 15 minutes and try again.")},
        status=429,
    )


# --- Helpers -------------------------------------------------------------------------


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _clear_pending(request: HttpRequest) -> None:
    for key in (PENDING_USER_KEY, PENDING_BACKEND_KEY, PENDING_SINCE_KEY, PENDING_NEXT_KEY):
        request.session.pop(key, None)


def _pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER_KEY)
    since = request.session.get(PENDING_SINCE_KEY, 0)
    if not user_id or time.time() - since > PENDING_TTL_SECONDS:
        _clear_pending(request)
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        _clear_pending(request)
    return user


# --- Sign in and out -----------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.user.is_authenticated:
        return redirect(_safe_next(request, next_url))
    email = lockout.normalise_email(request.POST.get("email", ""))
    # Single sign-on: an address at a domain whose organisation signs its people in through
    # its own identity provider is offered that (accounts/sso/); "sso" is the form's second button.
    sso_offers = _sso_offers(email, next_url) if request.method == "POST" else []
    # The offer is a link, not a redirect: the page's CSP (form-action 'self') rightly stops a
    # form's answer from redirecting to another site, and the person sees where they are going.
    wants_sso = request.method == "POST" and bool(request.POST.get("sso"))
    if request.method == "POST" and (wants_sso or (sso_offers and not request.POST.get("password"))):
        context = {"form": SignInForm(request, initial={"email": email}), "next": next_url, "sso_offers": sso_offers}
        if not sso_offers:
            context["sso_missing"] = sso_services.email_domain(email) or "-"
        return render(request, "accounts/login.html", context)
    form = SignInForm(request, data=request.POST or None, backoff=bool(email) and lockout.backoff_blocked(email=email))
    if request.method == "POST" and not form.is_valid() and form.password_refused:
        lockout.backoff_record_failure(email=email)
    if request.method == "POST" and form.is_valid():
        user = form.user
        assert user is not None
        lockout.backoff_clear(email=email)
        backend = getattr(user, "backend", DEFAULT_BACKEND)
        device = two_factor.confirmed_device(user=user)
        if device is not None:
            # Password accepted; the session is not signed in until the code is.
            request.session.cycle_key()
            request.session[PENDING_USER_KEY] = str(user.pk)
            request.session[PENDING_BACKEND_KEY] = backend
            request.session[PENDING_SINCE_KEY] = time.time()
            request.session[PENDING_NEXT_KEY] = next_url
            return redirect("accounts:login_verify")
        login(request, user, backend=backend)
        return redirect(_safe_next(request, next_url))
    return render(request, "accounts/login.html", {"form": form, "next": next_url, "sso_offers": sso_offers})


def _sso_offers(email: str, next_url: str) -> list[tuple[Any, str]]:
    """(organisation, start URL) for each organisation whose single sign-on takes this address."""
    query = urlencode({"email": email, **({"next": next_url} if next_url else {})})
    return [
        (organisation, f"{reverse('accounts:sso_start', args=[organisation.slug])}?{query}")
        for organisation in sso_services.organisations_for_email(email)
    ]


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_verify_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    device = two_factor.confirmed_device(user=user) if user is not None else None
    if user is None or device is None:
        messages.info(request, _("Sign in again to continue."))
        return redirect("accounts:login")
    credentials = {"email": user.email}
    if not AxesProxyHandler.is_allowed(request, credentials):
        _clear_pending(request)
        return lockout_response(request)
    form = SecondFactorForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        passed = (
            device
            if form.is_totp and two_factor.verify_code(device=device, code=code)
            else two_factor.verify_recovery_code(user=user, code=code)
        )
        if passed is not None:
            next_url = request.session.get(PENDING_NEXT_KEY, "")
            backend = request.session.get(PENDING_BACKEND_KEY, DEFAULT_BACKEND)
            _clear_pending(request)
            login(request, user, backend=backend)
            django_otp.login(request, passed)
            if passed is not device:
                left = two_factor.recovery_codes_left(user=user)
                messages.warning(
                    request,
                    _("You used a recovery code. %(left)s are left: make new ones from your profile if you need to.")
                    % {"left": left},
                )
            return redirect(_safe_next(request, next_url))
        # A wrong code also counts towards the sign-in lockout.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if two_factor.code_throttled(device=device):
            form.add_error(
                "code", _("That code is not valid. Wait a few seconds before trying again, then use the newest code.")
            )
        else:
            form.add_error("code", _("That code is not valid."))
    return render(request, "accounts/login_verify.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- Two-factor enrolment ------------------------------------------------------------


@login_required
@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup_view(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    existing = two_factor.confirmed_device(user=user)
    if existing is not None:
        if user.is_verified():  # type: ignore[attr-defined]  # django_otp's OTPMiddleware adds it
            return render(
                request,
                "accounts/two_factor_enabled.html",
                {"required": two_factor.two_factor_required(user=user)},
            )
        # Enrolled already, but this session has not proved it (e.g. signed in elsewhere).
        verify_form = SecondFactorForm(data=request.POST or None)
        if request.method == "POST" and verify_form.is_valid():
            code = verify_form.cleaned_data["code"]
            passed = (
                existing
                if verify_form.is_totp and two_factor.verify_code(device=existing, code=code)
                else two_factor.verify_recovery_code(user=user, code=code)
            )
            if passed is not None:
                two_factor.session_verified(request, passed)
                return redirect(settings.LOGIN_REDIRECT_URL)
            verify_form.add_error("code", _("That code is not valid."))
        return render(request, "accounts/login_verify.html", {"form": verify_form, "action": request.path})

    device = two_factor.enrolment_start(user=user)
    form = CodeForm(data=request.POST or None)
    # The page's instructions come first: do not jump past them to the code.
    form.fields["code"].widget.attrs.pop("autofocus", None)
    if request.method == "POST" and form.is_valid():
        if two_factor.enrolment_confirm(request=request, device=device, code=form.cleaned_data["code"]):
            request.session[NEW_RECOVERY_CODES_KEY] = two_factor.recovery_codes_regenerate(user=user)
            messages.success(request, _("Two-factor authentication is on. One more step: save your recovery codes."))
            return redirect("accounts:recovery_codes")
        form.add_error("code", _("That code is not valid. Check the time on your phone and try the newest code."))
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": two_factor.qr_code_svg(device.config_url),
            "secret": two_factor.secret_base32(device),
        },
    )


@login_required
@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_disable_view(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    device = two_factor.confirmed_device(user=user)
    if device is None:
        return redirect("accounts:two_factor_setup")
    required = two_factor.two_factor_required(user=user)
    form = CodeForm(data=request.POST or None)
    if request.method == "POST" and not required and form.is_valid():
        if two_factor.verify_code(device=device, code=form.cleaned_data["code"]):
            two_factor.two_factor_disable(user=user)
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("accounts:profile")
        form.add_error("code", _("That code is not valid."))
    status = 403 if required and request.method == "POST" else 200
    return render(request, "accounts/two_factor_disable.html", {"form": form, "required": required}, status=status)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes_view(request: AuthenticatedRequest) -> HttpResponse:
    """New codes, shown once; else how many are left. POST makes ten new ones (the old ones stop working).

    New codes pass through the session from the POST to this page and are removed
    from it as they are shown, so a reload shows the count, not the codes.
    """
    user = request.user
    if two_factor.confirmed_device(user=user) is None:
        return redirect("accounts:two_factor_setup")
    if request.method == "POST":
        request.session[NEW_RECOVERY_CODES_KEY] = two_factor.recovery_codes_regenerate(user=user)
        return redirect("accounts:recovery_codes")
    codes = request.session.pop(NEW_RECOVERY_CODES_KEY, None)
    if codes:
        return render(request, "accounts/recovery_codes.html", {"codes": codes})
    return render(request, "accounts/recovery_codes.html", {"left": two_factor.recovery_codes_left(user=user)})


# --- The per-account back-off's unlock link ------------------------------------------


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signin_unlock_view(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: asks first (mail scanners open links), clears the back-off on POST."""
    if request.method == "POST":
        if lockout.backoff_unlock(token=token):
            messages.success(request, _("You can sign in again now."))
            return redirect("accounts:login")
        return render(request, "accounts/signin_unlock.html", {"valid": False}, status=404)
    valid = lockout.unlock_token_valid(token=token)
    return render(request, "accounts/signin_unlock.html", {"valid": valid}, status=200 if valid else 404)


# --- Invitations ---------------------------------------------------------------------


def _invitation_invalid(request: HttpRequest) -> HttpResponse:
    """One page for unknown, used, revoked and expired links: never says which."""
    return render(request, "accounts/invitation_invalid.html", status=404)


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def invitation_view(request: HttpRequest, secret: str) -> HttpResponse:
    try:
        invitation = invitation_lookup(secret=secret)
    except InvitationInvalid:
        return _invitation_invalid(request)

    organisation = invitation.organisation
    context: dict[str, Any] = {"invitation": invitation, "organisation": organisation}
    user = request.user
    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            return render(request, "accounts/invitation.html", {**context, "mode": "other_user"})
        if request.method == "POST":
            try:
                invitation_accept(secret=secret, user=user)
            except InvitationInvalid:
                return _invitation_invalid(request)
            return _joined(request, organisation)
        return render(request, "accounts/invitation.html", {**context, "mode": "accept"})

    if User.objects.filter(email__iexact=invitation.email, is_active=True).exists():
        # The link holder owns the address: let them sign in rather than reset a password here.
        login_url = f"{reverse('accounts:login')}?next={request.path}"
        return render(request, "accounts/invitation.html", {**context, "mode": "sign_in", "login_url": login_url})

    form = InvitationSignUpForm(data=request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            membership = invitation_accept(
                secret=secret, full_name=form.cleaned_data["full_name"], password=form.cleaned_data["password1"]
            )
        except InvitationInvalid:
            return _invitation_invalid(request)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error("password1" if field == "password" else None, errors)
        else:
            login(request, membership.user, backend=DEFAULT_BACKEND)
            return _joined(request, organisation)
    return render(request, "accounts/invitation.html", {**context, "mode": "sign_up", "form": form})


def _joined(request: HttpRequest, organisation: Any) -> HttpResponse:
    request.session[SESSION_ORGANISATION_KEY] = str(organisation.pk)
    messages.success(request, _("Welcome to %(org)s.") % {"org": organisation.name})
    return redirect(settings.LOGIN_REDIRECT_URL)


# --- Profile, organisation and language ---------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def profile_view(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    initial = {"full_name": user.full_name, "language": user.language, "time_zone": user.time_zone}
    form = ProfileForm(data=request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        profile_update(user=user, **form.cleaned_data)
        messages.success(request, _("Your profile is saved."))
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "two_factor_on": two_factor.confirmed_device(user=user) is not None},
    )


@login_required
@require_POST
def switch_organisation_view(request: AuthenticatedRequest) -> HttpResponse:
    form = OrganisationSwitchForm(request.POST)
    next_url = _safe_next(request, request.POST.get("next"))
    if not form.is_valid():
        return redirect(next_url)
    organisation = organisation_get(key=str(form.cleaned_data["organisation"]))
    if organisation is None or membership_for(user=request.user, organisation=organisation) is None:
        messages.error(request, _("You are not a member of that organisation."))
        return redirect(next_url)
    request.session[SESSION_ORGANISATION_KEY] = str(organisation.pk)
    return HttpResponseRedirect(next_url)


@require_POST
def set_language_view(request: HttpRequest) -> HttpResponse:
    """Django's set_language, which also records a signed-in user's choice in the profile.

    Until someone picks a language the browser's Accept-Language decides; once they
    pick one (here or on the profile page) it follows them to every device and e-mail.
    """
    language = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and language in dict(settings.LANGUAGES):
        profile_update(user=user, language=language)
    return set_language(request)


# --- Password reset (Django's views, our templates) ----------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


password_reset_view = PasswordResetView.as_view()
password_reset_done_view = auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
password_reset_confirm_view = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
password_reset_complete_view = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)
