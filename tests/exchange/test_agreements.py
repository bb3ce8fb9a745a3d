"""A partnership's agreement and joint committee: who reads which field, who writes, the review reminder.

Italy (Alice, admin; Bob, official) holds a partnership with Morocco (Charlie,
admin); Spain (Rosa) reads it only once it is public and in force; Mona moderates
at an agency and is never a member.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, OutboundEmail, User
from accounts.tenancy import Actor
from exchange.models import Event, Partnership
from exchange.models.partnerships import CommitteeMeeting, PartnershipAgreement
from exchange.partnerships.agreements import agreement_review_reminders_send
from tests.conftest import as_assertion, signed_in, token_client
from tests.exchange.factories import ChannelFactory, SubscriptionFactory
from tests.exchange.test_partnerships import (
    confirmed,  # noqa: F401 - a fixture
    detail,
    in_force_public,
    partnership,  # noqa: F401 - a fixture
    published,
    rosa,  # noqa: F401 - a fixture
    rosa_api,  # noqa: F401 - a fixture
    spain,  # noqa: F401 - a fixture
)
from tests.factories import member
from tests.opportunities.conftest import seasonal_scheme

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def agreement_url(p: dict[str, Any]) -> str:
    return detail(p, "agreement/")


def committee_url(p: dict[str, Any], what: str, pk: Any = None) -> str:
    return detail(p, f"committee/{what}/" + (f"{pk}/" if pk else ""))


AGREEMENT = {
    "summary": "Seasonal agricultural work, 5,000 places a year, no recruitment fees.",
    "text": "SIGNED-TEXT Article 1. The Parties agree ...",
    "review_on": "2027-06-01",
    "named_parties": ["Region of Sicily"],
}


@pytest.fixture
def recorded(confirmed: dict[str, Any], alice_api: APIClient) -> dict[str, Any]:  # noqa: F811 - a fixture
    response = alice_api.put(agreement_url(confirmed), AGREEMENT, format="json")
    assert response.status_code == 200, response.json()
    return confirmed


# --- The agreement -----------------------------------------------------------------------------


def test_a_confirmed_member_records_the_agreement_and_both_members_read_all_of_it(
    recorded: dict[str, Any], charlie_api: APIClient, italy: Any, morocco: Any
) -> None:
    body = charlie_api.get(agreement_url(recorded)).json()
    assert body["summary"] == AGREEMENT["summary"]
    assert body["text"] == AGREEMENT["text"]
    assert body["review_on"] == "2027-06-01"
    assert sorted(body["parties"][:2]) == sorted([italy.name, morocco.name])
    assert body["parties"][2:] == ["Region of Sicily"]
    with as_assertion():
        assert AuditEvent.objects.filter(action="partnership.agreement_recorded").count() == 1


def test_an_invited_government_reads_the_agreement_but_cannot_change_it(
    partnership: dict[str, Any],  # noqa: F811 - a fixture
    alice_api: APIClient,
    charlie_api: APIClient,
) -> None:
    assert alice_api.put(agreement_url(partnership), AGREEMENT, format="json").status_code == 200
    assert charlie_api.get(agreement_url(partnership)).json()["text"] == AGREEMENT["text"]
    refused = charlie_api.put(agreement_url(partnership), {"summary": "changed"}, format="json")
    assert refused.status_code == 403
    assert "Confirm" in refused.json()["detail"]


def test_a_public_reader_of_a_partnership_in_force_sees_the_summary_and_dates_but_never_the_signed_text(
    recorded: dict[str, Any],
    alice_api: APIClient,
    rosa_api: APIClient,  # noqa: F811 - a fixture
) -> None:
    assert rosa_api.get(agreement_url(recorded)).status_code == 404  # not yet public
    in_force_public(alice_api, recorded)
    body = rosa_api.get(agreement_url(recorded)).json()
    assert body["summary"] == AGREEMENT["summary"]
    assert body["signed_on"] == "2024-03-01"
    assert body["in_force_from"] == "2024-06-01"
    assert "text" not in body
    assert "SIGNED-TEXT" not in str(body)
    assert rosa_api.put(agreement_url(recorded), AGREEMENT, format="json").status_code == 403


def test_an_outsider_and_the_anonymous_caller_get_no_agreement(
    recorded: dict[str, Any], mona: User, agency: Any, anon_api: APIClient
) -> None:
    assert token_client(mona, agency).get(agreement_url(recorded)).status_code == 404
    assert anon_api.get(agreement_url(recorded)).status_code == 401


def test_a_review_date_before_the_signature_is_refused_naming_the_field_and_nothing_is_saved(
    confirmed: dict[str, Any],  # noqa: F811 - a fixture
    alice_api: APIClient,
) -> None:
    alice_api.patch(detail(confirmed), {"status": "signed", "signed_on": "2024-03-01"}, format="json")
    refused = alice_api.put(agreement_url(confirmed), {**AGREEMENT, "review_on": "2023-01-01"}, format="json")
    assert refused.status_code == 400
    assert "review_on" in str(refused.json())
    assert alice_api.get(agreement_url(confirmed)).status_code == 404


def test_a_partnership_without_an_agreement_says_so(
    confirmed: dict[str, Any],  # noqa: F811 - a fixture
    alice_api: APIClient,
) -> None:
    response = alice_api.get(agreement_url(confirmed))
    assert response.status_code == 404
    assert "No agreement" in response.json()["detail"]


# --- The committee ----------------------------------------------------------------------------


def test_members_keep_the_committee_its_meetings_with_minutes_and_its_decisions(
    recorded: dict[str, Any], alice_api: APIClient, charlie_api: APIClient, morocco: Any, italy: Any, alice: User
) -> None:
    seat = charlie_api.post(
        committee_url(recorded, "members"),
        {"name": "Karim Benali", "organisation": str(morocco.pk), "role": "co-chair"},
        format="json",
    )
    assert seat.status_code == 201, seat.json()
    minutes = alice_api.post(
        detail(recorded, "documents/"),
        {"file": SimpleUploadedFile("minutes.pdf", b"%PDF-1.7\nminutes"), "document_type": "minutes"},
        format="multipart",
    ).json()
    meeting = alice_api.post(
        committee_url(recorded, "meetings"),
        {"held_on": "2025-02-10", "title": "First meeting", "minutes": minutes["id"]},
        format="json",
    )
    assert meeting.status_code == 201, meeting.json()
    assert meeting.json()["minutes_url"].endswith(f"/documents/{minutes['id']}/download/")
    assert charlie_api.get(meeting.json()["minutes_url"]).status_code == 200

    decision = charlie_api.post(
        committee_url(recorded, "decisions"),
        {"decided_on": "2025-02-10", "text": "Raise the annual cap to 6,000.", "listings": []},
        format="json",
    )
    assert decision.status_code == 201, decision.json()
    changed = alice_api.patch(committee_url(recorded, "members", seat.json()["id"]), {"role": "chair"}, format="json")
    assert changed.json()["role"] == "chair"
    assert [m["name"] for m in alice_api.get(committee_url(recorded, "members")).json()["results"]] == ["Karim Benali"]
    assert alice_api.delete(committee_url(recorded, "decisions", decision.json()["id"])).status_code == 204
    assert alice_api.get(committee_url(recorded, "decisions")).json()["count"] == 0


def test_a_decision_names_only_schemes_grouped_in_the_partnership(
    recorded: dict[str, Any], alice_api: APIClient
) -> None:
    refused = alice_api.post(
        committee_url(recorded, "decisions"),
        {"decided_on": "2025-02-10", "text": "x", "listings": ["00000000-0000-0000-0000-000000000001"]},
        format="json",
    )
    assert refused.status_code == 400
    assert "listings" in str(refused.json())
    assert alice_api.get(committee_url(recorded, "decisions")).json()["count"] == 0


def test_a_committee_seat_belongs_to_a_confirmed_member_government(
    recorded: dict[str, Any], alice_api: APIClient, agency: Any
) -> None:
    refused = alice_api.post(
        committee_url(recorded, "members"), {"name": "Someone", "organisation": str(agency.pk)}, format="json"
    )
    assert refused.status_code == 400
    assert "organisation" in str(refused.json())


def test_the_committee_stays_with_the_members_even_on_a_public_partnership_in_force(
    recorded: dict[str, Any],
    alice_api: APIClient,
    charlie_api: APIClient,
    rosa_api: APIClient,  # noqa: F811 - a fixture
    morocco: Any,
) -> None:
    in_force_public(alice_api, recorded)
    seat = charlie_api.post(
        committee_url(recorded, "members"), {"name": "Karim Benali", "organisation": str(morocco.pk)}, format="json"
    ).json()
    for what in ("members", "meetings", "decisions"):
        assert rosa_api.get(committee_url(recorded, what)).status_code == 404
    assert rosa_api.get(committee_url(recorded, "members", seat["id"])).status_code == 404
    assert "Karim Benali" not in rosa_api.get(detail(recorded)).content.decode()
    assert "Karim Benali" not in rosa_api.get(agreement_url(recorded)).content.decode()


def test_a_viewer_reads_the_committee_but_cannot_change_it(recorded: dict[str, Any], italy: Any) -> None:
    viewer = token_client(member(italy, "viewer"), italy)
    assert viewer.get(committee_url(recorded, "members")).status_code == 200
    refused = viewer.post(
        committee_url(recorded, "members"), {"name": "X", "organisation": str(italy.pk)}, format="json"
    )
    assert refused.status_code == 403


def test_a_meeting_recorded_on_the_page_with_an_unacceptable_file_keeps_nothing(
    recorded: dict[str, Any], alice: User
) -> None:
    client = signed_in(alice)
    response = client.post(
        f"/partnerships/{recorded['id']}/committee/meetings/",
        {
            "meeting-held_on": "2025-02-10",
            "meeting-title": "Bad",
            "meeting-minutes_file": SimpleUploadedFile("m.exe", b"MZ..."),
        },
    )
    assert response.status_code == 400
    with as_assertion():
        assert not CommitteeMeeting.objects.exists()


def test_the_partnership_page_shows_the_committee_to_members_and_the_summary_to_public_readers(
    recorded: dict[str, Any],
    alice: User,
    alice_api: APIClient,
    charlie_api: APIClient,
    morocco: Any,
    rosa: User,  # noqa: F811
) -> None:
    charlie_api.post(
        committee_url(recorded, "members"), {"name": "Karim Benali", "organisation": str(morocco.pk)}, format="json"
    )
    in_force_public(alice_api, recorded)
    page = signed_in(alice).get(f"/partnerships/{recorded['id']}/").content.decode()
    assert "Karim Benali" in page and AGREEMENT["summary"] in page and "SIGNED-TEXT" in page
    public = signed_in(rosa).get(f"/partnerships/{recorded['id']}/").content.decode()
    assert AGREEMENT["summary"] in public
    assert "Karim Benali" not in public and "SIGNED-TEXT" not in public


def test_members_record_the_agreement_and_a_committee_seat_on_the_pages(
    confirmed: dict[str, Any],  # noqa: F811 - a fixture
    alice: User,
    morocco: Any,
) -> None:
    client = signed_in(alice)
    saved = client.post(
        f"/partnerships/{confirmed['id']}/agreement/",
        {
            "agreement-summary": "A summary",
            "agreement-text": "",
            "agreement-review_on": "2030-01-01",
            "agreement-named_parties": "Region of Sicily\n",
        },
    )
    assert saved.status_code == 302
    seat = client.post(
        f"/partnerships/{confirmed['id']}/committee/members/",
        {"member-name": "Karim Benali", "member-organisation": str(morocco.pk), "member-role": "co-chair"},
    )
    assert seat.status_code == 302
    page = client.get(f"/partnerships/{confirmed['id']}/").content.decode()
    assert "A summary" in page and "Karim Benali" in page and "Region of Sicily" in page
    bad = client.post(
        f"/partnerships/{confirmed['id']}/committee/members/", {"member-name": "", "member-organisation": ""}
    )
    assert bad.status_code == 400


# --- The review reminder ----------------------------------------------------------------------


def _agreement(partnership_id: str) -> PartnershipAgreement:
    with as_assertion():
        return PartnershipAgreement.objects.get(partnership_id=partnership_id)


def test_member_governments_are_reminded_once_before_the_review_date_and_their_admins_emailed(
    recorded: dict[str, Any], settings: Any, alice: User, charlie: User, italy: Any, morocco: Any
) -> None:
    settings.AGREEMENT_REVIEW_REMINDER_DAYS = 60
    with as_assertion():
        for org in (italy, morocco):  # an inbox each, so that the event has someone to reach
            ChannelFactory(subscription=SubscriptionFactory(organisation=org))
    review = datetime.date(2027, 6, 1)
    assert agreement_review_reminders_send(today=review - datetime.timedelta(days=61)) == 0
    assert agreement_review_reminders_send(today=review - datetime.timedelta(days=60)) == 1
    assert agreement_review_reminders_send(today=review - datetime.timedelta(days=59)) == 0  # once per date
    with as_assertion():
        event = Event.objects.get(type="agreement.review_due")
        recipients = sorted(
            OutboundEmail.objects.filter(key__startswith="agreement-review:").values_list("to", flat=True)
        )
    assert event.data["review_on"] == "2027-06-01"
    assert event.data["partnership_id"] == recorded["id"]
    with as_assertion():
        assert sorted(event.deliveries.values_list("organisation_id", flat=True)) == sorted([italy.pk, morocco.pk])
    assert recipients == sorted([alice.email, charlie.email])


def test_a_new_review_date_gets_its_own_reminder_and_a_past_one_none(
    recorded: dict[str, Any], alice_api: APIClient
) -> None:
    review = datetime.date(2027, 6, 1)
    assert agreement_review_reminders_send(today=review - datetime.timedelta(days=10)) == 1
    alice_api.put(agreement_url(recorded), {**AGREEMENT, "review_on": "2027-09-01"}, format="json")
    assert agreement_review_reminders_send(today=review - datetime.timedelta(days=10)) == 0  # not yet due
    assert agreement_review_reminders_send(today=datetime.date(2027, 8, 1)) == 1
    assert agreement_review_reminders_send(today=datetime.date(2027, 9, 2)) == 0  # past


def test_an_ended_partnership_is_not_reminded(recorded: dict[str, Any]) -> None:
    with as_assertion():
        Partnership.objects.filter(pk=recorded["id"]).update(
            status="ended", signed_on=datetime.date(2024, 1, 1), ends_on=datetime.date(2025, 1, 1)
        )
    assert agreement_review_reminders_send(today=datetime.date(2027, 5, 1)) == 0


def test_a_decision_names_the_grouped_scheme_it_changes(
    recorded: dict[str, Any], alice: User, italy: Any, moderator: Actor, alice_api: APIClient, charlie_api: APIClient
) -> None:
    scheme = published(Actor(user=alice, organisation=italy, role="admin"), moderator, seasonal_scheme())
    grouped = alice_api.patch(detail(recorded), {"listings": [str(scheme.pk)]}, format="json")
    assert grouped.status_code == 200, grouped.json()
    decision = charlie_api.post(
        committee_url(recorded, "decisions"),
        {"decided_on": "2025-03-01", "text": "Cap raised.", "listings": [str(scheme.pk)]},
        format="json",
    )
    assert decision.status_code == 201, decision.json()
    assert decision.json()["listings"] == [str(scheme.pk)]


# --- The public pages -------------------------------------------------------------------------


def test_anyone_reads_the_agreement_of_a_public_partnership_in_force_but_not_its_text_or_committee(
    recorded: dict[str, Any], alice_api: APIClient, charlie_api: APIClient, morocco: Any, client: Any
) -> None:
    charlie_api.post(
        committee_url(recorded, "members"), {"name": "Karim Benali", "organisation": str(morocco.pk)}, format="json"
    )
    url = f"/partnerships/public/{recorded['id']}/"
    assert client.get(url).status_code == 404  # members only until public and in force
    assert recorded["name"] not in client.get("/partnerships/public/").content.decode()
    in_force_public(alice_api, recorded)
    page = client.get(url).content.decode()
    assert AGREEMENT["summary"] in page and "Region of Sicily" in page and "1 Jun 2027" in page
    assert "SIGNED-TEXT" not in page and "Karim Benali" not in page and "minutes" not in page.lower()
    assert recorded["name"] in client.get("/partnerships/public/").content.decode()


def test_the_committee_lists_cost_the_same_queries_for_one_row_as_for_many(
    recorded: dict[str, Any], alice_api: APIClient, morocco: Any, italy: Any
) -> None:
    def count(what: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice_api.get(committee_url(recorded, what)).status_code == 200
        return len(queries)

    bodies = {
        "members": {"name": "Karim Benali", "organisation": str(morocco.pk), "role": "co-chair"},
        "meetings": {"held_on": "2025-02-10", "title": "Meeting"},
        "decisions": {"decided_on": "2025-02-10", "text": "A decision.", "listings": []},
    }
    for what, body in bodies.items():
        assert alice_api.post(committee_url(recorded, what), body, format="json").status_code == 201
        one = count(what)
        for _ in range(4):
            alice_api.post(committee_url(recorded, what), body, format="json")
        assert count(what) == one, what
