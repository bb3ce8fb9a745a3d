"""Partnership pages: the list, one partnership, create and edit, confirm or decline, documents.

The same rules as the API (``exchange/api/partnerships.py``): reads start from
``exchange.access.partnership_visible_to`` (members, and every signed-in
organisation for a public partnership in force; anyone else gets a 404),
documents from ``exchange.partnerships.selectors.partnership_document_list``
(members only), writes go through ``exchange.partnerships.services`` behind the
API's serializers, and a download is ``exchange.web.downloads.document_response``.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_countries import countries

from accounts.models import OrganisationKind
from accounts.selectors import organisation_list
from accounts.tenancy import Actor
from config.errors import StateConflict
from config.web import actor_required, confirm_page, csv_response, paginate, public_page
from exchange import access
from exchange.api.partnerships import (
    AgreementInputSerializer,
    PartnershipCreateSerializer,
    PartnershipDocumentUploadSerializer,
    PartnershipUpdateSerializer,
    agreement_data,
    decision_listings,
)
from exchange.matching.selectors import match_list
from exchange.models import MatchState, MemberState, Partnership, PartnershipMember, PartnershipStatus
from exchange.models.partnerships import STATUS_TRANSITIONS, CommitteeDecision, CommitteeMeeting, CommitteeMember
from exchange.partnerships import selectors, services
from exchange.partnerships.agreements import (
    agreement_of,
    agreement_save,
    committee_decision_add,
    committee_meeting_add,
    committee_member_add,
    committee_row_delete,
)
from exchange.web.agreement_forms import AgreementForm, CommitteeDecisionForm, CommitteeMeetingForm, CommitteeMemberForm
from exchange.web.downloads import document_response
from exchange.web.forms import DocumentUploadForm, PartnershipForm, add_errors
from opportunities.access import listing_visible_to
from opportunities.models import Listing, ListingStatus

MAX_CHOICES = 300


# --- Reading helpers ----------------------------------------------------------------------


def _partnerships(actor: Actor) -> QuerySet[Partnership]:
    """Visible partnerships with their members (the API's visibility; what the pages render)."""
    members = PartnershipMember.objects.select_related("organisation").order_by("invited_at", "id")
    return access.partnership_visible_to(actor=actor).prefetch_related(Prefetch("memberships", queryset=members))


def _partnership(request: HttpRequest, pk: Any) -> Partnership:
    return get_object_or_404(_partnerships(request.actor), pk=pk)  # type: ignore[attr-defined]


def _own_row(partnership: Partnership, actor: Actor) -> PartnershipMember | None:
    return next((m for m in partnership.memberships.all() if m.organisation_id == actor.org.pk), None)


def _decorate(partnership: Partnership, actor: Actor) -> Partnership:
    """The rows the reader may see (members see every row; others, the confirmed members)."""
    rows = list(partnership.memberships.all())
    own = _own_row(partnership, actor)
    is_member = own is not None and own.is_active
    if not is_member:
        rows = [row for row in rows if row.state == MemberState.CONFIRMED]
    partnership.rows = rows  # type: ignore[attr-defined]
    partnership.own = own  # type: ignore[attr-defined]
    partnership.is_member = is_member  # type: ignore[attr-defined]
    partnership.partners = [  # type: ignore[attr-defined]
        row for row in rows if row.organisation_id != actor.org.pk and row.is_active
    ]
    return partnership


def _government_choices(exclude: set[Any]) -> list[tuple[Any, str]]:
    """Active governments as "Country — Organisation", sorted by country name in the user's language."""
    names = dict(countries)
    governments = organisation_list().filter(kind=OrganisationKind.GOVERNMENT).exclude(pk__in=exclude)
    choices = [(org.pk, f"{names.get(org.country.code, org.country.code)} — {org.name}") for org in governments]  # type: ignore[attr-defined]  # a Country, not a str
    return sorted(choices, key=lambda choice: choice[1].casefold())


def _listing_label(listing: Listing) -> str:
    return _("%(title)s (%(organisation)s, %(status)s)") % {
        "title": listing.title,
        "organisation": listing.owner.name,
        "status": listing.get_status_display().lower(),
    }


def _listing_choices(actor: Actor, owners: set[Any], grouped: QuerySet[Listing] | None = None) -> list[tuple[Any, str]]:
    """Listings the actor can read, posted by a member (or already grouped), newest first."""
    condition = Q(owner_id__in=owners)
    if grouped is not None:
        condition |= Q(pk__in=grouped.values("pk"))
    listings = (
        listing_visible_to(actor=actor)
        .filter(condition)
        .exclude(status__in=(ListingStatus.REJECTED, ListingStatus.WITHDRAWN))
        .select_related("owner")
        .order_by("-created_at", "id")[:MAX_CHOICES]
    )
    return [(listing.pk, _listing_label(listing)) for listing in listings]


def _match_choices(actor: Actor, members: set[Any] | None = None) -> list[tuple[Any, str]]:
    """Agreed matches the actor's organisation is a party to (between members, when known)."""
    matches = match_list(actor=actor).filter(state=MatchState.AGREED)
    if members is not None:
        matches = matches.filter(demand_owner_id__in=members, supply_owner_id__in=members)
    return [
        (
            match.pk,
            _("%(demand)s and %(supply)s") % {"demand": match.demand.title, "supply": match.supply.title},
        )
        for match in matches.order_by("-updated_at", "id")[:MAX_CHOICES]
    ]


# --- The list -----------------------------------------------------------------------------


@actor_required
def partnership_list_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    page = paginate(request, _partnerships(actor).order_by("-created_at", "id"))
    page.object_list = [_decorate(p, actor) for p in page.object_list]
    return render(
        request,
        "exchange/partnerships/list.html",
        {"page": page, "partnerships": page.object_list, "can_create": bool(access.can_create_partnership(actor))},
    )


@actor_required
def partnership_export_view(request: HttpRequest) -> HttpResponseBase:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    partnerships = _partnerships(actor).order_by("-created_at", "id")
    header = [
        _("Partnership"),
        _("Kind"),
        _("Status"),
        _("Member governments"),
        _("Your organisation"),
        _("Signed on"),
        _("In force from"),
        _("Ends on"),
    ]

    def rows() -> Any:
        for partnership in partnerships:
            _decorate(partnership, actor)
            yield [
                partnership.name,
                partnership.get_kind_display(),
                partnership.get_status_display(),
                "; ".join(
                    f"{row.organisation.name} ({row.get_state_display()})"
                    for row in partnership.rows  # type: ignore[attr-defined]
                ),
                partnership.own.get_state_display() if partnership.own else _("Not a member"),  # type: ignore[attr-defined]
                partnership.signed_on or "",
                partnership.in_force_from or "",
                partnership.ends_on or "",
            ]

    return csv_response("partnerships.csv", header, rows())


# --- One partnership ----------------------------------------------------------------------


def _detail(
    request: HttpRequest,
    partnership: Partnership,
    *,
    upload_form: DocumentUploadForm | None = None,
    status: int = 200,
    **bound_forms: Any,
) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    _decorate(partnership, actor)
    own = partnership.own  # type: ignore[attr-defined]
    is_member = partnership.is_member  # type: ignore[attr-defined]
    listings = list(
        listing_visible_to(actor=actor).filter(partnerships=partnership).select_related("owner").order_by("title", "id")
    )
    _grouped_listings, grouped_matches = access.partnership_grouped(partnership)
    visible = grouped_matches.select_related("demand", "supply", "demand_owner", "supply_owner").order_by(
        "-updated_at", "id"
    )
    if not is_member:
        visible = visible.filter(pk__in=access.match_visible_to(actor=actor).values("pk"))
    matches = list(visible)
    readable = set(
        listing_visible_to(actor=actor)
        .filter(pk__in=[m.demand_id for m in matches] + [m.supply_id for m in matches])
        .values_list("pk", flat=True)
    )
    for match in matches:
        match.demand_readable = match.demand_id in readable  # type: ignore[attr-defined]
        match.supply_readable = match.supply_id in readable  # type: ignore[attr-defined]
        match.is_party = actor.org.pk in (match.demand_owner_id, match.supply_owner_id)  # type: ignore[attr-defined]
        match.percent = round(match.score * 100)  # type: ignore[attr-defined]
    documents = (
        list(selectors.partnership_document_list(actor=actor).filter(partnership=partnership)) if is_member else []
    )
    can_change = bool(access.can_change_partnership(actor, own))
    context = {
        "partnership": partnership,
        "listings": listings,
        "matches": matches,
        "documents": documents,
        "can_change": can_change,
        "can_answer": bool(access.can_answer_invitation(actor, own, confirm=True)),
        "upload_form": (upload_form or DocumentUploadForm()) if can_change else None,
        **_agreement_context(actor, partnership, listings, can_change=can_change, bound=bound_forms),
    }
    return render(request, "exchange/partnerships/detail.html", context, status=status)


@actor_required
def partnership_detail_view(request: HttpRequest, pk: Any) -> HttpResponse:
    return _detail(request, _partnership(request, pk))


# --- Create and edit -----------------------------------------------------------------------


def _form_page(request: HttpRequest, form: PartnershipForm, partnership: Partnership | None) -> HttpResponse:
    return render(
        request,
        "exchange/partnerships/form.html",
        {"form": form, "partnership": partnership},
        status=400 if form.errors else 200,
    )


@actor_required
def partnership_create_view(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    access.can_create_partnership(actor).check()
    form = PartnershipForm(
        request.POST or None,
        governments=_government_choices({actor.org.pk}),
        listings=_listing_choices(actor, {actor.org.pk}),
        matches=_match_choices(actor),
        initial={"status": PartnershipStatus.NEGOTIATING},
    )
    if request.method == "POST" and form.is_valid():
        body = PartnershipCreateSerializer(data=form.api_data())
        if not body.is_valid():
            add_errors(form, body.errors)
        else:
            try:
                partnership = services.partnership_create(actor=actor, **body.validated_data)
            except DjangoValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Partnership created. The governments you named are invited to confirm their membership."),
                )
                return redirect("exchange:partnership", pk=partnership.pk)
    return _form_page(request, form, None)


@actor_required
def partnership_edit_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    partnership = _partnership(request, pk)
    own = _own_row(partnership, actor)
    access.can_change_partnership(actor, own).check()
    active = {row.organisation_id for row in partnership.memberships.all() if row.is_active}
    grouped, grouped_matches = access.partnership_grouped(partnership)
    readable_grouped = [
        str(pk)
        for pk in listing_visible_to(actor=actor).filter(pk__in=grouped.values("pk")).values_list("pk", flat=True)
    ]
    current = partnership.status
    statuses = [
        (value, label)
        for value, label in PartnershipStatus.choices
        if value == current or value in STATUS_TRANSITIONS[current]
    ]
    form = PartnershipForm(
        request.POST or None,
        governments=_government_choices(active),
        listings=_listing_choices(actor, active, grouped),
        matches=_match_choices(actor, active)
        + [
            (m.pk, _("%(demand)s and %(supply)s") % {"demand": m.demand.title, "supply": m.supply.title})
            for m in grouped_matches.select_related("demand", "supply").exclude(
                pk__in=access.match_visible_to(actor=actor).values("pk")
            )
        ],
        statuses=statuses,
        editing=True,
        initial={
            "name": partnership.name,
            "kind": partnership.kind,
            "status": partnership.status,
            "signed_on": partnership.signed_on,
            "in_force_from": partnership.in_force_from,
            "ends_on": partnership.ends_on,
            "public": partnership.public,
            "listings": readable_grouped,
            "matches": [str(pk) for pk in grouped_matches.values_list("pk", flat=True)],
        },
    )
    if request.method == "POST" and form.is_valid():
        body = PartnershipUpdateSerializer(data=form.api_data(), partial=True)
        if not body.is_valid():
            add_errors(form, body.errors)
        else:
            try:
                services.partnership_update(actor=actor, partnership=partnership, data=dict(body.validated_data))
            except DjangoValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Partnership saved."))
                return redirect("exchange:partnership", pk=partnership.pk)
    return _form_page(request, form, partnership)


# --- Confirm or decline an invitation ------------------------------------------------------------


def _answer(request: HttpRequest, pk: Any, *, confirm: bool) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    partnership = _partnership(request, pk)
    detail_url = reverse("exchange:partnership", kwargs={"pk": partnership.pk})
    if request.method == "POST":
        try:
            if confirm:
                services.partnership_confirm(actor=actor, partnership=partnership)
            else:
                services.partnership_decline(actor=actor, partnership=partnership)
        except StateConflict as exc:
            messages.error(request, str(exc))
            return redirect(detail_url)
        if confirm:
            messages.success(request, _("Your organisation is now a confirmed member of this partnership."))
            return redirect(detail_url)
        messages.success(request, _("You declined the invitation to “%(name)s”.") % {"name": partnership.name})
        return redirect("exchange:partnerships")
    allowed = access.can_answer_invitation(actor, _own_row(partnership, actor), confirm=confirm)
    if not allowed and allowed.conflict:
        messages.error(request, str(allowed.reason))
        return redirect(detail_url)
    allowed.check()
    context: dict[str, Any] = {
        "title": _("Confirm membership") if confirm else _("Decline the invitation"),
        "question": (
            _("Confirm that %(organisation)s is a member of “%(name)s”?")
            if confirm
            else _("Decline the invitation of %(organisation)s to “%(name)s”?")
        )
        % {"organisation": actor.org.name, "name": partnership.name},
        "explanation": _(
            "The other members see your confirmation. Your officials can then group listings and agreed matches "
            "and share documents."
        )
        if confirm
        else _("Your organisation will no longer see the partnership (unless it is public and in force)."),
        "action_url": reverse(
            "exchange:partnership_confirm" if confirm else "exchange:partnership_decline", kwargs={"pk": partnership.pk}
        ),
        "button": _("Confirm membership") if confirm else _("Decline the invitation"),
        "cancel_url": detail_url,
        "warning": not confirm,
    }
    return confirm_page(request, **context)


@actor_required
def partnership_confirm_view(request: HttpRequest, pk: Any) -> HttpResponse:
    return _answer(request, pk, confirm=True)


@actor_required
def partnership_decline_view(request: HttpRequest, pk: Any) -> HttpResponse:
    return _answer(request, pk, confirm=False)


# --- Documents ----------------------------------------------------------------------------


@require_POST
@actor_required
def partnership_document_upload_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    # Members only, as in the API: anyone else (a public reader included) gets a 404.
    if not access.partnership_member_of(actor=actor).filter(pk=pk).exists():
        raise Http404
    partnership = _partnership(request, pk)
    access.can_change_partnership(actor, _own_row(partnership, actor)).check()  # who asks, before what they sent
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        body = PartnershipDocumentUploadSerializer(data=form.cleaned_data)
        if not body.is_valid():
            add_errors(form, body.errors)
        else:
            try:
                document = services.partnership_document_upload(
                    actor=actor, partnership=partnership, **body.validated_data
                )
            except DjangoValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("“%(name)s” uploaded.") % {"name": document.original_filename})
                return redirect(reverse("exchange:partnership", kwargs={"pk": partnership.pk}) + "#documents")
    return _detail(request, partnership, upload_form=form, status=400)


