"""The single sign-on settings form: reads the fields; ``services.single_sign_on_save`` checks the rules."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, SingleSignOn
from accounts.web.forms import role_choices

_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_CLAIM = re.compile(r"[A-Za-z0-9_:./-]{1,100}")


class SingleSignOnForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Officials sign in through our identity provider"),
        required=False,
        help_text=_("Untick to stop single sign-on at once; members keep their memberships."),
    )
    issuer = forms.URLField(
        label=_("Issuer"),
        max_length=300,
        assume_scheme="https",
        help_text=_(
            "Your OpenID Connect provider's issuer, exactly as its discovery document states it, for example "
            "https://login.labour.gov.example/realms/officials. Corridor reads "
            "<issuer>/.well-known/openid-configuration from it."
        ),
        widget=forms.URLInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    client_id = forms.CharField(
        label=_("Client id"),
        max_length=200,
        help_text=_("The id your provider gave Corridor when you registered it as a client."),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    client_secret = forms.CharField(
        label=_("Client secret"),
        max_length=500,
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    allowed_domains = forms.CharField(
        label=_("E-mail domains"),
        help_text=_(
            "One per line, for example labour.gov.example. Only people whose e-mail address the provider "
            "gives at one of these domains can sign in; anyone else is refused."
        ),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )
    role_claim = forms.CharField(
        label=_("Role claim"),
        max_length=100,
        required=False,
        help_text=_("The claim of the ID token that carries the person's roles or groups, for example “groups”."),
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    role_mapping = forms.CharField(
        label=_("Role mapping"),
        required=False,
        help_text=_(
            "One per line: a value of the role claim, “=”, and the Corridor role it gives "
            "(admin, official or viewer), for example “corridor-officials = official”."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )
    default_role = forms.ChoiceField(
        label=_("Role when the claim gives none"),
        required=False,
        help_text=_("Leave empty to refuse anyone the role claim does not give a role."),
    )

    def __init__(self, *args: Any, organisation: Organisation, has_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["default_role"]).choices = [
            ("", _("None: refuse the sign-in")),
            *role_choices(organisation),
        ]
        self.fields["client_secret"].help_text = (
            _("A secret is stored; it is never shown. Type a new one to replace it, or leave this empty to keep it.")
            if has_secret
            else _(
                "The secret your provider gave Corridor. Leave empty if your provider registered Corridor "
                "as a public client."
            )
        )

    @staticmethod
    def initial_from(row: SingleSignOn | None) -> dict[str, Any]:
        if row is None:
            return {"enabled": True}
        return {
            "enabled": row.enabled,
            "issuer": row.issuer,
            "client_id": row.client_id,
            "allowed_domains": "\n".join(row.allowed_domains),
            "role_claim": row.role_claim,
            "role_mapping": "\n".join(f"{k} = {v}" for k, v in (row.role_mapping or {}).items()),
            "default_role": row.default_role,
        }

    def clean_allowed_domains(self) -> list[str]:
        raw = self.cleaned_data.get("allowed_domains") or ""
        domains = list(dict.fromkeys(d.strip().lower().lstrip("@") for d in re.split(r"[\s,;]+", raw) if d.strip()))
        bad = [d for d in domains if not _DOMAIN.fullmatch(d)]
        if bad:
            raise forms.ValidationError(
                _("These are not e-mail domains: %(domains)s."), params={"domains": ", ".join(bad)}
            )
        return domains

    def clean_role_claim(self) -> str:
        claim = (self.cleaned_data.get("role_claim") or "").strip()
        if claim and not _CLAIM.fullmatch(claim):
            raise forms.ValidationError(_("A claim name has letters, digits and _ : . / - only."))
        return claim

    def clean_role_mapping(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate((self.cleaned_data.get("role_mapping") or "").splitlines(), start=1):
            if not line.strip():
                continue
            value, sep, role = line.rpartition("=")
            if not sep or not value.strip() or not role.strip():
                raise forms.ValidationError(
                    _("Line %(number)s: write a claim value, “=”, and a role."), params={"number": number}
                )
            mapping[value.strip()] = role.strip().lower()
        return mapping

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "client_secret"}
