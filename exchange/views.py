"""Server-rendered exchange pages: for now, the one-click unsubscribe link of e-mails."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from exchange.notifications.emails import unsubscribe, unsubscribe_target


# RFC 8058: mail clients POST "List-Unsubscribe=One-Click" without a CSRF token; the
# signed token in the URL is the credential. A GET (a person, or a mail scanner
# prefetching links) only shows a confirmation button and changes nothing.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    target = unsubscribe_target(token)
    if target is None:
        return render(request, "exchange/unsubscribe_invalid.html", status=404)
    context = {"subscription": target.subscription, "organisation": target.subscription.organisation}
    if request.method == "POST":
        unsubscribe(target)
        return render(request, "exchange/unsubscribe_done.html", context)
    return render(request, "exchange/unsubscribe.html", context)
