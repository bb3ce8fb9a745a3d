"""Public pages: published public listings for anyone, everything else a 404; search; JSON-LD."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from django.test import Client

from accounts.tenancy import Actor
from opportunities.models import Listing
from opportunities.services import listing_transition
from tests.opportunities.conftest import create_listing, days, publish, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db

LIST = "/public/listings/"


def detail(listing: Listing) -> str:
    return f"{LIST}{listing.pk}/"


def nurses(**overrides: Any) -> dict[str, Any]:
    """A care scheme whose text never names its occupation in French or Spanish."""
    return seasonal_scheme(
        title="Care workers for hospitals in Lower Saxony",
        summary="Two-year contracts in public hospitals, with language courses.",
        description="Recognition of qualifications is arranged before departure.",
        scheme_type="talent_partnership",
        sectors=["Q"],
        partner_countries=["MA", "PH"],
        allocations=[],
        annual_cap=None,
        season_earliest_start="",
        season_latest_end="",
        duration_months_min=24,
        duration_months_max=36,
        occupation_lines=[{"isco_code": "2221", "quantity": 300, "languages": [{"language": "de", "level": "B1"}]}],
        visibility="public",
        **overrides,
    )


@pytest.fixture
def listings(spain_actor: Actor, italy_actor: Actor, morocco_actor: Actor, moderator: Actor) -> dict[str, Listing]:
    public = publish(
        create_listing(spain_actor, seasonal_scheme(title="Public strawberry harvest", visibility="public")),
        spain_actor,
        moderator,
    )
    care = publish(create_listing(italy_actor, nurses()), italy_actor, moderator)
    offer = publish(
        create_listing(
            morocco_actor,
            worker_offer(
                title="Public offer of bricklayers",
                visibility="public",
                occupation_lines=[{"isco_code": "7112", "quantity": 40}],
            ),
        ),
        morocco_actor,
        moderator,
    )
    members = publish(
        create_listing(
            italy_actor, seasonal_scheme(title="Members-only olive harvest", partner_countries=[], allocations=[])
        ),
        italy_actor,
        moderator,
    )
    partners = publish(
        create_listing(spain_actor, seasonal_scheme(title="Partners-only citrus harvest", visibility="partners")),
        spain_actor,
        moderator,
    )
    draft = create_listing(spain_actor, seasonal_scheme(title="Draft public scheme", visibility="public"))
    submitted = create_listing(spain_actor, seasonal_scheme(title="Submitted public scheme", visibility="public"))
    listing_transition(actor=spain_actor, listing=submitted, action="submit")
    closed = publish(
        create_listing(spain_actor, seasonal_scheme(title="Closed public scheme", visibility="public")),
        spain_actor,
        moderator,
    )
    listing_transition(actor=spain_actor, listing=closed, action="close")
    return {
        "public": public,
        "care": care,
        "offer": offer,
        "members": members,
        "partners": partners,
        "draft": draft,
        "submitted": submitted,
        "closed": closed,
    }


HIDDEN = ("members", "partners", "draft", "submitted", "closed")


def test_anonymous_visitors_see_only_published_public_listings(client: Client, listings):
    response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    for title in (
        "Public strawberry harvest",
        "Care workers for hospitals in Lower Saxony",
        "Public offer of bricklayers",
    ):
        assert title in html
    for key in HIDDEN:
        assert listings[key].title not in html
    assert "3 listings" in html
    assert 'href="/feeds/listings.atom"' in html
    assert 'href="/public/listings/export.csv"' in html
    assert "Sign in" in html


def test_signed_in_members_see_the_same_public_list(listings, bob):
    client = Client()
    client.force_login(bob)  # Italy's official could read the members-only listing elsewhere, not here
    html = client.get(LIST).content.decode()
    assert "Members-only olive harvest" not in html and "Public strawberry harvest" in html


@pytest.mark.parametrize("query", ["infirmier", "infirmières", "enfermera", "nurses"])
def test_search_finds_a_nursing_listing_in_french_spanish_and_english(client: Client, listings, query):
    html = client.get(LIST, {"q": query}).content.decode()
    assert "Care workers for hospitals in Lower Saxony" in html
    assert "Public strawberry harvest" not in html
    assert "1 listing" in html


def test_search_never_reaches_hidden_listings(client: Client, listings):
    html = client.get(LIST, {"q": "olive"}).content.decode()
    assert "Members-only olive harvest" not in html
    assert "No public listing matches this search" in html


def test_filters_narrow_the_list(client: Client, listings):
    def titles(**params: str) -> set[str]:
        html = client.get(LIST, params).content.decode()
        return {listing.title for listing in listings.values() if f">{listing.title}</a>" in html}

    assert titles(direction="supply") == {"Public offer of bricklayers"}
    assert titles(scheme_type="talent_partnership") == {"Care workers for hospitals in Lower Saxony"}
    assert titles(owner_country="ES") == {"Public strawberry harvest"}
    assert titles(partner_country="PH") == {"Care workers for hospitals in Lower Saxony", "Public offer of bricklayers"}
    assert titles(occupation="22") == {"Care workers for hospitals in Lower Saxony"}
    assert titles(occupation="2221 — Nursing professionals") == {"Care workers for hospitals in Lower Saxony"}


def test_a_bad_filter_is_an_inline_error(client: Client, listings):
    response = client.get(LIST, {"occupation": "nothing like a code", "direction": "sideways"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert 'href="#id_occupation"' in html and 'href="#id_direction"' in html
    assert "Enter an ISCO-08 code" in html


def test_the_owner_country_filter_offers_only_countries_that_publish(client: Client, listings):
    html = client.get(LIST).content.decode()
    select = html[html.index('name="owner_country"') : html.index("</select>", html.index('name="owner_country"'))]
    assert set(re.findall(r'<option value="([A-Z]{2})"', select)) == {"ES", "IT", "MA"}


def test_the_csv_holds_the_visible_results_with_the_same_filters(client: Client, listings):
    response = client.get(LIST + "export.csv", {"q": "infirmier"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["Care workers for hospitals in Lower Saxony"]
    assert rows[1][7] == "2221×300"
    everything = client.get(LIST + "export.csv")
    titles = {row[1] for row in csv.reader(io.StringIO(b"".join(everything.streaming_content).decode("utf-8-sig")))}
    assert not titles & {listings[key].title for key in HIDDEN}


def test_the_listing_page_shows_the_public_facts(client: Client, listings):
    response = client.get(detail(listings["care"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Care workers for hospitals in Lower Saxony</h1>" in html
    assert "Ministry of Labour and Social Policies" in html and "Italy" in html
    assert "Morocco" in html and "Philippines" in html
    harvest = client.get(detail(listings["public"])).content.decode()
    assert "Places for Morocco" in harvest and "800" in harvest
    assert "2221" in html and "Nursing professionals" in html and "300" in html
    assert "German B1" in html
    assert "How to apply" in html
    assert "bob@lavoro.gov.example" not in html  # the contact's e-mail stays internal, as in the public API


def test_the_listing_page_speaks_french_with_isco_titles_in_french(listings):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    html = client.get(detail(listings["care"])).content.decode()
    assert '<html lang="fr"' in html
    assert "Cadres infirmiers" in html  # ISCO 2221 in French


def test_the_listing_page_has_schema_org_job_posting_json_ld(client: Client, listings):
    care = listings["care"]
    html = client.get(detail(care)).content.decode()
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match is not None
    data = json.loads(match.group(1))
    assert data["@context"] == "https://schema.org" and data["@type"] == "JobPosting"
    assert data["title"] == "Care workers for hospitals in Lower Saxony"
    assert data["description"] == "Recognition of qualifications is arranged before departure."
    care.refresh_from_db()
    assert data["datePosted"] == care.published_at.date().isoformat()
    assert data["validThrough"].startswith(days(30))
    assert data["employmentType"] == ["TEMPORARY"]
    assert data["hiringOrganization"] == {"@type": "Organization", "name": "Ministry of Labour and Social Policies"}
    assert data["jobLocation"][0]["address"]["addressCountry"] == "IT"
    assert {c["name"] for c in data["applicantLocationRequirements"]} == {"MA", "PH"}
    assert data["occupationalCategory"][0]["codeValue"] == "2221"
    assert data["occupationalCategory"][0]["inCodeSet"] == "ISCO-08"
    assert data["totalJobOpenings"] == 300
    assert data["url"].endswith(detail(care))

    harvest = json.loads(
        re.search(
            r'<script type="application/ld\+json">(.*?)</script>',
            client.get(detail(listings["public"])).content.decode(),
            re.S,
        ).group(1)
    )
    assert harvest["employmentType"] == ["SEASONAL"]
    assert harvest["baseSalary"]["currency"] == "EUR" and harvest["baseSalary"]["value"]["minValue"] == 1134.0


def test_json_ld_cannot_break_out_of_its_script(client: Client, spain_actor, moderator):
    listing = publish(
        create_listing(
            spain_actor,
            seasonal_scheme(
                title="</script><script>alert(1)</script> & more", description="<b>bold</b>", visibility="public"
            ),
        ),
        spain_actor,
        moderator,
    )
    html = client.get(detail(listing)).content.decode()
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in script and ">" not in script and "&" not in script
    assert json.loads(script)["title"] == "</script><script>alert(1)</script> & more"


@pytest.mark.parametrize("key", HIDDEN)
def test_a_listing_that_is_not_published_and_public_is_404(client: Client, listings, key, bob):
    assert client.get(detail(listings[key])).status_code == 404
    member = Client()
    member.force_login(bob)
    assert member.get(detail(listings[key])).status_code == 404


def test_an_unknown_listing_is_404(client: Client, db):
    assert client.get(f"{LIST}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"{LIST}not-a-uuid/").status_code == 404


def test_the_public_list_makes_a_fixed_number_of_queries(
    client: Client, listings, spain_actor, moderator, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8) as few:
        assert client.get(LIST).status_code == 200
    for n in range(10):
        publish(
            create_listing(spain_actor, seasonal_scheme(title=f"More public {n}", visibility="public")),
            spain_actor,
            moderator,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(LIST).status_code == 200
