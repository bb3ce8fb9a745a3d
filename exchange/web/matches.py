"""Match pages: the list, one match with its explanation laid out for a person, the dialogue.

Reads start from ``exchange.matching.selectors.match_list`` (the two governments of
a match see it; anyone else gets a 404) and writes go through
``exchange.dialogue.services`` with the API's serializers in front, so that the
rules and their messages are the API's.

The dialogue works as plain forms (POST, then a redirect back to the match) and,
with htmx, in place: the same URLs answer an ``HX-Request`` with the dialogue
fragment (thread and forms), plus an out-of-band update of the state tag and of
the ``role="status"`` region that announces what happened.

Read state: opening a match records, for the organisation, when it read it
(``exchange.models.matching.MatchRead``). A match never opened is *new*; the other
government's messages since the last reading are *unread*. The dashboard section
and the list's markers come from the two annotations of
``exchange.dialogue.selectors.with_read_state``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_countries import countries

from accounts.access import is_government
from accounts.models import Organisation
from accounts.tenancy import Actor
from config.errors import StateConflict
from config.forms import sector_options
from config.web import actor_required, confirm_page, csv_response, paginate
from exchange import access
from exchange.api.matches import DecisionSerializer, MessageCreateSerializer
from exchange.dialogue import services
from exchange.dialogue.selectors import last_read_at, message_list, with_read_state
from exchange.matching.scoring import CEFR, LEVEL_SCORES, WEIGHTS
from exchange.matching.selectors import match_list
from exchange.models import Match, MatchState
from exchange.models.matching import OPEN_STATES
from exchange.web.forms import DecisionForm, MatchFilterForm, MessageForm, add_errors
from opportunities.access import listing_visible_to
from opportunities.models import Language, Listing, Occupation

DASHBOARD_ROWS = 5
SORTS = {
    "score": ("-score", "-created_at", "id"),
    "newest": ("-created_at", "id"),
    "activity": ("-updated_at", "id"),
}
# Where in the dialogue a match may be answered, replied to, decided.
DECISIONS = {"accept": True, "decline": False}

LEVEL_LABELS = {
    "unit_group": gettext_lazy("Same unit group"),
    "minor_group": gettext_lazy("Same minor group"),
    "sub_major_group": gettext_lazy("Same sub-major group"),
    "major_group": gettext_lazy("Same major group only"),
}
LEVEL_DIGITS = {"unit_group": 4, "minor_group": 3, "sub_major_group": 2, "major_group": 1}
COMPONENTS = {
    "occupation": (
        gettext_lazy("Occupations"),
        gettext_lazy("How closely each demanded occupation meets an offered one in ISCO-08, weighted by places"),
    ),
    "quantity": (gettext_lazy("Quantities"), gettext_lazy("The share of demanded places the offer can fill")),
    "language": (
        gettext_lazy("Languages"),
        gettext_lazy("Required language levels the offer meets (one level short counts half)"),
    ),
    "skill": (gettext_lazy("Skill level"), gettext_lazy("How close the ISCO skill levels of paired occupations are")),
    "sector": (
        gettext_lazy("Sectors"),
        gettext_lazy("A sector (ISIC section) in common; half when a side names none"),
    ),
    "conditions": (
        gettext_lazy("Conditions"),
        gettext_lazy("Fair recruitment and pension portability guaranteed by the scheme, half each"),
    ),
}


# --- Reading helpers ----------------------------------------------------------------------


def score_words(score: float) -> str:
    if score >= 0.8:
        return _("Strong match")
    if score >= 0.6:
        return _("Good match")
    if score >= 0.4:
        return _("Partial match")
    return _("Weak match")


def _sides(match: Match, organisation: Organisation) -> tuple[Listing, Listing, Organisation]:
    """(my listing, their listing, their government)."""
    if match.demand_owner_id == organisation.pk:
        return match.demand, match.supply, match.supply.owner
    return match.supply, match.demand, match.demand.owner


def _decorate(match: Match, organisation: Organisation) -> Match:
    mine, theirs, other = _sides(match, organisation)
    match.mine, match.theirs, match.other = mine, theirs, other  # type: ignore[attr-defined]
    match.percent = round(match.score * 100)  # type: ignore[attr-defined]
    match.words = score_words(match.score)  # type: ignore[attr-defined]
    match.is_new = (  # type: ignore[attr-defined]
        hasattr(match, "last_read") and match.last_read is None and match.state in OPEN_STATES
    )
    return match


def _my_listings(actor: Actor) -> list[tuple[Any, str]]:
    """My organisation's listings that have at least one match (the list's filter)."""
    return list(
        listing_visible_to(actor=actor)
        .filter(owner=actor.organisation)
        .filter(Q(demand_matches__isnull=False) | Q(supply_matches__isnull=False))
        .distinct()
        .order_by("title", "id")
        .values_list("pk", "title")
    )


def _filtered(request: HttpRequest) -> tuple[MatchFilterForm, QuerySet[Match]]:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    form = MatchFilterForm(request.GET, listings=_my_listings(actor))
    matches = with_read_state(match_list(actor=actor), organisation=actor.org)
    sort = "score"
    if form.is_valid():
        data = form.cleaned_data
        if data["listing"]:
            matches = matches.filter(Q(demand_id=data["listing"]) | Q(supply_id=data["listing"]))
        if data["state"]:
            matches = matches.filter(state=data["state"])
        if data["show"] == "new":
            matches = matches.filter(last_read__isnull=True, state__in=OPEN_STATES)  # type: ignore[misc]  # annotated
        elif data["show"] == "unread":
            matches = matches.filter(unread__gt=0)  # type: ignore[misc]  # annotated
        sort = data["sort"] or "score"
    return form, matches.order_by(*SORTS[sort])


# --- The list -----------------------------------------------------------------------------


@actor_required
def match_list_view(request: HttpRequest) -> HttpResponse:
    form, matches = _filtered(request)
    page = paginate(request, matches)
    page.object_list = [_decorate(match, request.actor.organisation) for match in page.object_list]  # type: ignore[attr-defined]
    return render(request, "exchange/matches/list.html", {"form": form, "page": page, "matches": page.object_list})


@actor_required
def match_export_view(request: HttpRequest) -> HttpResponseBase:
    _form, matches = _filtered(request)
    organisation = request.actor.organisation  # type: ignore[attr-defined]
    header = [
        _("Match"),
        _("Your listing"),
        _("Their listing"),
        _("Other government"),
        _("Country"),
        _("Score (%)"),
        _("State"),
        _("Unread messages"),
        _("Created"),
        _("Last activity"),
    ]
    states = dict(MatchState.choices)

    def rows() -> Any:
        for match in matches.iterator(chunk_size=500):
            mine, theirs, other = _sides(match, organisation)
            yield [
                match.pk,
                mine.title,
                theirs.title,
                other.name,
                other.country.code,  # type: ignore[attr-defined]  # a Country, not a str
                round(match.score * 100),
                states.get(match.state, match.state),
                match.unread,  # type: ignore[attr-defined]
                match.created_at.date().isoformat(),
                match.updated_at.date().isoformat(),
            ]

    return csv_response("matches.csv", header, rows())


# --- One match: the explanation -----------------------------------------------------------


def _language_names(codes: set[str]) -> dict[str, str]:
    return {language.code: language.name for language in Language.objects.filter(code__in=codes)}


def _country(code: str) -> str:
    return str(dict(countries).get(code, code))


def explanation_context(match: Match) -> dict[str, Any]:
    """The stored explanation (exchange/matching/scoring.py) as translated rows for the template.

    The explanation's English sentences are not shown: every text here is built from
    its structured fields, so it reads in the user's language, with ISCO titles and
    language names from the reference data in that language.
    """
    explanation = match.explanation or {}
    pairs = explanation.get("occupations", [])
    demand_lines = list(match.demand.occupation_lines.all())
    codes = {line.occupation_id for line in demand_lines}
    for pair in pairs:
        codes |= {pair["demand"]["isco_code"], pair["supply"]["isco_code"], pair.get("shared_code", "")}
    titles = {o.code: o.title for o in Occupation.objects.filter(code__in=[c for c in codes if c])}

    occupations = []
    for pair in pairs:
        level = pair.get("level", "")
        digits = LEVEL_DIGITS.get(level, 0)
        shared = pair.get("shared_code", "")
        occupations.append(
            {
                "demand_code": pair["demand"]["isco_code"],
                "demand_title": titles.get(pair["demand"]["isco_code"], pair["demand"].get("title", "")),
                "demand_quantity": pair["demand"]["quantity"],
                "supply_code": pair["supply"]["isco_code"],
                "supply_title": titles.get(pair["supply"]["isco_code"], pair["supply"].get("title", "")),
                "supply_quantity": pair["supply"]["quantity"],
                "level": level,
                "level_label": LEVEL_LABELS.get(level, level),
                "level_value": round(LEVEL_SCORES.get(digits, 0) * 100),
                "shared_code": shared if digits < 4 else "",
                "shared_title": titles.get(shared, "") if digits < 4 else "",
            }
        )
    paired = {pair["demand"]["isco_code"] for pair in pairs}
    missing: list[dict[str, str]] = [
        {
            "kind": "no",
            "text": _("No offered occupation meets %(code)s %(title)s (%(quantity)s places demanded).")
            % {"code": line.occupation_id, "title": titles.get(line.occupation_id, ""), "quantity": line.quantity},
        }
        for line in demand_lines
        if line.occupation_id not in paired
    ]

    names = _language_names({item["language"] for item in explanation.get("languages", [])})
    languages = []
    for item in explanation.get("languages", []):
        values = {
            "language": names.get(item["language"], item["language"]),
            "required": item["required"],
            "offered": item.get("offered") or "",
            "code": item.get("isco_code", ""),
            "title": titles.get(item.get("isco_code", ""), ""),
        }
        if item.get("met"):
            kind = "yes"
            text = _("%(language)s %(required)s required for %(code)s %(title)s: the offer has %(offered)s.") % values
        elif not item.get("offered"):
            kind = "no"
            text = _("Requires %(language)s %(required)s for %(code)s %(title)s; the offer has none.") % values
        else:
            short = CEFR.index(item["required"]) - CEFR.index(item["offered"])
            kind = "gap" if short == 1 else "no"
            text = _("Requires %(language)s %(required)s for %(code)s %(title)s; the offer has %(offered)s.") % values
        languages.append({"kind": kind, "text": text})
        if kind != "yes":
            missing.append({"kind": kind, "text": text})

    quantities = explanation.get("quantities", {})
    coverage = None
    if quantities and pairs:
        if quantities.get("supply_matched", 0) >= quantities.get("demand_matched", 0):
            coverage = {
                "kind": "yes",
                "text": _("The offer covers all %(demanded)s places matched.")
                % {"demanded": quantities.get("demand_matched", 0)},
            }
        else:
            coverage = {
                "kind": "gap",
                "text": _("The offer covers %(offered)s of the %(demanded)s places matched.")
                % {"offered": quantities.get("supply_matched", 0), "demanded": quantities.get("demand_matched", 0)},
            }
            missing.append(coverage)

    window = explanation.get("window") or {}
    overlap = None
    if window.get("start") and window.get("end"):
        overlap = {
            "start": datetime.date.fromisoformat(window["start"]),
            "end": datetime.date.fromisoformat(window["end"]),
            "days": window.get("days", 0),
        }

    demand, supply = match.demand, match.supply
    eligibility = [
        {
            "kind": "yes",
            "text": _("The scheme is open to workers from every country.")
            if not demand.partner_countries
            else _("%(country)s is a partner country of the scheme.") % {"country": _country(supply.owner_country)},
        },
        {
            "kind": "yes",
            "text": _("The offer is open to every destination country.")
            if not supply.partner_countries
            else _("%(country)s is a partner country of the offer.") % {"country": _country(demand.owner_country)},
        },
    ]

    sectors = explanation.get("sectors") or {}
    labels = dict(sector_options())
    if sectors.get("demand") and sectors.get("supply"):
        if sectors.get("shared"):
            sector = {
                "kind": "yes",
                "text": _("Sector in common: %(sectors)s.")
                % {"sectors": "; ".join(labels.get(code, code) for code in sectors["shared"])},
            }
        else:
            sector = {"kind": "no", "text": _("No sector (ISIC section) in common.")}
            missing.append(sector)
    else:
        sector = {"kind": "gap", "text": _("One side names no sector: the sector counts half.")}

    conditions = explanation.get("conditions") or {}
    condition_items = [
        {
            "kind": "yes" if conditions.get("fair_recruitment") else "no",
            "text": _("The scheme guarantees fair recruitment: workers pay no fees.")
            if conditions.get("fair_recruitment")
            else _("The scheme does not state fair recruitment (workers paying no fees)."),
        },
        {
            "kind": "yes" if conditions.get("pension_portability") else "no",
            "text": _("The scheme guarantees pension portability.")
            if conditions.get("pension_portability")
            else _("The scheme does not guarantee pension portability."),
        },
    ]
    if not conditions.get("fair_recruitment"):
        missing.append(condition_items[0])

    values = explanation.get("components") or {}
    weights = explanation.get("weights") or WEIGHTS
    components = []
    for key, (label, description) in COMPONENTS.items():
        value, weight = float(values.get(key, 0)), float(weights.get(key, WEIGHTS[key]))
        components.append(
            {
                "label": label,
                "description": description,
                "value": round(value * 100),
                "weight": round(weight * 100),
                "points": weight * value * 100,
            }
        )

    return {
        "occupations": occupations,
        "languages": languages,
        "quantities": quantities,
        "coverage": coverage,
        "overlap": overlap,
        "eligibility": eligibility,
        "sector": sector,
        "conditions": condition_items,
        "missing": missing,
        "components": components,
        "total_points": match.score * 100,
    }


def _match(request: HttpRequest, pk: Any) -> Match:
    return get_object_or_404(match_list(actor=request.actor), pk=pk)  # type: ignore[attr-defined]


def dialogue_context(
    request: HttpRequest,
    match: Match,
    *,
    previous_read: datetime.datetime | None = None,
    interest_form: MessageForm | None = None,
    message_form: MessageForm | None = None,
) -> dict[str, Any]:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.org
    thread = list(message_list(actor=actor, match=match))
    for message in thread:
        message.mine = message.organisation_id == organisation.pk  # type: ignore[attr-defined]
        message.is_new = not message.mine and (  # type: ignore[attr-defined]
            previous_read is None or message.created_at > previous_read
        )
    _mine, _theirs, other = _sides(match, organisation)
    return {
        "match": match,
        "other": other,
        "thread": thread,
        "can_write": bool(access.can_take_part(actor, match)),
        "can_express": bool(access.can_express_interest(actor, match)),
        "can_reply": bool(access.can_message(actor, match)),
        "can_decide": bool(access.can_decide(actor, match)),
        "waiting_for_decision": match.state in access.DECIDE_STATES and match.interest_by_id == organisation.pk,
        "interest_form": interest_form
        or MessageForm(prefix_id="interest", label=_("Message to %(government)s") % {"government": other.name}),
        "message_form": message_form or MessageForm(prefix_id="reply", label=_("Your reply")),
    }


def _detail(request: HttpRequest, match: Match, *, status: int = 200, **forms: Any) -> HttpResponse:
    organisation = request.actor.organisation  # type: ignore[attr-defined]
    previous = last_read_at(match=match, organisation=organisation)
    services.match_mark_read(actor=request.actor, match=match)  # type: ignore[attr-defined]
    _decorate(match, organisation)
    context = {
        **dialogue_context(request, match, previous_read=previous, **forms),
        "explanation": explanation_context(match),
        "state_label": match.get_state_display(),
    }
    return render(request, "exchange/matches/detail.html", context, status=status)


@actor_required
def match_detail_view(request: HttpRequest, pk: Any) -> HttpResponse:
    match = get_object_or_404(match_list(actor=request.actor).prefetch_related("demand__occupation_lines"), pk=pk)  # type: ignore[attr-defined]
    return _detail(request, match)


# --- The dialogue ---------------------------------------------------------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _fragment(request: HttpRequest, match: Match, *, announce: str = "", error: str = "", **forms: Any) -> HttpResponse:
    """The dialogue section for htmx, with the state tag and the status region out of band."""
    match = _match(request, match.pk)
    previous = last_read_at(match=match, organisation=request.actor.organisation)  # type: ignore[attr-defined]
    services.match_mark_read(actor=request.actor, match=match)  # type: ignore[attr-defined]
    context = {
        **dialogue_context(request, match, previous_read=previous, **forms),
        "state_label": match.get_state_display(),
        "announce": announce,
        "error": error,
        "oob": True,
    }
    return render(request, "exchange/matches/_dialogue.html", context)


def _match_url(match: Match) -> str:
    return reverse("exchange:match", kwargs={"pk": match.pk}) + "#dialogue-heading"


def _post_message(request: HttpRequest, pk: Any, *, interest: bool) -> HttpResponse:
    """Express interest (``interest``) or reply: the API's serializer, then the service."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    match = _match(request, pk)
    other = _sides(match, actor.org)[2]
    label = _("Message to %(government)s") % {"government": other.name} if interest else _("Your reply")
    form = MessageForm(request.POST, prefix_id="interest" if interest else "reply", label=label)
    if form.is_valid():
        body = MessageCreateSerializer(data={"message": form.cleaned_data["message"]})
        if body.is_valid():
            try:
                if interest:
                    services.match_express_interest(actor=actor, match=match, message=body.validated_data["message"])
                    done = _("Interest expressed: your message was sent.")
                else:
                    services.match_post_message(actor=actor, match=match, message=body.validated_data["message"])
                    done = _("Message sent.")
            except DjangoValidationError as exc:
                add_errors(form, exc)
            except StateConflict as exc:
                if _is_htmx(request):
                    return _fragment(request, match, error=str(exc), announce=str(exc))
                messages.error(request, str(exc))
                return redirect(_match_url(match))
            else:
                if _is_htmx(request):
                    return _fragment(request, match, announce=done)
                messages.success(request, done)
                return redirect(_match_url(match))
        else:
            add_errors(form, body.errors)
    forms: dict[str, Any] = {"interest_form" if interest else "message_form": form}
    if _is_htmx(request):
        return _fragment(request, match, announce=_("The message was not sent: see the error."), **forms)
    match = get_object_or_404(match_list(actor=actor).prefetch_related("demand__occupation_lines"), pk=match.pk)
    return _detail(request, match, status=400, **forms)


