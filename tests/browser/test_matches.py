"""The exchange in the browser: two governments meet on a match, talk, agree, and partner.

Germany's Federal Employment Agency (Greta) runs *Triple Win: nurses for German
hospitals*; the Philippines' Department of Migrant Workers (Paolo) offers registered
nurses. Both are published (through the moderator, as in production), so the
matching engine pairs them. Each official sees the match and its explanation;
Greta expresses interest, Paolo replies (in place, with htmx) and accepts; then
they put the agreement on record as a partnership and share its memorandum.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from exchange.models import Match, MatchState, MemberState, Partnership, PartnershipDocument
from tests.exchange import conftest as exchange
from tests.exchange.conftest import offer, published, scheme

# The exchange tests' governments and officials (tests/exchange/conftest.py).
germany, philippines = exchange.germany, exchange.philippines
greta, paolo = exchange.greta, exchange.paolo
germany_actor, philippines_actor = exchange.germany_actor, exchange.philippines_actor


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def match(germany_actor: Any, philippines_actor: Any, moderator: Any) -> Match:
    demand = published(
        germany_actor,
        moderator,
        scheme(
            title="Triple Win: nurses for German hospitals",
            scheme_type="talent_partnership",
            partner_countries=["PH"],
            fair_recruitment=True,
            occupation_lines=[{"isco_code": "2221", "quantity": 450, "languages": [{"language": "de", "level": "B1"}]}],
        ),
    )
    supply = published(
        philippines_actor,
        moderator,
        offer(
            title="Registered nurses ready for deployment",
            scheme_type="talent_partnership",
            occupation_lines=[
                {
                    "isco_code": "2221",
                    "quantity": 300,
                    "languages": [{"language": "de", "level": "A2"}, {"language": "en", "level": "C1"}],
                }
            ],
        ),
    )
    return Match.objects.get(demand=demand, supply=supply)


def test_two_governments_meet_talk_and_agree_on_a_match(
    visitor_factory: Any, match: Match, greta: Any, paolo: Any, germany: Any, philippines: Any
) -> None:
    # Greta (Germany) finds the match in her list and reads its explanation.
    berlin = visitor_factory()
    berlin.sign_in_as(greta)
    berlin.go("/matches/", screenshot="matches-list")
    page = berlin.page
    row = page.get_by_role("row").filter(has_text="Registered nurses ready for deployment")
    expect(row).to_contain_text("Department of Migrant Workers")
    expect(row).to_contain_text("80%")
    expect(row).to_contain_text("New")
    berlin.reset()
    row.get_by_role("link", name="Triple Win: nurses for German hospitals").click()
    page.wait_for_url(f"**/matches/{match.pk}/")
    berlin.check(screenshot="match-detail")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Triple Win")
    occupations = page.get_by_role("table", name=re.compile("Occupations"))
    expect(occupations).to_contain_text("2221 Nursing professionals")
    expect(occupations).to_contain_text("Same unit group")
    gaps = page.locator(".checklist li.gap")
    expect(gaps.filter(has_text="Requires German B1 for 2221 Nursing professionals; the offer has A2.")).to_have_count(
        2
    )
    expect(gaps.filter(has_text="The offer covers 300 of the 450 places matched.")).to_have_count(2)

    # She expresses interest: the thread appears in place, and the status region says so.
    page.get_by_label("Message to Department of Migrant Workers").fill(
        "We can place 300 nurses from March. Can your candidates reach German B1 by then?"
    )
    berlin.reset()
    page.get_by_role("button", name="Express interest").click()
    expect(page.get_by_role("status").filter(has_text="Interest expressed")).to_be_visible()
    expect(page.locator("ul.thread li.mine")).to_contain_text("Can your candidates reach German B1")
    expect(page.locator("#match-state")).to_contain_text("Interest expressed")
    assert page.url.endswith(f"/matches/{match.pk}/")  # no navigation: swapped in place
    berlin.check()
    assert Match.objects.get(pk=match.pk).state == MatchState.INTEREST_EXPRESSED

    # Paolo (Philippines) sees an unread thread on his dashboard, replies in place, then accepts.
    manila = visitor_factory()
    manila.sign_in_as(paolo)
    manila.go("/dashboard/")
    expect(manila.page.locator("#unread-threads")).to_have_text("1")
    manila.reset()
    manila.page.get_by_role("link", name=re.compile("Registered nurses ready for deployment and Triple Win")).click()
    manila.page.wait_for_url(f"**/matches/{match.pk}/")
    manila.check()
    expect(manila.page.locator("ul.thread li").first).to_contain_text("New")
    manila.page.get_by_label("Your reply").fill("Yes: 120 candidates are at B1 already, the rest by February.")
    manila.reset()
    manila.page.get_by_role("button", name="Send message").click()
    expect(manila.page.get_by_role("status").filter(has_text="Message sent.")).to_be_visible()
    expect(manila.page.locator("ul.thread li.mine")).to_contain_text("120 candidates")
    expect(manila.page.locator("#match-state")).to_contain_text("In dialogue")
    expect(manila.page.get_by_label("Your reply")).to_have_value("")
    manila.check(screenshot="match-dialogue")

    manila.reset()
    manila.page.get_by_role("link", name="Accept the match").click()
    manila.page.wait_for_url("**/accept/")
    manila.check()
    manila.page.get_by_label("Reason").fill("Agreed at the joint committee of 12 March.")
    manila.reset()
    manila.page.get_by_role("button", name="Accept the match").click()
    manila.page.wait_for_url(f"**/matches/{match.pk}/")
    manila.check()
    expect(manila.page.get_by_role("status").first).to_contain_text("You accepted the match.")
    expect(manila.page.locator("#match-state")).to_contain_text("Agreed")
    expect(manila.page.get_by_text("Department of Migrant Workers accepted the match.")).to_be_visible()
    assert Match.objects.get(pk=match.pk).state == MatchState.AGREED

    # Greta's dashboard: one thread with an unread reply; reading it clears the count.
    berlin.go("/dashboard/")
    expect(berlin.page.locator("#unread-threads")).to_have_text("1")
    berlin.go(f"/matches/{match.pk}/")
    expect(berlin.page.locator("ul.thread")).to_contain_text("120 candidates")
    berlin.go("/dashboard/")
    expect(berlin.page.locator("#unread-threads")).to_have_text("0")

    # They record the agreement as a partnership: Greta creates it, Paolo confirms and
    # shares the memorandum.
    berlin.go("/partnerships/new/")
    form = berlin.page
    form.get_by_label("Name").fill("Germany–Philippines health workforce partnership")
    form.get_by_label("Kind of agreement").select_option(label="Talent partnership")
    form.get_by_label("Partner governments").select_option(label="Philippines — Department of Migrant Workers")
    form.get_by_label(re.compile(r"Triple Win: nurses for German hospitals \(Federal")).check()
    form.get_by_label(re.compile("Triple Win: nurses for German hospitals and Registered")).check()
    berlin.reset()
    form.get_by_role("button", name="Create the partnership").click()
    form.wait_for_url(re.compile(r"/partnerships/[0-9a-f-]{36}/$"))
    berlin.check()
    partnership = Partnership.objects.get()
    assert partnership.matches.get() == match

    manila.go("/partnerships/")
    manila.reset()
    manila.page.get_by_role("link", name="Confirm membership", exact=False).first.click()
    manila.page.wait_for_url("**/confirm/")
    manila.check()
    manila.reset()
    manila.page.get_by_role("button", name="Confirm membership").click()
    manila.page.wait_for_url(f"**/partnerships/{partnership.pk}/")
    manila.check()
    assert partnership.memberships.get(organisation=philippines).state == MemberState.CONFIRMED

    manila.page.get_by_label("File").set_input_files(
        files=[{"name": "memorandum.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n" + b"0" * 400}]
    )
    manila.page.get_by_label("Type of document").select_option(label="Agreement text")
    manila.page.get_by_label("Title").fill("Memorandum of understanding")
    manila.reset()
    manila.page.get_by_role("button", name="Upload the document").click()
    manila.page.wait_for_url(f"**/partnerships/{partnership.pk}/#documents")
    manila.check()
    expect(manila.page.get_by_role("link", name="Memorandum of understanding")).to_be_visible()
    assert PartnershipDocument.objects.get().original_filename == "memorandum.pdf"
    with manila.page.expect_download() as download:
        manila.page.get_by_role("link", name="Memorandum of understanding").click()
    assert download.value.suggested_filename == "memorandum.pdf"

    manila.go(f"/partnerships/{partnership.pk}/", screenshot="partnership-detail")
    members = manila.page.get_by_role("table", name="Member governments")
    expect(members.get_by_role("row").filter(has_text="Federal Employment Agency")).to_contain_text("Confirmed")
    expect(members.get_by_role("row").filter(has_text="Department of Migrant Workers")).to_contain_text("Confirmed")
    expect(manila.page.get_by_role("link", name=re.compile("80%"))).to_have_attribute("href", f"/matches/{match.pk}/")

    # The same match in French: ISCO titles and language names from the reference data.
    paris = visitor_factory(locale="fr-FR")
    paris.sign_in_as(greta)
    paris.go(f"/matches/{match.pk}/")
    assert paris.page.locator("html").get_attribute("lang") == "fr"
    expect(paris.page.get_by_role("table").first).to_contain_text("2221 Cadres infirmiers")

    assert berlin.console_errors == [] and manila.console_errors == [] and paris.console_errors == []
