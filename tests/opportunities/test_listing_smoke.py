import pytest

from tests.conftest import token_client
from tests.opportunities.conftest import seasonal_scheme

pytestmark = pytest.mark.django_db


def test_an_official_posts_submits_and_a_moderator_publishes(spain, rosa, agency, mona):
    official = token_client(rosa, spain)
    created = official.post("/api/v1/listings/", seasonal_scheme(), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft" and body["total_quantity"] == 950
    assert body["occupation_lines"][0]["isco_title"] == "Crop farm labourers"
    assert body["occupation_lines"][0]["skill_level"] == 1
    lid = body["id"]
    assert official.post(f"/api/v1/listings/{lid}/submit/").json()["status"] == "submitted"
    moderator = token_client(mona, agency)
    approved = moderator.post(f"/api/v1/listings/{lid}/approve/")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "published"
    history = official.get(f"/api/v1/listings/{lid}/history/").json()
    assert [h["action"] for h in history] == ["created", "submit", "approve"]
