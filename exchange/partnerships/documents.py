"""The checks of a partnership document's file: its name, size, type and content.

What the client claims (the content type, the path in the name) is ignored: the
extension picks the type we serve it with, and the first bytes (for DOCX and ODT,
the zip package inside) must be what that type's files start with. The write that
stores a document is ``exchange.partnerships.services.partnership_document_upload``.
"""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

DEFAULT_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# Extension → the content type we serve it with. What the client claims is ignored.
DOCUMENT_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


def document_max_bytes() -> int:
    return int(getattr(settings, "PARTNERSHIP_DOCUMENT_MAX_BYTES", DEFAULT_DOCUMENT_MAX_BYTES))


def _content_matches(suffix: str, stream: IO[bytes]) -> bool:
    """Does the file start the way a file of this type must (and, for the office
    formats, is it the zip package that type is)?"""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    if suffix == ".pdf":
        return head.startswith(b"%PDF-")
    if suffix == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if suffix in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if not head.startswith(b"PK\x03\x04"):
        return False
    # DOCX and ODT are zip packages: look inside, reading at most a few bytes, so a
    # renamed .zip or spreadsheet is refused too.
    try:
        with zipfile.ZipFile(stream) as package:
            names = set(package.namelist())
            if suffix == ".docx":
                return "word/document.xml" in names and "[Content_Types].xml" in names
            if "mimetype" not in names:
                return False
            with package.open("mimetype") as member:
                return member.read(len(ODT_MIMETYPE) + 1).strip() == ODT_MIMETYPE
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
        return False
    finally:
        stream.seek(0)


def _clean_filename(name: str) -> str:
    """The base name, without control characters or path separators, at most 200 characters."""
    base = PurePath(str(name).replace("\\", "/")).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if len(base) > 200:
        stem, suffix = PurePath(base).stem, PurePath(base).suffix[:20]
        base = stem[: 200 - len(suffix)] + suffix
    return base or "document"


def validate_document_file(file: UploadedFile) -> tuple[str, str]:
    """(clean file name, content type) for an acceptable upload; ValidationError naming ``file``."""
    name = _clean_filename(file.name or "")
    suffix = PurePath(name).suffix.lower()
    allowed = "PDF, DOCX, ODT, PNG, JPEG"
    if suffix not in DOCUMENT_TYPES:
        raise ValidationError(
            {
                "file": _("Upload a PDF, DOCX, ODT, PNG or JPEG file (%(allowed)s); got '%(name)s'.")
                % {"allowed": ", ".join(DOCUMENT_TYPES), "name": name}
            }
        )
    limit = document_max_bytes()
    if file.size is None or file.size > limit:
        raise ValidationError(
            {
                "file": _("The file is larger than the limit of %(limit)s bytes (%(mib).1f MiB).")
                % {"limit": limit, "mib": limit / (1024 * 1024)}
            }
        )
    if file.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    if not _content_matches(suffix, file):
        raise ValidationError(
            {
                "file": _("The file's content is not a %(type)s file, whatever its name says (%(allowed)s only).")
                % {"type": suffix.lstrip(".").upper(), "allowed": allowed}
            }
        )
    return name, DOCUMENT_TYPES[suffix]