@actor_required
def partnership_document_view(request: HttpRequest, pk: Any, document_pk: Any) -> FileResponse:
    """The file as an attachment, to members only (the API's download, with its headers)."""
    documents = selectors.partnership_document_list(actor=request.actor).filter(partnership_id=pk)  # type: ignore[attr-defined]
    document = get_object_or_404(documents, pk=document_pk)
    return document_response(document)


# --- The agreement and the joint committee --------------------------------------------------
#
# Sections of the partnership's page. The agreement's fields are shown per
# ``access.agreement_audience`` (the same dict the API returns); the committee only to
# active members (``access.committee_*_visible_to``). The forms post to the views
# below, which go through the API's serializers and ``exchange.partnerships.agreements``.

COMMITTEE_KINDS = ("members", "meetings", "decisions")


def _member_choices(partnership: Partnership) -> list[tuple[Any, str]]:
    return [
        (row.organisation_id, row.organisation.name)
        for row in partnership.memberships.all()
        if row.state == MemberState.CONFIRMED
    ]


def _grouped_choices(listings: list[Listing]) -> list[tuple[Any, str]]:
    return [(str(listing.pk), listing.title) for listing in listings]


def _committee_forms(partnership: Partnership, listings: list[Listing], data: Any = None, files: Any = None) -> Any:
    initial = {}
    stored = agreement_of(partnership) if data is None else None
    if stored is not None:
        initial = {
            "summary": stored.summary,
            "text": stored.text,
            "review_on": stored.review_on,
            "named_parties": "\n".join(stored.named_parties),
        }
    # Prefixed: several forms share the page (and the documents' upload form its "title").
    return {
        "agreement_form": AgreementForm(data, initial=initial, prefix="agreement"),
        "member_form": CommitteeMemberForm(data, organisations=_member_choices(partnership), prefix="member"),
        "meeting_form": CommitteeMeetingForm(data, files, prefix="meeting"),
        "decision_form": CommitteeDecisionForm(data, listings=_grouped_choices(listings), prefix="decision"),
    }


