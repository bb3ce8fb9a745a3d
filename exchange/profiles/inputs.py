"""Validation of a profile's observations: every rule a 400 that names the field.

The rules (docs/profiles.md): the value fits the indicator's unit (no negative
persons unless the indicator is a balance, no percent above 100, a unit given must
be the catalogue's); the year is not in the future nor more than 30 years before
the profile's; a breakdown the indicator does not allow is refused; one
observation per indicator, sex, age and year; and where the total and both sexes
are given for an additive unit, F + M may not exceed T by more than rounding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from exchange.models import Indicator, IndicatorUnit, MigrationProfile, Observation
from exchange.models.profiles import TOTAL_AGE, Sex

AGE_BAND = re.compile(r"^(_T|Y\d{1,3}-\d{1,3}|Y_GE\d{1,3}|Y_LT\d{1,3})$")
ADDITIVE = (IndicatorUnit.PERSONS, IndicatorUnit.USD, IndicatorUnit.USD_MILLIONS)
# How far F + M may exceed T before it is more than rounding.
ROUNDING = Decimal("0.001")
YEARS_BACK = 30


Key = tuple[str, str, str, int]  # indicator, sex, age, time_period: one figure of a profile


@dataclass
class FigureBook:
    """A profile's figures held in memory, for validating many rows without a query each.

    ``ObservationInput`` asks it for the catalogue and for a figure's siblings (the
    other sexes of the same indicator, age and year) instead of the database; the
    rules stay in ``ObservationInput``. An import loads the catalogue and the profile's
    figures once, then adds each accepted row (``accept``), so a later row of the
    same file meets the earlier ones: a second row for the same key is a duplicate,
    and F + M > T is caught across rows. A row for a key the profile had before the
    file is an update of that figure (the import sets the figures it names).
    """

    catalogue: dict[str, Indicator]
    figures: dict[Key, Observation] = field(default_factory=dict)
    from_file: set[Key] = field(default_factory=set)

    @classmethod
    def load(cls, profile: MigrationProfile) -> FigureBook:
        """Two queries: the catalogue and the profile's figures."""
        catalogue = {indicator.code: indicator for indicator in Indicator.objects.all()}
        book = cls(catalogue=catalogue)
        for row in Observation.objects.filter(profile=profile):
            row.indicator = catalogue[row.indicator_id]
            book.figures[key_of(row)] = row
        return book

    def existing(self, key: Key) -> Observation | None:
        """The profile's figure a row with this key replaces (None if new, or taken by an earlier row)."""
        return None if key in self.from_file else self.figures.get(key)

    def siblings(self, indicator: str, period: int, age: str, exclude: Key | None) -> dict[str, Decimal]:
        return {
            sex: self.figures[key].value
            for sex in Sex.values
            if (key := (indicator, sex, age, period)) in self.figures and key != exclude
        }

    def accept(self, row: Observation) -> None:
        key = key_of(row)
        self.figures[key] = row
        self.from_file.add(key)

    def accepted(self) -> Iterable[Observation]:
        return (self.figures[key] for key in self.from_file)


def key_of(row: Observation) -> Key:
    return (row.indicator_id, row.sex, row.age, row.time_period)


