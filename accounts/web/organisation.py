"""Organisation settings for its administrators: members and roles, invitations, the
two-factor rule, the focal point, and everyone's own API tokens.

The pages do what the API does (``accounts/api/views.py``), with the same serializers
and services: the services check the rules (the last administrator stays, the focal
point is a member, a role fits the kind of organisation) and write the audit log.
Reads start from the selectors inside the actor's tenant scope, so another
organisation's member, invitation or token is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import access, offboarding, selectors, services
from accounts.api import serializers as s
from accounts.models import Invitation, Membership, Role, User
from accounts.tenancy import Actor
from accounts.web.forms import (
    FocalPointForm,
    InvitationForm,
    TokenForm,
    TransferForm,
    TwoFactorRuleForm,
    errors_of,
    role_choices,
)
from config.errors import StateConflict
from config.web import actor_required, confirm_page, csv_response, paginate

ADMINS = (Role.ADMIN,)


# --- Reads -----------------------------------------------------------------------------


def _two_factor_enrolled() -> Exists:
    return Exists(TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True))


def members_with_two_factor(actor: Actor) -> QuerySet[Membership]:
    """The organisation's members, each with ``two_factor`` (a confirmed authenticator)."""
    return selectors.member_list(actor=actor).annotate(two_factor=_two_factor_enrolled())


def pending_invitations(actor: Actor) -> QuerySet[Invitation]:
    return selectors.invitation_list(actor=actor).filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def _display_name(user: User) -> str:
    return user.full_name or user.email


def _first_message(errors: dict[str, list[str]]) -> str:
    return " ".join(message for messages_ in errors.values() for message in messages_)


# --- Overview: the 2FA rule and the focal point ------------------------------------------


def _overview(request: HttpRequest, *, focal_form: FocalPointForm | None = None, status: int = 200) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.organisation
    assert organisation is not None
    members = list(members_with_two_factor(actor))
    focal = next((m.user for m in members if m.user_id == organisation.focal_point_id), None)
    if focal_form is None:
        focal_form = FocalPointForm(initial={"focal_point": str(organisation.focal_point_id or "")}, members=members)
    return render(
        request,
        "accounts/organisation/overview.html",
        {
            "organisation": organisation,
            "members_count": len(members),
            "enrolled_count": len([m for m in members if m.two_factor]),  # type: ignore[attr-defined]
            "admins_count": sum(1 for m in members if m.role == Role.ADMIN),
            "pending_count": pending_invitations(actor).count(),
            "focal_point": focal,
            "focal_form": focal_form,
            "section": "overview",
        },
        status=status,
    )


@actor_required(roles=ADMINS)
@require_http_methods(["GET"])
def overview_view(request: HttpRequest) -> HttpResponse:
    return _overview(request)


