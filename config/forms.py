"""Form fields shared by every screen that picks occupations, sectors or countries.

The listing search, the listing form and the subscription form use the same pickers:

* ``OccupationField`` — an ISCO-08 group. The input suggests as you type from the
  reference API's multilingual search (``corridor.js``); without JavaScript, typing
  the code works. Accepts ``"2221"`` or ``"2221 — Nursing professionals"``.
* ``SectorField`` — an ISIC Rev.4 section or division; the 109 choices travel in
  the page's ``<datalist>``, which the browser filters as you type.
* ``CountriesField`` — several ISO 3166 countries, names in the user's language.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from django import forms
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from opportunities.selectors import occupation_get, sector_list

_CODE = re.compile(r"^\s*([0-9A-Za-z]{1,4})(?:\s*[—–-].*)?\s*$")


class AutocompleteInput(forms.TextInput):
    """A text input tied to a ``<datalist>`` and a polite live region for the count."""

    template_name = "components/autocomplete.html"

    def __init__(self, *, source: str = "", options: Any = None, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.source = source
        self.options = options

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["attrs"]["list"] = f"{widget['attrs'].get('id', name)}-options"
        if self.source:
            widget["attrs"]["data-autocomplete"] = self.source
            widget["attrs"]["data-count-template"] = str(_("%s suggestions"))
        widget["options"] = list(self.options() if callable(self.options) else self.options or [])
        return context


def _code_of(value: str) -> str:
    match = _CODE.match(value or "")
    return match.group(1).upper() if match else ""


class OccupationField(forms.CharField):
    default_error_messages = {
        "unknown": _("Enter an ISCO-08 code (1 to 4 digits) or choose an occupation from the suggestions."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", AutocompleteInput(source="/api/v1/reference/occupations/"))
        kwargs.setdefault("max_length", 300)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if not text:
            return ""
        code = _code_of(text)
        if not code.isdigit() or occupation_get(code=code) is None:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown")
        return code

    def prepare_value(self, value: Any) -> Any:
        code = _code_of(str(value or ""))
        if code.isdigit() and str(value).strip() == code:
            occupation = occupation_get(code=code)
            if occupation is not None:
                return f"{code} — {occupation.title}"
        return value


_sector_options: list[tuple[str, str]] = []


def sector_options() -> list[tuple[str, str]]:
    """ISIC sections and divisions (reference data, fixed at run time: read once per process)."""
    if not _sector_options:
        _sector_options.extend((s.code, f"{s.code} — {s.title}") for s in sector_list())
    return _sector_options


class SectorField(forms.CharField):
    default_error_messages = {
        "unknown": _("Enter an ISIC Rev.4 section letter (A–U) or division (two digits), or choose one from the list."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", AutocompleteInput(options=sector_options))
        kwargs.setdefault("max_length", 300)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if not text:
            return ""
        code = _code_of(text)
        if code not in {c for c, _label in sector_options()}:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown")
        return code

    def prepare_value(self, value: Any) -> Any:
        labels = dict(sector_options())
        return labels.get(str(value or "").strip().upper(), value)


# Rendered country selects kept per process: about 12 KB each; the selections are the
# readers', so the number kept is bounded.
MAX_RENDERED_SELECTS = 256
_rendered_selects: OrderedDict[tuple[Any, ...], SafeString] = OrderedDict()


class RenderedOnce:
    """A select rendered once per language, name, attributes, choices and selection.

    For selects whose choices are fixed lists (the key reads them on every render).

    The 249 countries are the same for every reader of a language (django-countries'
    names, sorted in it), so the HTML of their select depends on nothing but that key;
    rendering it option by option through the widget templates was most of the listing
    pages' time (issue 15). The first render of a key is Django's own, later ones reuse it.
    """

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget: Any = self
        try:
            key = (
                type(self).__name__,
                translation.get_language(),
                name,
                tuple(widget.format_value(value)),
                tuple(sorted(widget.build_attrs(widget.attrs, attrs).items())),
                widget.is_required,
                type(renderer),
                tuple((str(code), str(label)) for code, label in widget.choices),
            )
            hash(key)
        except TypeError:  # an attribute that cannot be a key: render as usual
            return super().render(name, value, attrs, renderer)  # type: ignore[misc]
        html = _rendered_selects.get(key)
        if html is None:
            html = _rendered_selects[key] = super().render(name, value, attrs, renderer)  # type: ignore[misc]
            if len(_rendered_selects) > MAX_RENDERED_SELECTS:
                _rendered_selects.popitem(last=False)
        return html


class CountriesSelect(RenderedOnce, forms.SelectMultiple):
    """Several of the 249 countries (``CountriesField``)."""


class CachedSelect(RenderedOnce, forms.Select):
    """A select of fixed choices (the countries, a list of statuses): never a queryset's,
    which the key would read on every render."""


class CountriesField(forms.MultipleChoiceField):
    """Several countries; a native multiple select (keyboard: arrows, Shift/Ctrl+Space)."""

    widget = CountriesSelect

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", _("Hold Ctrl (Cmd on a Mac) to choose several. Type a name's first letters to jump to it.")
        )
        super().__init__(choices=lambda: list(countries), **kwargs)
