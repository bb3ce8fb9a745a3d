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

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from opportunities.models import CodedName


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
