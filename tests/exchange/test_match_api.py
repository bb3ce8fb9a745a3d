"""The two governments of a match see it, talk about it and decide; nobody else sees anything."""

from __future__ import annotations

import pytest

from exchange.models import Match, Message
from tests.conftest import token_client
from tests.exchange.conftest import offer, published, scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def match(italy_official, moldova_actor, moderator):
    demand = published(italy_official, moderator, scheme(title="Seasonal agriculture, Piedmont"))
    supply = published(moldova_actor, moderator, offer(title="Moldovan farm workers"))
    return Match.objects.get(demand=demand, supply=supply)


@pytest.fixture
def italy_api(bob, italy):
    return token_client(bob, italy)


@pytest.fixture
def moldova_api(mihai, moldova):
    return token_client(mihai, moldova)


def test_both_governments_see_the_match_with_its_explanation(match, italy_api, moldova_api):
    for client in (italy_api, moldova_api):
        listed = client.get("/api/v1/matches/").json()["results"]
        assert [m["id"] for m in listed] == [str(match.id)]
        detail = client.get(f"/api/v1/matches/{match.id}/").json()
        assert detail["demand"]["title"] == "Seasonal agriculture, Piedmont"
        assert detail["demand"]["country"] == "IT" and detail["supply"]["country"] == "MD"
        assert detail["supply"]["owner"]["name"] == "Ministry of Labour and Social Protection"
        assert detail["explanation"]["occupations"][0]["level"] == "unit_group"
        assert detail["state"] == "suggested" and 0 <= detail["score"] <= 1


def test_a_listings_matches_are_listed_under_it(match, italy_api, moldova_api, charlie_api):
    assert [m["id"] for m in italy_api.get(f"/api/v1/listings/{match.demand_id}/matches/").json()["results"]] == [
        str(match.id)
    ]
    # Morocco may read the published scheme, but the match is not Morocco's.
    assert charlie_api.get(f"/api/v1/listings/{match.demand_id}/").status_code == 200
    assert charlie_api.get(f"/api/v1/listings/{match.demand_id}/matches/").json()["results"] == []


def test_everyone_else_gets_404(match, charlie_api, italy_api):
    italy_api.post(f"/api/v1/matches/{match.id}/interest/", {"message": "We are interested."}, format="json")
    assert charlie_api.get("/api/v1/matches/").json()["results"] == []
    for method, path in [
        ("get", ""),
        ("get", "messages/"),
        ("post", "messages/"),
        ("post", "interest/"),
        ("post", "accept/"),
        ("post", "decline/"),
    ]:
        response = getattr(charlie_api, method)(f"/api/v1/matches/{match.id}/{path}", {"message": "hi"}, format="json")
        assert response.status_code == 404, path
    assert Message.objects.count() == 1


def test_the_dialogue_from_interest_to_agreement(match, italy_api, moldova_api):
    interest = italy_api.post(
        f"/api/v1/matches/{match.id}/interest/", {"message": "Can you field 200 workers by March?"}, format="json"
    )
    assert interest.status_code == 200 and interest.json()["state"] == "interest_expressed"
    assert interest.json()["interest_by"]["name"] == "Ministry of Labour and Social Policies"
    # Interest can be expressed once.
    assert (
        moldova_api.post(f"/api/v1/matches/{match.id}/interest/", {"message": "Us too"}, format="json").status_code
        == 409
    )
    reply = moldova_api.post(
        f"/api/v1/matches/{match.id}/messages/", {"message": "Yes, with pre-departure training."}, format="json"
    )
    assert reply.status_code == 201
    assert Match.objects.get(pk=match.pk).state == "in_dialogue"
    thread = italy_api.get(f"/api/v1/matches/{match.id}/messages/").json()
    assert [m["body"] for m in thread] == ["Can you field 200 workers by March?", "Yes, with pre-departure training."]
    assert [m["organisation"]["name"] for m in thread] == [
        "Ministry of Labour and Social Policies",
        "Ministry of Labour and Social Protection",
    ]
    # The party that expressed interest does not decide.
    assert italy_api.post(f"/api/v1/matches/{match.id}/accept/").status_code == 403
    accepted = moldova_api.post(
        f"/api/v1/matches/{match.id}/accept/", {"reason": "Agreed at the joint committee."}, format="json"
    )
    assert accepted.status_code == 200 and accepted.json()["state"] == "agreed"
    assert accepted.json()["decision_reason"] == "Agreed at the joint committee."
    assert moldova_api.post(f"/api/v1/matches/{match.id}/decline/").status_code == 409


def test_a_decline_ends_the_dialogue(match, italy_api, moldova_api):
    moldova_api.post(f"/api/v1/matches/{match.id}/interest/", {"message": "Interested."}, format="json")
    declined = italy_api.post(
        f"/api/v1/matches/{match.id}/decline/", {"reason": "Quota already filled."}, format="json"
    )
    assert declined.json()["state"] == "declined"
    assert (
        italy_api.post(f"/api/v1/matches/{match.id}/messages/", {"message": "More?"}, format="json").status_code == 409
    )


def test_messages_need_interest_first_and_a_body(match, italy_api):
    assert (
        italy_api.post(f"/api/v1/matches/{match.id}/messages/", {"message": "Hello"}, format="json").status_code == 409
    )
    empty = italy_api.post(f"/api/v1/matches/{match.id}/interest/", {"message": "  "}, format="json")
    assert empty.status_code == 400 and "message" in empty.json()
    assert Match.objects.get(pk=match.pk).state == "suggested"


def test_viewers_read_but_do_not_take_part(match, italy):
    from tests.factories import member

    viewer = token_client(member(italy, "viewer", email="viewer@lavoro.gov.example"), italy)
    assert viewer.get(f"/api/v1/matches/{match.id}/").status_code == 200
    assert viewer.post(f"/api/v1/matches/{match.id}/interest/", {"message": "Hi"}, format="json").status_code == 403


@pytest.mark.parametrize(
    ("query", "field"), [("min_score=2", "min_score"), ("state=married", "state"), ("listing=nope", "listing")]
)
def test_bad_filters_are_400s_naming_the_field(match, italy_api, query, field):
    response = italy_api.get(f"/api/v1/matches/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_filters_narrow_the_list(match, italy_api):
    assert italy_api.get(f"/api/v1/matches/?listing={match.demand_id}").json()["count"] == 1
    assert italy_api.get("/api/v1/matches/?min_score=0.99").json()["count"] == 0
    assert italy_api.get("/api/v1/matches/?state=agreed").json()["count"] == 0
