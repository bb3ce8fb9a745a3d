"""Migration profile pages: the list, one profile with its charts, create, edit a part, publish,
the history and what changed between two versions, and the two comparisons.

The same rules as the API (``exchange/api/profiles.py``): every read goes through
``exchange.profiles.selectors`` on ``exchange.access.profile_visible_to`` (a
profile the caller may not read is a 404), buttons come from the access
decisions, and every write is a service of ``exchange.profiles.services`` behind
the API's validation (``ProfileWriteSerializer``, ``ObservationInput``), whose
errors are shown against the field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.access import can_act_for_government
from accounts.tenancy import Actor
from config.charts import Chart, Series, bar_chart, format_number, line_chart
from config.errors import StateConflict
from config.web import actor_required, confirm_page, paginate, public_page
from exchange import access
from exchange.api.profiles import ProfileWriteSerializer
from exchange.corridors.selectors import parse_corridor
from exchange.models import MigrationProfile, Observation
from exchange.models.profiles import NARRATIVE_PARTS, TOTAL_AGE, Indicator, ProfilePart, Sex, SkillKind
from exchange.profiles import selectors, services
from exchange.profiles.inputs import ObservationInput
from exchange.web.forms import add_errors
from exchange.web.profile_forms import FigureForm, NarrativeForm, ProfileCreateForm
from opportunities.models import Language

SEX_ORDER = {Sex.FEMALE: 0, Sex.MALE: 1, Sex.TOTAL: 2}


# --- Reading helpers -----------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _country_name(code: str) -> str:
    return str(dict(countries).get(code, code))


def _optional_url(name: str, **kwargs: Any) -> str:
    """A page another branch builds (the import page, the CSV export): linked once it exists."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def _export_url(profile: MigrationProfile) -> str:
    for name in ("profile-export", "profile-export-csv"):
        url = _optional_url(name, pk=profile.pk)
        if url:
            return url
    return ""


def _breakdown_label(sex: str, age: str) -> str:
    label = str(Sex(sex).label)
    return label if age == TOTAL_AGE else f"{label}, {age}"


def indicator_chart(indicator: Indicator, figures: list[Observation], *, prefix: str = "chart") -> Chart:
    """The chart of one indicator's figures: bars by sex where it is broken down, else a line over time."""
    keys = sorted({(f.sex, f.age) for f in figures}, key=lambda k: (k[1] != TOTAL_AGE, k[1], SEX_ORDER[Sex(k[0])]))
    series = [
        Series(
            _breakdown_label(sex, age),
            [(f.time_period, f.value) for f in figures if f.sex == sex and f.age == age],
        )
        for sex, age in keys
    ]
    by_sex = any(sex != Sex.TOTAL for sex, _age in keys)
    build = bar_chart if by_sex else line_chart
    return build(
        chart_id=f"{prefix}-{indicator.code.lower()}",
        title=f"{indicator.name} ({indicator.get_unit_display()})",
        series=series,
        x_label=_("Year"),
    )


def _figures_by_indicator(figures: Iterable[Observation]) -> dict[str, tuple[Indicator, list[Observation]]]:
    grouped: dict[str, tuple[Indicator, list[Observation]]] = {}
    for figure in figures:
        grouped.setdefault(figure.indicator_id, (figure.indicator, []))[1].append(figure)
    return grouped


def _parts(profile: MigrationProfile, *, with_charts: bool = True) -> list[dict[str, Any]]:
    """The four parts with their narrative and, per indicator with figures, a chart (from prefetched rows)."""
    by_part: dict[int, list[Observation]] = defaultdict(list)
    for figure in profile.observations.all():
        by_part[figure.indicator.part].append(figure)
    parts = []
    for number, field in zip(ProfilePart.values, NARRATIVE_PARTS, strict=True):
        grouped = _figures_by_indicator(by_part[number])
        parts.append(
            {
                "number": number,
                "anchor": f"part-{number}",
                "title": ProfilePart(number).label,
                "field": field,
                "narrative": getattr(profile, field),
                "language": getattr(profile, f"{field}_language"),
                "charts": [
                    {"indicator": indicator, "chart": indicator_chart(indicator, rows), "sources": _sources(rows)}
                    for indicator, rows in grouped.values()
                ]
                if with_charts
                else [],
                "figures": by_part[number],
            }
        )
    return parts


def _sources(rows: list[Observation]) -> str:
    return "; ".join(dict.fromkeys(row.source for row in rows))


def _skills(profile: MigrationProfile) -> list[dict[str, Any]]:
    rows = list(profile.skills.all())
    return [
        {"kind": kind, "label": label, "rows": [row for row in rows if row.kind == kind]}
        for kind, label in SkillKind.choices
        if any(row.kind == kind for row in rows)
    ]


