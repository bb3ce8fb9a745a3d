"""Reads of migration profiles for the pages (and the API's series endpoint).

Every read starts from ``exchange.access.profile_visible_to(actor=…)``: a draft is
its owner's, a published or superseded version is read per its visibility.
Figures and skills rows are part of their profile and are read through it. Each
selector decides its joins up front, so a page costs a fixed number of queries
however many indicators a profile has.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import models
from django.db.models import OuterRef, Prefetch, QuerySet
from django.db.models.functions import JSONObject

from accounts.tenancy import Actor
from exchange import access
from exchange.models import MigrationProfile, Observation, ProfileSkill, ProfileStatus
from exchange.models.profiles import Indicator
from opportunities.models import Occupation, Sector


def profile_list(*, actor: Actor, country: str = "", year: int | None = None) -> QuerySet[MigrationProfile]:
    """The current versions the actor may read (drafts of its own, and published ones), newest year first.

    Superseded versions are history: ``profile_versions`` lists them.
    """
    profiles = access.profile_visible_to(actor=actor).exclude(status=ProfileStatus.SUPERSEDED)
    if country:
        profiles = profiles.filter(country=country)
    if year is not None:
        profiles = profiles.filter(year=year)
    return profiles.select_related("owner").order_by("country", "-year", "-version")


SKILL_ORDER = ("kind", "occupation_id", "time_period")


def _with_contents(profiles: QuerySet[MigrationProfile], *, inline_skills: bool = False) -> QuerySet[MigrationProfile]:
    """The profiles with their figures (and indicators) and skills rows (and their groups).

    ``inline_skills`` (one profile): the skills rows come with the profile's own row, as
    a JSON array (``_attach_skills`` makes them the prefetched ``profile.skills``), so a
    profile's page reads the profile and its figures in two statements, not three.
    """
    figures = Observation.objects.select_related("indicator").order_by(
        "indicator__part", "indicator__position", "indicator_id", "time_period", "sex", "age"
    )
    profiles = profiles.select_related("owner").prefetch_related(Prefetch("observations", queryset=figures))
    if inline_skills:
        rows = ProfileSkill.objects.filter(profile_id=OuterRef("pk")).order_by(*SKILL_ORDER)
        return profiles.annotate(skill_rows=ArraySubquery(rows.values(row=_json_row())))
    skills = ProfileSkill.objects.select_related("occupation", "sector").order_by(*SKILL_ORDER)
    return profiles.prefetch_related(Prefetch("skills", queryset=skills))


# Occupation's and Sector's search columns are for the reference search, not for a profile.
_NOT_INLINED = {"search_document", "search_terms", "search_vector"}


def _inlined_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if f.name not in _NOT_INLINED]


def _json_row() -> JSONObject:
    """A skills row with its ISCO group and ISIC group, as one JSON object."""
    own = {f.attname: f.attname for f in _inlined_fields(ProfileSkill)}
    occupation = {f.attname: f"occupation__{f.attname}" for f in _inlined_fields(Occupation)}
    sector = {f.attname: f"sector__{f.attname}" for f in _inlined_fields(Sector)}
    return JSONObject(**own, occupation=JSONObject(**occupation), sector=JSONObject(**sector))


def _instance(model: type[models.Model], data: dict[str, Any]) -> Any:
    fields = _inlined_fields(model)
    values = [field.to_python(data[field.attname]) for field in fields]
    return model.from_db("default", [field.attname for field in fields], values)


def _attach_skills(profile: MigrationProfile) -> MigrationProfile:
    """Make the inlined skills rows (``_with_contents(inline_skills=True)``) ``profile.skills.all()``."""
    skills = []
    for data in profile.skill_rows or []:  # type: ignore[attr-defined]
        skill = _instance(ProfileSkill, data)
        skill.occupation = _instance(Occupation, data["occupation"])
        skill.sector = _instance(Sector, data["sector"]) if data["sector_id"] is not None else None
        skill.profile = profile
        skills.append(skill)
    prefetched = profile.skills.all()
    prefetched._result_cache = skills  # as prefetch_related leaves it
    prefetched._prefetch_done = True  # type: ignore[attr-defined]
    profile._prefetched_objects_cache = {**getattr(profile, "_prefetched_objects_cache", {}), "skills": prefetched}  # type: ignore[attr-defined]
    return profile


def profile_detail(*, actor: Actor, pk: Any) -> MigrationProfile:
    """One version with its figures (and their indicators) and skills rows: two queries. 404 if unreadable."""
    from django.shortcuts import get_object_or_404

    profiles = _with_contents(access.profile_visible_to(actor=actor), inline_skills=True)
    return _attach_skills(get_object_or_404(profiles, pk=pk))


def public_profile_list(*, country: str = "") -> QuerySet[MigrationProfile]:
    """The current published versions anyone may read, signed in or not (the public pages)."""
    profiles = access.profile_visible_to(actor=Actor.anonymous()).filter(status=ProfileStatus.PUBLISHED)
    if country:
        profiles = profiles.filter(country=country)
    return profiles.select_related("owner").order_by("country", "-year")


def public_profile_detail(*, pk: Any) -> MigrationProfile:
    """A version anyone may read, with its figures and skills rows (as ``profile_detail``). 404 otherwise."""
    from django.shortcuts import get_object_or_404

    profiles = _with_contents(access.profile_visible_to(actor=Actor.anonymous()), inline_skills=True)
    return _attach_skills(get_object_or_404(profiles, pk=pk))


def profile_versions(*, actor: Actor, profile: MigrationProfile) -> QuerySet[MigrationProfile]:
    """Every version of the profile's country and year that the actor may read, newest first."""
    return (
        access.profile_visible_to(actor=actor)
        .filter(country=profile.country, year=profile.year)
        .select_related("owner", "created_by")
        .order_by("-version")
    )


