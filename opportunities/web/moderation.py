"""Moderation pages for agency moderators: the queue, the review of one item, the decision.

The queue holds what waits for a moderator: listings submitted for publication, and
published listings with a pending revision (an edit the owner proposed while the
published version stays live), oldest first. Decisions go through
``opportunities.services.listing_transition``, the same call the API makes, so the
rules (who may decide, which states allow it, when a reason is required) and their
messages are the service's.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Case, DateTimeField, F, OuterRef, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries
from rest_framework.exceptions import ValidationError as DrfValidationError

from accounts.models import Role, User
from accounts.tenancy import Actor
from config.errors import StateConflict
from config.forms import sector_options
from config.web import actor_required, csv_response, flatten_errors, paginate
from opportunities import access, services
from opportunities.access import (
    awaiting_moderation,
    feedback_rows,
    listing_history,
    listing_visible_to,
    pending_revision,
)
from opportunities.inputs import ReasonSerializer, revision_changes
from opportunities.models import (
    Direction,
    Language,
    Listing,
    ListingRevision,
    ListingStatus,
    Occupation,
    RevisionStatus,
    SchemeType,
    Visibility,
)
from opportunities.selectors import listing_list, translated
from opportunities.translations import language_name
from opportunities.web.forms.listing import CONDITIONS
from opportunities.web.listings import ACTION_LABELS

MODERATORS = (Role.MODERATOR,)

# The decision in the URL → the service's workflow action.
DECISIONS: dict[str, str] = {
    "approve": "approve",
    "request-changes": "request_changes",
    "reject": "reject",
}


# --- The queue ---------------------------------------------------------------------------------


def moderation_queue(*, actor: Actor) -> QuerySet[Listing]:
    """What waits for a moderator, oldest first, in one query.

    Each row carries ``waiting_since`` (when it was submitted, or when the pending
    revision was proposed) and ``revision_since`` (None for a new submission).
    """
    revisions = feedback_rows()[1]  # a moderator's queue: insiders' rows only
    pending = revisions.filter(listing=OuterRef("pk"), status=RevisionStatus.PENDING).order_by("created_at")
    return (
        listing_visible_to(actor=actor)
        .annotate(revision_since=Subquery(pending.values("created_at")[:1], output_field=DateTimeField()))
        .filter(awaiting_moderation(pending_revision_since="revision_since"))
        .annotate(
            waiting_since=Case(
                When(status=ListingStatus.SUBMITTED, then=Coalesce("submitted_at", "updated_at")),
                default=F("revision_since"),
                output_field=DateTimeField(),
            )
        )
        .select_related("owner")
        .order_by("waiting_since", "id")
    )


def waiting_days(since: datetime.datetime | None, now: datetime.datetime | None = None) -> int:
    if since is None:
        return 0
    return max(((now or timezone.now()) - since).days, 0)


@actor_required(agency=True, roles=MODERATORS)
def moderation_queue_view(request: HttpRequest) -> HttpResponse:
    queue = moderation_queue(actor=request.actor)  # type: ignore[attr-defined]
    page = paginate(request, queue)
    return render(request, "opportunities/moderation_queue.html", {"page": page, "now": timezone.now()})


@actor_required(agency=True, roles=MODERATORS)
def moderation_export_view(request: HttpRequest) -> HttpResponseBase:
    queue = moderation_queue(actor=request.actor)  # type: ignore[attr-defined]
    now = timezone.now()
    header = [
        _("id"),
        _("title"),
        _("owner"),
        _("owner country"),
        _("direction"),
        _("scheme type"),
        _("pending"),
        _("waiting since"),
        _("days waiting"),
        _("review page"),
    ]

    def rows() -> Iterator[Sequence[Any]]:
        for listing in queue.iterator(chunk_size=500):
            yield [
                listing.pk,
                listing.title,
                listing.owner.name,
                listing.owner_country,
                listing.direction,
                listing.scheme_type,
                "revision" if listing.revision_since else "new listing",  # type: ignore[attr-defined]
                listing.waiting_since.isoformat() if listing.waiting_since else "",  # type: ignore[attr-defined]
                waiting_days(listing.waiting_since, now),  # type: ignore[attr-defined]
                request.build_absolute_uri(reverse("opportunities:moderation_review", kwargs={"pk": listing.pk})),
            ]

    return csv_response("corridor-moderation-queue.csv", header, rows())


# --- Reviewing one item -----------------------------------------------------------------------------


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the owner"),
        help_text=gettext_lazy(
            "Required to request changes or to reject: the owner sees it. Optional when you approve."
        ),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


FIELD_LABELS: dict[str, Any] = {
    "direction": gettext_lazy("Direction"),
    "title": gettext_lazy("Title"),
    "summary": gettext_lazy("Summary"),
    "description": gettext_lazy("Description"),
    "text_language": gettext_lazy("Language of the text"),
    "scheme_type": gettext_lazy("Scheme type"),
    "partner_countries": gettext_lazy("Partner countries"),
    "sectors": gettext_lazy("Sectors (ISIC Rev.4)"),
    "starts_on": gettext_lazy("Window starts"),
    "ends_on": gettext_lazy("Window ends"),
    "application_deadline": gettext_lazy("Application deadline"),
    "duration_months_min": gettext_lazy("Shortest duration (months)"),
    "duration_months_max": gettext_lazy("Longest duration (months)"),
    "circular": gettext_lazy("Circular (return and re-entry)"),
    "housing": gettext_lazy("Housing provided"),
    "social_security_coverage": gettext_lazy("Social security coverage"),
    "pension_portability": gettext_lazy("Pension portability"),
    "qualification_recognition": gettext_lazy("Recognition of qualifications"),
    "pre_departure_training": gettext_lazy("Pre-departure training"),
    "return_reintegration_support": gettext_lazy("Return and reintegration support"),
    "fair_recruitment": gettext_lazy("Fair recruitment: workers pay no fees"),
    "equal_access_for_women": gettext_lazy("Equal access for women"),
    "conditions_notes": gettext_lazy("Notes on conditions"),
    "gender_provisions": gettext_lazy("Gender provisions"),
    "wage_floor_monthly": gettext_lazy("Monthly wage floor"),
    "currency": gettext_lazy("Currency"),
    "annual_cap": gettext_lazy("Annual cap"),
    "allocations": gettext_lazy("Allocations per origin country"),
    "max_stay_months": gettext_lazy("Longest stay (months)"),
    "stay_window_months": gettext_lazy("Stay window (months)"),
    "stay_overrides": gettext_lazy("Stay limits per country"),
    "season_earliest_start": gettext_lazy("Season starts (MM-DD)"),
    "season_latest_end": gettext_lazy("Season ends (MM-DD)"),
    "min_guaranteed_hours": gettext_lazy("Guaranteed hours"),
    "min_guaranteed_hours_weeks": gettext_lazy("Weeks the guaranteed hours fall within"),
    "lead_time_weeks": gettext_lazy("Lead time (weeks)"),
    "gender_target_percent": gettext_lazy("Target share of women (%)"),
    "visibility": gettext_lazy("Visibility"),
    "contact": gettext_lazy("Contact"),
    "occupation_lines": gettext_lazy("Occupations"),
    "translations": gettext_lazy("Translations of the text"),
}
CHOICES: dict[str, Any] = {"direction": Direction, "scheme_type": SchemeType, "visibility": Visibility}
DATE_FIELDS = frozenset({"starts_on", "ends_on", "application_deadline"})
LIST_FIELDS = frozenset(
    {"partner_countries", "sectors", "allocations", "stay_overrides", "occupation_lines", "translations"}
)


def country_label(code: str) -> str:
    name = countries.name(code)
    return f"{name} ({code})" if name else str(code)


class ValueFormatter:
    """Turns the JSON values of a listing's write payload into text a person reads.

    Reference lookups (occupation titles, language names, contacts) are done once,
    for every value shown, before formatting.
    """

    def __init__(self, values: Sequence[tuple[str, Any]]) -> None:
        isco: set[str] = set()
        languages: set[str] = set()
        contacts: set[str] = set()
        for field, value in values:
            if field == "occupation_lines":
                for line in value or []:
                    isco.add(str(line.get("isco_code")))
                    languages.update(str(item.get("language")) for item in line.get("languages") or [])
            elif field == "text_language" and value:
                languages.add(str(value))
            elif field == "contact" and value:
                contacts.add(str(value))
        self.occupations = {o.code: o.title for o in Occupation.objects.filter(code__in=isco)} if isco else {}
        self.languages = {lang.code: lang.name for lang in Language.objects.filter(code__in=languages)}
        self.contacts: dict[str, str] = {}
        if contacts:
            self.contacts = {
                str(user.pk): user.full_name or user.email for user in User.objects.filter(pk__in=contacts)
            }

    def items(self, field: str, value: Any) -> list[str]:
        """The value as a list of lines (empty: not set)."""
        if value is None or value == "" or value == []:
            return []
        if field in LIST_FIELDS:
            return [self.item(field, item) for item in value]
        return [self.scalar(field, value)]

    def scalar(self, field: str, value: Any) -> str:
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if field in CHOICES:
            return str(dict(CHOICES[field].choices).get(value, value))
        if field in DATE_FIELDS:
            try:
                return date_format(datetime.date.fromisoformat(str(value)), "j M Y")
            except ValueError:
                return str(value)
        if field == "text_language":
            return self.languages.get(str(value), str(value))
        if field == "contact":
            return self.contacts.get(str(value), str(value))
        if field == "wage_floor_monthly":
            try:
                return f"{Decimal(str(value)):,.2f}"
            except InvalidOperation:
                return str(value)
        return str(value)

    def item(self, field: str, item: Any) -> str:
        if field == "partner_countries":
            return country_label(str(item))
        if field == "sectors":
            return dict(sector_options()).get(str(item), str(item))
        if field == "allocations":
            text = _("%(country)s: %(places)s places") % {
                "country": country_label(str(item.get("country"))),
                "places": item.get("places"),
            }
            if item.get("isco_code"):
                text += " " + _("(ISCO-08 %(code)s)") % {"code": item["isco_code"]}
            return text
        if field == "stay_overrides":
            return _("%(country)s: at most %(months)s months") % {
                "country": country_label(str(item.get("country"))),
                "months": item.get("max_stay_months"),
            }
        if field == "occupation_lines":
            return self.occupation_line(item)
        if field == "translations":
            # "Spanish (es): title — summary — description": the moderator reads every word.
            texts = [str(item.get(name)) for name in ("title", "summary", "description") if item.get(name)]
            return f"{language_name(str(item.get('language')))}: {' — '.join(texts)}"
        return str(item)

    def spoken(self, languages: Any) -> list[str]:
        """[{"language": "de", "level": "B1"}] → ["German B1"]."""
        return [
            f"{self.languages.get(str(item.get('language')), item.get('language'))} {item.get('level')}"
            for item in languages or []
        ]

    def occupation_line(self, line: dict[str, Any]) -> str:
        code = str(line.get("isco_code"))
        parts = [
            _("%(code)s %(title)s: %(quantity)s")
            % {"code": code, "title": self.occupations.get(code, ""), "quantity": line.get("quantity")},
        ]
        if line.get("skill_level"):
            parts.append(_("skill level %(level)s") % {"level": line["skill_level"]})
        if line.get("min_experience_years") is not None:
            parts.append(_("at least %(years)s years' experience") % {"years": line["min_experience_years"]})
        spoken = self.spoken(line.get("languages"))
        if spoken:
            parts.append(_("languages: %(languages)s") % {"languages": ", ".join(spoken)})
        if line.get("qualification_notes"):
            parts.append(str(line["qualification_notes"]))
        return "; ".join(parts)


def _comparable(item: Any) -> Any:
    """An item of a list field with its unset keys dropped: {"isco_code": ""} equals {}."""
    if isinstance(item, dict):
        return sorted((key, repr(value)) for key, value in item.items() if value not in (None, "", []))
    return item


def revision_diff(revision: ListingRevision, listing: Listing) -> list[dict[str, Any]]:
    """The revision's field-by-field changes (the API's diff) as rows: label, published, proposed.

    Each side is a list of ``(text, changed)``: for list fields (occupations,
    countries, allocations), items present on both sides are unchanged.
    """
    revision.listing = listing  # the prefetched listing: its lines are already loaded
    changes = revision_changes(revision)
    fields = [name for name in FIELD_LABELS if name in changes] + [name for name in changes if name not in FIELD_LABELS]
    values = [(name, changes[name][side]) for name in fields for side in ("from", "to")]
    formatter = ValueFormatter(values)
    rows = []
    for name in fields:
        old, new = changes[name]["from"], changes[name]["to"]
        if name in LIST_FIELDS:
            old_items, new_items = list(old or []), list(new or [])
            old_keys, new_keys = [_comparable(item) for item in old_items], [_comparable(item) for item in new_items]
            old_side = [(formatter.item(name, item), _comparable(item) not in new_keys) for item in old_items]
            new_side = [(formatter.item(name, item), _comparable(item) not in old_keys) for item in new_items]
        else:
            old_side = [(text, True) for text in formatter.items(name, old)]
            new_side = [(text, True) for text in formatter.items(name, new)]
        rows.append(
            {"field": name, "label": FIELD_LABELS.get(name, name.replace("_", " ")), "old": old_side, "new": new_side}
        )
    return rows


def listing_summary(listing: Listing) -> dict[str, Any]:
    """What a moderator checks in a new submission, formatted like the diff's values."""
    lines = [
        {
            "isco_code": line.occupation_id,
            "quantity": line.quantity,
            "skill_level": line.skill_level,
            "min_experience_years": line.min_experience_years,
            "languages": line.languages,
            "qualification_notes": line.qualification_notes,
        }
        for line in listing.occupation_lines.all()
    ]
    formatter = ValueFormatter([("occupation_lines", lines), ("text_language", listing.text_language)])
    conditions = [(FIELD_LABELS[name], getattr(listing, name)) for name in CONDITIONS]
    return {
        "partner_countries": formatter.items("partner_countries", listing.partner_countries),
        "sectors": formatter.items("sectors", listing.sectors),
        "allocations": formatter.items("allocations", listing.allocations),
        "stay_overrides": formatter.items("stay_overrides", listing.stay_overrides),
        "text_language": formatter.items("text_language", listing.text_language),
        "lines": [
            {
                "code": line.occupation_id,
                "title": line.occupation.title,
                "quantity": line.quantity,
                "skill_level": line.skill_level,
                "min_experience_years": line.min_experience_years,
                "languages": formatter.spoken(line.languages),
                "qualification_notes": line.qualification_notes,
            }
            for line in listing.occupation_lines.all()
        ],
        "conditions": conditions,
    }