class ObservationInput(serializers.Serializer):
    indicator = serializers.CharField(max_length=40)
    sex = serializers.ChoiceField(choices=Sex.choices, default=Sex.TOTAL)
    age = serializers.CharField(max_length=12, default=TOTAL_AGE)
    time_period = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=20, decimal_places=4)
    unit = serializers.ChoiceField(
        choices=IndicatorUnit.choices, required=False, write_only=True, help_text="If given, the catalogue's unit."
    )
    source = serializers.CharField(max_length=300)  # type: ignore[assignment]  # the API's name; DRF's Field.source is unrelated
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")

    def __init__(
        self, *args: Any, profile: MigrationProfile | None = None, book: FigureBook | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.profile = profile  # None only when the schema generator describes the body
        # Without a book (one figure from a request), the catalogue and siblings come from the database.
        self.book = book

    def validate_row(self, data: dict[str, Any], *, current: Observation | None) -> dict[str, Any]:
        """Validate one more figure with this serializer (raises ``ValidationError``, detail by field).

        For a file: one serializer is built per file and checks every row, since DRF
        copies a serializer's fields for each instance. ``current`` is the figure the
        row replaces, if any, as ``instance`` is for a request's change.
        """
        self.instance = current
        validated: dict[str, Any] = self.run_validation(data)
        return validated

    @property
    def target(self) -> MigrationProfile:
        assert self.profile is not None, "validate an observation against its profile"
        return self.profile

    def validate_indicator(self, value: str) -> Indicator:
        code = value.strip().upper()
        if self.book is not None:
            indicator = self.book.catalogue.get(code)
        else:
            indicator = Indicator.objects.filter(code=code).first()
        if indicator is None:
            raise serializers.ValidationError(
                _("'%(code)s' is not in the indicator catalogue (GET /api/v1/reference/indicators/).") % {"code": value}
            )
        return indicator

    def validate_age(self, value: str) -> str:
        value = value.strip().upper()
        if not AGE_BAND.match(value):
            raise serializers.ValidationError(_("Age is _T (all ages) or a band such as Y15-24, Y_GE65 or Y_LT15."))
        return value

    def validate_time_period(self, value: int) -> int:
        if value > timezone.localdate().year:
            raise serializers.ValidationError(_("A figure cannot be for a year that has not come yet."))
        if value < self.target.year - YEARS_BACK:
            raise serializers.ValidationError(
                _("A figure is at most %(years)d years older than the profile's year (%(year)d).")
                % {"years": YEARS_BACK, "year": self.target.year}
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current = self.instance
        indicator: Indicator = attrs.get("indicator") or current.indicator  # type: ignore[union-attr]
        sex = attrs.get("sex", current.sex if current else Sex.TOTAL)
        age = attrs.get("age", current.age if current else TOTAL_AGE)
        period = attrs.get("time_period", current.time_period if current else None)
        value = attrs.get("value", current.value if current else None)
        assert period is not None  # required on creation; kept from the figure on a change
        errors: dict[str, str] = {}
        if "unit" in attrs and attrs.pop("unit") != indicator.unit:
            errors["unit"] = _("%(code)s is measured in %(unit)s.") % {"code": indicator.code, "unit": indicator.unit}
        if sex != Sex.TOTAL and "sex" not in indicator.disaggregations:
            errors["sex"] = _("%(code)s has no breakdown by sex.") % {"code": indicator.code}
        if age != TOTAL_AGE and "age" not in indicator.disaggregations:
            errors["age"] = _("%(code)s has no breakdown by age.") % {"code": indicator.code}
        if value is not None:
            problem = _unit_problem(indicator, value)
            if problem:
                errors["value"] = problem
        if errors:
            raise serializers.ValidationError(errors)
        figures = self._siblings(indicator, period, age)
        if sex in figures:
            raise serializers.ValidationError(
                {
                    "indicator": _("This profile has %(code)s for that sex, age and year already: edit that figure.")
                    % {"code": indicator.code}
                }
            )
        if indicator.unit in ADDITIVE and value is not None:
            figures[sex] = value
            if {Sex.TOTAL, Sex.FEMALE, Sex.MALE} <= set(figures):
                total, both = figures[Sex.TOTAL], figures[Sex.FEMALE] + figures[Sex.MALE]
                if both - total > abs(total) * ROUNDING + Decimal("0.5"):
                    raise serializers.ValidationError(
                        {
                            "value": _("Women and men (%(both)s) add up to more than the total (%(total)s).")
                            % {"both": both.normalize(), "total": total.normalize()}
                        }
                    )
        return attrs

    def _siblings(self, indicator: Indicator, period: int, age: str) -> dict[str, Decimal]:
        """The profile's other figures of this indicator, year and age, by sex (not the one being changed)."""
        current = self.instance
        if self.book is not None:
            return self.book.siblings(indicator.code, period, age, key_of(current) if current else None)
        siblings = Observation.objects.filter(profile=self.target, indicator=indicator, time_period=period, age=age)
        if current is not None:
            siblings = siblings.exclude(pk=current.pk)
        return dict(siblings.values_list("sex", "value"))


def _unit_problem(indicator: Indicator, value: Decimal) -> str:
    if indicator.unit == IndicatorUnit.PERCENT and not 0 <= value <= 100:
        return _("%(code)s is a percentage: between 0 and 100.") % {"code": indicator.code}
    if indicator.unit == IndicatorUnit.PERSONS and value != value.to_integral_value():
        return _("%(code)s counts persons: a whole number.") % {"code": indicator.code}
    if value < 0 and not indicator.signed:
        return _("%(code)s cannot be negative.") % {"code": indicator.code}
    return ""
