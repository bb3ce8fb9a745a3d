"""The members' listing pages: browse and search, CSV, a listing's page, the form, the workflow."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts.tenancy import tenant_scope
from opportunities.models import Listing, ListingRevision, ListingStatus, RevisionStatus
from tests.opportunities.conftest import create_listing, days, publish, seasonal_scheme, worker_offer

pytestmark = pytest.mark.django_db


def nursing_scheme(**overrides: Any) -> dict[str, Any]:
    payload = seasonal_scheme(
        title="Hospital nurses for Lombardy",
        summary="Registered nurses for public hospitals.",
        scheme_type="talent_partnership",
        partner_countries=[],
        allocations=[],
        annual_cap=None,
        sectors=["Q"],
        occupation_lines=[{"isco_code": "2221", "quantity": 40, "languages": [{"language": "it", "level": "B1"}]}],
    )
    payload.update(overrides)
    return payload


def signed_in(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return response.content.decode()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_data(**overrides: Any) -> dict[str, Any]:
    """What a browser sends for a valid seasonal scheme with two occupation lines and one allocation."""
    data: dict[str, Any] = {
        "direction": "demand",
        "title": "Fruit pickers for Trentino",
        "summary": "Apple harvest, September to November.",
        "description": "",
        "scheme_type": "seasonal",
        "partner_countries": ["MA", "TN"],
        "sectors": ["A"],
        "annual_cap": "300",
        "housing": "on",
        "fair_recruitment": "on",
        "wage_floor_monthly": "1400.50",
        "currency": "EUR",
        "text_language": "en",
        "starts_on": days(90),
        "ends_on": days(180),
        "application_deadline": days(60),
        "season_earliest_start": "09-01",
        "season_latest_end": "11-30",
        "max_stay_months": "4",
        "stay_window_months": "12",
        "visibility": "members",
        "contact": "",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
        "lines-0-isco_code": "9211 — Crop farm labourers",
        "lines-0-quantity": "250",
        "lines-0-language_1": "it",
        "lines-0-level_1": "A2",
        "lines-1-isco_code": "8341",
        "lines-1-quantity": "20",
        "lines-1-skill_level": "2",
        "lines-1-min_experience_years": "2",
        "allocations-TOTAL_FORMS": "2",
        "allocations-INITIAL_FORMS": "0",
        "allocations-MIN_NUM_FORMS": "0",
        "allocations-MAX_NUM_FORMS": "200",
        "allocations-0-country": "MA",
        "allocations-0-places": "200",
        "allocations-1-country": "",  # an empty row is ignored
        "allocations-1-places": "",
        "stays-TOTAL_FORMS": "0",
        "stays-INITIAL_FORMS": "0",
        "stays-MIN_NUM_FORMS": "0",
        "stays-MAX_NUM_FORMS": "200",
        "translations-TOTAL_FORMS": "0",
        "translations-INITIAL_FORMS": "0",
        "translations-MIN_NUM_FORMS": "0",
        "translations-MAX_NUM_FORMS": "200",
        "save": "1",
    }
    data.update(overrides)
    return data


# --- Browse and search -------------------------------------------------------------------------


def test_list_shows_what_the_actor_may_see_and_nothing_else(
    client: Client, bob: Any, italy_actor: Any, morocco_actor: Any, moderator: Any
) -> None:
    create_listing(italy_actor, nursing_scheme(title="Our own draft"))
    create_listing(morocco_actor, worker_offer(title="Morocco's private draft"))
    offer = create_listing(morocco_actor, worker_offer(title="Moroccan farm workers, published"))
    publish(offer, morocco_actor, moderator)

    page = text(signed_in(client, bob).get("/listings/"))

    assert "Our own draft" in page
    assert "Moroccan farm workers, published" in page
    assert "Morocco&#x27;s private draft" not in page and "private draft" not in page
    assert "2 listings" in page
    # What a result says: owner and country, state, occupation line with its ISCO title, window.
    assert "Ministry of Economic Inclusion, Employment and Skills (Morocco)" in page
    assert 'class="tag tag--published"' in page and 'class="tag tag--draft"' in page
    assert "9211</span> Crop farm labourers: 500 workers" in page
    assert "2221</span> Nursing professionals: 40 places" in page
    assert 'href="/listings/export.csv"' in page


def test_signed_out_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/listings/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_search_words_and_occupation_picker_find_the_right_listings(
    client: Client, charlie: Any, italy_actor: Any, moderator: Any
) -> None:
    publish(create_listing(italy_actor, nursing_scheme()), italy_actor, moderator)
    publish(
        create_listing(italy_actor, seasonal_scheme(partner_countries=["MA"], allocations=[])), italy_actor, moderator
    )
    client = signed_in(client, charlie)

    # Full text in another language: "infirmiers" finds the nursing scheme through its occupation.
    page = text(client.get("/listings/", {"q": "infirmiers"}))
    assert "Hospital nurses for Lombardy" in page and "red-fruit" not in page

    # The ISCO picker: a group finds the unit groups in it; the suggestion's text works too.
    for value in ("22", "2221 — Nursing professionals"):
        page = text(client.get("/listings/", {"occupation": value}))
        assert "Hospital nurses for Lombardy" in page and "red-fruit" not in page, value
    page = text(client.get("/listings/", {"occupation": "92", "partner_country": ["MA"]}))
    assert "red-fruit" in page and "Hospital nurses" not in page

    # The link keeps the filters.
    assert 'href="/listings/export.csv?occupation=92&amp;partner_country=MA"' in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"occupation": "9999"}, "Enter an ISCO-08 code (1 to 4 digits)"),
        ({"sector": "ZZ"}, "Enter an ISIC Rev.4 section letter"),
        ({"status": "lost"}, "Select a valid choice"),
        ({"open": "perhaps"}, "Use true or false."),
        ({"window_start": days(30), "window_end": days(10)}, "window_end must not be before window_start."),
    ],
)
def test_a_bad_filter_is_shown_on_the_form_not_a_500(client: Client, bob: Any, params: Any, message: str) -> None:
    response = signed_in(client, bob).get("/listings/", params)
    assert response.status_code == 400
    page = text(response)
    assert "There is a problem" in page
    assert message in page
    assert "Correct the filters" in page


def test_csv_export_has_the_rows_and_the_same_filters(
    client: Client, charlie: Any, italy_actor: Any, moderator: Any
) -> None:
    publish(create_listing(italy_actor, nursing_scheme()), italy_actor, moderator)
    publish(create_listing(italy_actor, seasonal_scheme(partner_countries=[], allocations=[])), italy_actor, moderator)
    client = signed_in(client, charlie)

    def rows(params: dict[str, Any]) -> list[list[str]]:
        response = client.get("/listings/export.csv", params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        body = b"".join(response.streaming_content).decode()
        return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))

    everything = rows({})
    assert everything[0][:3] == ["id", "title", "direction"]  # the API's columns
    assert len(everything) == 3
    nursing = rows({"occupation": "2221"})
    assert [row[1] for row in nursing[1:]] == ["Hospital nurses for Lombardy"]
    assert "2221×40" in nursing[1]
    # A bad filter is the page with its error, not an unfiltered file.
    response = client.get("/listings/export.csv", {"occupation": "0000"})
    assert response.status_code == 400 and "There is a problem" in text(response)


def test_list_page_query_count_does_not_grow_with_listings(
    client: Client, bob: Any, italy_actor: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(12):
        create_listing(italy_actor, nursing_scheme(title=f"Scheme {n}"))
    client = signed_in(client, bob)
    client.get("/listings/")  # warm the per-process reference caches
    with django_assert_max_num_queries(12):
        response = client.get("/listings/", {"occupation": "22", "status": "draft"})
    assert text(response).count('<h3><a href="/listings/') == 12


def test_results_come_25_to_a_page_and_the_pages_keep_the_filters(client: Client, bob: Any, italy_actor: Any) -> None:
    for n in range(26):
        create_listing(italy_actor, nursing_scheme(title=f"Scheme {n}"))
    client = signed_in(client, bob)
    page = text(client.get("/listings/", {"status": "draft"}))
    assert page.count('<h3><a href="/listings/') == 25
    assert "Page 1 of 2" in page and 'href="?status=draft&amp;page=2"' in page
    assert text(client.get("/listings/", {"status": "draft", "page": "2"})).count('<h3><a href="/listings/') == 1


# --- One listing ------------------------------------------------------------------------------------


def test_another_governments_draft_is_a_404(client: Client, bob: Any, morocco_actor: Any) -> None:
    draft = create_listing(morocco_actor, worker_offer())
    client = signed_in(client, bob)
    assert client.get(f"/listings/{draft.pk}/").status_code == 404
    assert client.get(f"/listings/{draft.pk}/edit/").status_code == 404
    assert client.post(f"/listings/{draft.pk}/submit/").status_code == 404
    assert client.get("/listings/not-a-uuid/").status_code == 404


def test_detail_shows_every_part_of_the_listing_in_the_users_language(
    client: Client, bob: Any, italy_actor: Any, moderator: Any
) -> None:
    listing = create_listing(
        italy_actor,
        seasonal_scheme(
            occupation_lines=[
                {"isco_code": "2221", "quantity": 10, "languages": [{"language": "it", "level": "B2"}]},
                {"isco_code": "9211", "quantity": 90, "min_experience_years": 1},
            ],
            allocations=[{"country": "MA", "places": 60, "isco_code": "9211"}, {"country": "SN", "places": 20}],
            stay_overrides=[{"country": "SN", "max_stay_months": 6}],
        ),
    )
    client = signed_in(client, bob)
    page = text(client.get(f"/listings/{listing.pk}/"))
    assert "<h1>Seasonal red-fruit harvest, Huelva</h1>" in page
    assert "Nursing professionals" in page and "Italian B2" in page
    assert "Morocco" in page and "60" in page and "Senegal: at most 6 months" in page
    assert '<ul class="checklist">' in page
    assert re.search(r'<li class="yes">Housing provided: <strong>yes</strong>', page)
    assert re.search(r'<li class="no">Pension rights can be taken home: <strong>no</strong>', page)
    assert "1134.00 EUR" in page
    assert '<ol class="timeline">' in page and "Created" in page and "Alice" not in page
    # The owner's actions come from the workflow: a draft can be edited and submitted, not closed.
    assert f'href="/listings/{listing.pk}/edit/"' in page
    assert f'href="/listings/{listing.pk}/submit/"' in page
    assert f"/listings/{listing.pk}/close/" not in page

    french = text(client.get(f"/listings/{listing.pk}/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert 'lang="fr"' in french and "Cadres infirmiers" in french


def test_detail_shows_the_moderators_reason_and_the_history(
    client: Client, bob: Any, italy_actor: Any, moderator: Any
) -> None:
    from opportunities.services import listing_transition

    listing = create_listing(italy_actor, nursing_scheme())
    with tenant_scope(italy_actor):
        listing_transition(actor=italy_actor, listing=listing, action="submit")
    with tenant_scope(moderator):
        listing_transition(
            actor=moderator, listing=listing, action="request_changes", reason="Give the wage floor in euros."
        )
    client = signed_in(client, bob)
    page = text(client.get(f"/listings/{listing.pk}/"))
    assert "A moderator asked for changes" in page
    assert "Give the wage floor in euros." in page
    assert "Submitted for moderation → Changes requested" in page
    assert "Mona Moderator (International Labour Mobility Agency)" in page
    form = text(client.get(f"/listings/{listing.pk}/edit/"))
    assert "A moderator asked for changes." in form and "Give the wage floor in euros." in form


def test_a_moderator_sees_a_review_link_not_the_owners_buttons(client: Client, mona: Any, italy_actor: Any) -> None:
    from opportunities.services import listing_transition

    listing = create_listing(italy_actor, nursing_scheme())
    with tenant_scope(italy_actor):
        listing_transition(actor=italy_actor, listing=listing, action="submit")
    page = text(signed_in(client, mona).get(f"/listings/{listing.pk}/"))
    assert f'href="/moderation/{listing.pk}/"' in page
    assert f"/listings/{listing.pk}/edit/" not in page


# --- Create ---------------------------------------------------------------------------------------


def test_the_form_has_every_part_grouped_and_typed(client: Client, bob: Any) -> None:
    page = text(signed_in(client, bob).get("/listings/new/"))
    for legend in (
        "About the scheme",
        "Occupations",
        "Quotas and allocations",
        "Conditions",
        "Languages",
        "Dates",
        "Contact and visibility",
    ):
        assert f"<legend>{legend}</legend>" in page
    assert 'type="date" name="starts_on"' in page
    assert 'type="number" name="annual_cap"' in page
    assert 'data-formset="lines"' in page and "<template data-formset-template>" in page
    assert 'name="add_line"' in page
    assert 'name="lines-0-DELETE"' in page
    assert 'data-autocomplete="/api/v1/reference/occupations/"' in page
    assert '<option value="EUR">EUR — Euro</option>' in page
    # Italy is only a destination: demand is chosen for it.
    assert re.search(r'value="demand"[^>]*checked', page)


def test_create_with_valid_data_creates_the_listing_and_its_lines(client: Client, bob: Any, italy: Any) -> None:
    response = signed_in(client, bob).post("/listings/new/", form_data())
    assert response.status_code == 302, text(response)[:3000]
    listing = Listing.objects.get(title="Fruit pickers for Trentino")
    assert response["Location"] == f"/listings/{listing.pk}/"
    assert listing.owner == italy and listing.status == ListingStatus.DRAFT
    assert listing.partner_countries == ["MA", "TN"]
    assert listing.housing and listing.fair_recruitment and not listing.pension_portability
    assert str(listing.wage_floor_monthly) == "1400.50" and listing.currency == "EUR"
    assert listing.allocations == [{"country": "MA", "places": 200, "isco_code": ""}]
    assert listing.season_earliest_start == "09-01"
    lines = list(listing.occupation_lines.order_by("position"))
    assert [(line.occupation_id, line.quantity) for line in lines] == [("9211", 250), ("8341", 20)]
    assert lines[0].languages == [{"language": "it", "level": "A2"}]
    assert lines[1].skill_level == 2 and lines[1].min_experience_years == 2
    assert listing.total_quantity == 270
    assert any("saved as a draft" in m for m in messages_of(response))


@pytest.mark.parametrize(
    ("overrides", "anchor", "message"),
    [
        ({"lines-1-quantity": "0"}, "id_lines-1-quantity", "Ensure this value is greater than or equal to 1."),
        (
            {"ends_on": days(10), "application_deadline": days(5)},
            "id_ends_on",
            "The window must end on or after the day it starts",
        ),
        ({"lines-0-isco_code": "9999"}, "id_lines-0-isco_code", "Enter an ISCO-08 code (1 to 4 digits)"),
        ({"lines-0-level_1": ""}, "id_lines-0-level_1", "This field is required."),
        ({"allocations-0-places": "900"}, "allocations-group", "above the annual cap of 300"),
        ({"allocations-0-country": "SN"}, "allocations-group", "Allocations for countries that are not partners: SN"),
        ({"partner_countries": ["IT"]}, "id_partner_countries", "The owner's own country (IT) cannot be a partner."),
        ({"title": ""}, "id_title", "This field is required."),
        ({"wage_floor_monthly": "1200", "currency": ""}, "id_currency", "A wage floor needs its ISO 4217 currency."),
        ({"direction": "supply"}, "id_direction_0", "Only an origin government may post supply"),
        ({"season_earliest_start": "13-45"}, "id_season_earliest_start", "Use MM-DD"),
        (
            {"lines-TOTAL_FORMS": "1", "lines-0-isco_code": "", "lines-0-quantity": "", "lines-0-language_1": ""},
            "lines-group",
            "Give at least one occupation line.",
        ),
    ],
)
def test_create_with_errors_names_the_field_and_saves_nothing(
    client: Client, bob: Any, overrides: dict[str, Any], anchor: str, message: str
) -> None:
    data = form_data(**overrides)
    if overrides.get("lines-TOTAL_FORMS") == "1":
        data["lines-0-level_1"] = ""
    response = signed_in(client, bob).post("/listings/new/", data)
    assert response.status_code == 400
    page = text(response)
    summary = page.split('<div class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert f'href="#{anchor}"' in summary, summary
    assert message.replace("'", "&#x27;") in summary, summary
    assert Listing.objects.count() == 0
    # Everything typed is still there.
    assert 'value="Fruit pickers for Trentino"' in page or overrides.get("title") == ""


def test_several_errors_at_once_are_all_listed(client: Client, bob: Any) -> None:
    data = form_data(**{"lines-1-quantity": "0", "lines-0-isco_code": "nothing like this", "annual_cap": "lots"})
    page = text(signed_in(client, bob).post("/listings/new/", data))
    summary = page.split('<div class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "Occupation line 1, Occupation (ISCO-08): Enter an ISCO-08 code" in summary
    assert "Occupation line 2, Quantity: Ensure this value is greater than or equal to 1." in summary
    assert "Annual cap: A valid integer is required." in summary
    # The error is also next to its field.
    assert 'id="id_lines-1-quantity_error"' in page
    assert 'aria-describedby="id_lines-1-quantity_helptext id_lines-1-quantity_error"' in page
    assert Listing.objects.count() == 0


def test_add_line_without_javascript_keeps_what_was_typed(client: Client, bob: Any) -> None:
    data = form_data(**{"lines-1-quantity": "0"})  # an error is not reported until saving
    del data["save"]
    data["add_line"] = "1"
    response = signed_in(client, bob).post("/listings/new/", data)
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" not in page
    assert 'name="lines-TOTAL_FORMS" value="3"' in page
    assert 'value="Fruit pickers for Trentino"' in page
    assert 'name="lines-0-isco_code" value="9211 — Crop farm labourers"' in page
    assert 'name="lines-1-quantity" value="0"' in page
    assert re.search(r'name="lines-2-isco_code"[^>]*autofocus', page)
    assert re.search(r'<option value="MA" selected>', page)
    assert Listing.objects.count() == 0


def test_removing_a_row_without_javascript(client: Client, bob: Any) -> None:
    data = form_data(remove_row="lines-0")
    del data["save"]
    page = text(signed_in(client, bob).post("/listings/new/", data))
    assert 'name="lines-TOTAL_FORMS" value="1"' in page
    assert 'name="lines-0-isco_code" value="8341' in page
    # The remove checkbox drops a row when saving.
    response = client.post("/listings/new/", form_data(**{"lines-1-DELETE": "on"}))
    assert response.status_code == 302
    assert list(Listing.objects.get().occupation_lines.values_list("occupation_id", flat=True)) == ["9211"]


def test_agency_staff_cannot_post(client: Client, mona: Any) -> None:
    assert signed_in(client, mona).get("/listings/new/").status_code == 403


# --- Edit ------------------------------------------------------------------------------------


def test_editing_a_draft_changes_it_in_place(client: Client, bob: Any, italy_actor: Any) -> None:
    listing = create_listing(italy_actor, nursing_scheme())
    client = signed_in(client, bob)
    page = text(client.get(f"/listings/{listing.pk}/edit/"))
    assert 'value="Hospital nurses for Lombardy"' in page
    assert 'name="lines-0-isco_code" value="2221 — Nursing professionals"' in page
    assert re.search(r'<select name="lines-0-language_1"[^>]*>.*?<option value="it" selected>', page, re.S)

    response = client.post(f"/listings/{listing.pk}/edit/", form_data(title="Nurses and carers for Lombardy"))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.title == "Nurses and carers for Lombardy"
    assert listing.occupation_lines.count() == 2
    assert not ListingRevision.objects.exists()


def test_editing_a_published_listing_proposes_a_revision(
    client: Client, bob: Any, italy_actor: Any, moderator: Any
) -> None:
    listing = publish(create_listing(italy_actor, nursing_scheme()), italy_actor, moderator)
    client = signed_in(client, bob)
    page = text(client.get(f"/listings/{listing.pk}/edit/"))
    assert "This listing is published." in page and "stays live" in page

    response = client.post(f"/listings/{listing.pk}/edit/", form_data(title="Nurses, revised"), follow=True)
    listing.refresh_from_db()
    assert listing.title == "Hospital nurses for Lombardy"  # the published version stays live
    revision = ListingRevision.objects.get(listing=listing)
    assert revision.status == RevisionStatus.PENDING and revision.data["title"] == "Nurses, revised"
    page = text(response)
    assert "await moderation" in page
    assert "An edit awaits moderation" in page
    # Editing again starts from the proposal.
    assert 'value="Nurses, revised"' in text(client.get(f"/listings/{listing.pk}/edit/"))


def test_only_the_owners_editors_may_edit(
    client: Client, charlie: Any, italy: Any, italy_actor: Any, moderator: Any
) -> None:
    from tests.factories import member

    listing = publish(create_listing(italy_actor, nursing_scheme()), italy_actor, moderator)
    assert signed_in(client, charlie).get(f"/listings/{listing.pk}/edit/").status_code == 403
    viewer = member(italy, "viewer", email="vera@lavoro.gov.example")
    other = Client()
    other.force_login(viewer)
    assert other.get(f"/listings/{listing.pk}/").status_code == 200
    assert other.post(f"/listings/{listing.pk}/edit/", form_data()).status_code == 403


def test_a_submitted_listing_cannot_be_edited(client: Client, bob: Any, italy_actor: Any) -> None:
    from opportunities.services import listing_transition

    listing = create_listing(italy_actor, nursing_scheme())
    with tenant_scope(italy_actor):
        listing_transition(actor=italy_actor, listing=listing, action="submit")
    response = signed_in(client, bob).get(f"/listings/{listing.pk}/edit/", follow=True)
    assert "This listing is submitted for moderation: it cannot be edited now." in text(response)


# --- Workflow --------------------------------------------------------------------------------------


def test_submit_asks_first_then_submits(client: Client, bob: Any, italy_actor: Any) -> None:
    listing = create_listing(italy_actor, nursing_scheme())
    client = signed_in(client, bob)
    confirm = client.get(f"/listings/{listing.pk}/submit/")
    assert confirm.status_code == 200
    page = text(confirm)
    assert "Submit “Hospital nurses for Lombardy” for moderation?" in page
    assert f'action="/listings/{listing.pk}/submit/"' in page
    listing.refresh_from_db()
    assert listing.status == ListingStatus.DRAFT  # asking changes nothing

    response = client.post(f"/listings/{listing.pk}/submit/")
    assert response.status_code == 302 and response["Location"] == f"/listings/{listing.pk}/"
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SUBMITTED
    assert "is submitted for moderation" in " ".join(messages_of(response))


def test_close_records_the_reason(client: Client, bob: Any, italy_actor: Any, moderator: Any) -> None:
    listing = publish(create_listing(italy_actor, nursing_scheme()), italy_actor, moderator)
    client = signed_in(client, bob)
    assert 'name="reason"' in text(client.get(f"/listings/{listing.pk}/close/"))
    response = client.post(f"/listings/{listing.pk}/close/", {"reason": "All places filled."}, follow=True)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.CLOSED
    assert "All places filled." in text(response)
    assert listing.transitions.last().reason == "All places filled."


def test_a_transition_in_the_wrong_state_shows_the_conflict(client: Client, bob: Any, italy_actor: Any) -> None:
    listing = create_listing(italy_actor, nursing_scheme())
    client = signed_in(client, bob)
    response = client.post(f"/listings/{listing.pk}/withdraw/")
    assert response.status_code == 302
    assert "Cannot withdraw a listing that is draft." in messages_of(response)
    listing.refresh_from_db()
    assert listing.status == ListingStatus.DRAFT
    # Asking for a step the state does not allow says so too.
    response = client.get(f"/listings/{listing.pk}/close/", follow=True)
    assert "A listing that is draft cannot be closed." in text(response)


def test_a_transition_by_the_wrong_role_is_forbidden(
    client: Client, charlie: Any, mona: Any, italy_actor: Any, moderator: Any
) -> None:
    listing = publish(create_listing(italy_actor, nursing_scheme()), italy_actor, moderator)
    assert signed_in(client, charlie).post(f"/listings/{listing.pk}/close/").status_code == 403
    agency = Client()
    agency.force_login(mona)
    assert agency.post(f"/listings/{listing.pk}/withdraw/").status_code == 403
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PUBLISHED


def test_an_unknown_action_is_a_404(client: Client, bob: Any, italy_actor: Any) -> None:
    listing = create_listing(italy_actor, nursing_scheme())
    client = signed_in(client, bob)
    assert client.get(f"/listings/{listing.pk}/approve/").status_code == 404
    assert client.post(f"/listings/{listing.pk}/explode/").status_code == 404
