"""Public listing pages: no login, only published public listings."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.web import paginate, public_page
from opportunities.selectors import public_listing_list


@public_page
def listing_list_view(request: HttpRequest) -> HttpResponse:
    page = paginate(request, public_listing_list())
    return render(request, "public/listing_list.html", {"page": page})