def _member_listing_url(listing: Listing) -> str | None:
    """The listing's page in the members' area, when that page is installed."""
    try:
        return reverse("opportunities:listing", kwargs={"pk": listing.pk})
    except NoReverseMatch:
        return None


def _review(
    request: HttpRequest,
    listing: Listing,
    *,
    form: DecisionForm | None = None,
    conflict: str = "",
    errors: Sequence[tuple[str, str, str]] = (),
    status: int = 200,
) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    revision = pending_revision(actor, listing)
    awaiting = listing.status == ListingStatus.SUBMITTED or (
        listing.status == ListingStatus.PUBLISHED and revision is not None
    )
    transitions = list(listing_history(actor, listing))
    for step in transitions:
        step.label = ACTION_LABELS.get(step.action, step.action)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "listing": listing,
        "revision": revision,
        "awaiting": awaiting,
        "form": form or DecisionForm(),
        "conflict": conflict,
        "errors": list(errors),
        "transitions": transitions,
        "member_url": _member_listing_url(listing),
        "now": timezone.now(),
        "safeguard": access.safeguard_flag(listing) if access.can_see_safeguard_flag(actor, listing) else None,
    }
    if revision is not None:
        context["diff"] = revision_diff(revision, listing)
        context["waiting_since"] = revision.created_at
    else:
        context["summary"] = listing_summary(listing)
        context["waiting_since"] = listing.submitted_at
    return render(request, "opportunities/moderation_review.html", context, status=status)


