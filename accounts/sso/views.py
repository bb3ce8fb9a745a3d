"""The pages of single sign-on: the start and the callback of a sign-in, and the settings.

The start (``/accounts/sso/<organisation-slug>/``) sends the browser to the
organisation's provider with a fresh state, nonce and PKCE verifier (mozilla-django-oidc's
helpers keep them in the session, keyed by the state, with the organisation they are
for). The callback (``…/callback/``) takes the state back out once (a replayed or
foreign state is refused), has the organisation's backend exchange the code and verify
the ID token, and signs the person in. Privileged people pass the second factor as
after a password: someone with an authenticator app is sent to the code step before
the session is signed in, and the two-factor middleware sends anyone else who must
use one to enrolment (``accounts.two_factor``).

Every failure is a page that says what happened and what to do: 400 for a sign-in
that does not match one started here, 403 for a person Corridor's rules refuse, 502
for a provider that answers wrongly, 503 for one that cannot be reached.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from mozilla_django_oidc.utils import add_state_and_verifier_and_nonce_to_session, generate_code_challenge
from mozilla_django_oidc.views import get_next_url

from accounts import access, two_factor
from accounts.models import Organisation, SingleSignOn
from accounts.sso import discovery, services
from accounts.sso.backend import SingleSignOnBackend
from accounts.sso.errors import ProviderMisconfigured, SignInInvalid, SingleSignOnError
from accounts.sso.forms import SingleSignOnForm
from accounts.tenancy import Actor
from accounts.views import (
    PENDING_BACKEND_KEY,
    PENDING_NEXT_KEY,
    PENDING_SINCE_KEY,
    PENDING_USER_KEY,
    SESSION_ORGANISATION_KEY,
    _safe_next,
)
from accounts.web.forms import errors_of
from config.web import actor_required

BACKEND = "accounts.sso.backend.SingleSignOnBackend"
STATES_KEY = "oidc_states"  # mozilla-django-oidc's session key: state → nonce, verifier, added_on
STATE_TTL_SECONDS = 10 * 60
SCOPES = "openid email profile"


def _error_page(request: HttpRequest, organisation: Organisation | None, error: SingleSignOnError) -> HttpResponse:
    return render(
        request,
        "accounts/sso/error.html",
        {"organisation": organisation, "message": error.message, "status": error.status},
        status=error.status,
    )


def _enabled_or_404(slug: str) -> SingleSignOn:
    row = services.enabled_single_sign_on(slug)
    if row is None:
        raise Http404(_("This organisation does not sign in through its own identity provider."))
    return row


def _callback_url(request: HttpRequest, organisation: Organisation) -> str:
    return request.build_absolute_uri(reverse("accounts:sso_callback", args=[organisation.slug]))


@never_cache
@require_GET
def start_view(request: HttpRequest, slug: str) -> HttpResponse:
    row = _enabled_or_404(slug)
    organisation = row.organisation
    try:
        provider = discovery.provider_for(row.issuer, organisation_name=organisation.name)
        if settings.SSO_REQUIRE_HTTPS and not provider.authorization_endpoint.startswith("https://"):
            raise ProviderMisconfigured(
                _("The identity provider of %(org)s sends people to a sign-in page that is not encrypted (https).")
                % {"org": organisation.name}
            )
    except SingleSignOnError as error:
        return _error_page(request, organisation, error)
    state = get_random_string(32)
    verifier = get_random_string(64)
    params = {
        "response_type": "code",
        "scope": SCOPES,
        "client_id": row.client_id,
        "redirect_uri": _callback_url(request, organisation),
        "state": state,
        "nonce": get_random_string(32),
        "code_challenge": generate_code_challenge(verifier, "S256"),
        "code_challenge_method": "S256",
    }
    hint = request.GET.get("email", "").strip()
    if hint and services.email_domain(hint) in row.allowed_domains:
        params["login_hint"] = hint
    add_state_and_verifier_and_nonce_to_session(request, state, params, verifier)
    entry = request.session[STATES_KEY][state]
    entry["organisation"] = str(organisation.pk)
    entry["next"] = get_next_url(request, "next") or ""
    request.session.modified = True
    separator = "&" if "?" in provider.authorization_endpoint else "?"
    return redirect(f"{provider.authorization_endpoint}{separator}{urlencode(params)}")


def _take_state(request: HttpRequest, organisation: Organisation) -> dict[str, Any]:
    """The sign-in this callback answers, removed from the session so it works once."""
    state = request.GET.get("state", "")
    states = request.session.get(STATES_KEY)
    entry = states.pop(state, None) if isinstance(states, dict) and state else None
    if entry is not None:
        request.session[STATES_KEY] = states
        request.session.save()  # the state is spent even if what follows fails
    if (
        not isinstance(entry, dict)
        or entry.get("organisation") != str(organisation.pk)
        or time.time() - float(entry.get("added_on", 0)) > STATE_TTL_SECONDS
    ):
        raise SignInInvalid(
            _(
                "This answer from the identity provider does not match a sign-in started in this browser, "
                "or it came too late or twice. Nobody was signed in. Start again."
            ),
            code="state",
        )
    return entry


@never_cache
@require_GET
def callback_view(request: HttpRequest, slug: str) -> HttpResponse:
    row = _enabled_or_404(slug)
    organisation = row.organisation
    try:
        entry = _take_state(request, organisation)
        if request.GET.get("error"):
            raise SignInInvalid(
                _("The identity provider of %(org)s did not sign you in (%(error)s). Start again.")
                % {"org": organisation.name, "error": request.GET["error"][:100]},
                code="provider_error",
            )
        code = request.GET.get("code", "")
        if not code:
            raise SignInInvalid(_("The identity provider's answer has no sign-in code. Start again."), code="no_code")
        provider = discovery.provider_for(row.issuer, organisation_name=organisation.name)
        backend = SingleSignOnBackend(row, provider)
        user = backend.authenticate(
            request,
            single_sign_on=row,
            code=code,
            nonce=str(entry.get("nonce") or ""),
            code_verifier=str(entry.get("code_verifier") or ""),
            redirect_uri=_callback_url(request, organisation),
        )
    except SingleSignOnError as error:
        return _error_page(request, organisation, error)
    assert user is not None
    next_url = str(entry.get("next") or "")
    if two_factor.confirmed_device(user=user) is not None:
        # As after a password: the session is not signed in until the code is typed.
        request.session.cycle_key()
        request.session[PENDING_USER_KEY] = str(user.pk)
        request.session[PENDING_BACKEND_KEY] = BACKEND
        request.session[PENDING_SINCE_KEY] = time.time()
        request.session[PENDING_NEXT_KEY] = next_url
        request.session[SESSION_ORGANISATION_KEY] = str(organisation.pk)
        return redirect("accounts:login_verify")
    login(request, user, backend=BACKEND)
    request.session[SESSION_ORGANISATION_KEY] = str(organisation.pk)
    return redirect(_safe_next(request, next_url))


# --- Settings (the organisation's administrators) ---------------------------------------


@actor_required
@never_cache
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    access.can_configure_single_sign_on(actor).check()
    organisation = actor.org
    row = services.single_sign_on_of(organisation)
    has_secret = bool(row and row.client_secret)
    status = 200
    if request.method == "POST":
        form = SingleSignOnForm(request.POST, organisation=organisation, has_secret=has_secret)
        if form.is_valid():
            try:
                services.single_sign_on_save(
                    actor=actor, values=form.values(), client_secret=form.cleaned_data["client_secret"]
                )
            except ValidationError as exc:
                for field, errors in errors_of(exc).items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("The single sign-on settings are saved."))
                return redirect("accounts:organisation_sso")
        status = 400
    else:
        form = SingleSignOnForm(
            initial=SingleSignOnForm.initial_from(row), organisation=organisation, has_secret=has_secret
        )
    return render(
        request,
        "accounts/organisation/sso.html",
        {
            "organisation": organisation,
            "form": form,
            "row": row,
            "callback_url": _callback_url(request, organisation),
            "start_url": request.build_absolute_uri(reverse("accounts:sso_start", args=[organisation.slug])),
            "section": "sso",
        },
        status=status,
    )
