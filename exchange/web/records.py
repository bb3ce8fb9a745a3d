"""Official records of a partnership and of an agreed match (see ``opportunities.web.records``).

Readers are those of the object's page: a partnership's (``access.partnership_visible_to``:
its members, and every signed-in organisation once public and in force) and an agreed
match's two governments (``access.match_records_visible_to``). The hashed fields are
the ones every such reader sees alike: a partnership's confirmed members and its
agreement's public part (never the signed text, never the committee); a match's two
listings, owners, score and the acceptance with its date.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AuditEvent
from accounts.tenancy import Actor, unscoped
from config.web import actor_required
from exchange import access
from exchange.models import MemberState, Partnership, PartnershipMember
from exchange.partnerships.agreements import agreement_of
from opportunities.web.records import RECORD_VERSION, render_record


@actor_required
def partnership_print_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    partnership: Partnership = get_object_or_404(access.partnership_visible_to(actor=actor), pk=pk)
    with unscoped("the confirmed members of a partnership the actor reads (every reader sees them)"):
        members = list(
            PartnershipMember.objects.filter(partnership=partnership, state=MemberState.CONFIRMED)
            .select_related("organisation")
            .order_by("organisation__name", "organisation_id")
        )
    agreement = agreement_of(partnership)
    fields: dict[str, Any] = {
        "record": "partnership",
        "version": RECORD_VERSION,
        "id": str(partnership.pk),
        "name": partnership.name,
        "kind": partnership.kind,
        "status": partnership.status,
        "signed_on": partnership.signed_on,
        "in_force_from": partnership.in_force_from,
        "ends_on": partnership.ends_on,
        "public": partnership.public,
        "members": [
            {"id": str(m.organisation_id), "name": m.organisation.name, "country": str(m.organisation.country)}
            for m in members
        ],
        "agreement": {
            "summary": agreement.summary,
            "review_on": agreement.review_on,
            "other_parties": list(agreement.named_parties),
        }
        if agreement
        else None,
    }
    rows = [
        (gettext_lazy("Kind"), partnership.get_kind_display()),
        (gettext_lazy("Status"), partnership.get_status_display()),
        (gettext_lazy("Member governments"), "; ".join(m.organisation.name for m in members)),
        (gettext_lazy("Signed on"), partnership.signed_on.isoformat() if partnership.signed_on else "—"),
        (gettext_lazy("In force from"), partnership.in_force_from.isoformat() if partnership.in_force_from else "—"),
        (gettext_lazy("Ends on"), partnership.ends_on.isoformat() if partnership.ends_on else "—"),
    ]
    if agreement:
        rows += [
            (gettext_lazy("Other parties"), "; ".join(agreement.named_parties) or "—"),
            (gettext_lazy("Review date"), agreement.review_on.isoformat() if agreement.review_on else "—"),
            (gettext_lazy("Agreement summary"), agreement.summary or "—"),
        ]
    # Partnerships are not moderated: the decision on record is the status and the date it took effect.
    since = {"signed": partnership.signed_on, "in_force": partnership.in_force_from, "ended": partnership.ends_on}
    decision = {"label": partnership.get_status_display(), "date": since.get(partnership.status)}
    return render_record(
        request,
        kind=_("Partnership"),
        title=partnership.name,
        fields=fields,
        rows=rows,
        decision=decision,
        back_url=f"/partnerships/{partnership.pk}/",
    )


@actor_required
def match_print_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    match = get_object_or_404(
        access.match_records_visible_to(actor=actor).select_related(
            "demand", "supply", "demand_owner", "supply_owner", "decided_by"
        ),
        pk=pk,
    )
    with unscoped("the date a match the actor is party to was accepted, from its audit row"):
        accepted = (
            AuditEvent.objects.filter(action="match.accepted", object_id=str(match.pk))
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
    fields = {
        "record": "match",
        "version": RECORD_VERSION,
        "id": str(match.pk),
        "demand": {"id": str(match.demand_id), "title": match.demand.title, "owner": str(match.demand_owner_id)},
        "supply": {"id": str(match.supply_id), "title": match.supply.title, "owner": str(match.supply_owner_id)},
        "score": round(match.score, 4),
        "state": match.state,
        "decision": {
            "accepted_by": str(match.decided_by_id) if match.decided_by_id else None,
            "at": accepted,
            "reason": match.decision_reason,
        },
    }
    rows = [
        (gettext_lazy("Demand"), f"{match.demand.title} ({match.demand_owner.name})"),
        (gettext_lazy("Supply"), f"{match.supply.title} ({match.supply_owner.name})"),
        (gettext_lazy("Score"), f"{round(match.score * 100)}%"),
    ]
    decision = {
        "label": _("Agreed"),
        "date": accepted,
        "by": match.decided_by.name if match.decided_by else "",
        "reason": match.decision_reason,
    }
    return render_record(
        request,
        kind=_("Agreed match"),
        title=f"{match.demand.title} ↔ {match.supply.title}",
        fields=fields,
        rows=rows,
        decision=decision,
        back_url=f"/matches/{match.pk}/",
    )
