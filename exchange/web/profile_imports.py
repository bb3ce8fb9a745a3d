"""The SDMX-CSV import page of a draft profile, and its live progress.

The same rules as the API (``exchange/api/profile_csv.py``): the profile is
found through ``exchange.access.profile_visible_to`` (anyone else: 404), who may
import is ``exchange.access.can_edit_observations`` (asked before the file is
read), the file goes through ``exchange.profiles.imports`` and a Celery task
checks and saves it. The status page follows the task with htmx polling (a
fragment every second while it runs, nothing once it is done).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy

from accounts.tenancy import Actor
from config.web import actor_required
from exchange import access
from exchange.imports import MAX_BYTES, FileProblem, read_upload
from exchange.models import ImportStatus, MigrationProfile, ProfileImport
from exchange.profiles.imports import profile_import_create

POLL_SECONDS = 1


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("SDMX-CSV file"),
        help_text=gettext_lazy(
            "UTF-8 text with the template's header; at most %(mb)d MB. Its figures replace the draft's figures "
            "with the same indicator, sex, age and year; the others stay."
        )
        % {"mb": MAX_BYTES // 1024**2},
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )


def profile_url(profile_id: Any) -> str:
    """The profile's page once it exists (exchange:profile-detail), else its API resource."""
    try:
        return reverse("exchange:profile-detail", kwargs={"pk": profile_id})
    except NoReverseMatch:
        return f"/api/v1/profiles/{profile_id}/"


def _profile(actor: Actor, pk: Any) -> MigrationProfile:
    return get_object_or_404(access.profile_visible_to(actor=actor).select_related("owner"), pk=pk)


@actor_required
def profile_import_view(request: HttpRequest, pk: Any) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    profile = _profile(actor, pk)
    decision = access.can_edit_observations(actor, profile)  # who asks, before what they sent
    if not decision and not decision.conflict:
        raise PermissionDenied(str(decision.reason))
    form = ImportForm()
    status = 200
    if request.method == "POST":
        if not decision:
            messages.error(request, str(decision.reason))
            return redirect(request.path)
        form = ImportForm(request.POST, request.FILES)
        try:
            text, filename = read_upload(request.FILES.get("file"))
        except FileProblem as problem:
            form.errors.clear()
            form.add_error("file", str(problem))
            status = 400
        else:
            job = profile_import_create(actor=actor, profile=profile, text=text, filename=filename)
            return redirect("exchange:profile-import-status", pk=job.pk)
    context = {
        "profile": profile,
        "form": form,
        "refusal": "" if decision else str(decision.reason),
        "profile_url": profile_url(profile.pk),
        "template_url": reverse("profiles-reference:indicator-template"),
    }
    return render(request, "exchange/profiles/import.html", context, status=status)


@actor_required
def profile_import_status_view(request: HttpRequest, pk: Any) -> HttpResponse:
    """The import's progress; an htmx request gets the progress fragment alone."""
    # Scoped to the actor's organisation (django-scopes): another's import is a 404.
    job = get_object_or_404(ProfileImport.objects.select_related("profile"), pk=pk)
    done = job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
    context = {
        "job": job,
        "profile": job.profile,
        "done": done,
        "poll_seconds": POLL_SECONDS,
        "percent": round(100 * job.processed / job.total) if job.total else 0,
        "profile_url": profile_url(job.profile_id),
    }
    if request.headers.get("HX-Request"):
        return render(request, "exchange/profiles/_import_progress.html", context)
    return render(request, "exchange/profiles/import_status.html", context)


__all__ = ["profile_import_status_view", "profile_import_view"]
