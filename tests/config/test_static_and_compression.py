"""Pages are light on the wire: HTML gzip-compressed, static files compressed and cache-busted."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.templatetags.static import static


@pytest.mark.django_db
def test_html_is_gzip_compressed_for_browsers_that_accept_it(client: Any) -> None:
    response = client.get("/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    html = gzip.decompress(response.content).decode()
    assert "<html lang=" in html
    assert len(response.content) < len(html) / 2


def test_production_storage_hashes_and_precompresses_static_files(settings: Any, tmp_path: Path) -> None:
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    css = static("corridor/corridor.css")
    # A content hash in the name: a new release never meets a stale cached copy...
    assert (
        css.startswith("/static/corridor/corridor.") and css.endswith(".css") and css != "/static/corridor/corridor.css"
    )
    hashed = tmp_path / css.removeprefix("/static/")
    # ...and a gzip copy beside it, which WhiteNoise serves to browsers that accept it.
    compressed = Path(f"{hashed}.gz")
    assert compressed.exists()
    assert gzip.decompress(compressed.read_bytes()) == hashed.read_bytes()
    assert compressed.stat().st_size < hashed.stat().st_size / 2