@actor_required(roles=ADMINS)
@require_POST
def focal_point_view(request: HttpRequest) -> HttpResponse:
    """Choose the focal point among the members (the API's rule and message)."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.organisation
    assert organisation is not None
    value = request.POST.get("focal_point", "")
    serializer = s.OrganisationUpdateSerializer(data={"focal_point": value}, partial=True)
    errors: dict[str, list[str]] = {}
    if not serializer.is_valid():
        errors = errors_of(serializer.errors)
    else:
        user = User.objects.filter(pk=serializer.validated_data["focal_point"], is_active=True).first()
        if user is None:
            errors = {"focal_point": [_("The focal point must be a member of the organisation.")]}
        else:
            try:
                services.organisation_update(organisation=organisation, actor=actor, focal_point=user)
            except ValidationError as exc:
                errors = errors_of(exc)
            else:
                messages.success(request, _("%(name)s is now the focal point.") % {"name": _display_name(user)})
                return redirect("accounts:organisation")
    form = FocalPointForm(request.POST, errors=errors, members=members_with_two_factor(actor))
    return _overview(request, focal_form=form, status=400)


@actor_required(roles=ADMINS)
@require_http_methods(["GET", "POST"])
def two_factor_rule_view(request: HttpRequest) -> HttpResponse:
    """Require (or stop requiring) two-factor sign-in for every member: confirm, then change."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.organisation
    assert organisation is not None
    if request.method == "POST":
        serializer = s.OrganisationUpdateSerializer(
            data={"require_two_factor": request.POST.get("require_two_factor", "")}, partial=True
        )
        if not serializer.is_valid():
            messages.error(request, _first_message(errors_of(serializer.errors)))
            return redirect("accounts:organisation")
        required = serializer.validated_data["require_two_factor"]
        services.organisation_update(organisation=organisation, actor=actor, require_two_factor=required)
        if required:
            messages.success(request, _("Two-factor authentication is now required for every member."))
        else:
            messages.success(request, _("Two-factor authentication is no longer required. Members may still use it."))
        return redirect("accounts:organisation")

    turn_on = not organisation.require_two_factor
    members = list(members_with_two_factor(actor))
    missing = [m for m in members if not m.two_factor]  # type: ignore[attr-defined]
    if turn_on:
        title = _("Require two-factor authentication")
        question = _("Require every member of %(org)s to sign in with a code from an authenticator app?") % {
            "org": organisation.name
        }
        explanation = ngettext(
            "%(count)s member has not set it up yet: they will be asked to, the next time they open a page, "
            "before they can do anything else. Members who have it already notice no change.",
            "%(count)s members have not set it up yet: they will be asked to, the next time they open a page, "
            "before they can do anything else. Members who have it already notice no change.",
            len(missing),
        ) % {"count": len(missing)}
        if any(m.user_id == actor.user.pk for m in missing):  # type: ignore[union-attr]
            explanation += " " + _("You have not set it up yourself: you will be asked to straight away.")
        button = _("Require two-factor authentication")
    else:
        title = _("Stop requiring two-factor authentication")
        question = _("Let members of %(org)s sign in with a password only?") % {"org": organisation.name}
        explanation = _(
            "Members who use an authenticator app keep using it until they turn it off on their profile page."
        )
        button = _("Stop requiring two-factor authentication")
    form = TwoFactorRuleForm(initial={"require_two_factor": "true" if turn_on else "false"})
    return confirm_page(
        request,
        title=title,
        question=question,
        explanation=explanation,
        action_url=reverse("accounts:organisation_two_factor"),
        button=button,
        cancel_url=reverse("accounts:organisation"),
        warning=not turn_on,
        form=form,
    )


# --- Members -----------------------------------------------------------------------------


@actor_required(roles=ADMINS)
@require_http_methods(["GET"])
def members_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.organisation
    assert organisation is not None
    page = paginate(request, members_with_two_factor(actor))
    return render(
        request,
        "accounts/organisation/members.html",
        {
            "organisation": organisation,
            "page": page,
            "members": page.object_list,
            "roles": role_choices(organisation),
            "section": "members",
        },
    )


@actor_required(roles=ADMINS)
@require_http_methods(["GET"])
def members_csv_view(request: HttpRequest) -> HttpResponseBase:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    labels = dict(Role.choices)
    yes, no = _("Yes"), _("No")
    rows = (
        (m.user.full_name, m.user.email, labels.get(m.role, m.role), yes if m.two_factor else no, m.created_at.date())  # type: ignore[attr-defined]
        for m in members_with_two_factor(actor).iterator()
    )
    header = [_("Name"), _("E-mail address"), _("Role"), _("Two-factor authentication"), _("Joined")]
    return csv_response("members.csv", header, rows)