@require_POST
@actor_required
def match_interest_view(request: HttpRequest, pk: Any) -> HttpResponse:
    return _post_message(request, pk, interest=True)


@require_POST
@actor_required
def match_message_view(request: HttpRequest, pk: Any) -> HttpResponse:
    return _post_message(request, pk, interest=False)


@actor_required
def match_decide_view(request: HttpRequest, pk: Any, decision: str) -> HttpResponse:
    """Accept or decline: a confirmation page (GET), then the decision (POST)."""
    if decision not in DECISIONS:
        raise Http404
    match = _match(request, pk)
    actor: Actor = request.actor  # type: ignore[attr-defined]
    accept = DECISIONS[decision]
    allowed = access.can_decide(actor, match)
    if not allowed and allowed.conflict:
        messages.error(request, str(allowed.reason))
        return redirect(_match_url(match))
    allowed.check()
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        body = DecisionSerializer(data={"reason": form.cleaned_data["reason"]})
        if not body.is_valid():
            add_errors(form, body.errors)
        else:
            try:
                services.match_decide(actor=actor, match=match, accept=accept, reason=body.validated_data["reason"])
            except StateConflict as exc:
                messages.error(request, str(exc))
                return redirect(_match_url(match))
            messages.success(
                request,
                _("You accepted the match. Both governments can group it in a partnership.")
                if accept
                else _("You declined the match."),
            )
            return redirect("exchange:match", pk=match.pk)
    mine, theirs, other = _sides(match, actor.org)
    context: dict[str, Any] = {
        "title": _("Accept the match") if accept else _("Decline the match"),
        "question": (
            _("Accept the match between “%(mine)s” and “%(theirs)s” of %(government)s?")
            if accept
            else _("Decline the match between “%(mine)s” and “%(theirs)s” of %(government)s?")
        )
        % {"mine": mine.title, "theirs": theirs.title, "government": other.name},
        "explanation": _("Both governments are told. The decision is final: the match cannot be reopened.")
        if accept
        else _("Both governments are told. The dialogue ends and the decision is final."),
        "action_url": reverse("exchange:match_decide", kwargs={"pk": match.pk, "decision": decision}),
        "button": _("Accept the match") if accept else _("Decline the match"),
        "cancel_url": reverse("exchange:match", kwargs={"pk": match.pk}),
        "warning": not accept,
        "form": form,
    }
    return confirm_page(request, **context)


# --- The dashboard ----------------------------------------------------------------------------


def dashboard_section(request: HttpRequest) -> dict[str, Any] | None:
    """New matches and unread messages for the dashboard (config/dashboard.py): three queries."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.org
    if not is_government(actor):  # agencies take part in no match
        return None
    matches = with_read_state(match_list(actor=actor), organisation=organisation)
    new_filter = Q(last_read__isnull=True, state__in=OPEN_STATES)
    totals = matches.aggregate(
        new=Count("pk", filter=new_filter),
        unread_threads=Count("pk", filter=Q(unread__gt=0)),
        unread_messages=Coalesce(Sum("unread"), 0),
    )
    rows = list(
        matches.filter(Q(unread__gt=0) | new_filter).order_by(F("unread").desc(), "-score", "id")[:DASHBOARD_ROWS]
    )
    return {
        "template": "exchange/matches/_dashboard.html",
        **totals,
        "rows": [_decorate(match, organisation) for match in rows],
    }
