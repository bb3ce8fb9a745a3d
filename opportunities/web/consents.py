"""The origin government's consent page (issue [12], as in Germany's Triple Win).

``/consents/`` lists what the caller's government is asked to agree to, with a form to
accept or refuse each pending one (``POST /consents/<listing>/<country>/accept|refuse/``).
The rules are ``opportunities.access``'s; the write is ``services.consent_decide``, as the API's.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import is_government
from accounts.tenancy import Actor
from config.errors import StateConflict
from config.web import actor_required, flatten_errors
from opportunities import access, services
from opportunities.inputs import ReasonSerializer
from opportunities.models import ConsentStatus
from opportunities.web.listings import country_name

DECISIONS = {"accept": True, "refuse": False}
DECIDED_SHOWN = 50


def _page(request: HttpRequest, *, conflict: str = "", status: int = 200) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    consents = access.consents_of_government(actor=actor).select_related("listing", "listing__owner")

    def rows(queryset: Any) -> list[dict[str, Any]]:
        return [
            {
                "consent": consent,
                "listing": consent.listing,
                "owner_country": country_name(consent.listing.owner_country),
                "can_decide": bool(access.can_decide_consent(actor, consent)),
            }
            for consent in queryset
        ]

    context: dict[str, Any] = {
        # Every request waiting, oldest first; the latest decisions.
        "pending": rows(consents.filter(status=ConsentStatus.PENDING).order_by("created_at", "id")),
        "decided": rows(consents.exclude(status=ConsentStatus.PENDING).order_by("-decided_at", "id")[:DECIDED_SHOWN]),
        "decided_shown": DECIDED_SHOWN,
        "conflict": conflict,
        "is_government": is_government(actor),
    }
    return render(request, "opportunities/consents.html", context, status=status)


@actor_required
@require_GET
def consents_view(request: HttpRequest) -> HttpResponse:
    return _page(request)


@actor_required
@require_POST
def consent_decide_view(request: HttpRequest, pk: Any, country: str, decision: str) -> HttpResponse:
    if decision not in DECISIONS:
        raise Http404
    actor: Actor = request.actor  # type: ignore[attr-defined]
    listing = get_object_or_404(access.consent_listings_visible_to(actor=actor), pk=pk)
    code = country.upper()
    if not access.listing_consents(actor, listing).filter(country=code).exists():
        raise Http404
    body = ReasonSerializer(data={"reason": request.POST.get("reason", "")})
    if not body.is_valid():
        problems = flatten_errors(body.errors).get("reason", [])
        return _page(request, conflict=" ".join(str(p) for p in problems), status=400)
    try:
        services.consent_decide(
            actor=actor, listing=listing, country=code, accept=DECISIONS[decision], reason=body.validated_data["reason"]
        )
    except StateConflict as exc:
        return _page(request, conflict=str(exc), status=409)
    if DECISIONS[decision]:
        messages.success(request, _("You accepted “%(title)s”: your country is admitted.") % {"title": listing.title})
    else:
        messages.success(request, _("You refused “%(title)s”: your country stays out.") % {"title": listing.title})
    return redirect("opportunities:consents")
