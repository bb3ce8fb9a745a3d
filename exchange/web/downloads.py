"""Downloads of stored files, for the API and the pages alike.

The services return domain objects (a ``PartnershipDocument``); turning one into an
HTTP response, with the headers that keep a browser from rendering or caching it,
is the web layer's job, and both ``exchange.api.partnerships`` and
``exchange.web.partnerships`` call this one function so the two cannot differ.
"""

from __future__ import annotations

import logging

from django.http import FileResponse, Http404

from exchange.models import PartnershipDocument

logger = logging.getLogger("corridor.partnerships")


def document_response(document: PartnershipDocument) -> FileResponse:
    """A members-only document as a download that no browser renders or caches (API and pages)."""
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        logger.error("Partnership document %s has no file in storage", document.pk)
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=document.original_filename, content_type=document.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
