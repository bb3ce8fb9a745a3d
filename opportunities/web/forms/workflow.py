"""The form of a workflow step's confirmation: the reason recorded with it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class ReasonForm(forms.Form):
    """The reason recorded with a workflow step (``opportunities.inputs.ReasonSerializer`` checks its length)."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. It is kept in the listing's history, which partners can read."),
    )

    def __init__(self, *args: Any, required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if required:
            self.fields["reason"].required = True
            self.fields["reason"].help_text = _("Say why. It is kept in the listing's history.")
