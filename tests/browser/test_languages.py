"""The same journey in French and in Spanish, as officials whose browsers ask for them.

Germany's official (Greta) submits a nurses' scheme; the agency's moderator (Mona)
approves it; the matching engine pairs it with the Philippines' published offer;
the Philippines' official (Paolo) reads the match, with ISCO titles in his language,
and expresses interest; Greta finds the new message on her dashboard and the
public finds the scheme on its public page. Nobody picked a language: the browser's
Accept-Language decides, and every label, button and heading follows it. Expected
words come from the same catalogues (``gettext`` under ``override``), so the test
checks that each screen is translated, not the wording of one translation.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import expect

from exchange.models import Match
from opportunities.models import Occupation
from tests.exchange import conftest as exchange
from tests.exchange.conftest import offer, published, scheme
from tests.opportunities.conftest import create_listing

germany, philippines = exchange.germany, exchange.philippines
greta, paolo = exchange.greta, exchange.paolo
germany_actor, philippines_actor = exchange.germany_actor, exchange.philippines_actor


def t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.mark.parametrize(("locale", "language"), [("fr-FR", "fr"), ("es-ES", "es")])
def test_post_moderate_match_and_publish_in_the_browsers_language(
    visitor_factory: Any,
    locale: str,
    language: str,
    germany_actor: Any,
    philippines_actor: Any,
    moderator: Any,
    greta: Any,
    paolo: Any,
    mona: Any,
) -> None:
    assert t(language, "Dashboard") != "Dashboard", "the catalogue is compiled and loaded"
    nurses = Occupation.objects.get(code="2221")
    local_title = getattr(nurses, f"title_{language}")
    published(
        philippines_actor,
        moderator,
        offer(
            title="Registered nurses ready for deployment",
            scheme_type="talent_partnership",
            occupation_lines=[{"isco_code": "2221", "quantity": 300, "languages": [{"language": "de", "level": "A2"}]}],
        ),
    )
    data = scheme(
        title="Triple Win: nurses for German hospitals",
        scheme_type="talent_partnership",
        partner_countries=["PH"],
        visibility="public",
        occupation_lines=[{"isco_code": "2221", "quantity": 450, "languages": [{"language": "de", "level": "B1"}]}],
    )
    draft = create_listing(germany_actor, data)

    # Greta's browser asks for the language: the dashboard answers in it.
    berlin = visitor_factory(locale=locale)
    berlin.sign_in_as(greta)
    berlin.go("/dashboard/")
    page = berlin.page
    assert page.locator("html").get_attribute("lang") == language
    expect(page.get_by_role("heading", level=1)).to_have_text(t(language, "Dashboard"))

    # The listing's page: ISCO title in her language; submit through the confirmation step.
    berlin.go(f"/listings/{draft.pk}/", screenshot=f"listing-detail-{language}")
    expect(page.get_by_text(local_title).first).to_be_visible()
    berlin.reset()
    page.get_by_role("link", name=t(language, "Submit for moderation")).or_(
        page.get_by_role("button", name=t(language, "Submit for moderation"))
    ).first.click()
    berlin.check()
    berlin.reset()
    page.get_by_role("button", name=t(language, "Submit for moderation")).click()
    berlin.check()
    draft.refresh_from_db()
    assert draft.status == "submitted"

    # Mona moderates in the same language.
    agency = visitor_factory(locale=locale)
    agency.sign_in_as(mona)
    agency.go("/moderation/")
    expect(agency.page.get_by_role("heading", level=1)).not_to_have_text("Moderation queue")
    agency.go(f"/moderation/{draft.pk}/", screenshot=f"moderation-review-{language}")
    agency.reset()
    agency.page.get_by_role("button", name=t(language, "Approve and publish")).click()
    agency.check()
    draft.refresh_from_db()
    assert draft.status == "published"

    # The engine paired the scheme with the offer; Paolo reads it in his language.
    match = Match.objects.get(demand=draft)
    manila = visitor_factory(locale=locale)
    manila.sign_in_as(paolo)
    manila.go("/matches/")
    manila.go(f"/matches/{match.pk}/", screenshot=f"match-detail-{language}")
    expect(manila.page.get_by_text(local_title).first).to_be_visible()
    dialogue = manila.page.locator("#dialogue")
    dialogue.get_by_role("textbox").first.fill(
        "Nous avons 300 infirmières prêtes." if language == "fr" else "Tenemos 300."
    )
    dialogue.get_by_role("button", name=t(language, "Express interest")).click()
    expect(manila.page.locator(".thread")).to_contain_text("300")
    manila.check()

    # Greta's dashboard shows the unread message, in her language.
    berlin.go("/dashboard/")
    expect(page.locator("main")).to_contain_text("Registered nurses ready for deployment")

    # Anyone: the public page, in the language their browser asks for.
    public = visitor_factory(locale=locale)
    public.go(f"/public/listings/{draft.pk}/", screenshot=f"public-listing-{language}")
    assert public.page.locator("html").get_attribute("lang") == language
    expect(public.page.get_by_text(local_title).first).to_be_visible()
    expect(public.page.get_by_role("link", name=t(language, "Sign in"))).to_have_attribute("href", "/accounts/login/")


def test_arabic_reads_right_to_left(visitor_factory: Any, greta: Any) -> None:
    """Arabic: translated, laid out right to left, still accessible and light."""
    anyone = visitor_factory(locale="ar")
    anyone.go("/", screenshot="home-ar")
    html = anyone.page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("ar", "rtl")
    expect(anyone.page.get_by_role("link", name=t("ar", "Sign in")).first).to_be_visible()
    # The header starts on the right: the service name is right of the language menu.
    name_box = anyone.page.locator(".site-name").bounding_box()
    language_box = anyone.page.locator("#language-chooser").bounding_box()
    assert name_box and language_box and name_box["x"] > language_box["x"]
    # Nothing pushes the page sideways (an off-screen element on the left would, in RTL).
    widths = anyone.page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] == widths[1]
    anyone.go("/public/listings/")

    official = visitor_factory(locale="ar")
    official.sign_in_as(greta)
    official.go("/dashboard/", screenshot="dashboard-ar")
    expect(official.page.get_by_role("heading", level=1)).to_have_text(t("ar", "Dashboard"))
    official.go("/listings/new/")
