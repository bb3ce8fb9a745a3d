"""An official record, printed to PDF by Chromium with the print stylesheet.

Italy's published scheme: its record page, checked like every page (accessibility,
weight), then printed with ``page.pdf()`` (A4, the stylesheet's @page rules). The
PDF is read back: it carries the scheme's title and the content hash shown on screen.
"""

from __future__ import annotations

import datetime
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


def test_a_member_seats_a_committee_member_and_the_public_reads_only_the_summary(
    visitor_factory: Any, italy: Any, morocco: Any, alice: Any, charlie: Any
) -> None:
    from playwright.sync_api import expect

    from accounts.tenancy import tenant_scope
    from exchange.partnerships.agreements import agreement_save
    from exchange.partnerships.services import partnership_confirm, partnership_create

    it = Actor(user=alice, organisation=italy, role="admin")
    ma = Actor(user=charlie, organisation=morocco, role="admin")
    with tenant_scope(it):
        partnership = partnership_create(
            actor=it,
            name="Italy–Morocco seasonal work agreement",
            kind="bilateral_labour_agreement",
            members=[morocco.pk],
            status="in_force",
            signed_on=datetime.date(2024, 3, 1),
            in_force_from=datetime.date(2024, 6, 1),
            public=True,
        )
    with tenant_scope(ma):
        partnership_confirm(actor=ma, partnership=partnership)
    with tenant_scope(it):
        agreement_save(
            actor=it, partnership=partnership, summary="5,000 seasonal places a year, no fees.", text="Article 1 …"
        )

    member = visitor_factory()
    member.sign_in_as(charlie)
    member.go(f"/partnerships/{partnership.pk}/")
    member.page.get_by_text("Add a committee member").click()
    member.page.get_by_label("Name of the committee member").fill("Karim Benali")
    member.page.get_by_label("Government they represent").select_option(label=morocco.name)
    member.page.get_by_label("Role on the committee").fill("Co-chair")
    member.reset()
    member.page.get_by_role("button", name="Add the member").click()
    member.page.wait_for_url(f"**/partnerships/{partnership.pk}/#committee")
    member.check()
    expect(member.page.get_by_role("cell", name="Karim Benali")).to_be_visible()

    public = visitor_factory()
    public.go(f"/partnerships/public/{partnership.pk}/")
    expect(public.page.get_by_text("5,000 seasonal places a year, no fees.")).to_be_visible()
    assert "Karim Benali" not in public.page.content() and "Article 1" not in public.page.content()
