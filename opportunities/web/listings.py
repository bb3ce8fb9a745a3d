"""Listing pages for members: browse and search, the CSV, a listing's page, the form, the workflow.

Reads start from ``opportunities.selectors.listing_list(actor)``, so a listing the
actor may not read is a 404, as in the API. Searches use the API's ``ListingFilter``
(``forms.search.ListingSearchFilter``); the form (``forms.editor.ListingEditor``)
validates with the API's rules, ``opportunities.inputs.ListingWriteSerializer``, and
saves with the same services (``listing_create``, ``listing_update``). Who may see
which part of a listing and which buttons it shows are asked of
``opportunities.access``; the buttons go through ``services.listing_transition``,
which asks the same functions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries
from rest_framework.exceptions import ValidationError as DrfValidationError

from accounts.selectors import member_list
from accounts.tenancy import Actor
from config.errors import StateConflict
from config.web import actor_required, confirm_page, csv_response, flatten_errors, paginate
from opportunities import access, services, translations
from opportunities.api.views import csv_header, csv_values
from opportunities.inputs import ReasonSerializer, json_payload, listing_write_data
from opportunities.models import Listing, ListingStatus, RevisionStatus
from opportunities.selectors import (
    currency_list,
    language_list,
    listing_list,
    occupation_list,
    translated,
)
from opportunities.web.forms.editor import ListingEditor, initial_from
from opportunities.web.forms.listing import CONDITION_LABELS, CONDITIONS
from opportunities.web.forms.rows import GROUPS
from opportunities.web.forms.search import ListingSearchFilter
from opportunities.web.forms.workflow import ReasonForm

OWNER_ACTIONS = access.OWNER_STEPS

ACTION_LABELS: dict[str, Any] = {
    "created": gettext_lazy("Created"),
    "submit": gettext_lazy("Submitted for moderation"),
    "approve": gettext_lazy("Approved and published"),
    "request_changes": gettext_lazy("Changes requested"),
    "reject": gettext_lazy("Rejected"),
    "withdraw": gettext_lazy("Withdrawn"),
    "close": gettext_lazy("Closed"),
    "expired": gettext_lazy("Expired"),
    "revision_approve": gettext_lazy("Revision approved"),
    "revision_request_changes": gettext_lazy("Changes to a revision requested"),
    "revision_reject": gettext_lazy("Revision rejected"),
}

# The confirmation step of each owner action: title, what happens, the button.
CONFIRM: dict[str, dict[str, Any]] = {
    "submit": {
        "title": gettext_lazy("Submit for moderation"),
        "question": gettext_lazy("Submit “%(title)s” for moderation?"),
        "explanation": gettext_lazy(
            "A moderator of an international agency checks the listing before it is published. "
            "You cannot edit it while it waits; if the moderator asks for changes, you can edit it and submit it again."
        ),
        "button": gettext_lazy("Submit for moderation"),
        "done": gettext_lazy("“%(title)s” is submitted for moderation."),
        "warning": False,
        "reason": False,
    },
    "withdraw": {
        "title": gettext_lazy("Withdraw the listing"),
        "question": gettext_lazy("Withdraw “%(title)s”?"),
        "explanation": gettext_lazy(
            "The listing stops being open: partners see it as withdrawn in its history. This cannot be undone."
        ),
        "button": gettext_lazy("Withdraw listing"),
        "done": gettext_lazy("“%(title)s” is withdrawn."),
        "warning": True,
        "reason": True,
    },
    "close": {
        "title": gettext_lazy("Close the listing"),
        "question": gettext_lazy("Close “%(title)s”?"),
        "explanation": gettext_lazy(
            "Close a listing when its places are filled. It stays readable as history. This cannot be undone."
        ),
        "button": gettext_lazy("Close listing"),
        "done": gettext_lazy("“%(title)s” is closed."),
        "warning": True,
        "reason": True,
    },
}
NOT_NOW = gettext_lazy("A listing that is %(status)s cannot be %(action)s.")
ACTION_PAST = {
    "submit": gettext_lazy("submitted for moderation"),
    "withdraw": gettext_lazy("withdrawn"),
    "close": gettext_lazy("closed"),
}


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _listing(request: HttpRequest, pk: Any) -> Listing:
    return get_object_or_404(translated(listing_list(actor=_actor(request))), pk=pk)


def _reverse_or_none(name: str, **kwargs: Any) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def country_name(code: str) -> str:
    return str(countries.name(code) or code)


# --- Browse, search, CSV --------------------------------------------------------------------


def _search(request: HttpRequest) -> tuple[ListingSearchFilter, Any]:
    """The filter form and the matching listings (``None`` when a filter is wrong)."""
    queryset = translated(listing_list(actor=_actor(request)))
    search = ListingSearchFilter(request.GET, queryset=queryset, request=request)
    if not search.is_valid():
        return search, None
    try:
        listings = search.qs
    except DrfValidationError as exc:  # the API's filter methods check codes and date order
        for name, field_messages in flatten_errors(exc.detail).items():
            for message in field_messages:
                search.form.add_error(name if name in search.form.fields else None, message)
        return search, None
    return search, listings


@actor_required
def listing_list_view(request: HttpRequest) -> HttpResponse:
    return _list_page(request, *_search(request))


def _list_page(request: HttpRequest, search: ListingSearchFilter, listings: Any) -> HttpResponse:
    page = None
    if listings is not None:
        page = paginate(request, listings)
        for listing in page:
            listing.partner_names = [country_name(code) for code in listing.partner_countries]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "search": search,
        "form": search.form,
        "page": page,
        "query": query.urlencode(),
        "searched": search.searched if listings is not None else True,
        "may_post": bool(access.can_post(_actor(request))),
    }
    return render(request, "opportunities/listing_list.html", context, status=200 if page is not None else 400)


@actor_required
def listing_export_view(request: HttpRequest) -> HttpResponseBase:
    search, listings = _search(request)
    if listings is None:  # the page, with the errors
        return _list_page(request, search, listings)
    return csv_response(
        "corridor-listings.csv", csv_header(), (csv_values(x) for x in listings.iterator(chunk_size=500))
    )


# --- One listing ---------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, listing: Listing) -> dict[str, Any]:
    actor = _actor(request)
    insider = access.listing_audience(actor, listing) is access.Audience.INSIDER
    lines = list(listing.occupation_lines.all())

    language_codes = {item.get("language") for line in lines for item in line.languages or []}
    language_codes.add(listing.text_language)
    language_names = {lang.code: lang.name for lang in language_list().filter(code__in=language_codes)}
    allocation_codes = {a.get("isco_code") for a in listing.allocations or [] if a.get("isco_code")}
    occupation_titles = {o.code: o.title for o in occupation_list().filter(code__in=allocation_codes)}
    currency = currency_list().filter(code=listing.currency).first() if listing.currency else None

    timeline: list[dict[str, Any]] = []
    for step in access.listing_history(actor, listing):
        timeline.append(
            {
                "when": step.created_at,
                "label": ACTION_LABELS.get(step.action, step.action),
                # Outsiders read when it happened, not who did it or why.
                "who": ((step.actor.full_name or step.actor.email) if step.actor else _("Corridor")) if insider else "",
                "organisation": (step.organisation.name if step.organisation else "") if insider else "",
                "from": ListingStatus(step.from_status).label if step.from_status in ListingStatus.values else "",
                "to": ListingStatus(step.to_status).label if step.to_status in ListingStatus.values else "",
                "changed": insider and step.from_status != step.to_status,
                "reason": step.reason if insider else "",
            }
        )
    revisions = list(access.listing_revisions(actor, listing).select_related("created_by", "decided_by"))
    if revisions:
        for revision in revisions:
            timeline.append(
                {
                    "when": revision.created_at,
                    "label": _("Edit proposed as a revision (%(status)s)") % {"status": revision.get_status_display()},
                    "who": (revision.created_by.full_name or revision.created_by.email)
                    if revision.created_by
                    else _("Corridor"),
                    "organisation": listing.owner.name,
                    "from": "",
                    "to": "",
                    "changed": False,
                    "reason": "",
                }
            )
    timeline.sort(key=lambda item: item["when"])

    pending = next((r for r in revisions if r.status == RevisionStatus.PENDING), None)
    changes_reason = access.changes_requested_reason(actor, listing)
    revision_changes = None
    if pending is None and revisions and revisions[0].status == RevisionStatus.CHANGES_REQUESTED:
        revision_changes = revisions[0]

    actions = []
    if access.can_edit(actor, listing):
        actions.append({"url": reverse("opportunities:listing_edit", kwargs={"pk": listing.pk}), "action": "edit"})
    for name in OWNER_ACTIONS:
        if access.can_transition(actor, listing, name):
            actions.append(
                {
                    "url": reverse("opportunities:listing_transition", kwargs={"pk": listing.pk, "action": name}),
                    "action": name,
                    "label": CONFIRM[name]["button"],
                    "warning": CONFIRM[name]["warning"],
                }
            )
    moderator = bool(access.can_moderate(actor, listing))
    review_url = None
    if moderator and (listing.status == ListingStatus.SUBMITTED or pending is not None):
        review_url = _reverse_or_none("opportunities:moderation_review", pk=listing.pk)

    conditions = [(CONDITION_LABELS[name], getattr(listing, name)) for name in CONDITIONS]
    # The outcomes ledger's section (exchange.web.outcomes): None unless the reader reads the ledger.
    from exchange.web.outcomes import outcomes_context

    return {
        "outcomes": outcomes_context(actor, listing),
        "safeguard": access.safeguard_flag(listing) if access.can_see_safeguard_flag(actor, listing) else None,
        "consents": [
            {"consent": consent, "country": country_name(consent.country)}
            for consent in access.listing_consents(actor, listing)
        ]
        if listing.requires_origin_consent and access.can_see_consents(actor, listing)
        else None,
        "listing": listing,
        # The text in the reader's language, or the authoritative text (opportunities.translations).
        "text": translations.for_request(request, listing),
        "lines": [
            {
                "line": line,
                "languages": [
                    {
                        "name": language_names.get(item.get("language"), item.get("language")),
                        "level": item.get("level"),
                    }
                    for item in line.languages or []
                ],
            }
            for line in lines
        ],
        "partner_names": [country_name(code) for code in listing.partner_countries],
        "sector_names": _sector_names(listing.sectors),
        "allocations": [
            {
                "country": country_name(a.get("country", "")),
                "places": a.get("places"),
                "isco_code": a.get("isco_code") or "",
                "isco_title": occupation_titles.get(a.get("isco_code") or "", ""),
            }
            for a in listing.allocations or []
        ],
        "allocated": sum(int(a.get("places") or 0) for a in listing.allocations or []),
        "stay_overrides": [
            {"country": country_name(s.get("country", "")), "months": s.get("max_stay_months")}
            for s in listing.stay_overrides or []
        ],
        "text_language_name": language_names.get(listing.text_language, listing.text_language),
        "currency": currency,
        "conditions": conditions,
        "timeline": timeline,
        "pending": pending,
        "changes_reason": changes_reason,
        "revision_changes": revision_changes,
        "actions": actions,
        "review_url": review_url,
        "is_owner": insider and not access.is_agency_staff(actor),
    }


def _sector_names(codes: list[str]) -> list[str]:
    if not codes:
        return []
    from config.forms import sector_options

    labels = dict(sector_options())
    return [labels.get(code, code) for code in codes]


@actor_required
def listing_detail_view(request: HttpRequest, pk: Any) -> HttpResponse:
    listing = _listing(request, pk)
    return render(request, "opportunities/listing_detail.html", _detail_context(request, listing))


# --- Create and edit ----------------------------------------------------------------------------------


def _contacts(actor: Actor) -> list[Any]:
    return [membership.user for membership in member_list(actor=actor)]


def _serializer_context(request: HttpRequest) -> dict[str, Any]:
    # What the API view passes (config.api.ActorMixin.get_serializer_context).
    return {"request": request, "view": None, "format": None, "actor": _actor(request)}


def _rebuild_request(request: HttpRequest) -> tuple[str | None, str | None] | None:
    """An add-row or remove-row button (the form without JavaScript): (add prefix, removed row)."""
    for group in GROUPS:
        if group.add_name in request.POST:
            return group.prefix, None
    removed = request.POST.get("remove_row")
    if removed:
        return None, removed
    return None


def _form_page(
    request: HttpRequest, editor: ListingEditor, *, listing: Listing | None, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "editor": editor,
        "form": editor.form,
        "sections": editor.sections(),
        "errors": editor.summary(),
        "listing": listing,
        "published": listing is not None and listing.status == ListingStatus.PUBLISHED,
        **extra,
    }
    return render(request, "opportunities/listing_form.html", context, status=status)


def _handle_form(request: HttpRequest, listing: Listing | None, editor: ListingEditor, **extra: Any) -> HttpResponse:
    actor = _actor(request)
    rebuild = _rebuild_request(request)
    if rebuild is not None:
        add, remove = rebuild
        return _form_page(request, editor.rebuilt(add=add, remove=remove), listing=listing, **extra)
    serializer = editor.validate(context=_serializer_context(request), instance=listing)
    if serializer is None:
        return _form_page(request, editor, listing=listing, status=400, **extra)
    data = serializer.validated_data
    if listing is None:
        created = services.listing_create(actor=actor, data=data)
        messages.success(
            request,
            _("“%(title)s” is saved as a draft. Submit it for moderation when it is ready.") % {"title": created.title},
        )
        return redirect("opportunities:listing", pk=created.pk)
    payload = json_payload({**listing_write_data(listing), **data})
    try:
        updated = services.listing_update(actor=actor, listing=listing, data=data, payload=payload)
    except StateConflict as exc:
        editor.conflict = str(exc)
        return _form_page(request, editor, listing=listing, status=409, **extra)
    if updated.status == ListingStatus.PUBLISHED:
        messages.success(
            request,
            _(
                "Your changes to “%(title)s” await moderation. The published version stays live until a "
                "moderator approves them."
            )
            % {"title": updated.title},
        )
    else:
        messages.success(request, _("“%(title)s” is saved.") % {"title": updated.title})
    return redirect("opportunities:listing", pk=updated.pk)


@actor_required
def listing_create_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    access.can_post(actor).check()
    contacts = _contacts(actor)
    if request.method == "POST":
        return _handle_form(request, None, ListingEditor(data=request.POST, contacts=contacts))
    organisation = actor.organisation
    assert organisation is not None
    initial: dict[str, Any] = {"visibility": "members"}
    if organisation.is_destination and not organisation.is_origin:
        initial["direction"] = "demand"
    elif organisation.is_origin and not organisation.is_destination:
        initial["direction"] = "supply"
    editor = ListingEditor(initial=initial, rows={"lines": [{}], "allocations": [{}], "stays": []}, contacts=contacts)
    return _form_page(request, editor, listing=None)


@actor_required
def listing_edit_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor = _actor(request)
    listing = _listing(request, pk)
    decision = access.can_edit(actor, listing)
    if not decision and decision.conflict:
        messages.error(
            request,
            _("This listing is %(status)s: it cannot be edited now.")
            % {"status": listing.get_status_display().lower()},
        )
        return redirect("opportunities:listing", pk=listing.pk)
    decision.check()
    contacts = _contacts(actor)
    revision = access.listing_revisions(actor, listing).first() if listing.status == ListingStatus.PUBLISHED else None
    continuing = revision if revision is not None and revision.status in _CONTINUED else None
    extra: dict[str, Any] = {"revision": continuing, "changes_reason": access.changes_requested_reason(actor, listing)}
    if request.method == "POST":
        return _handle_form(request, listing, ListingEditor(data=request.POST, contacts=contacts), **extra)
    values = continuing.data if continuing is not None else json_payload(listing_write_data(listing))
    initial, rows = initial_from(values)
    if not rows["lines"]:
        rows["lines"] = [{}]
    return _form_page(request, ListingEditor(initial=initial, rows=rows, contacts=contacts), listing=listing, **extra)


# A published listing's edit starts from the proposal still waiting, or sent back.
_CONTINUED = (RevisionStatus.PENDING, RevisionStatus.CHANGES_REQUESTED)


# --- Workflow -------------------------------------------------------------------------------------------


@actor_required
def listing_transition_view(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    if action not in OWNER_ACTIONS:
        raise Http404
    actor = _actor(request)
    listing = _listing(request, pk)
    decision = access.can_transition(actor, listing, action)
    if not decision and not decision.conflict:
        decision.check()
    texts = CONFIRM[action]
    detail_url = reverse("opportunities:listing", kwargs={"pk": listing.pk})
    if request.method != "POST":
        if not decision:
            messages.error(
                request,
                NOT_NOW % {"status": listing.get_status_display().lower(), "action": ACTION_PAST[action]},
            )
            return redirect(detail_url)
        return _confirm_page(request, listing, action, _reason_form(action))
    form = _reason_form(action, request.POST)
    if form is not None and not form.is_valid():
        return _confirm_page(request, listing, action, form)
    body = ReasonSerializer(data={"reason": form.cleaned_data["reason"] if form is not None else ""})
    if not body.is_valid() and form is not None:
        for message in flatten_errors(body.errors).get("reason", []):
            form.add_error("reason", message)
        return _confirm_page(request, listing, action, form)
    try:
        services.listing_transition(actor=actor, listing=listing, action=action, reason=body.validated_data["reason"])
    except StateConflict as exc:
        messages.error(request, str(exc))
        return redirect(detail_url)
    messages.success(request, texts["done"] % {"title": listing.title})
    return redirect(detail_url)


def _reason_form(action: str, data: Any = None) -> ReasonForm | None:
    """A reason where the service takes one worth recording (required where the workflow says so)."""
    step = OWNER_ACTIONS[action]
    if not (step.needs_reason or CONFIRM[action]["reason"]):
        return None
    return ReasonForm(data, required=step.needs_reason)


def _confirm_page(request: HttpRequest, listing: Listing, action: str, form: ReasonForm | None) -> HttpResponse:
    texts = CONFIRM[action]
    return confirm_page(
        request,
        title=texts["title"],
        question=texts["question"] % {"title": listing.title},
        explanation=texts["explanation"],
        action_url=reverse("opportunities:listing_transition", kwargs={"pk": listing.pk, "action": action}),
        button=texts["button"],
        cancel_url=reverse("opportunities:listing", kwargs={"pk": listing.pk}),
        warning=texts["warning"],
        form=form,
    )
