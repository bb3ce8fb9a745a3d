"""The row formsets of the listing form: occupation lines (with their languages),
allocations per origin country, stay rules per country and the text's translations.

Rows can be added and removed with or without JavaScript (``RowFormSet``); ``GROUPS``
names each formset's prefix, its key in the write body and how its rows are called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.forms import OccupationField
from opportunities.models import CefrLevel
from opportunities.web.forms.fields import country_choices, language_choices, number_field, text_field

LANGUAGE_SLOTS = 3
SKILL_LEVELS = [
    ("", _("The occupation's usual level")),
    ("1", _("1: elementary tasks")),
    ("2", _("2: operating machines, clerical, sales, crafts")),
    ("3", _("3: technicians and associate professionals")),
    ("4", _("4: professionals and managers")),
]
CEFR_CHOICES = [("", _("Choose a level")), *CefrLevel.choices]


class RowForm(forms.Form):
    """One row of a formset; ``LAYOUT`` puts its fields in lines (several on one line side by side)."""

    MAIN: tuple[str, ...] = ()
    LAYOUT: tuple[tuple[str, ...], ...] = ()

    def layout(self) -> list[list[forms.BoundField]]:
        return [[self[name] for name in line] for line in self.LAYOUT]


class OccupationLineForm(RowForm):
    isco_code = OccupationField(
        label=_("Occupation (ISCO-08)"),
        required=True,
        help_text=_("Type a code (e.g. 2221) or words (e.g. nurse) and choose a suggestion. 4 digits is best."),
    )
    quantity = number_field(_("Quantity"), _("Places (demand) or workers (supply), at least 1."), low=1, required=True)
    skill_level = forms.ChoiceField(label=_("Skill level"), choices=SKILL_LEVELS, required=False)
    min_experience_years = number_field(_("Years of experience"), _("The minimum, 0 to 60."), low=0, high=60)
    qualification_notes = text_field(_("Qualifications"), rows=2)

    MAIN = ("isco_code", "quantity", "skill_level", "min_experience_years", "qualification_notes")
    LAYOUT = (("isco_code",), ("quantity", "skill_level", "min_experience_years"), ("qualification_notes",))

    def __init__(self, *args: Any, slots: int = LANGUAGE_SLOTS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        languages = [("", _("Choose a language")), *language_choices()]
        self.slots = slots
        for n in range(1, slots + 1):
            self.fields[f"language_{n}"] = forms.ChoiceField(
                label=_("Language %(n)s") % {"n": n}, choices=languages, required=False
            )
            self.fields[f"level_{n}"] = forms.ChoiceField(
                label=_("Level of language %(n)s") % {"n": n}, choices=CEFR_CHOICES, required=False
            )

    def language_pairs(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"language_{n}"], self[f"level_{n}"]) for n in range(1, self.slots + 1)]


class AllocationForm(RowForm):
    country = forms.ChoiceField(label=_("Origin country"))
    places = number_field(_("Places"), _("At least 1."), low=1, required=True)
    isco_code = OccupationField(
        label=_("For one occupation only"), required=False, help_text=_("Optional: an ISCO-08 code.")
    )

    MAIN = ("country", "places", "isco_code")
    LAYOUT = (MAIN,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["country"]).choices = country_choices(str(_("Choose a country")))


class StayOverrideForm(RowForm):
    country = forms.ChoiceField(label=_("Country"))
    max_stay_months = number_field(
        _("Longest stay (months)"), _("1 to 120, not longer than the stay window."), low=1, high=120, required=True
    )

    MAIN = ("country", "max_stay_months")
    LAYOUT = (MAIN,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["country"]).choices = country_choices(str(_("Choose a country")))


class TranslationForm(RowForm):
    """The listing's text in another of the site's languages (the text above stays authoritative)."""

    language = forms.ChoiceField(label=_("Language of the translation"))
    title = text_field(_("Title"), _("At most 200 characters."), maxlength=200, required=True)
    summary = text_field(_("Summary"), _("At most 500 characters."), rows=2)
    description = text_field(_("Description"), rows=6)

    MAIN = ("language", "title", "summary", "description")
    LAYOUT = (("language",), ("title",), ("summary",), ("description",))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Choose a language")), *settings.LANGUAGES]
        cast(forms.ChoiceField, self.fields["language"]).choices = choices


class RowFormSet(forms.BaseFormSet):
    """A formset whose rows can be added and removed, with or without JavaScript.

    Every row is an "extra" row (``INITIAL_FORMS`` is 0, even for rows shown with
    values): a row left empty is ignored rather than checked for required fields.
    """

    remove_label: Any = _("Remove this row when saving")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extra = len(self.initial or [])

    def initial_form_count(self) -> int:
        return 0

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = self.remove_label


class LineFormSet(RowFormSet):
    remove_label = _("Remove this occupation line when saving")


class AllocationFormSet(RowFormSet):
    remove_label = _("Remove this allocation when saving")


class StayFormSet(RowFormSet):
    remove_label = _("Remove this stay rule when saving")


class TranslationFormSet(RowFormSet):
    remove_label = _("Remove this translation when saving")


def _formset(form: type[forms.Form], base: type[RowFormSet]) -> type[RowFormSet]:
    return cast(
        type[RowFormSet],
        forms.formset_factory(form, formset=base, extra=0, can_delete=True, max_num=200, absolute_max=200),
    )


@dataclass(frozen=True)
class Group:
    """One formset of the listing form: its prefix, the serializer key, how a row is named."""

    prefix: str
    key: str
    formset: type[RowFormSet]
    row_label: Callable[[Any], str]
    add_name: str
    add_label: Any


GROUPS = (
    Group(
        "lines",
        "occupation_lines",
        _formset(OccupationLineForm, LineFormSet),
        lambda n: gettext("Occupation line %(n)s") % {"n": n},
        "add_line",
        _("Add another occupation line"),
    ),
    Group(
        "allocations",
        "allocations",
        _formset(AllocationForm, AllocationFormSet),
        lambda n: gettext("Allocation %(n)s") % {"n": n},
        "add_allocation",
        _("Add another allocation"),
    ),
    Group(
        "stays",
        "stay_overrides",
        _formset(StayOverrideForm, StayFormSet),
        lambda n: gettext("Stay rule %(n)s") % {"n": n},
        "add_stay",
        _("Add another stay rule"),
    ),
    Group(
        "translations",
        "translations",
        _formset(TranslationForm, TranslationFormSet),
        lambda n: gettext("Translation %(n)s") % {"n": n},
        "add_translation",
        _("Add a translation"),
    ),
)
GROUP_BY_KEY = {group.key: group for group in GROUPS}


def group_legend(prefix: str) -> Any:
    return {
        "lines": _("Occupation lines"),
        "allocations": _("Allocations per origin country"),
        "stays": _("Shorter stays for some countries"),
        "translations": _("Translations"),
    }[prefix]
