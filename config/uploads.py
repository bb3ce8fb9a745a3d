"""Request bodies are refused by size before they are read whole.

Two guards, both from :func:`body_limit`, the largest body a path accepts:

* :class:`UploadLimitMiddleware` answers 413 when ``Content-Length`` is larger,
  before any middleware or view reads the body (CSRF would parse the form). The API
  gets its JSON error shape, naming the limit; pages a plain 413.
* :class:`LimitedUploadHandler`, first in ``FILE_UPLOAD_HANDLERS``, counts the bytes
  of a multipart body as they arrive and stops at the limit, whatever the headers
  said. (Django reads a WSGI body only as far as its ``Content-Length``, and none at
  all without one; the handler holds for a server that passes a chunked body on.)

An upload path's limit is its file's own limit plus room for the multipart
envelope, so a file just over the field's limit still reaches the view and gets its
ordinary 400 naming the field ("larger than 10 MB"); only a body far beyond any
acceptable file is cut off here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse

from config.errors import UploadTooLarge, too_large_response

_UUID = r"[0-9a-fA-F-]{32,36}"
# The paths that take a file, and the setting or constant that limits the file.
_DOCUMENT_PATHS = re.compile(rf"/partnerships/{_UUID}/documents/$")
_CSV_IMPORT_PATHS = re.compile(rf"/(profiles/{_UUID}/import|listings/{_UUID}/outcomes/(import|upload))/$")


def _csv_import_max_bytes() -> int:
    from exchange.imports import MAX_BYTES  # the apps load after the settings

    return MAX_BYTES


def body_limit(path: str) -> int:
    """The largest request body, in bytes, that ``path`` accepts."""
    envelope = int(settings.UPLOAD_ENVELOPE_BYTES)
    if _DOCUMENT_PATHS.search(path):
        return int(settings.PARTNERSHIP_DOCUMENT_MAX_BYTES) + envelope
    if _CSV_IMPORT_PATHS.search(path):
        return _csv_import_max_bytes() + envelope
    return int(settings.REQUEST_MAX_BYTES)


class UploadLimitMiddleware:
    """413 for a ``Content-Length`` beyond the path's limit, before the body is read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or ""
        if raw:
            limit = body_limit(request.path_info)
            try:
                declared = int(raw)
            except ValueError:
                declared = -1
            if declared > limit:
                return too_large_response(request, limit)
        return self.get_response(request)


class LimitedUploadHandler(FileUploadHandler):
    """Counts every file chunk of the request and stops the upload past the path's limit.

    It stores nothing: it passes each chunk on to the next handler (memory or a
    temporary file). Raising :class:`config.errors.UploadTooLarge` aborts the parse
    without reading the rest; ``config.errors`` turns it into a 413 wherever it
    surfaces (the API's exception handler, a view, or the CSRF check reading the form).
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = body_limit(request.path_info) if request is not None else int(settings.REQUEST_MAX_BYTES)
        self.received = 0

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        if content_length > self.limit:
            raise UploadTooLarge(self.limit)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise UploadTooLarge(self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
