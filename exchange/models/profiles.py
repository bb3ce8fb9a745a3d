"""Extended migration profiles: the indicator catalogue (reference data).

A country's profile (issue [8], in progress) records observations of these
indicators in the paper's four parts. The catalogue mirrors the names and
definitions of the international sources statisticians already use (UN DESA,
World Bank/KNOMAD, ILOSTAT, UNHCR, the SDG indicators), so a year of their data
loads without translation. It is loaded by a data migration from
``exchange/profiles/data/indicators.csv`` and never edited in the application;
``docs/profiles.md`` lists every entry with its source.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from django_scopes import ScopedManager

from accounts.tenancy import SharedManager
from exchange.models.imports import ImportJob
from opportunities.models import CodedName

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType


class ProfilePart(models.IntegerChoices):
    """The four parts of an extended migration profile, as the policy paper sets them out."""

    MIGRATION_DATA = 1, _("Migration data")
    DEVELOPMENT_IMPACT = 2, _("Impact on development")
    LABOUR_MARKET = 3, _("Labour market")
    MANAGEMENT_CAPACITY = 4, _("Migration management capacity")


class IndicatorUnit(models.TextChoices):
    PERSONS = "persons", _("persons")
    PERCENT = "percent", _("percent")
    USD = "usd", _("US dollars")
    USD_MILLIONS = "usd_millions", _("millions of US dollars")
    RATIO = "ratio", _("ratio")
    YEARS = "years", _("years")
    INDEX = "index", _("index")


class Disaggregation(models.TextChoices):
    SEX = "sex", _("sex")
    AGE = "age", _("age")


class Indicator(CodedName):
    """One indicator of the catalogue: what it measures, in which unit, from which source."""

    code = models.CharField(_("code"), max_length=40, primary_key=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_es = models.CharField(_("name (Spanish)"), max_length=200)
    part = models.PositiveSmallIntegerField(_("part"), choices=ProfilePart.choices)
    unit = models.CharField(_("unit"), max_length=16, choices=IndicatorUnit.choices)
    disaggregations = ArrayField(
        models.CharField(max_length=8, choices=Disaggregation.choices), default=list, blank=True
    )
    source = models.CharField(_("source"), max_length=300)
    source_code = models.CharField(_("code at the source"), max_length=80, blank=True)
    definition = models.TextField(_("definition"), blank=True)
    # Persons are never negative, except where the indicator is a balance (net migration).
    signed = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta(CodedName.Meta):
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["part", "position", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(part__gte=1, part__lte=4), name="indicator_part_1_to_4"),
            models.CheckConstraint(condition=models.Q(unit__in=IndicatorUnit.values), name="indicator_unit_known"),
            models.CheckConstraint(
                condition=models.Q(disaggregations__contained_by=Disaggregation.values),
                name="indicator_disaggregations_known",
            ),
        ]


class ProfileStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded by a later version")


class ProfileVisibility(models.TextChoices):
    MEMBERS = "members", _("All member organisations")
    PUBLIC = "public", _("Public")


# The paper's four parts, as the profile's narrative fields (``{part}`` and ``{part}_language``).
NARRATIVE_PARTS = ("migration_data", "development_impact", "labour_market", "management_capacity")


class MigrationProfile(models.Model):
    """One country's evidence for one reference year, in one version.

    Owned by that country's government. A draft is the owner's alone; publishing
    it makes it readable per ``visibility`` and supersedes the version before it,
    which stays readable in the history. Editing a published version opens the
    next version as a draft (``exchange.access`` decides who may do what).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="migration_profiles")
    country = CountryField(_("country"))
    year = models.PositiveSmallIntegerField(_("reference year"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    status = models.CharField(_("status"), max_length=12, choices=ProfileStatus.choices, default=ProfileStatus.DRAFT)
    visibility = models.CharField(_("visibility"), max_length=8, choices=ProfileVisibility.choices)
    migration_data = models.TextField(_("migration data"), blank=True)
    migration_data_language = models.CharField(max_length=2, blank=True)
    development_impact = models.TextField(_("impact on development"), blank=True)
    development_impact_language = models.CharField(max_length=2, blank=True)
    labour_market = models.TextField(_("labour market"), blank=True)
    labour_market_language = models.CharField(max_length=2, blank=True)
    management_capacity = models.TextField(_("migration management capacity"), blank=True)
    management_capacity_language = models.CharField(max_length=2, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    # Shared by visibility: read through exchange.access (profile_visible_to).
    objects = SharedManager["MigrationProfile"](access="exchange.access")

    class Meta:
        verbose_name = _("migration profile")
        verbose_name_plural = _("migration profiles")
        ordering = ["country", "-year", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["country", "year", "version"], name="profile_version_unique"),
            models.UniqueConstraint(
                fields=["country", "year"], condition=models.Q(status="draft"), name="profile_one_draft"
            ),
            models.UniqueConstraint(
                fields=["country", "year"], condition=models.Q(status="published"), name="profile_one_published"
            ),
            models.CheckConstraint(condition=models.Q(year__gte=1950, year__lte=2100), name="profile_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.year} v{self.version} ({self.status})"


class Sex(models.TextChoices):
    TOTAL = "T", _("Total")
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")


TOTAL_AGE = "_T"


class Observation(models.Model):
    """One figure of a profile: an indicator for a sex, an age band and a year, with its source.

    Part of its profile and read through it (``exchange.access``); only the owner
    writes, while the profile is a draft (``can_edit_observations``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey(MigrationProfile, on_delete=models.CASCADE, related_name="observations")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.TOTAL)
    age = models.CharField(_("age"), max_length=12, default=TOTAL_AGE)
    time_period = models.PositiveSmallIntegerField(_("time period"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    source = models.CharField(_("source"), max_length=300)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        ordering = ["indicator__part", "indicator__position", "time_period", "sex", "age"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "indicator", "sex", "age", "time_period"], name="observation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.sex} {self.age} {self.time_period} = {self.value}"


class SkillKind(models.TextChoices):
    SHORTAGE = "shortage", _("Shortage")
    SURPLUS = "surplus", _("Surplus")
    DIASPORA = "diaspora", _("Diaspora skills")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ProfileSkill(models.Model):
    """A labour-market row of part 3: a shortage, a surplus or a diaspora skill, by ISCO-08 group.

    Part of its profile and read through it (``exchange.access``); only the owner
    writes, while the profile is a draft. Published shortages and surpluses of
    two countries meeting in an ISCO group become a ``Suggestion``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    profile = models.ForeignKey(MigrationProfile, on_delete=models.CASCADE, related_name="skills")
    kind = models.CharField(_("kind"), max_length=8, choices=SkillKind.choices)
    occupation = models.ForeignKey(
        "opportunities.Occupation",
        on_delete=models.PROTECT,
        related_name="+",
        db_column="isco_code",
        verbose_name=_("ISCO-08"),
    )
    sector = models.ForeignKey(
        "opportunities.Sector",
        on_delete=models.PROTECT,
        related_name="+",
        db_column="isic_code",
        null=True,
        blank=True,
        verbose_name=_("ISIC Rev.4"),
    )
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices)
    source = models.CharField(_("source"), max_length=300)
    time_period = models.PositiveSmallIntegerField(_("time period"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("skills row")
        verbose_name_plural = _("skills rows")
        ordering = ["kind", "occupation_id", "time_period"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "kind", "occupation", "sector", "time_period"],
                nulls_distinct=False,
                name="profile_skill_unique",
            ),
            models.CheckConstraint(condition=models.Q(kind__in=SkillKind.values), name="profile_skill_kind_known"),
            models.CheckConstraint(
                condition=models.Q(severity__in=Severity.values), name="profile_skill_severity_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.occupation_id} {self.time_period}"


class ProfileImport(ImportJob):
    """One SDMX-CSV file uploaded into a draft profile, validated and saved by a Celery task."""

    profile = models.ForeignKey(MigrationProfile, on_delete=models.CASCADE, related_name="imports")

    objects: ClassVar[ScopedManagerType[ProfileImport]] = ScopedManager(organisation="organisation")

    class Meta(ImportJob.Meta):
        verbose_name = _("profile import")
        verbose_name_plural = _("profile imports")


class SuggestionState(models.TextChoices):
    OPEN = "open", _("Open")
    DISMISSED = "dismissed", _("Dismissed")
    ACTED_ON = "acted_on", _("Acted on")


class Suggestion(models.Model):
    """A destination's published shortage meeting an origin's published surplus, with no listing pair yet.

    Shared by the two governments (and the agencies): read through
    ``exchange.access``. ``evidence`` names the skills rows, profiles and years
    it rests on; it is recomputed when a profile is published or a listing opens
    or closes. One row per destination, origin and ISCO group.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    destination_country = CountryField(_("destination country"))
    origin_country = CountryField(_("origin country"))
    occupation = models.ForeignKey(
        "opportunities.Occupation",
        on_delete=models.PROTECT,
        related_name="+",
        db_column="isco_code",
        verbose_name=_("ISCO-08"),
    )
    shortage = models.ForeignKey(ProfileSkill, on_delete=models.SET_NULL, null=True, related_name="+")
    surplus = models.ForeignKey(ProfileSkill, on_delete=models.SET_NULL, null=True, related_name="+")
    evidence = models.JSONField(default=dict)
    state = models.CharField(_("state"), max_length=10, choices=SuggestionState.choices, default=SuggestionState.OPEN)
    reason = models.TextField(_("reason"), blank=True)
    listing = models.ForeignKey(
        "opportunities.Listing", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SharedManager["Suggestion"](access="exchange.access")

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["destination_country", "origin_country", "occupation"], name="suggestion_unique"
            ),
            models.CheckConstraint(condition=models.Q(state__in=SuggestionState.values), name="suggestion_state_known"),
            models.CheckConstraint(
                condition=~models.Q(destination_country=models.F("origin_country")), name="suggestion_two_countries"
            ),
        ]
        indexes = [
            models.Index(fields=["destination_country", "state"], name="suggestion_destination"),
            models.Index(fields=["origin_country", "state"], name="suggestion_origin"),
        ]

    def __str__(self) -> str:
        return f"{self.destination_country} × {self.origin_country} {self.occupation_id} ({self.state})"
