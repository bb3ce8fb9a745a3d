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

from exchange.models import Indicator, IndicatorUnit, MigrationProfile, Observation, ProfileSkill
from exchange.models.profiles import TOTAL_AGE, Severity, Sex, SkillKind
from opportunities import reference
from opportunities.inputs import IscoCodeField

AGE_BAND = re.compile(r"^(_T|Y\d{1,3}-\d{1,3}|Y_GE\d{1,3}|Y_LT\d{1,3})$")
# Totals add up across the sexes: persons and millions of US dollars (remittance flows).
# ``usd`` is the unit of averages (monthly earnings), which do not add up, nor do rates.
ADDITIVE = (IndicatorUnit.PERSONS, IndicatorUnit.USD_MILLIONS)
# How far F + M may exceed T before it is more than rounding.
ROUNDING = Decimal("0.001")
YEARS_BACK = 30


def check_time_period(value: int, profile: MigrationProfile) -> int:
    """A profile's row (a figure, a skills row) is for a year not in the future, nor more than
    ``YEARS_BACK`` years before the profile's reference year."""
    if value > timezone.localdate().year:
        raise serializers.ValidationError(_("The time period cannot be a year that has not come yet."))
    if value < profile.year - YEARS_BACK:
        raise serializers.ValidationError(
            _("The time period is at most %(years)d years before the profile's year (%(year)d).")
            % {"years": YEARS_BACK, "year": profile.year}
        )
    return value


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
        return check_time_period(value, self.target)

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


class SkillInput(serializers.Serializer):
    """A skills row of part 3 (a shortage, a surplus or a diaspora skill); docs/profiles.md.

    ``validated_data`` names the model's columns: ``occupation_id`` and ``sector_id``.
    """

    kind = serializers.ChoiceField(choices=SkillKind.choices)
    isco_code = IscoCodeField(help_text="ISCO-08 code at any level (1 to 4 digits).")
    isic_code = serializers.CharField(
        max_length=4, required=False, allow_blank=True, allow_null=True, default="", help_text="ISIC Rev.4 code."
    )
    severity = serializers.ChoiceField(choices=Severity.choices)
    source = serializers.CharField(max_length=300)  # type: ignore[assignment]  # the API's name; DRF's Field.source is unrelated
    time_period = serializers.IntegerField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")

    def __init__(self, *args: Any, profile: MigrationProfile | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profile = profile  # None only when the schema generator describes the body

    @property
    def target(self) -> MigrationProfile:
        assert self.profile is not None, "validate a skills row against its profile"
        return self.profile

    def validate_isic_code(self, value: str | None) -> str:
        code = (value or "").strip().upper()
        if code and not reference.isic_exists(code):
            raise serializers.ValidationError(_("'%(code)s' is not an ISIC Rev.4 code.") % {"code": value})
        return code

    def validate_time_period(self, value: int) -> int:
        return check_time_period(value, self.target)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current: ProfileSkill | None = self.instance
        data = dict(attrs)
        if "isco_code" in data:
            data["occupation_id"] = data.pop("isco_code")
        if "isic_code" in data:
            data["sector_id"] = data.pop("isic_code") or None
        key = {
            "kind": data.get("kind", current.kind if current else None),
            "occupation_id": data.get("occupation_id", current.occupation_id if current else None),
            "sector_id": data.get("sector_id", current.sector_id if current else None),
            "time_period": data.get("time_period", current.time_period if current else None),
        }
        siblings = ProfileSkill.objects.filter(profile=self.target, **key)
        if current is not None:
            siblings = siblings.exclude(pk=current.pk)
        if siblings.exists():
            raise serializers.ValidationError(
                {
                    "isco_code": _(
                        "This profile has a %(kind)s row for %(code)s in that sector and year already: edit that row."
                    )
                    % {"kind": key["kind"], "code": key["occupation_id"]}
                }
            )
        return data