def _part_number(part: int) -> int:
    if part not in ProfilePart.values:
        raise Http404
    return part


# --- The list ------------------------------------------------------------------------------


def _filter_year(request: HttpRequest) -> int | None:
    raw = request.GET.get("year", "").strip()
    return int(raw) if raw.isdigit() and len(raw) == 4 else None


@actor_required
def profile_list_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    country = request.GET.get("country", "").strip().upper()[:2]
    year = _filter_year(request)
    page = paginate(request, selectors.profile_list(actor=actor, country=country, year=year))
    choices = [(code, _country_name(code)) for code in selectors.readable_countries(actor=actor)]
    own_country = str(actor.org.country or "")
    return render(
        request,
        "exchange/profiles/list.html",
        {
            "page": page,
            "profiles": page.object_list,
            "countries": sorted(choices, key=lambda c: c[1].casefold()),
            "country": country,
            "year": year or "",
            "can_create": bool(own_country) and bool(access.can_create_profile(actor, own_country)),
        },
    )


# --- One profile ---------------------------------------------------------------------------


@actor_required
def profile_detail_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor = _actor(request)
    profile = selectors.profile_detail(actor=actor, pk=pk)
    can_edit = access.can_edit_profile(actor, profile)
    can_edit_figures = bool(access.can_edit_observations(actor, profile))
    context = {
        "profile": profile,
        "country_name": _country_name(str(profile.country)),
        "parts": _parts(profile),
        "skills": _skills(profile),
        "can_edit": bool(can_edit),
        "can_publish": bool(access.can_publish_profile(actor, profile)),
        "import_url": _optional_url("exchange:profile-import", pk=profile.pk) if can_edit_figures else "",
        "export_url": _export_url(profile),
    }
    return render(request, "exchange/profiles/detail.html", context)


# --- Public pages: what anyone may read, signed in or not ------------------------------------


@public_page
def public_profile_list_view(request: HttpRequest) -> HttpResponse:
    country = request.GET.get("country", "").strip().upper()[:2]
    page = paginate(request, selectors.public_profile_list(country=country))
    return render(request, "exchange/profiles/public_list.html", {"page": page, "profiles": page.object_list})


@public_page
def public_profile_detail_view(request: HttpRequest, pk: Any) -> HttpResponse:
    """A public profile as the public reads it: the same sections and charts, no member's tools."""
    profile = selectors.public_profile_detail(pk=pk)
    context = {
        "profile": profile,
        "country_name": _country_name(str(profile.country)),
        "parts": _parts(profile),
        "skills": _skills(profile),
        "public": True,
    }
    return render(request, "exchange/profiles/detail.html", context)


# --- Create --------------------------------------------------------------------------------


@actor_required
def profile_create_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    can_act_for_government(actor).check()  # who asks comes before what they sent
    country = str(actor.org.country or "")
    access.can_create_profile(actor, country).check()
    form = ProfileCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        body = ProfileWriteSerializer(data={"country": country, **form.cleaned_data})
        if not body.is_valid():
            add_errors(form, body.errors)
        else:
            try:
                profile = services.profile_create(actor=actor, data=body.validated_data)
            except DjangoValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Profile started as a draft: only your organisation sees it."))
                return redirect("exchange:profile-detail", pk=profile.pk)
    return render(
        request,
        "exchange/profiles/create.html",
        {"form": form, "country_name": _country_name(country)},
        status=400 if form.errors else 200,
    )


# --- Edit one part: its narrative and its figures -------------------------------------------


def _languages() -> list[tuple[str, str]]:
    return [(lang.code, f"{lang.name} ({lang.code})") for lang in Language.objects.order_by("name_en")]