def profile_versions_with_contents(
    *, actor: Actor, profile: MigrationProfile, pks: list[Any]
) -> list[MigrationProfile]:
    """The named versions of the same country and year (for a diff), with their figures; unreadable ones left out."""
    return list(_with_contents(profile_versions(actor=actor, profile=profile).filter(pk__in=pks)))


def published_profiles(*, actor: Actor, countries: list[str], year: int) -> dict[str, MigrationProfile]:
    """Each country's current published version for ``year`` that the actor may read, with its figures."""
    profiles = _with_contents(
        access.profile_visible_to(actor=actor).filter(country__in=countries, year=year, status=ProfileStatus.PUBLISHED)
    )
    return {str(profile.country): profile for profile in profiles}


def indicator_series(
    actor: Actor, *, country: str, indicator: str, sex: str | None = None, age: str | None = None
) -> QuerySet[Observation]:
    """One country's figures for one indicator across its published profiles' reference years.

    The figures of the current published version of each year the actor may read
    (superseded versions and drafts are left out), oldest time period first and,
    within a period, oldest reference year first; ``sex`` and ``age`` narrow them
    (``None`` or empty: every breakdown, each row tagged with its own). Each row
    carries its profile (``profile.year``, ``profile.id``) and indicator. It serves
    both the API's ``GET /api/v1/indicators/series/`` and the year-on-year page.
    """
    profiles = access.profile_visible_to(actor=actor).filter(country=country, status=ProfileStatus.PUBLISHED)
    figures = Observation.objects.filter(profile__in=profiles, indicator_id=indicator)
    if sex:
        figures = figures.filter(sex=sex)
    if age:
        figures = figures.filter(age=age)
    return figures.select_related("profile", "indicator").order_by("time_period", "profile__year", "sex", "age")


def readable_countries(*, actor: Actor) -> list[str]:
    """The countries with a profile the actor may read (for the filters)."""
    codes = access.profile_visible_to(actor=actor).values_list("country", flat=True).distinct().order_by("country")
    return [str(code) for code in codes]


def indicator_catalogue() -> list[Indicator]:
    """The catalogue in its order (reference data, the same for everyone)."""
    return list(Indicator.objects.order_by("part", "position", "code"))