def _listing(request: HttpRequest, pk: Any) -> Listing:
    return get_object_or_404(translated(listing_list(actor=request.actor)), pk=pk)  # type: ignore[attr-defined]


@actor_required(agency=True, roles=MODERATORS)
def moderation_review_view(request: HttpRequest, pk: Any) -> HttpResponse:
    return _review(request, _listing(request, pk))


@actor_required(agency=True, roles=MODERATORS)
def moderation_decide_view(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    if action not in DECISIONS:
        raise Http404
    listing = _listing(request, pk)
    if request.method != "POST":
        return redirect("opportunities:moderation_review", pk=listing.pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _review(request, listing, form=form)
    # The API's body for these actions, so that the limits are the API's.
    body = ReasonSerializer(data={"reason": form.cleaned_data["reason"]})
    if not body.is_valid():
        for message in flatten_errors(body.errors).get("reason", []):
            form.add_error("reason", message)
        return _review(request, listing, form=form)
    was_revision = listing.status == ListingStatus.PUBLISHED
    try:
        services.listing_transition(
            actor=request.actor,  # type: ignore[attr-defined]
            listing=listing,
            action=DECISIONS[action],
            reason=body.validated_data["reason"],
        )
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        for field, field_messages in detail.items():
            for message in field_messages:
                form.add_error("reason" if field == "reason" else None, message)
        return _review(request, listing, form=form)
    except StateConflict as exc:
        return _review(request, listing, form=form, conflict=str(exc), status=409)
    except DrfValidationError as exc:
        # Approving a revision re-validates it as the owner's edit; a rule it now breaks.
        errors = [
            ("", str(FIELD_LABELS.get(field.split(".")[0], "")), message)
            for field, field_messages in flatten_errors(exc.detail).items()
            for message in field_messages
        ]
        return _review(request, listing, form=form, errors=errors)
    messages.success(request, _decision_message(DECISIONS[action], listing.title, was_revision))
    return redirect("opportunities:moderation")


def _decision_message(action: str, title: str, revision: bool) -> str:
    if revision:
        return {
            "approve": _("The revision of “%(title)s” is approved and now published."),
            "request_changes": _("Changes to the revision of “%(title)s” are requested; the owner sees your reason."),
            "reject": _("The revision of “%(title)s” is rejected; the published version stays as it was."),
        }[action] % {"title": title}
    return {
        "approve": _("“%(title)s” is approved and published."),
        "request_changes": _("Changes to “%(title)s” are requested; the owner sees your reason."),
        "reject": _("“%(title)s” is rejected; the owner sees your reason."),
    }[action] % {"title": title}