def _agreement_context(
    actor: Actor, partnership: Partnership, listings: list[Listing], *, can_change: bool, bound: dict[str, Any]
) -> dict[str, Any]:
    context: dict[str, Any] = {"agreement": agreement_data(actor, partnership)}
    if partnership.is_member:  # type: ignore[attr-defined]  # set by _decorate
        context["committee_members"] = list(
            access.committee_members_visible_to(actor=actor)
            .filter(partnership=partnership)
            .select_related("organisation")
        )
        context["committee_meetings"] = list(
            access.committee_meetings_visible_to(actor=actor).filter(partnership=partnership).select_related("minutes")
        )
        context["committee_decisions"] = list(
            access.committee_decisions_visible_to(actor=actor)
            .filter(partnership=partnership)
            .prefetch_related(decision_listings(actor))
        )
        context["show_committee"] = True
    if can_change:
        context.update({**_committee_forms(partnership, listings), **bound})
    return context


def _grouped_listings(actor: Actor, partnership: Partnership) -> list[Listing]:
    return list(listing_visible_to(actor=actor).filter(partnerships=partnership).order_by("title", "id"))


@require_POST
@actor_required
def partnership_agreement_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    partnership = _partnership(request, pk)
    access.can_change_agreement(actor, _own_row(partnership, actor)).check()  # who asks, before what they sent
    form = AgreementForm(request.POST, prefix="agreement")
    if form.is_valid():
        body = AgreementInputSerializer(data=form.api_data())
        if not body.is_valid():
            add_errors(form, body.errors)
        else:
            try:
                agreement_save(actor=actor, partnership=partnership, **body.validated_data)
            except DjangoValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Agreement saved."))
                return redirect(reverse("exchange:partnership", kwargs={"pk": partnership.pk}) + "#agreement")
    return _detail(request, partnership, status=400, agreement_form=form)