def _edit_page(
    request: HttpRequest,
    profile: MigrationProfile,
    part: int,
    *,
    narrative: NarrativeForm | None = None,
    figure: FigureForm | None = None,
    editing: Observation | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = _actor(request)
    field = NARRATIVE_PARTS[part - 1]
    label = ProfilePart(part).label
    indicators = [i for i in selectors.indicator_catalogue() if i.part == part]
    narrative = narrative or NarrativeForm(
        initial={"text": getattr(profile, field), "language": getattr(profile, f"{field}_language")},
        part_label=label,
        languages=_languages(),
    )
    can_edit_figures = bool(access.can_edit_observations(actor, profile))
    if can_edit_figures and figure is None:
        initial: dict[str, Any] = {}
        if editing is not None:
            initial = {
                "indicator": editing.indicator_id,
                "sex": editing.sex,
                "age": editing.age,
                "time_period": editing.time_period,
                "value": format(editing.value.normalize(), "f"),
                "source": editing.source,
                "comment": editing.comment,
            }
        figure = FigureForm(initial=initial, indicators=indicators)
    part_data = _parts(profile, with_charts=False)[part - 1]
    for row in part_data["figures"]:
        row.shown = format_number(row.value)
    return render(
        request,
        "exchange/profiles/edit_part.html",
        {
            "profile": profile,
            "country_name": _country_name(str(profile.country)),
            "part": part_data,
            "parts": [(number, ProfilePart(number).label) for number in ProfilePart.values],
            "narrative_form": narrative,
            "figure_form": figure if can_edit_figures else None,
            "editing": editing,
            "import_url": _optional_url("exchange:profile-import", pk=profile.pk) if can_edit_figures else "",
        },
        status=status,
    )


def _figure_of(profile: MigrationProfile, pk: str) -> Observation:
    """A figure of this profile (from its prefetched figures): anything else is a 404."""
    found = next((row for row in profile.observations.all() if str(row.pk) == pk), None)
    if found is None:
        raise Http404
    return found


def _refused(request: HttpRequest, profile: MigrationProfile, message: Any) -> HttpResponse:
    messages.error(request, str(message))
    return redirect("exchange:profile-detail", pk=profile.pk)


@actor_required
def profile_edit_part_view(request: HttpRequest, pk: Any, part: int) -> HttpResponse:
    actor = _actor(request)
    part = _part_number(part)
    profile = selectors.profile_detail(actor=actor, pk=pk)
    allowed = access.can_edit_profile(actor, profile)
    if not allowed and allowed.conflict:
        return _refused(request, profile, allowed.reason)
    allowed.check()
    part_url = reverse("exchange:profile-edit-part", kwargs={"pk": profile.pk, "part": part})
    if request.method != "POST":
        editing = _figure_of(profile, request.GET["figure"]) if request.GET.get("figure") else None
        return _edit_page(request, profile, part, editing=editing)

    action = request.POST.get("action", "")
    try:
        if action == "narrative":
            return _save_narrative(request, profile, part)
        if action in ("figure", "delete"):
            figures_allowed = access.can_edit_observations(actor, profile)
            if not figures_allowed and figures_allowed.conflict:
                return _refused(request, profile, figures_allowed.reason)
            figures_allowed.check()
            if action == "delete":
                services.observation_delete(
                    actor=actor, observation=_figure_of(profile, request.POST.get("figure", ""))
                )
                messages.success(request, _("Figure removed."))
                return redirect(part_url + "#figures")
            return _save_figure(request, profile, part)
    except StateConflict as exc:
        return _refused(request, profile, exc)
    messages.error(request, _("Choose what to save: the narrative or a figure."))
    return _edit_page(request, profile, part, status=400)


def _save_narrative(request: HttpRequest, profile: MigrationProfile, part: int) -> HttpResponse:
    actor = _actor(request)
    field = NARRATIVE_PARTS[part - 1]
    form = NarrativeForm(request.POST, part_label=ProfilePart(part).label, languages=_languages())
    if form.is_valid():
        body = ProfileWriteSerializer(
            data={field: form.cleaned_data["text"], f"{field}_language": form.cleaned_data["language"]}, partial=True
        )
        if body.is_valid():
            changed = services.profile_update(actor=actor, profile=profile, data=dict(body.validated_data))
            if changed.pk != profile.pk:
                messages.success(
                    request,
                    _("Saved in version %(version)d, a draft: the published version stays live until you publish it.")
                    % {"version": changed.version},
                )
                return redirect("exchange:profile-edit-part", pk=changed.pk, part=part)
            messages.success(request, _("Narrative saved."))
            return redirect(reverse("exchange:profile-detail", kwargs={"pk": profile.pk}) + f"#part-{part}")
        # The serializer names the profile's fields; the form calls them text and language.
        errors = {("language" if k.endswith("_language") else "text"): v for k, v in body.errors.items()}
        add_errors(form, errors)
    return _edit_page(request, profile, part, narrative=form, status=400)


def _save_figure(request: HttpRequest, profile: MigrationProfile, part: int) -> HttpResponse:
    actor = _actor(request)
    indicators = [i for i in selectors.indicator_catalogue() if i.part == part]
    editing = _figure_of(profile, request.POST["figure"]) if request.POST.get("figure") else None
    form = FigureForm(request.POST, indicators=indicators)
    if form.is_valid():
        body = ObservationInput(editing, data=form.api_data(), profile=profile)
        if body.is_valid():
            try:
                services.observation_save(
                    actor=actor, profile=profile, data=dict(body.validated_data), observation=editing
                )
            except DjangoValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, _("Figure saved."))
                part_url = reverse("exchange:profile-edit-part", kwargs={"pk": profile.pk, "part": part})
                return redirect(part_url + "#figures")
        else:
            add_errors(form, body.errors)
    return _edit_page(request, profile, part, figure=form, editing=editing, status=400)


