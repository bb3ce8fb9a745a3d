"""Suggestion pages: the list, one suggestion with its evidence, dismissing it and acting on it.

Reads start from ``exchange.access.suggestion_visible_to`` (the two countries'
governments and the agencies; anyone else gets a 404); the forms are shown only
where ``exchange.access.can_decide_suggestion`` allows, and post to the same
services as the API, validated by the API's own input serializers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_countries import countries

from accounts.access import is_government
from accounts.tenancy import Actor
from config.errors import StateConflict
from config.web import actor_required, paginate
from exchange import access
from exchange.api.suggestions import ActOnInput, DismissInput
from exchange.models import Suggestion, SuggestionState
from exchange.models.profiles import Severity
from exchange.profiles import services
from exchange.web.forms import add_errors
from opportunities.access import listing_visible_to
from opportunities.models import Occupation

DASHBOARD_ROWS = 5
LEVELS = {
    "unit_group": gettext_lazy("the same unit group"),
    "minor_group": gettext_lazy("the minor group"),
    "sub_major_group": gettext_lazy("the sub-major group"),
}


class SuggestionFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("State"), required=False, choices=[("", gettext_lazy("Any state")), *SuggestionState.choices]
    )


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why does this suggestion not fit?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required. Both governments and the agencies read it."),
    )


class ActOnForm(forms.Form):
    listing = forms.ChoiceField(
        label=gettext_lazy("The listing that acts on it"),
        help_text=gettext_lazy("One of your organisation's listings that turns this suggestion into an opportunity."),
    )

    def __init__(self, *args: Any, listings: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["listing"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a listing")), *((str(pk), title) for pk, title in listings)]


def _visible(request: HttpRequest) -> QuerySet[Suggestion]:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return access.suggestion_visible_to(actor=actor).select_related("occupation")


def _my_listings(actor: Actor) -> list[tuple[Any, str]]:
    return list(
        listing_visible_to(actor=actor)
        .filter(owner=actor.organisation)
        .order_by("title", "id")
        .values_list("pk", "title")
    )


def _country_name(code: str) -> str:
    return str(dict(countries).get(code, code))


def _row(side: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    profile = side.get("profile") or {}
    return {
        **side,
        "title": titles.get(side.get("isco_code", ""), ""),
        "severity_label": dict(Severity.choices).get(side.get("severity", ""), side.get("severity", "")),
        "country_name": _country_name(profile.get("country", "")),
        "profile": profile,
    }


def _decorate(suggestions: list[Suggestion]) -> list[Suggestion]:
    """Titles of the evidence's occupations and the countries' names, in one query."""
    codes = {
        side.get("isco_code", "")
        for s in suggestions
        for side in (s.evidence.get("shortage") or {}, s.evidence.get("surplus") or {})
    }
    titles = {o.code: o.title for o in Occupation.objects.filter(code__in=codes)}
    for s in suggestions:
        s.shortage_row = _row(s.evidence.get("shortage") or {}, titles)  # type: ignore[attr-defined]
        s.surplus_row = _row(s.evidence.get("surplus") or {}, titles)  # type: ignore[attr-defined]
        s.level_label = LEVELS.get(s.evidence.get("level", ""), "")  # type: ignore[attr-defined]
        s.destination_name = _country_name(str(s.destination_country))  # type: ignore[attr-defined]
        s.origin_name = _country_name(str(s.origin_country))  # type: ignore[attr-defined]
    return suggestions


@actor_required
def suggestion_list_view(request: HttpRequest) -> HttpResponse:
    form = SuggestionFilterForm(request.GET)
    suggestions = _visible(request)
    if form.is_valid() and form.cleaned_data["state"]:
        suggestions = suggestions.filter(state=form.cleaned_data["state"])
    open_first = Case(When(state=SuggestionState.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    page = paginate(request, suggestions.order_by(open_first, "-created_at", "id"))
    page.object_list = _decorate(list(page.object_list))
    return render(
        request, "exchange/suggestions/list.html", {"form": form, "page": page, "suggestions": page.object_list}
    )


def _detail(
    request: HttpRequest,
    suggestion: Suggestion,
    *,
    dismiss_form: DismissForm | None = None,
    act_on_form: ActOnForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    decision = access.can_decide_suggestion(actor, suggestion)
    listing = None
    if suggestion.listing_id is not None:
        listing = listing_visible_to(actor=actor).filter(pk=suggestion.listing_id).first()
    context = {
        "suggestion": _decorate([suggestion])[0],
        "listing": listing,
        "can_decide": bool(decision),
        "dismiss_form": dismiss_form or DismissForm(),
        "act_on_form": act_on_form or (ActOnForm(listings=_my_listings(actor)) if decision else None),
    }
    return render(request, "exchange/suggestions/detail.html", context, status=status)


@actor_required
def suggestion_detail_view(request: HttpRequest, pk: Any) -> HttpResponse:
    return _detail(request, get_object_or_404(_visible(request), pk=pk))


def _decide(request: HttpRequest, pk: Any) -> tuple[Suggestion, Actor] | HttpResponse:
    """The suggestion, once the caller may decide on it: a 404, a 403, or back with the reason."""
    suggestion = get_object_or_404(_visible(request), pk=pk)
    actor: Actor = request.actor  # type: ignore[attr-defined]
    allowed = access.can_decide_suggestion(actor, suggestion)
    if not allowed and allowed.conflict:
        messages.error(request, str(allowed.reason))
        return redirect("exchange:suggestion-detail", pk=suggestion.pk)
    allowed.check()
    return suggestion, actor


@require_POST
@actor_required
def suggestion_dismiss_view(request: HttpRequest, pk: Any) -> HttpResponse:
    found = _decide(request, pk)
    if isinstance(found, HttpResponse):
        return found
    suggestion, actor = found
    form = DismissForm(request.POST)
    body = DismissInput(data={"reason": request.POST.get("reason", "")})
    if not form.is_valid() or not body.is_valid():
        if form.is_valid():
            add_errors(form, body.errors)
        return _detail(request, suggestion, dismiss_form=form, status=400)
    try:
        services.suggestion_dismiss(actor=actor, suggestion=suggestion, reason=body.validated_data["reason"])
    except StateConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("You dismissed the suggestion. Both governments see your reason."))
    return redirect("exchange:suggestion-detail", pk=suggestion.pk)


@require_POST
@actor_required
def suggestion_act_on_view(request: HttpRequest, pk: Any) -> HttpResponse:
    found = _decide(request, pk)
    if isinstance(found, HttpResponse):
        return found
    suggestion, actor = found
    form = ActOnForm(request.POST, listings=_my_listings(actor))
    body = ActOnInput(data={"listing": request.POST.get("listing", "")}, actor=actor)
    if not form.is_valid() or not body.is_valid():
        if form.is_valid():
            add_errors(form, body.errors)
        return _detail(request, suggestion, act_on_form=form, status=400)
    try:
        services.suggestion_act_on(actor=actor, suggestion=suggestion, listing=body.validated_data["listing"])
    except StateConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("You recorded the listing that acts on this suggestion."))
    return redirect("exchange:suggestion-detail", pk=suggestion.pk)


# --- The dashboard ----------------------------------------------------------------------------


def dashboard_section(request: HttpRequest) -> dict[str, Any] | None:
    """The open suggestions of the caller's country (config/dashboard.py); governments only."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if not is_government(actor):
        return None
    open_ones = _visible(request).filter(state=SuggestionState.OPEN)
    rows = list(open_ones.order_by("-created_at", "id")[:DASHBOARD_ROWS])
    return {
        "template": "exchange/suggestions/_dashboard.html",
        "count": open_ones.count(),
        "rows": _decorate(rows),
        "country": actor.country,
    }