@require_POST
@actor_required
def partnership_committee_add_view(request: HttpRequest, pk: Any, kind: str) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    # Members only, as in the API: anyone else (a public reader included) gets a 404.
    if kind not in COMMITTEE_KINDS or not access.partnership_member_of(actor=actor).filter(pk=pk).exists():
        raise Http404
    partnership = _decorate(_partnership(request, pk), actor)
    access.can_change_agreement(actor, partnership.own).check()  # type: ignore[attr-defined]
    listings = _grouped_listings(actor, partnership)
    name = {"members": "member_form", "meetings": "meeting_form", "decisions": "decision_form"}[kind]
    form = _committee_forms(partnership, listings, request.POST, request.FILES)[name]
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if kind == "members":
                committee_member_add(actor=actor, partnership=partnership, **data)
                done = _("Committee member added.")
            elif kind == "meetings":
                committee_meeting_add(
                    actor=actor,
                    partnership=partnership,
                    held_on=data["held_on"],
                    title=data["title"],
                    minutes_file=data.get("minutes_file"),
                )
                done = _("Meeting recorded.")
            else:
                committee_decision_add(actor=actor, partnership=partnership, **data)
                done = _("Decision recorded.")
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict") and "file" in exc.error_dict:
                exc = DjangoValidationError({"minutes_file": exc.error_dict["file"]})
            add_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(reverse("exchange:partnership", kwargs={"pk": partnership.pk}) + "#committee")
    return _detail(request, partnership, status=400, **{name: form})