# --- Publish -------------------------------------------------------------------------------


@actor_required
def profile_publish_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor = _actor(request)
    profile = selectors.profile_detail(actor=actor, pk=pk)
    detail_url = reverse("exchange:profile-detail", kwargs={"pk": profile.pk})
    allowed = access.can_publish_profile(actor, profile)
    if not allowed and allowed.conflict:
        return _refused(request, profile, allowed.reason)
    allowed.check()
    if request.method == "POST":
        try:
            services.profile_publish(actor=actor, profile=profile)
        except StateConflict as exc:
            return _refused(request, profile, exc)
        messages.success(request, _("Profile published."))
        return redirect(detail_url)
    return confirm_page(
        request,
        title=_("Publish the profile"),
        question=_("Publish the %(year)d profile of %(country)s, version %(version)d?")
        % {"year": profile.year, "country": _country_name(str(profile.country)), "version": profile.version},
        explanation=_(
            "Once published it is readable by %(audience)s, and the version it revises becomes history. "
            "Its figures no longer change: a later edit opens the next version."
        )
        % {"audience": profile.get_visibility_display().lower()},
        button=_("Publish the profile"),
        cancel_url=detail_url,
    )


# --- History and differences ----------------------------------------------------------------


@actor_required
def profile_versions_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor = _actor(request)
    profile = selectors.profile_detail(actor=actor, pk=pk)
    versions = list(selectors.profile_versions(actor=actor, profile=profile))
    return render(
        request,
        "exchange/profiles/versions.html",
        {"profile": profile, "country_name": _country_name(str(profile.country)), "versions": versions},
    )


def _figure_key(row: Observation) -> tuple[int, int, str, int, int, str]:
    return (
        row.indicator.part,
        row.indicator.position,
        row.indicator_id,
        row.time_period,
        SEX_ORDER[Sex(row.sex)],
        row.age,
    )


def profile_changes(older: MigrationProfile, newer: MigrationProfile) -> dict[str, Any]:
    """What changed from ``older`` to ``newer``: narratives, visibility and figures added, removed, changed."""
    narratives = []
    for number, field in zip(ProfilePart.values, NARRATIVE_PARTS, strict=True):
        before, after = getattr(older, field), getattr(newer, field)
        before_lang, after_lang = getattr(older, f"{field}_language"), getattr(newer, f"{field}_language")
        if before != after or before_lang != after_lang:
            narratives.append(
                {
                    "title": ProfilePart(number).label,
                    "before": before,
                    "after": after,
                    "before_language": before_lang,
                    "after_language": after_lang,
                }
            )
    old = {_figure_key(row): row for row in older.observations.all()}
    new = {_figure_key(row): row for row in newer.observations.all()}
    figures = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and (a.value, a.source, a.comment) == (b.value, b.source, b.comment):
            continue
        row = b or a
        assert row is not None
        figures.append(
            {
                "change": "added" if a is None else "removed" if b is None else "changed",
                "indicator": row.indicator,
                "breakdown": _breakdown_label(row.sex, row.age),
                "time_period": row.time_period,
                "before": format_number(a.value) if a else "",
                "after": format_number(b.value) if b else "",
                "before_source": a.source if a else "",
                "after_source": b.source if b else "",
            }
        )
    return {
        "narratives": narratives,
        "figures": figures,
        "visibility": (older.get_visibility_display(), newer.get_visibility_display())
        if older.visibility != newer.visibility
        else None,
    }


@actor_required
def profile_diff_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor = _actor(request)
    profile = selectors.profile_detail(actor=actor, pk=pk)
    a = request.GET.get("a") or (str(profile.previous_id) if profile.previous_id else "")
    b = request.GET.get("b") or str(profile.pk)
    context: dict[str, Any] = {"profile": profile, "country_name": _country_name(str(profile.country))}
    if not a:
        context["first"] = True
        return render(request, "exchange/profiles/diff.html", context)
    try:
        found = {
            str(v.pk): v for v in selectors.profile_versions_with_contents(actor=actor, profile=profile, pks=[a, b])
        }
    except DjangoValidationError:  # not a UUID
        raise Http404 from None
    if a not in found or b not in found:
        raise Http404  # not a version of this profile the caller may read
    older, newer = sorted((found[a], found[b]), key=lambda v: v.version)
    context.update(older=older, newer=newer, same=older.pk == newer.pk, **profile_changes(older, newer))
    return render(request, "exchange/profiles/diff.html", context)


