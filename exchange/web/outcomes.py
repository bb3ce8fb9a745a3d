"""The "Outcomes" section of a listing's page: the pipeline per origin, the gender target, the entry
form, corrections and the history.

Shown only to the ledger's readers (``exchange.access.ledger_readable_by``); the
entry and correction forms only where ``exchange.access.can_record_outcomes``
allows, and they post to the same service as the API (``outcome_record``), whose
400s land on the form's fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_countries import countries
from rest_framework.exceptions import ValidationError as DrfValidationError

from accounts.tenancy import Actor
from config.charts import Chart, Series, bar_chart
from config.errors import StateConflict
from config.web import actor_required
from exchange import access
from exchange.imports import FileProblem, read_upload
from exchange.models import OutcomeEntry, OutcomeImport, OutcomeSex, OutcomeStage
from exchange.outcomes import services
from exchange.outcomes.imports import outcome_import_create
from exchange.outcomes.selectors import entry_list
from exchange.outcomes.summary import STAGES, outcome_summary
from exchange.web.forms import add_errors
from opportunities.models import Listing


def _country_name(code: str) -> str:
    return str(dict(countries).get(code, code))


IMPORTS_SHOWN = 3


class OutcomeImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file of entries"),
        help_text=gettext_lazy(
            "UTF-8, with the columns origin_country, period, stage, sex and count (optionally isco_code, "
            "corrects, reason): every row is saved, or none."
        ),
    )


class OutcomeEntryForm(forms.Form):
    origin_country = forms.ChoiceField(label=gettext_lazy("Origin country"))
    isco_code = forms.ChoiceField(
        label=gettext_lazy("Occupation"),
        required=False,
        help_text=gettext_lazy("Optional: one of the listing's lines."),
    )
    period = forms.CharField(
        label=gettext_lazy("Period"), max_length=7, help_text=gettext_lazy("A year (2025) or a month (2025-04).")
    )
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), choices=OutcomeStage.choices)
    sex = forms.ChoiceField(label=gettext_lazy("Sex"), choices=OutcomeSex.choices)
    count = forms.IntegerField(label=gettext_lazy("Number of people"), min_value=0)
    reason = forms.CharField(
        label=gettext_lazy("Reason for the correction"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    corrects = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, origins: list[str], lines: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        origin = self.fields["origin_country"]
        line = self.fields["isco_code"]
        assert isinstance(origin, forms.ChoiceField) and isinstance(line, forms.ChoiceField)
        origin.choices = [(code, f"{_country_name(code)} ({code})") for code in origins]
        line.choices = [("", _("All occupations")), *lines]


def _origins(actor: Actor, listing: Listing) -> list[str]:
    admitted = access.admitted_countries(listing)
    return [code for code in admitted if access.can_record_outcomes(actor, listing, code)]


def _lines(listing: Listing) -> list[tuple[str, str]]:
    return [
        (line.occupation_id, f"{line.occupation_id} {line.occupation.title}")
        for line in listing.occupation_lines.select_related("occupation")
    ]


def _funnel(origin: str, figures: dict[str, Any]) -> Chart:
    stages = figures["stages"]
    labels = [str(OutcomeStage(stage).label) for stage in STAGES]

    def points(key: str) -> list[tuple[str | int, int | None]]:
        return [
            (label, stages[stage][key] if stages[stage]["reported"] else None)
            for label, stage in zip(labels, STAGES, strict=True)
        ]

    name = _country_name(origin) if origin != "_T" else _("All origins")
    return bar_chart(
        chart_id=f"outcomes-funnel-{origin.lower()}",
        title=_("Pipeline: %(origin)s") % {"origin": name},
        series=[Series(_("All people"), points("total")), Series(_("Women"), points("F"))],
        categories=labels,
        description=_("People at each stage of the scheme's pipeline, from allocation to re-engagement."),
        x_label=_("Stage"),
        y_label=_("People"),
    )


def _gender_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for stage in STAGES:
        share = figures["women_share"][stage]
        if share["actual"] is None:
            continue
        rows.append({"stage": OutcomeStage(stage).label, **share})
    return rows


def _entries(actor: Actor, listing: Listing) -> list[dict[str, Any]]:
    rows = []
    for entry in entry_list(listing):
        reporter = ""
        if access.can_see_reporter(actor, entry):
            user = entry.reported_by
            reporter = (user.full_name if user is not None else "") or entry.reported_by_email
        rows.append({"entry": entry, "reporter": reporter, "corrected_by": getattr(entry, "corrected_by", None)})
    return rows


def outcomes_context(
    actor: Actor, listing: Listing, *, form: OutcomeEntryForm | None = None, failed: str = ""
) -> dict[str, Any] | None:
    """What the listing page's "Outcomes" section shows this reader; ``None`` for anyone else."""
    if not access.ledger_readable_by(actor, listing):
        return None
    summary = outcome_summary(listing)
    origins = []
    for code, figures in summary["by_origin"].items():
        origins.append(
            {
                "code": code,
                "name": _country_name(code),
                "figures": figures,
                "chart": _funnel(code, figures),
                "gender": _gender_rows(figures),
            }
        )
    writable = _origins(actor, listing) if access.can_record_outcomes(actor, listing) else []
    lines = _lines(listing) if writable else []
    entries = _entries(actor, listing)
    if writable:
        for row in entries:
            entry: OutcomeEntry = row["entry"]
            if row["corrected_by"] is None and str(entry.origin_country) in writable:
                prefix = f"fix-{entry.pk.hex[:12]}"
                bound = form if form is not None and failed == prefix else None
                row["form"] = bound or OutcomeEntryForm(
                    prefix=prefix,
                    origins=writable,
                    lines=lines,
                    initial={
                        "origin_country": str(entry.origin_country),
                        "isco_code": entry.occupation_id or "",
                        "period": entry.period,
                        "stage": entry.stage,
                        "sex": entry.sex,
                        "count": entry.count,
                        "corrects": entry.pk,
                    },
                )
                row["prefix"] = prefix
    entry_form = None
    if writable:
        entry_form = (
            form
            if form is not None and failed == "new"
            else OutcomeEntryForm(prefix="new", origins=writable, lines=lines)
        )
    return {
        "import_form": OutcomeImportForm() if writable else None,
        "import_action": reverse("exchange:listing-outcomes-upload", kwargs={"pk": listing.pk}),
        # The caller's own imports (django-scopes: the acting organisation's only).
        "imports": list(OutcomeImport.objects.filter(listing=listing)[:IMPORTS_SHOWN]) if writable else [],
        "summary": summary,
        "total": summary["total"],
        "total_chart": _funnel("_T", summary["total"]) if len(origins) > 1 else None,
        "total_gender": _gender_rows(summary["total"]),
        "origins": origins,
        "entries": entries,
        "form": entry_form,
        "action": reverse("exchange:listing-outcomes-record", kwargs={"pk": listing.pk}),
        "target": listing.gender_target_percent,
        "export_url": f"/api/v1/listings/{listing.pk}/outcomes/export.csv",
        "summary_csv_url": f"/api/v1/listings/{listing.pk}/outcomes/summary.csv",
    }


