"""``ListingEditor``: the listing form with its formsets, read into the API's write body.

One main form (``listing.ListingForm``) and three formsets (``rows.GROUPS``). The
editor turns what was typed into the body of ``PATCH /api/v1/listings/{id}/`` and
validates it with ``opportunities.inputs.ListingWriteSerializer``; the serializer's
errors, nested ones included (``occupation_lines.1.quantity``), land on the field
they name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext

from accounts.models import User
from config.web import flatten_errors
from opportunities.inputs import ListingWriteSerializer
from opportunities.models import Listing
from opportunities.web.forms.listing import ListingForm
from opportunities.web.forms.rows import (
    GROUP_BY_KEY,
    GROUPS,
    LANGUAGE_SLOTS,
    OccupationLineForm,
    RowFormSet,
    group_legend,
)

_LANGUAGE_FIELD = re.compile(r"^lines-\d+-language_(\d+)$")


def _raw(form: forms.Form, name: str) -> Any:
    """What was typed in a field, as the widget reads it (the form's data or its initial)."""
    bound = form[name]
    if form.is_bound:
        return bound.field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
    return bound.initial


def typed_values(form: forms.Form) -> dict[str, Any]:
    return {name: _raw(form, name) for name in form.fields if name != "DELETE"}


def _empty(value: Any) -> bool:
    return value in (None, "", [], False)


def _value(form: forms.Form, name: str) -> Any:
    """The cleaned value when the field read cleanly, else what was typed."""
    cleaned = getattr(form, "cleaned_data", {})
    return cleaned[name] if name in cleaned else _raw(form, name)


def _text_value(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _put(payload: dict[str, Any], serializer_field: Any, name: str, value: Any) -> None:
    """Empty values: required fields are left out ("This field is required."), nullable
    ones are ``null``, text is blank: the full form replaces every value it shows."""
    value = _text_value(value)
    if not _empty(value) or isinstance(value, bool | list):
        payload[name] = value
    elif serializer_field.required:
        return
    elif serializer_field.allow_null:
        payload[name] = None
    elif getattr(serializer_field, "allow_blank", False):
        payload[name] = ""


class ListingEditor:
    """The listing form with its formsets, from a request or from a listing's values."""

    def __init__(
        self,
        *,
        data: Any = None,
        initial: dict[str, Any] | None = None,
        rows: dict[str, list[dict[str, Any]]] | None = None,
        contacts: Iterable[User] = (),
        slots: int | None = None,
    ) -> None:
        self.contacts = list(contacts)
        self.bound = data is not None
        if slots is None:
            slots = self._slots(data, rows)
        self.slots = slots
        self.form = ListingForm(data, initial=initial, contacts=self.contacts)
        self.formsets: dict[str, RowFormSet] = {}
        for group in GROUPS:
            kwargs: dict[str, Any] = {"prefix": group.prefix}
            if group.prefix == "lines":
                kwargs["form_kwargs"] = {"slots": slots}
            if data is not None:
                self.formsets[group.prefix] = group.formset(data, **kwargs)
            else:
                self.formsets[group.prefix] = group.formset(initial=(rows or {}).get(group.prefix) or [], **kwargs)
        self.group_errors: dict[str, list[str]] = {group.prefix: [] for group in GROUPS}
        self.conflict = ""
        # payload index -> form, per group; and per line, payload language index -> slot number
        self._rows: dict[str, list[forms.Form]] = {}
        self._slots_used: dict[int, list[int]] = {}

    @staticmethod
    def _slots(data: Any, rows: dict[str, list[dict[str, Any]]] | None) -> int:
        count = LANGUAGE_SLOTS
        for key in data or {}:
            match = _LANGUAGE_FIELD.match(key)
            if match:
                count = max(count, int(match.group(1)))
        for row in (rows or {}).get("lines", []):
            for key in row:
                if key.startswith("language_"):
                    count = max(count, int(key.split("_")[1]))
        return count

    # --- Reading what was typed ----------------------------------------------------------------

    def live_forms(self, prefix: str) -> list[forms.Form]:
        """The rows that count: not removed, not left empty."""
        formset = self.formsets[prefix]
        return [
            form
            for form in formset.forms
            if not self.removed(form) and any(not _empty(_text_value(v)) for v in typed_values(form).values())
        ]

    @staticmethod
    def removed(form: forms.Form) -> bool:
        return "DELETE" in form.fields and form.is_bound and bool(_raw(form, "DELETE"))

    def payload(self) -> dict[str, Any]:
        """The API's write body, from what was typed (read after ``is_valid``)."""
        fields = ListingWriteSerializer().fields
        payload: dict[str, Any] = {}
        for name in ListingForm.base_fields:
            _put(payload, fields[name], name, _value(self.form, name))
        line_fields = fields["occupation_lines"].child.fields  # type: ignore[attr-defined]  # a ListSerializer
        lines = []
        self._rows["lines"] = self.live_forms("lines")
        for index, form in enumerate(self._rows["lines"]):
            line: dict[str, Any] = {}
            for name in OccupationLineForm.MAIN:
                _put(line, line_fields[name], name, _value(form, name))
            languages, used = [], []
            for n in range(1, form.slots + 1):  # type: ignore[attr-defined]
                language, level = _value(form, f"language_{n}"), _value(form, f"level_{n}")
                if _empty(language) and _empty(level):
                    continue
                item = {key: value for key, value in (("language", language), ("level", level)) if value}
                languages.append(item)
                used.append(n)
            line["languages"] = languages
            self._slots_used[index] = used
            lines.append(line)
        payload["occupation_lines"] = lines
        for group in GROUPS[1:]:
            child_fields = fields[group.key].child.fields  # type: ignore[attr-defined]  # a ListSerializer
            items = []
            self._rows[group.prefix] = self.live_forms(group.prefix)
            for form in self._rows[group.prefix]:
                item = {}
                for name in form.MAIN:  # type: ignore[attr-defined]
                    _put(item, child_fields[name], name, _value(form, name))
                items.append(item)
            payload[group.key] = items
        return payload

    # --- Validation ----------------------------------------------------------------------------

    def validate(self, *, context: dict[str, Any], instance: Listing | None = None) -> ListingWriteSerializer | None:
        """Read the forms, then the serializer; ``None`` (and errors in place) when anything is wrong."""
        valid = self.form.is_valid()
        for prefix, formset in self.formsets.items():
            valid = formset.is_valid() and valid
            self.group_errors[prefix].extend(formset.non_form_errors())  # type: ignore[arg-type]  # its items are messages
        serializer = ListingWriteSerializer(instance, data=self.payload(), context=context)
        if not serializer.is_valid():
            self.add_errors(flatten_errors(serializer.errors))
            return None
        return serializer if valid else None

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        for key, messages in errors.items():
            head, _dot, rest = key.partition(".")
            if head in GROUP_BY_KEY:
                self._add_row_error(GROUP_BY_KEY[head].prefix, rest, messages)
            elif head in self.form.fields:
                self._add(self.form, head, messages)
            else:
                self._add(self.form, None, messages)

    def _add_row_error(self, prefix: str, path: str, messages: list[str]) -> None:
        index, _dot, rest = path.partition(".")
        rows = self._rows.get(prefix, [])
        if not index.isdigit() or int(index) >= len(rows):
            self.group_errors[prefix].extend(messages)  # about the list as a whole
            return
        form = rows[int(index)]
        name, _dot, deeper = rest.partition(".")
        if prefix == "lines" and name == "languages":
            slots = self._slots_used.get(int(index), [])
            position, _dot, sub = deeper.partition(".")
            if position.isdigit() and int(position) < len(slots) and sub in ("language", "level"):
                self._add(form, f"{sub}_{slots[int(position)]}", messages)
            else:
                self._add(form, f"language_{slots[0] if slots else 1}", messages)
        elif name in form.fields:
            self._add(form, name, messages)
        else:
            self._add(form, None, messages)

    @staticmethod
    def _add(form: forms.Form, name: str | None, messages: list[str]) -> None:
        if name is not None and form.errors.get(name):
            return  # the field's own reading already says what is wrong
        for message in messages:
            form.add_error(name, message)

    # --- Showing --------------------------------------------------------------------------------

    def summary(self) -> list[tuple[str, str, str]]:
        """Every error as (anchor, label, message), in the order of the page."""
        if not self.bound:
            return []
        items: list[tuple[str, str, str]] = []
        form = self.form
        for message in form.non_field_errors():
            items.append(("", "", message))  # type: ignore[arg-type]
        for _id, _legend, _hint, names, group_prefix in ListingForm.SECTIONS:
            for name in names:
                for message in form[name].errors:
                    items.append((_anchor(form[name]), str(form[name].label), message))  # type: ignore[arg-type]
            if group_prefix:
                items.extend(self._group_summary(group_prefix))
        return items

    def _group_summary(self, prefix: str) -> list[tuple[str, str, str]]:
        group = next(g for g in GROUPS if g.prefix == prefix)
        formset = self.formsets[prefix]
        items = [(f"{prefix}-group", str(group_legend(prefix)), message) for message in self.group_errors[prefix]]
        for number, form in enumerate(formset.forms, start=1):
            if self.removed(form) or not form.errors:
                continue
            first = next(iter(form.fields))
            for message in form.non_field_errors():
                items.append((_anchor(form[first]), group.row_label(number), message))
            for name in form.fields:
                for message in form[name].errors:
                    label = gettext("%(row)s, %(field)s") % {"row": group.row_label(number), "field": form[name].label}
                    items.append((_anchor(form[name]), label, message))
        return items

    def sections(self) -> list[dict[str, Any]]:
        out = []
        for section_id, legend, hint, names, group_prefix in ListingForm.SECTIONS:
            section: dict[str, Any] = {
                "id": section_id,
                "legend": legend,
                "hint": hint,
                "fields": [self.form[name] for name in names],
                "checkboxes": section_id == "conditions",
            }
            if group_prefix:
                group = next(g for g in GROUPS if g.prefix == group_prefix)
                formset = self.formsets[group_prefix]
                section["group"] = {
                    "prefix": group_prefix,
                    "formset": formset,
                    "rows": [
                        {"form": form, "number": n, "label": group.row_label(n), "removed": self.removed(form)}
                        for n, form in enumerate(formset.forms, start=1)
                    ],
                    "template_label": group.row_label("__number__"),
                    "empty_form": formset.empty_form,
                    "errors": self.group_errors[group_prefix],
                    "add_name": group.add_name,
                    "add_label": group.add_label,
                    "legend": group_legend(group_prefix),
                }
            out.append(section)
        return out

    # --- Rows added or removed without saving -------------------------------------------------------

    def rebuilt(self, *, add: str | None = None, remove: str | None = None) -> ListingEditor:
        """The same form, unbound, with what was typed, one row more (``add``) or less (``remove``)."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for prefix, formset in self.formsets.items():
            rows[prefix] = [
                typed_values(form) for form in formset.forms if not self.removed(form) and form.prefix != remove
            ]
            if prefix == add or (prefix == "lines" and not rows[prefix]):
                rows[prefix].append({})
        editor = ListingEditor(initial=typed_values(self.form), rows=rows, contacts=self.contacts, slots=self.slots)
        if add:
            new = editor.formsets[add].forms[-1]
            new.fields[next(iter(new.fields))].widget.attrs["autofocus"] = True
        return editor


def _anchor(bound: forms.BoundField) -> str:
    widget = bound.field.widget
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{bound.auto_id}_0"
    return bound.id_for_label


def initial_from(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The form's initial values from a write body (``listing_write_data`` or a revision's JSON)."""
    initial = {name: data.get(name) for name in ListingForm.base_fields if name in data}
    for name, value in list(initial.items()):
        if value is None:
            initial[name] = ""
        elif name == "contact" or not isinstance(value, bool | list | str):
            initial[name] = str(value)
    lines = []
    for line in data.get("occupation_lines") or []:
        row = {
            "isco_code": line.get("isco_code") or "",
            "quantity": line.get("quantity") or "",
            "skill_level": str(line.get("skill_level") or ""),
            "min_experience_years": "" if line.get("min_experience_years") is None else line["min_experience_years"],
            "qualification_notes": line.get("qualification_notes") or "",
        }
        for n, item in enumerate(line.get("languages") or [], start=1):
            row[f"language_{n}"] = item.get("language", "")
            row[f"level_{n}"] = item.get("level", "")
        lines.append(row)
    allocations = [
        {"country": a.get("country", ""), "places": a.get("places", ""), "isco_code": a.get("isco_code") or ""}
        for a in data.get("allocations") or []
    ]
    stays = [
        {"country": s.get("country", ""), "max_stay_months": s.get("max_stay_months", "")}
        for s in data.get("stay_overrides") or []
    ]
    translations = [
        {name: item.get(name) or "" for name in ("language", "title", "summary", "description")}
        for item in data.get("translations") or []
    ]
    return initial, {"lines": lines, "allocations": allocations, "stays": stays, "translations": translations}