@require_POST
@actor_required
def partnership_committee_delete_view(request: HttpRequest, pk: Any, kind: str, row_pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    visible = {
        "members": access.committee_members_visible_to,
        "meetings": access.committee_meetings_visible_to,
        "decisions": access.committee_decisions_visible_to,
    }.get(kind)
    if visible is None:
        raise Http404
    row = cast(
        CommitteeMember | CommitteeMeeting | CommitteeDecision,
        get_object_or_404(visible(actor=actor).filter(partnership_id=pk).select_related("partnership"), pk=row_pk),
    )
    committee_row_delete(actor=actor, row=row)
    messages.success(request, _("Removed from the committee's record."))
    return redirect(reverse("exchange:partnership", kwargs={"pk": pk}) + "#committee")


# --- The public pages (ILO fair-recruitment guideline 13.1: agreements made public) -----------
#
# Anyone, signed in or not, reads here the partnerships marked public and in force:
# what the anonymous actor may read (``access.partnership_visible_to``), whoever asks,
# so a member sees exactly what the public sees. The agreement's public part only
# (``access.agreement_audience``: the summary, the dates, the parties); never the signed
# text, the documents or the committee. Anything else is a 404.


def _public_partnerships() -> QuerySet[Partnership]:
    confirmed = PartnershipMember.objects.filter(state=MemberState.CONFIRMED).select_related("organisation")
    return (
        access.partnership_visible_to(actor=Actor.anonymous())
        .prefetch_related(Prefetch("memberships", queryset=confirmed.order_by("organisation__name", "id")))
        .order_by("-in_force_from", "name", "id")
    )


@public_page
def public_partnership_list_view(request: HttpRequest) -> HttpResponse:
    page = paginate(request, _public_partnerships())
    return render(request, "exchange/partnerships/public_list.html", {"page": page, "partnerships": page.object_list})


@public_page
def public_partnership_view(request: HttpRequest, pk: Any) -> HttpResponse:
    partnership = get_object_or_404(_public_partnerships(), pk=pk)
    context = {"partnership": partnership, "agreement": agreement_data(Actor.anonymous(), partnership)}
    return render(request, "exchange/partnerships/public.html", context)
