"""The outcomes ledger: who reads and writes it, what an entry must satisfy, the derived figures.

Italy (Alice, admin; Bob, official) runs a seasonal scheme open to Morocco (MA,
Charlie) and Moldova (MD, Mihai), with 30 places allocated to MA and 60 to MD and
a gender target of 30 %. Germany (Greta) reads the listing (members) but is not
admitted: its ledger is a 404 to her. The agency (Mona) reads it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Organisation, User
from accounts.tenancy import Actor, unscoped
from exchange.models import OutcomeEntry
from exchange.outcomes.summary import percent
from opportunities.models import Listing
from tests.conftest import token_client
from tests.exchange.conftest import published, scheme
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(italy: Organisation, bob: User, moderator: Actor) -> Listing:
    owner = Actor(user=bob, organisation=italy, role="official")
    return published(
        owner,
        moderator,
        scheme(
            partner_countries=["MA", "MD"],
            allocations=[{"country": "MA", "places": 30}, {"country": "MD", "places": 60}],
            gender_target_percent=30,
            occupation_lines=[{"isco_code": "9211", "quantity": 90}],
        ),
    )


@pytest.fixture
def year(listing: Listing) -> str:
    return str(listing.starts_on.year)


def url(listing: Listing, tail: str = "") -> str:
    return f"/api/v1/listings/{listing.pk}/outcomes/{tail}"


@pytest.fixture
def mihai_api(moldova: Organisation) -> APIClient:
    return token_client(member(moldova, "official", email="mihai@md.example"), moldova)


@pytest.fixture
def greta_api(germany: Organisation) -> APIClient:
    return token_client(member(germany, "official", email="greta@de.example"), germany)


@pytest.fixture
def mona_api(mona: User, agency: Organisation) -> APIClient:
    return token_client(mona, agency)


def post(client: APIClient, listing: Listing, **body: Any) -> Any:
    return client.post(url(listing), body, format="json")


def record(client: APIClient, listing: Listing, **body: Any) -> dict[str, Any]:
    body = {"origin_country": "MD", "sex": "X", **body}
    response = post(client, listing, **body)
    assert response.status_code == 201, response.json()
    return dict(response.json())


def one(client: APIClient, listing: Listing, year: str) -> Any:
    return post(client, listing, origin_country="MD", stage="selected", sex="X", count=1, period=year)


def summary(client: APIClient, listing: Listing) -> dict[str, Any]:
    response = client.get(url(listing, "summary/"))
    assert response.status_code == 200, response.json()
    return dict(response.json())


def field_of(response: Any) -> set[str]:
    assert response.status_code == 400, response.json()
    body = response.json()
    names = set(body.get("fields", body).keys()) if isinstance(body, dict) else set()
    return names


# --- The hand-computed examples ------------------------------------------------------------------


def test_twenty_selected_of_whom_five_women_miss_a_thirty_percent_target(bob_api, listing, year):
    record(bob_api, listing, stage="selected", sex="F", count=5, period=year)
    record(bob_api, listing, stage="selected", sex="M", count=15, period=year)
    figures = summary(bob_api, listing)["by_origin"]["MD"]
    assert figures["women_share"]["selected"] == {"target": 30.0, "actual": 25.0, "met": False}
    assert (figures["quota"], figures["quota_used"], figures["quota_remaining"]) == (60, 20, 40)


def test_forty_seven_arrived_and_eighteen_returned_give_a_return_rate_of_38_3(bob_api, listing, year):
    record(bob_api, listing, stage="arrived", count=47, period=year)
    record(bob_api, listing, stage="returned", count=18, period=year)
    record(bob_api, listing, stage="completed", count=40, period=year)
    record(bob_api, listing, stage="re_engaged", count=9, period=year)
    figures = summary(bob_api, listing)
    for block in (figures["total"], figures["by_origin"]["MD"]):
        assert block["return_rate"] == 38.3
        assert block["completion_rate"] == 85.1  # 40 / 47
        assert block["re_engagement_rate"] == 50.0  # 9 / 18


def test_a_rate_with_no_denominator_is_null_and_one_decimal_rounds_half_up():
    assert percent(5, 0) is None
    assert percent(18, 47) == 38.3
    assert percent(1, 8) == 12.5
    assert percent(1, 16) == 6.3  # 6.25 → 6.3


def test_the_total_adds_the_origins_and_their_quotas(bob_api, listing, year):
    record(bob_api, listing, stage="selected", sex="F", count=10, period=year, origin_country="MA")
    record(bob_api, listing, stage="selected", sex="M", count=10, period=year, origin_country="MD")
    total = summary(bob_api, listing)["total"]
    assert (total["quota"], total["quota_used"], total["quota_remaining"]) == (90, 20, 70)
    assert total["women_share"]["selected"]["actual"] == 50.0 and total["women_share"]["selected"]["met"] is True
    assert total["women_share"]["arrived"] == {"target": 30.0, "actual": None, "met": None}


def test_not_recorded_sex_is_left_out_of_the_womens_share(bob_api, listing, year):
    record(bob_api, listing, stage="allocated", sex="X", count=50, period=year)
    record(bob_api, listing, stage="allocated", sex="F", count=5, period=year)
    record(bob_api, listing, stage="allocated", sex="M", count=5, period=year)
    assert summary(bob_api, listing)["by_origin"]["MD"]["women_share"]["allocated"]["actual"] == 50.0


# --- Stage order and allocation ------------------------------------------------------------------

ORDER = [
    # (earlier stage, count), (later stage, count) that breaks the rule
    (("allocated", 10), ("nominated", 11)),
    (("nominated", 10), ("selected", 11)),
    (("selected", 10), ("visa_issued", 11)),
    (("visa_issued", 10), ("arrived", 11)),
    (("arrived", 10), ("completed", 11)),
    (("arrived", 10), ("returned", 11)),
    (("returned", 10), ("re_engaged", 11)),
    (("nominated", 10), ("withdrawn", 11)),
]


@pytest.mark.parametrize(("earlier", "later"), ORDER)
def test_it_refuses_a_stage_total_above_an_earlier_stage(bob_api, listing, year, earlier, later):
    record(bob_api, listing, stage=earlier[0], count=earlier[1], period=year)
    record(bob_api, listing, stage=later[0], count=later[1] - 2, period=year, sex="F")
    response = post(bob_api, listing, origin_country="MD", stage=later[0], sex="M", count=2, period=year)
    assert field_of(response) == {"count"}
    with unscoped("assertion"):
        assert OutcomeEntry.objects.filter(listing=listing).count() == 2  # nothing half-saved


def test_it_refuses_an_earlier_stage_below_a_later_one_recorded_first(bob_api, listing, year):
    record(bob_api, listing, stage="arrived", count=20, period=year)
    response = post(bob_api, listing, origin_country="MD", stage="visa_issued", sex="X", count=19, period=year)
    assert field_of(response) == {"count"}


def test_an_unreported_earlier_stage_does_not_constrain(bob_api, listing, year):
    record(bob_api, listing, stage="arrived", count=20, period=year)
    record(bob_api, listing, stage="allocated", count=25, period=year)


def test_stages_are_compared_within_one_origin_line_and_period(bob_api, listing, year):
    record(bob_api, listing, stage="arrived", count=20, period=year)
    record(bob_api, listing, stage="returned", count=20, period=f"{year}-11")  # another period
    record(bob_api, listing, stage="returned", count=20, period=year, origin_country="MA")


@pytest.mark.parametrize("stage", ["allocated", "selected"])
def test_it_refuses_allocated_or_selected_above_the_origins_allocation(bob_api, listing, year, stage):
    record(bob_api, listing, stage=stage, count=40, period=f"{year}-05", origin_country="MD")
    response = post(bob_api, listing, origin_country="MD", stage=stage, sex="X", count=21, period=f"{year}-06")
    assert field_of(response) == {"count"}
    record(bob_api, listing, stage=stage, count=20, period=f"{year}-06")  # exactly the allocation: 60


# --- The entry's own fields ----------------------------------------------------------------------


def test_it_refuses_an_origin_the_listing_does_not_admit(bob_api, listing, year):
    response = post(bob_api, listing, origin_country="PH", stage="selected", sex="F", count=1, period=year)
    assert field_of(response) == {"origin_country"}


def test_it_refuses_a_negative_count(bob_api, listing, year):
    response = post(bob_api, listing, origin_country="MD", stage="selected", sex="F", count=-1, period=year)
    assert field_of(response) == {"count"}


@pytest.mark.parametrize("shift", [-2, 2])
def test_it_refuses_a_period_outside_the_widened_window(bob_api, listing, shift):
    period = str(listing.starts_on.year + shift if shift < 0 else listing.ends_on.year + shift)
    response = post(bob_api, listing, origin_country="MD", stage="selected", sex="F", count=1, period=period)
    assert field_of(response) == {"period"}


def test_a_period_a_year_around_the_window_is_allowed(bob_api, listing):
    record(bob_api, listing, stage="allocated", count=1, period=str(listing.starts_on.year - 1))
    last = listing.ends_on.replace(year=listing.ends_on.year + 1)
    record(bob_api, listing, stage="allocated", count=1, period=last.strftime("%Y-%m"))


@pytest.mark.parametrize("period", ["25", "2025-13", "2025-4", "next year"])
def test_it_refuses_a_period_of_another_shape(bob_api, listing, period):
    response = post(bob_api, listing, origin_country="MD", stage="selected", sex="F", count=1, period=period)
    assert field_of(response) == {"period"}


def test_it_refuses_an_occupation_that_is_not_a_line_of_the_listing(bob_api, listing, year):
    response = post(
        bob_api, listing, origin_country="MD", stage="selected", sex="F", count=1, period=year, isco_code="2221"
    )
    assert field_of(response) == {"isco_code"}
    record(bob_api, listing, stage="selected", count=1, period=year, isco_code="9211")


def test_unknown_stage_and_sex_are_refused(bob_api, listing, year):
    response = post(bob_api, listing, origin_country="MD", stage="hired", sex="W", count=1, period=year)
    assert field_of(response) == {"stage", "sex"}


# --- Corrections ---------------------------------------------------------------------------------


def test_a_correction_supersedes_its_entry_in_the_summary_and_the_original_stays(bob_api, listing, year):
    first = record(bob_api, listing, stage="selected", sex="F", count=5, period=year)
    fixed = record(
        bob_api, listing, stage="selected", sex="F", count=8, period=year, corrects=first["id"], reason="typo"
    )
    assert summary(bob_api, listing)["by_origin"]["MD"]["stages"]["selected"]["F"] == 8
    rows = bob_api.get(url(listing)).json()["results"]
    assert [(row["id"], row["corrects"], row["corrected_by"]) for row in rows] == [
        (first["id"], None, fixed["id"]),
        (fixed["id"], first["id"], None),
    ]


def test_a_correction_needs_a_reason_and_an_entry_not_corrected_already(bob_api, listing, year):
    first = record(bob_api, listing, stage="selected", sex="F", count=5, period=year)
    response = post(
        bob_api, listing, origin_country="MD", stage="selected", sex="F", count=6, period=year, corrects=first["id"]
    )
    assert field_of(response) == {"reason"}
    record(bob_api, listing, stage="selected", sex="F", count=6, period=year, corrects=first["id"], reason="recount")
    again = post(
        bob_api,
        listing,
        origin_country="MD",
        stage="selected",
        sex="F",
        count=7,
        period=year,
        corrects=first["id"],
        reason="again",
    )
    assert field_of(again) == {"corrects"}


def test_a_correction_is_checked_against_the_pipeline_without_what_it_replaces(bob_api, listing, year):
    arrived = record(bob_api, listing, stage="arrived", count=20, period=year)
    record(bob_api, listing, stage="returned", count=15, period=year)
    response = post(
        bob_api,
        listing,
        origin_country="MD",
        stage="arrived",
        sex="X",
        count=10,
        period=year,
        corrects=arrived["id"],
        reason="double counted",
    )
    assert field_of(response) == {"count"}  # 15 returned > 10 arrived
    record(bob_api, listing, stage="arrived", count=16, period=year, corrects=arrived["id"], reason="double counted")


def test_a_correction_keeps_the_origin_country(bob_api, listing, year):
    first = record(bob_api, listing, stage="selected", sex="F", count=5, period=year)
    response = post(
        bob_api,
        listing,
        origin_country="MA",
        stage="selected",
        sex="F",
        count=5,
        period=year,
        corrects=first["id"],
        reason="wrong country",
    )
    assert field_of(response) == {"origin_country"}


def test_the_database_refuses_to_update_or_delete_an_entry(bob_api, listing, year):
    entry = record(bob_api, listing, stage="selected", sex="F", count=5, period=year)
    with unscoped("assertion"):
        for statement in (
            lambda: OutcomeEntry.objects.filter(pk=entry["id"]).update(count=50),
            lambda: OutcomeEntry.objects.filter(pk=entry["id"]).delete(),
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                statement()
        with connection.cursor() as cursor, pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("UPDATE exchange_outcomeentry SET count = 0")
        assert OutcomeEntry.objects.get(pk=entry["id"]).count == 5


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_entries_cannot_be_changed_through_the_api(bob_api, listing, method):
    assert getattr(bob_api, method)(url(listing), {}, format="json").status_code == 405


# --- Who reads and who writes --------------------------------------------------------------------


def test_the_owner_writes_for_every_origin_and_an_origin_for_its_own_only(bob_api, mihai_api, listing, year):
    record(bob_api, listing, stage="selected", count=1, period=year, origin_country="MA")
    entry = record(mihai_api, listing, stage="selected", count=1, period=year, origin_country="MD")
    assert entry["organisation"]["name"] and entry["reported_by"]["email"] == "mihai@md.example"
    refused = post(mihai_api, listing, origin_country="MA", stage="selected", sex="X", count=1, period=year)
    assert refused.status_code == 403


def test_the_other_government_sees_the_organisation_not_the_person(bob_api, mihai_api, listing, year):
    record(mihai_api, listing, stage="selected", count=1, period=year)
    rows = bob_api.get(url(listing)).json()["results"]
    assert (
        rows[0]["reported_by"] is None and rows[0]["organisation"]["name"] == "Ministry of Labour and Social Protection"
    )


def test_agencies_read_but_do_not_write(mona_api, bob_api, listing, year):
    record(bob_api, listing, stage="selected", count=1, period=year)
    assert mona_api.get(url(listing)).status_code == 200
    assert mona_api.get(url(listing, "summary/")).status_code == 200
    assert one(mona_api, listing, year).status_code == 403


def test_viewers_of_the_owner_read_but_do_not_write(italy, listing, year):
    viewer = token_client(member(italy, "viewer", email="viewer@it.example"), italy)
    assert viewer.get(url(listing)).status_code == 200
    assert one(viewer, listing, year).status_code == 403


@pytest.mark.parametrize("tail", ["", "summary/", "export.csv", "summary.csv"])
def test_a_government_that_reads_the_listing_but_is_not_admitted_gets_404(greta_api, listing, tail):
    assert greta_api.get(f"/api/v1/listings/{listing.pk}/").status_code == 200
    assert greta_api.get(url(listing, tail)).status_code == 404


def test_a_government_not_admitted_cannot_post_or_import(greta_api, listing, year):
    assert (
        post(greta_api, listing, origin_country="MD", stage="selected", sex="X", count=1, period=year).status_code
        == 404
    )
    upload = {"file": SimpleUploadedFile("o.csv", b"origin_country,period,stage,sex,count\n")}
    assert greta_api.post(url(listing, "import/"), upload, format="multipart").status_code == 404


def test_anonymous_callers_are_refused(anon_api, listing):
    assert anon_api.get(url(listing)).status_code in (401, 403)
    assert anon_api.get(url(listing, "summary/")).status_code in (401, 403)


def test_a_draft_or_a_supply_listing_has_no_ledger(bob_api, italy, bob):
    from tests.opportunities.conftest import create_listing

    draft = create_listing(Actor(user=bob, organisation=italy, role="official"), scheme(partner_countries=["MD"]))
    assert bob_api.get(url(draft)).status_code == 404


# --- Filters, CSV and the query count ------------------------------------------------------------


def test_the_history_filters_by_origin_period_and_stage(bob_api, listing, year):
    record(bob_api, listing, stage="selected", count=1, period=year, origin_country="MA")
    record(bob_api, listing, stage="arrived", count=1, period=f"{year}-06", origin_country="MD")
    assert len(bob_api.get(url(listing), {"origin_country": "ma"}).json()["results"]) == 1
    assert len(bob_api.get(url(listing), {"period": f"{year}-06"}).json()["results"]) == 1
    assert len(bob_api.get(url(listing), {"stage": "arrived"}).json()["results"]) == 1


def test_the_csv_exports_list_every_entry_and_every_figure(bob_api, listing, year):
    record(bob_api, listing, stage="arrived", count=47, period=year)
    record(bob_api, listing, stage="returned", count=18, period=year)
    export = b"".join(bob_api.get(url(listing, "export.csv")).streaming_content).decode()
    assert export.startswith("\ufeffid,origin_country,period,stage,sex,count") and export.count("\n") == 3
    figures = b"".join(bob_api.get(url(listing, "summary.csv")).streaming_content).decode()
    assert "MD,arrived,0,0,47,47" in figures and ",38.3," in figures


def test_the_summary_runs_a_fixed_number_of_queries_whatever_the_entries(bob_api, listing, year):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            summary(bob_api, listing)
        return len(queries)

    record(bob_api, listing, stage="allocated", count=60, period=year)
    few = count()
    for month in range(1, 10):
        record(bob_api, listing, stage="selected", sex="F", count=1, period=f"{year}-{month:02d}")
        record(bob_api, listing, stage="selected", sex="M", count=1, period=f"{year}-{month:02d}", origin_country="MA")
    assert count() == few <= 8


# --- The CSV import ------------------------------------------------------------------------------

HEAD = "origin_country,isco_code,period,stage,sex,count,corrects,reason\n"


def upload(client: APIClient, listing: Listing, text: str) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            url(listing, "import/"), {"file": SimpleUploadedFile("o.csv", text.encode())}, format="multipart"
        )


def test_an_import_saves_every_row(bob_api, listing, year):
    text = HEAD + f"MD,9211,{year},arrived,F,20,,\nMD,9211,{year},returned,F,8,,\nMA,,{year},selected,M,3,,\n"
    response = upload(bob_api, listing, text)
    assert response.status_code == 202
    job = bob_api.get(response["Location"]).json()
    assert (job["status"], job["saved"], job["processed"], job["total"]) == ("succeeded", 3, 3, 3), job
    assert summary(bob_api, listing)["by_origin"]["MD"]["return_rate"] == 40.0


def test_an_import_saves_nothing_when_a_row_fails(bob_api, listing, year):
    text = HEAD + f"MD,,{year},arrived,F,20,,\nMD,,{year},returned,F,21,,\nPH,,{year},selected,F,1,,\n"
    job = bob_api.get(upload(bob_api, listing, text)["Location"]).json()
    assert job["status"] == "failed" and job["saved"] == 0
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(3, "count"), (4, "origin_country")]
    assert bob_api.get(url(listing)).json()["results"] == []


def test_an_origin_government_imports_for_its_own_country_only(mihai_api, listing, year):
    text = HEAD + f"MD,,{year},selected,F,2,,\nMA,,{year},selected,F,1,,\n"
    job = mihai_api.get(upload(mihai_api, listing, text)["Location"]).json()
    assert job["status"] == "failed" and [(e["row"], e["column"]) for e in job["errors"]] == [(3, "origin_country")]


def test_an_import_can_correct_an_entry(bob_api, listing, year):
    first = record(bob_api, listing, stage="selected", sex="F", count=5, period=year)
    job = bob_api.get(upload(bob_api, listing, HEAD + f"MD,,{year},selected,F,7,{first['id']},recount\n")["Location"])
    assert job.json()["status"] == "succeeded"
    assert summary(bob_api, listing)["by_origin"]["MD"]["stages"]["selected"]["F"] == 7


def test_an_import_is_read_by_its_organisation_only(bob_api, mihai_api, listing, year):
    response = upload(bob_api, listing, HEAD + f"MD,,{year},selected,F,2,,\n")
    assert mihai_api.get(response["Location"]).status_code == 404


def test_an_import_without_the_required_columns_fails_on_the_header(bob_api, listing):
    job = bob_api.get(upload(bob_api, listing, "origin_country,period\nMD,2026\n")["Location"]).json()
    assert job["status"] == "failed" and {e["column"] for e in job["errors"]} == {"stage", "sex", "count"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_runs_in_a_real_celery_worker_on_redis(celery_worker, bob_api, listing, year):
    rows = "".join(f"MD,,{year}-{month:02d},selected,F,{month},,\n" for month in range(1, 11))
    response = bob_api.post(
        url(listing, "import/"), {"file": SimpleUploadedFile("o.csv", (HEAD + rows).encode())}, format="multipart"
    )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = bob_api.get(response["Location"]).json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert (job["status"], job["saved"]) == ("succeeded", 10), job
    assert summary(bob_api, listing)["by_origin"]["MD"]["quota_used"] == 55


def test_the_history_runs_a_fixed_number_of_queries_whatever_the_entries(bob_api, mihai_api, listing, year):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert bob_api.get(url(listing)).status_code == 200
        return len(queries)

    record(bob_api, listing, stage="allocated", count=60, period=year)
    few = count()
    for month in range(1, 6):
        record(mihai_api, listing, stage="selected", sex="F", count=1, period=f"{year}-{month:02d}")
        record(bob_api, listing, stage="selected", sex="M", count=1, period=f"{year}-{month:02d}")
    assert count() == few


def test_a_form_encoded_entry_is_read_like_a_json_one(bob_api, listing, year):
    body = {"origin_country": "MD", "period": year, "stage": "selected", "sex": "F", "count": "3"}
    response = bob_api.post(url(listing), body)
    assert response.status_code == 201 and response.json()["count"] == 3


def test_the_ledger_readers_are_the_owner_the_admitted_origins_and_the_agencies(
    listing, italy, morocco, moldova, germany, agency
):
    from exchange.access import outcome_readers

    with unscoped("assertion"):
        readers = set(outcome_readers(listing))
    assert readers == {italy, morocco, moldova, agency}


def test_an_entry_may_name_an_agreed_match_of_the_listing_only(bob_api, listing, year, moldova, moderator):
    from django.utils import timezone

    from exchange.models import Match
    from tests.exchange.conftest import offer

    md = Actor(user=member(moldova, "official", email="md-offers@md.example"), organisation=moldova, role="official")
    made = {}
    for state in ("agreed", "suggested"):
        supply = published(md, moderator, offer(title=f"Moldovan workers ({state})", partner_countries=["IT"]))
        with unscoped("test setup: a match as the engine writes it"):
            made[state], _ = Match.objects.update_or_create(
                demand=listing,
                supply=supply,
                defaults={
                    "demand_owner": listing.owner,
                    "supply_owner": moldova,
                    "score": 0.5,
                    "computed_at": timezone.now(),
                    "state": state,
                },
            )
    entry = record(bob_api, listing, stage="selected", count=1, period=year, match=str(made["agreed"].pk))
    assert entry["match"] == str(made["agreed"].pk)
    suggested = str(made["suggested"].pk)
    refused = post(
        bob_api, listing, origin_country="MD", stage="selected", sex="X", count=1, period=year, match=suggested
    )
    assert field_of(refused) == {"match"}


def test_a_closed_scheme_keeps_its_ledger(bob_api, bob, italy, listing, year):
    from accounts.tenancy import tenant_scope
    from opportunities.services import listing_transition

    owner = Actor(user=bob, organisation=italy, role="official")
    with tenant_scope(owner):
        listing_transition(actor=owner, listing=listing, action="close")
    record(bob_api, listing, stage="arrived", count=5, period=year)
    assert summary(bob_api, listing)["by_origin"]["MD"]["stages"]["arrived"]["total"] == 5


@pytest.mark.parametrize(
    "overrides",
    [
        {"partner_countries": ["MA", "MD"], "visibility": "members"},
        {"partner_countries": ["MD"], "visibility": "partners"},
        {"partner_countries": [], "visibility": "public"},
        {"partner_countries": ["MA"], "visibility": "partners", "allocations": [{"country": "MA", "places": 5}]},
    ],
)
def test_the_ledger_read_rule_and_its_inverse_agree(
    overrides, italy, bob, moderator, morocco, moldova, germany, agency
):
    from exchange.access import ledger_listings_visible_to, ledger_readable_by, outcome_readers

    owner = Actor(user=bob, organisation=italy, role="official")
    listing = published(owner, moderator, scheme(**overrides))
    with unscoped("assertion"):
        readers = set(outcome_readers(listing))
    for org in (italy, morocco, moldova, germany, agency):
        role = "moderator" if org == agency else "viewer"
        actor = Actor(user=member(org, role, email=f"{role}@{org.slug}.rule.example"), organisation=org, role=role)
        with unscoped("the rule, as a request would ask it"):
            reads = ledger_listings_visible_to(actor=actor).filter(pk=listing.pk).exists()
        assert reads == (org in readers) == ledger_readable_by(actor, listing), (org, overrides)
