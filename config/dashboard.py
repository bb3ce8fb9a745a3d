"""The dashboard: one page per organisation, made of sections each app contributes.

Each entry of ``SECTIONS`` is a function ``(request) -> dict`` returning the context
of one section, with ``template`` naming the partial that renders it. The view runs
inside the actor's tenant scope (``actor_required``), so sections read through the
usual selectors.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from config.web import actor_required, web_actor
from exchange.web.dashboard import section as alerts_section
from exchange.web.matches import dashboard_section as matches_section
from exchange.web.suggestions import dashboard_section as suggestions_section
from opportunities.web.dashboard import section as opportunities_section

SECTIONS = [opportunities_section, matches_section, suggestions_section, alerts_section]


@actor_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    sections = [section(request) for section in SECTIONS]
    return render(request, "dashboard.html", {"sections": [s for s in sections if s]})


def home_view(request: HttpRequest) -> HttpResponse:
    """Signed-in members start on their dashboard; everyone else on the public landing page."""
    if web_actor(request).organisation is not None:
        return redirect("dashboard")
    return render(request, "home.html")
