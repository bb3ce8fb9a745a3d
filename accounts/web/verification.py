"""The agencies' verification pages: the queue of organisations to verify, and one organisation's
review with its decision forms and the history of decisions.

Decisions go through ``accounts.verification.organisation_review``, the call the API makes, so
who may decide, which states allow which move and that a suspension needs a reason are said
once (``accounts.access``); a refused move shows the service's words.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access, selectors, verification
from accounts.models import Organisation, Role, VerificationAction, VerificationStatus
from accounts.tenancy import Actor
from config.errors import StateConflict
from config.web import actor_required, paginate

MODERATORS = (Role.MODERATOR,)

# The decision in the URL → the service's action.
DECISIONS: dict[str, str] = {
    "verify": VerificationAction.VERIFY,
    "suspend": VerificationAction.SUSPEND,
    "reinstate": VerificationAction.REINSTATE,
}
# The queue's filter: pending (the default) or suspended.
QUEUE_STATUSES = (VerificationStatus.PENDING, VerificationStatus.SUSPENDED)


class ReviewForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy(
            "Required to suspend: the organisation's members see it, and its administrators are e-mailed it. "
            "Optional when you verify or reinstate (kept in the history)."
        ),
        required=False,
        max_length=verification.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def review_queue(*, actor: Actor, status: str) -> QuerySet[Organisation]:
    """Active organisations in ``status``, the longest waiting first (never the moderator's own)."""
    return (
        selectors.organisation_list(actor=actor)
        .filter(verification_status=status)
        .exclude(pk=actor.org.pk)
        .select_related("focal_point")
        .order_by("created_at", "id")
    )


@actor_required(agency=True, roles=MODERATORS)
def queue_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    status = request.GET.get("status") or VerificationStatus.PENDING
    if status not in QUEUE_STATUSES:
        status = VerificationStatus.PENDING
    page = paginate(request, review_queue(actor=actor, status=status))
    return render(
        request,
        "accounts/verification/queue.html",
        {"page": page, "status": status, "now": timezone.now(), "form": ReviewForm()},
    )


def _organisation(request: HttpRequest, pk: Any) -> Organisation:
    org = selectors.organisation_list(actor=request.actor).filter(pk=pk).select_related("focal_point").first()  # type: ignore[attr-defined]
    if org is None:
        raise Http404
    return org


def _review(
    request: HttpRequest, org: Organisation, *, form: ReviewForm | None = None, conflict: str = "", status: int = 200
) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    allowed = {name: bool(access.can_review_organisation(actor, org, action)) for name, action in DECISIONS.items()}
    context = {
        "organisation": org,
        "form": form or ReviewForm(),
        "conflict": conflict,
        "allowed": allowed,
        "any_allowed": any(allowed.values()),
        "who": access.can_change_standing(actor, org),
        "reviews": access.organisation_reviews(actor, org),
        "now": timezone.now(),
    }
    return render(request, "accounts/verification/review.html", context, status=status)


@actor_required(agency=True, roles=MODERATORS)
def review_view(request: HttpRequest, pk: Any) -> HttpResponse:
    return _review(request, _organisation(request, pk))


@actor_required(agency=True, roles=MODERATORS)
def decide_view(request: HttpRequest, pk: Any, decision: str) -> HttpResponse:
    if decision not in DECISIONS:
        raise Http404
    org = _organisation(request, pk)
    if request.method != "POST":
        return redirect("organisation-moderation-review", pk=org.pk)
    actor: Actor = request.actor  # type: ignore[attr-defined]
    access.can_change_standing(actor, org).check()  # who asks comes before what they sent
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _review(request, org, form=form, status=400)
    try:
        verification.organisation_review(
            actor=actor, organisation=org, action=DECISIONS[decision], reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        for field, field_messages in exc.message_dict.items():
            for message in field_messages:
                form.add_error("reason" if field == "reason" else None, message)
        return _review(request, org, form=form, status=400)
    except StateConflict as exc:
        return _review(request, org, form=form, conflict=str(exc), status=409)
    messages.success(request, _decision_message(DECISIONS[decision], org.name))
    if request.POST.get("next") == "queue":
        return redirect("organisation-moderation")
    return redirect("organisation-moderation-review", pk=org.pk)


def _decision_message(action: str, name: str) -> str:
    messages_by_action: dict[str, str] = {
        VerificationAction.VERIFY: _("%(name)s is verified; its administrators are told by e-mail."),
        VerificationAction.SUSPEND: _("%(name)s is suspended; its members see your reason."),
        VerificationAction.REINSTATE: _("%(name)s is reinstated; its administrators are told by e-mail."),
    }
    return messages_by_action[action] % {"name": name}
