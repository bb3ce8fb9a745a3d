"""What the CSV import endpoints share: reading the upload, the 202 answer, the job's shape.

A profile's SDMX-CSV import (``exchange/api/profile_csv.py``) and a ledger's CSV
import (``exchange/api/outcomes.py``) answer the same way; the jobs themselves are
``exchange.imports``.
"""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from exchange.imports import FileProblem, read_upload
from exchange.models import ImportJob

JOB_FIELDS = ["status", "processed", "total", "errors", "saved", "created_at", "finished_at"]


class ImportQueuedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    """A job's progress and errors; each concrete serializer adds what it imports into."""

    errors = serializers.ListField(  # type: ignore[assignment]  # the API's name; DRF's Serializer.errors is unrelated
        child=serializers.DictField(),
        read_only=True,
        help_text="{row, column, message}: row is the file's line (the header is 1; 0 is the whole file).",
    )


def uploaded_file(request: Request) -> tuple[str, str]:
    """The text and name of the multipart field ``file``; a 400 naming ``file`` if unusable."""
    try:
        return read_upload(request.FILES.get("file"))
    except FileProblem as problem:
        raise serializers.ValidationError({"file": [str(problem)]}) from problem


def accepted(job: ImportJob, location: str) -> Response:
    """202 with the job's id and status, and where to follow it."""
    response = Response({"id": str(job.pk), "status": job.status}, status=status.HTTP_202_ACCEPTED)
    response["Location"] = location
    return response