# --- Comparisons -----------------------------------------------------------------------------


def _country_choices(actor: Actor) -> list[tuple[str, str]]:
    choices = [(code, _country_name(code)) for code in selectors.readable_countries(actor=actor)]
    return sorted(choices, key=lambda c: c[1].casefold())


@actor_required
def profile_compare_years_view(request: HttpRequest) -> HttpResponse:
    """One country, one indicator, across the reference years of its published profiles."""
    actor = _actor(request)
    catalogue = selectors.indicator_catalogue()
    country = request.GET.get("country", "").strip().upper()[:2]
    code = request.GET.get("indicator", "").strip().upper()
    sex = request.GET.get("sex", "")
    indicator = next((i for i in catalogue if i.code == code), None)
    context: dict[str, Any] = {
        "countries": _country_choices(actor),
        "indicators": catalogue,
        "sexes": Sex.choices,
        "country": country,
        "indicator": indicator,
        "sex": sex,
        "country_name": _country_name(country) if country else "",
    }
    if country and indicator is not None:
        rows = list(
            selectors.indicator_series(
                actor=actor,
                country=country,
                indicator=indicator.code,
                sex=sex if sex in Sex.values else None,
                age=TOTAL_AGE,
            )
        )
        # A year's figure as the newest reference year gives it (later profiles revise earlier ones).
        latest: dict[tuple[str, int], Observation] = {}
        for row in rows:
            latest[(row.sex, row.time_period)] = row
        figures = sorted(latest.values(), key=lambda r: (r.time_period, SEX_ORDER[Sex(r.sex)]))
        context.update(
            chart=indicator_chart(indicator, figures, prefix="years") if figures else None,
            rows=sorted(rows, key=lambda r: (r.profile.year, r.time_period, SEX_ORDER[Sex(r.sex)])),
            reference_years=sorted({row.profile.year for row in rows}),
        )
    return render(request, "exchange/profiles/compare_years.html", context)


def _headline(rows: list[Observation]) -> dict[str, Any] | None:
    """An indicator's figure for one country: the latest year, total and by sex where given (all ages)."""
    rows = [row for row in rows if row.age == TOTAL_AGE]
    if not rows:
        return None
    period = max(row.time_period for row in rows)
    at = {row.sex: row for row in rows if row.time_period == period}
    shown = {sex: format_number(at[sex].value) for sex in at}
    return {
        "period": period,
        "total": shown.get(Sex.TOTAL, ""),
        "female": shown.get(Sex.FEMALE, ""),
        "male": shown.get(Sex.MALE, ""),
    }


@actor_required
def profile_compare_countries_view(request: HttpRequest) -> HttpResponse:
    """Two countries' current published profiles for one year, indicator by indicator."""
    actor = _actor(request)
    first = request.GET.get("a", "").strip().upper()[:2]
    second = request.GET.get("b", "").strip().upper()[:2]
    year = _filter_year(request)
    context: dict[str, Any] = {
        "countries": _country_choices(actor),
        "a": first,
        "b": second,
        "year": year or "",
        "a_name": _country_name(first) if first else "",
        "b_name": _country_name(second) if second else "",
    }
    if first and second and year:
        profiles = selectors.published_profiles(actor=actor, countries=[first, second], year=year)
        pa, pb = profiles.get(first), profiles.get(second)
        left, right = (_figures_by_indicator(p.observations.all()) if p is not None else {} for p in (pa, pb))
        indicators = {code: pair[0] for code, pair in (*right.items(), *left.items())}
        ordered = sorted(indicators.values(), key=lambda i: (i.part, i.position, i.code))
        parts = [
            {
                "number": number,
                "title": ProfilePart(number).label,
                "rows": [
                    {
                        "indicator": indicator,
                        "a": _headline(left[indicator.code][1]) if indicator.code in left else None,
                        "b": _headline(right[indicator.code][1]) if indicator.code in right else None,
                    }
                    for indicator in ordered
                    if indicator.part == number
                ],
            }
            for number in ProfilePart.values
        ]
        context.update(profile_a=pa, profile_b=pb, parts=parts, compared=True)
        # Two known different countries: link their corridors both ways (docs/corridors.md).
        context["corridors"] = parse_corridor(first, second) is not None
    return render(request, "exchange/profiles/compare_countries.html", context)