def _after_own_change(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Back to the members list, unless the admin changed their own access."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if membership.user_id == actor.user.pk:  # type: ignore[union-attr]
        return redirect("home")
    return redirect("accounts:organisation_members")


@actor_required(roles=ADMINS)
@require_POST
def member_role_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    membership = get_object_or_404(selectors.member_list(actor=actor), pk=pk)
    name = _display_name(membership.user)
    serializer = s.MembershipUpdateSerializer(data=request.POST)
    if not serializer.is_valid():
        messages.error(request, _first_message(errors_of(serializer.errors)))
        return redirect("accounts:organisation_members")
    role = serializer.validated_data["role"]
    if role == membership.role:
        messages.info(request, _("%(name)s already has that role.") % {"name": name})
        return redirect("accounts:organisation_members")
    try:
        membership = services.membership_change_role(membership=membership, role=role, actor=actor)
    except ValidationError as exc:
        messages.error(
            request,
            _("The role of %(name)s was not changed: %(reason)s")
            % {"name": name, "reason": _first_message(errors_of(exc))},
        )
        return redirect("accounts:organisation_members")
    messages.success(
        request,
        _("%(name)s is now %(role)s.") % {"name": name, "role": dict(Role.choices)[role]},
    )
    if role != Role.ADMIN:
        return _after_own_change(request, membership)
    return redirect("accounts:organisation_members")


@actor_required(roles=ADMINS)
@require_http_methods(["GET", "POST"])
def member_remove_view(request: HttpRequest, pk: Any) -> HttpResponse:
    """Offboarding's one confirmation page: what moves (counts and titles), to whom, and what ends."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.organisation
    assert organisation is not None
    membership = get_object_or_404(selectors.member_list(actor=actor).select_related("organisation"), pk=pk)
    name = _display_name(membership.user)
    decision = access.can_offboard(actor, membership)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not decision:
            messages.error(
                request, _("%(name)s was not removed: %(reason)s") % {"name": name, "reason": decision.reason}
            )
            return redirect("accounts:organisation_members")
        try:
            transfer_to = offboarding.transfer_target_from(request.POST.get("transfer_to"))
            result = offboarding.member_offboard(actor=actor, membership=membership, transfer_to=transfer_to)
        except ValidationError as exc:
            errors = errors_of(exc)
        except StateConflict as exc:  # another administrator left in the meantime
            messages.error(request, _("%(name)s was not removed: %(reason)s") % {"name": name, "reason": exc})
            return redirect("accounts:organisation_members")
        else:
            _tell_result(request, name, result)
            if membership.user_id == actor.user.pk:  # type: ignore[union-attr]
                return redirect("accounts:login")  # their own sessions have just ended
            return redirect("accounts:organisation_members")
    summary = offboarding.offboarding_summary(membership)
    targets = list(access.transfer_targets(membership)) if summary.owns_anything else []
    form = TransferForm(request.POST or None, errors=errors, targets=targets) if summary.owns_anything else None
    return render(
        request,
        "accounts/organisation/member_remove.html",
        {
            "organisation": organisation,
            "membership": membership,
            "name": name,
            "own": membership.user_id == actor.user.pk,  # type: ignore[union-attr]
            "summary": summary,
            "refusal": "" if decision else decision.reason,
            "form": form,
            # Without a form (they own nothing) an error still shows, in the summary.
            "other_errors": [("", "", m) for ms in errors.values() for m in ms] if form is None else [],
            "section": "members",
        },
        status=400 if errors else (409 if decision.conflict else 200),
    )


def _tell_result(request: HttpRequest, name: str, result: offboarding.OffboardingResult) -> None:
    text = _("%(name)s is no longer a member.") % {"name": name}
    if result.transfer_to is not None and result.summary.total:
        text += " " + ngettext(
            "%(count)s thing they owned now belongs to %(to)s.",
            "%(count)s things they owned now belong to %(to)s.",
            result.summary.total,
        ) % {"count": result.summary.total, "to": _display_name(result.transfer_to)}
    text += " " + _("Their API tokens and sessions have ended.")
    if result.account_deactivated:
        text += " " + _("It was their last organisation, so their account is closed: they can no longer sign in.")
    messages.success(request, text)


# --- Invitations -----------------------------------------------------------------------


@actor_required(roles=ADMINS)
@require_http_methods(["GET", "POST"])
def invitations_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.organisation
    assert organisation is not None
    status = 200
    if request.method == "POST":
        serializer = s.InvitationCreateSerializer(data=request.POST)
        if serializer.is_valid():
            try:
                invitation, _secret = services.invitation_create(actor=actor, **serializer.validated_data)
            except ValidationError as exc:
                errors = errors_of(exc)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s. The link in it works once, until %(date)s.")
                    % {
                        "email": invitation.email,
                        "date": date_format(timezone.localtime(invitation.expires_at), "j F Y"),
                    },
                )
                return redirect("accounts:organisation_invitations")
        else:
            errors = errors_of(serializer.errors)
        form = InvitationForm(request.POST, errors=errors, organisation=organisation)
        status = 400
    else:
        default_role = Role.MODERATOR if organisation.is_agency else Role.OFFICIAL
        form = InvitationForm(initial={"role": default_role}, organisation=organisation)
    page = paginate(request, pending_invitations(actor))
    return render(
        request,
        "accounts/organisation/invitations.html",
        {
            "organisation": organisation,
            "form": form,
            "page": page,
            "invitations": page.object_list,
            "section": "invitations",
        },
        status=status,
    )


@actor_required(roles=ADMINS)
@require_http_methods(["GET", "POST"])
def invitation_revoke_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    invitation = get_object_or_404(selectors.invitation_list(actor=actor), pk=pk)
    if invitation.status != "pending":
        messages.info(request, _("That invitation was already used, revoked or expired."))
        return redirect("accounts:organisation_invitations")
    if request.method == "POST":
        services.invitation_revoke(invitation=invitation, actor=actor)
        messages.success(
            request,
            _("The invitation to %(email)s is revoked: its link no longer works.") % {"email": invitation.email},
        )
        return redirect("accounts:organisation_invitations")
    return confirm_page(
        request,
        title=_("Revoke an invitation"),
        question=_("Revoke the invitation sent to %(email)s?") % {"email": invitation.email},
        explanation=_("The link in the e-mail will stop working. You can send a new invitation later."),
        button=_("Revoke invitation"),
        cancel_url=reverse("accounts:organisation_invitations"),
        warning=True,
    )


# --- API tokens (each member's own, for the acting organisation, as in the API) ------------


@actor_required
@never_cache
@require_http_methods(["GET", "POST"])
def tokens_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.organisation
    assert organisation is not None and actor.user is not None
    status = 200
    if request.method == "POST":
        serializer = s.ApiTokenCreateSerializer(data=request.POST)
        if serializer.is_valid():
            try:
                token, secret = services.token_issue(
                    user=actor.user, organisation=organisation, name=serializer.validated_data["name"], actor=actor
                )
            except ValidationError as exc:
                errors = errors_of(exc)
            else:
                # The secret is in this response only: it is not stored, and no page shows it again.
                return render(
                    request,
                    "accounts/organisation/token_created.html",
                    {"organisation": organisation, "token": token, "secret": secret, "section": "tokens"},
                )
        else:
            errors = errors_of(serializer.errors)
        form = TokenForm(request.POST, errors=errors)
        status = 400
    else:
        form = TokenForm()
    page = paginate(request, selectors.token_list(actor=actor))
    return render(
        request,
        "accounts/organisation/tokens.html",
        {"organisation": organisation, "form": form, "page": page, "tokens": page.object_list, "section": "tokens"},
        status=status,
    )


@actor_required
@require_http_methods(["GET", "POST"])
def token_revoke_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    token = get_object_or_404(selectors.token_list(actor=actor), pk=pk)
    if token.revoked_at is not None:
        messages.info(request, _("That token is already revoked."))
        return redirect("accounts:organisation_tokens")
    if request.method == "POST":
        services.token_revoke(token=token, actor=actor)
        messages.success(request, _("The token “%(name)s” is revoked: it no longer works.") % {"name": token.name})
        return redirect("accounts:organisation_tokens")
    return confirm_page(
        request,
        title=_("Revoke an API token"),
        question=_("Revoke the token “%(name)s” (%(prefix)s…)?") % {"name": token.name, "prefix": token.prefix},
        explanation=_(
            "Programs using it will be refused from now on. This cannot be undone: create a new token if you need one."
        ),
        button=_("Revoke token"),
        cancel_url=reverse("accounts:organisation_tokens"),
        warning=True,
    )