@require_POST
@actor_required
def outcome_record_view(request: HttpRequest, pk: Any) -> HttpResponse:
    """Record an entry (prefix ``new``) or a correction (prefix ``fix-…``) from the listing page."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    listing = get_object_or_404(access.ledger_listings_visible_to(actor=actor), pk=pk)
    allowed = access.can_record_outcomes(actor, listing)
    page = reverse("opportunities:listing", kwargs={"pk": listing.pk}) + "#outcomes"
    if not allowed and allowed.conflict:
        messages.error(request, str(allowed.reason))
        return redirect(page)
    allowed.check()  # who asks comes before what they sent
    prefix = request.POST.get("form_prefix", "new")
    if prefix != "new" and not prefix.startswith("fix-"):
        prefix = "new"
    form = OutcomeEntryForm(request.POST, prefix=prefix, origins=_origins(actor, listing), lines=_lines(listing))
    if form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if value not in (None, "")}
        if "corrects" in data:
            data["corrects"] = str(data["corrects"])
        try:
            services.outcome_record(actor=actor, listing=listing, data=data)
        except DrfValidationError as exc:
            add_errors(form, exc.detail)
        except PermissionDenied as exc:
            form.add_error("origin_country", str(exc))
        except StateConflict as exc:
            messages.error(request, str(exc))
            return redirect(page)
        else:
            messages.success(
                request,
                _("The correction is recorded; the entry it corrects stays in the history.")
                if "corrects" in data
                else _("The outcome entry is recorded."),
            )
            return redirect(page)
    from opportunities.web.listings import _detail_context

    context = _detail_context(request, listing)
    context["outcomes"] = outcomes_context(actor, listing, form=form, failed=prefix)
    return render(request, "opportunities/listing_detail.html", context, status=400)


@require_POST
@actor_required
def outcome_upload_view(request: HttpRequest, pk: Any) -> HttpResponse:
    """Queue a CSV file of entries (checked and saved by a worker; its state shows in the section)."""
    actor: Actor = request.actor  # type: ignore[attr-defined]
    listing = get_object_or_404(access.ledger_listings_visible_to(actor=actor), pk=pk)
    allowed = access.can_record_outcomes(actor, listing)
    page = reverse("opportunities:listing", kwargs={"pk": listing.pk}) + "#outcome-imports"
    if not allowed and allowed.conflict:
        messages.error(request, str(allowed.reason))
        return redirect(page)
    allowed.check()  # who asks comes before what they sent
    try:
        text, filename = read_upload(request.FILES.get("file"))
    except FileProblem as problem:
        messages.error(request, str(problem))
        return redirect(page)
    outcome_import_create(actor=actor, listing=listing, text=text, filename=filename)
    messages.success(request, _("The file is being checked. Reload the page to see the result below."))
    return redirect(page)
