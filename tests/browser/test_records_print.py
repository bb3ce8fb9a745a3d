"""An official record, printed to PDF by Chromium with the print stylesheet.

Italy's published scheme: its record page, checked like every page (accessibility,
weight), then printed with ``page.pdf()`` (A4, the stylesheet's @page rules). The
PDF is read back: it carries the scheme's title and the content hash shown on screen.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from accounts.tenancy import Actor
from opportunities.models import Listing
from tests.exchange.conftest import published, scheme


def _pdf_text(pdf: bytes) -> str:
    """The text drawn in a PDF, good enough for Chromium's output: every Flate stream inflated,
    and the hex-encoded glyph strings of its TJ operators decoded through the font's ToUnicode map."""
    streams = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    # ToUnicode maps: <glyph> <unicode> pairs (bfchar) and ranges (bfrange).
    glyphs: dict[str, str] = {}
    for stream in streams:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
            for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                glyphs[src.decode().upper()] = bytes.fromhex(dst.decode()).decode("utf-16-be")
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
            for start, end, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                width = len(start)
                first, last, base = int(start, 16), int(end, 16), int(dst, 16)
                for offset in range(last - first + 1):
                    glyphs[f"{first + offset:0{width}X}"] = chr(base + offset)
    text = []
    for stream in streams:
        for array in re.findall(rb"\[(.*?)\]\s*TJ", stream, re.S):
            for hexes in re.findall(rb"<([0-9A-Fa-f]+)>", array):
                value = hexes.decode().upper()
                size = 4 if len(value) % 4 == 0 else 2
                text.append("".join(glyphs.get(value[i : i + size], "") for i in range(0, len(value), size)))
        for hexes in re.findall(rb"<([0-9A-Fa-f]+)>\s*Tj", stream):
            value = hexes.decode().upper()
            text.append("".join(glyphs.get(value[i : i + 4], "") for i in range(0, len(value), 4)))
    return "".join(text)


def test_a_listing_record_prints_to_a_pdf_with_its_title_and_content_hash(
    visitor: Any, italy: Any, alice: Any, moderator: Actor
) -> None:
    listing: Listing = published(
        Actor(user=alice, organisation=italy, role="admin"), moderator, scheme(title="Seasonal harvest scheme")
    )
    visitor.sign_in_as(alice)
    visitor.go(f"/listings/{listing.pk}/print/")
    page = visitor.page
    digest = re.search(r"sha256:([0-9a-f]{64})", page.content())
    assert digest is not None
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF-")
    text = _pdf_text(pdf)
    assert "Seasonal harvest scheme" in text
    assert digest.group(1) in re.sub(r"\s+", "", text)
    assert "Back to the page" not in text  # the screen-only line is not printed
