"""An oversize upload is refused before it is read whole: from its Content-Length
(413, naming the limit), or byte by byte when the body is longer than it said.
Ordinary files just over a field's limit still get the field's own 400."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from config.errors import UploadTooLarge
from config.uploads import LimitedUploadHandler, body_limit
from exchange.imports import MAX_BYTES as CSV_MAX_BYTES
from tests.exchange.test_partnerships import create, detail, pdf, upload

pytestmark = pytest.mark.django_db


class CountingInput(io.RawIOBase):
    """A request body that counts what the server reads of it."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.remaining)
        buffer[:n] = b"x" * n
        self.remaining -= n
        self.read_bytes += n
        return n


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def partnership(alice_api: APIClient, morocco: Organisation, charlie: User) -> dict[str, Any]:
    response = create(
        alice_api, name="Italy–Morocco mobility partnership", kind="mobility_partnership", members=[str(morocco.pk)]
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_an_oversize_api_upload_is_refused_before_its_body_is_read(
    alice_api: APIClient, partnership: dict[str, Any], settings: Any
) -> None:
    path = detail(partnership, "documents/")
    limit = settings.PARTNERSHIP_DOCUMENT_MAX_BYTES + settings.UPLOAD_ENVELOPE_BYTES
    body = CountingInput(limit + 1)

    response = alice_api.generic(
        "POST",
        path,
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(limit + 1),
        **{"wsgi.input": body},
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request is too large: this address accepts at most 10.1 MB.",
        "code": "too_large",
        "max_bytes": limit,
    }
    assert body.read_bytes == 0


def test_an_oversize_page_upload_gets_a_plain_413(alice: User, partnership: dict[str, Any]) -> None:
    client = Client()
    client.force_login(alice)
    body = CountingInput(50 * 1024**2)

    response = client.generic(
        "POST",
        f"/partnerships/{partnership['id']}/documents/",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(50 * 1024**2),
        **{"wsgi.input": body},
    )

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert "accepts at most 10.1 MB" in response.content.decode()
    assert body.read_bytes == 0


def test_a_document_just_over_its_limit_still_gets_the_field_error(
    alice_api: APIClient, partnership: dict[str, Any], settings: Any
) -> None:
    settings.PARTNERSHIP_DOCUMENT_MAX_BYTES = 1000
    response = upload(alice_api, partnership, pdf(size=1500))
    assert response.status_code == 400
    assert "larger than the limit of 1000 bytes" in response.json()["file"][0]


def test_a_json_body_beyond_the_request_limit_is_refused(alice_api: APIClient, settings: Any) -> None:
    settings.REQUEST_MAX_BYTES = 2048
    response = alice_api.post("/api/v1/subscriptions/", {"name": "x" * 4096}, format="json")
    assert response.status_code == 413
    assert response.json()["max_bytes"] == 2048


def test_each_upload_path_has_the_limit_of_its_file(settings: Any) -> None:
    pk = uuid.uuid4()
    envelope = settings.UPLOAD_ENVELOPE_BYTES
    assert body_limit(f"/api/v1/partnerships/{pk}/documents/") == settings.PARTNERSHIP_DOCUMENT_MAX_BYTES + envelope
    assert body_limit(f"/partnerships/{pk}/documents/") == settings.PARTNERSHIP_DOCUMENT_MAX_BYTES + envelope
    assert body_limit(f"/api/v1/profiles/{pk}/import/") == CSV_MAX_BYTES + envelope
    assert body_limit(f"/profiles/{pk}/import/") == CSV_MAX_BYTES + envelope
    assert body_limit(f"/api/v1/listings/{pk}/outcomes/import/") == CSV_MAX_BYTES + envelope
    assert body_limit(f"/listings/{pk}/outcomes/upload/") == CSV_MAX_BYTES + envelope
    assert body_limit("/api/v1/subscriptions/") == settings.REQUEST_MAX_BYTES


def test_the_upload_handler_stops_a_body_longer_than_it_declared(settings: Any) -> None:
    # A server that passes a chunked body on (no usable Content-Length) leaves the
    # counting to the handler: it stops at the limit instead of spooling it all.
    settings.REQUEST_MAX_BYTES = 4096
    boundary = "xyz"
    payload = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode() + b"a,b\r\n" * 200_000
    stream = io.BytesIO(payload)
    request = HttpRequest()
    request.path_info = request.path = "/api/v1/anything/"
    meta = {"CONTENT_TYPE": f"multipart/form-data; boundary={boundary}", "CONTENT_LENGTH": "1"}

    parser = MultiPartParser(meta, stream, [LimitedUploadHandler(request)])
    with pytest.raises(UploadTooLarge) as refused:
        parser.parse()

    assert refused.value.limit == 4096
    assert stream.tell() < 256 * 1024  # stopped near the limit, not after the megabyte
