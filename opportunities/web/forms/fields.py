"""Widgets, field builders and reference choices shared by the listing search and form."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django_countries import countries

from opportunities.selectors import currency_list, language_list

# --- Widgets -------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    """A native date picker; the value travels as YYYY-MM-DD whatever the display."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def number_input(**attrs: Any) -> forms.NumberInput:
    return forms.NumberInput(attrs={"inputmode": "numeric", **attrs})


# --- Fields of the listing form ---------------------------------------------------------------
# ``required`` marks what the serializer requires (the label says "optional" otherwise).


def text_field(
    label: Any, help_text: Any = "", *, maxlength: int | None = None, rows: int = 0, required: bool = False
) -> forms.CharField:
    attrs = {"maxlength": maxlength} if maxlength else {}
    widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, help_text=help_text, required=required, strip=True, widget=widget)


def number_field(
    label: Any, help_text: Any = "", *, low: int | None = None, high: int | None = None, required: bool = False
) -> forms.CharField:
    attrs = {key: value for key, value in (("min", low), ("max", high)) if value is not None}
    return forms.CharField(label=label, help_text=help_text, required=required, widget=number_input(**attrs))


def date_field(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(label=label, help_text=help_text, required=True, widget=DateInput)


def month_day_field(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 5, "placeholder": "MM-DD", "class": "short"}),
    )


def check_field(label: Any, help_text: Any = "") -> forms.BooleanField:
    return forms.BooleanField(label=label, help_text=help_text, required=False)


# --- Reference choices (fixed at run time: the rows are read once per process) -----------

_reference: dict[str, list[tuple[str, str, str, str]]] = {}


def _rows(key: str, rows: Callable[[], QuerySet[Any]]) -> list[tuple[str, str, str, str]]:
    if key not in _reference:
        found = list(rows().values_list("code", "name_en", "name_fr", "name_es"))
        if not found:  # never cache an empty table (a call before the data migrations)
            return found
        _reference[key] = found
    return _reference[key]


def _names(rows: Iterable[tuple[str, str, str, str]]) -> list[tuple[str, str]]:
    """(code, name in the active language) for each reference row."""
    from opportunities.models import active_language

    column = {"en": 1, "fr": 2, "es": 3}[active_language()]
    return [(row[0], row[column] or row[1]) for row in rows]


def language_choices() -> list[tuple[str, str]]:
    """ISO 639-1 languages, named in the user's language ("Italian (it)"), sorted by name."""
    names = _names(_rows("languages", language_list))
    return sorted(((code, f"{name} ({code})") for code, name in names), key=lambda choice: choice[1].casefold())


def currency_choices() -> list[tuple[str, str]]:
    """ISO 4217 currencies, by code ("EUR — Euro")."""
    return [(code, f"{code} — {name}") for code, name in _names(_rows("currencies", currency_list))]


def country_choices(empty: str) -> list[tuple[str, str]]:
    return [("", empty), *countries]
