"""The profile page, the language it sets and the organisation switcher."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Organisation, User
from accounts.services import membership_add

PROFILE = "/accounts/profile/"
SWITCH = "/accounts/organisation/switch/"

pytestmark = pytest.mark.django_db


def test_the_profile_needs_a_signed_in_user(client: Client, db: None) -> None:
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PROFILE}"


def test_choosing_french_changes_the_page_language(client: Client, alice: User) -> None:
    client.force_login(alice)
    response = client.post(PROFILE, {"full_name": "Alice R.", "language": "fr", "time_zone": "Europe/Rome"})
    assert response.status_code == 302

    alice.refresh_from_db()
    assert (alice.full_name, alice.language, alice.time_zone) == ("Alice R.", "fr", "Europe/Rome")
    assert '<html lang="fr"' in client.get(PROFILE).content.decode()


def test_an_empty_language_follows_the_browser(client: Client, alice: User) -> None:
    client.force_login(alice)
    client.post(PROFILE, {"full_name": "Alice", "language": "", "time_zone": "UTC"})
    html = client.get(PROFILE, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es"' in html


def test_an_unknown_time_zone_is_refused(client: Client, alice: User) -> None:
    client.force_login(alice)
    response = client.post(PROFILE, {"full_name": "Alice", "language": "", "time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    alice.refresh_from_db()
    assert alice.time_zone == "UTC"


def test_an_unknown_language_is_refused(client: Client, alice: User) -> None:
    client.force_login(alice)
    response = client.post(PROFILE, {"full_name": "Alice", "language": "xx", "time_zone": "UTC"})
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.language == ""


def test_the_header_language_chooser_also_updates_a_chosen_profile_language(client: Client, alice: User) -> None:
    client.force_login(alice)
    client.post(PROFILE, {"full_name": "Alice", "language": "fr", "time_zone": "UTC"})
    client.post("/accounts/language/", {"language": "es", "next": "/"})
    alice.refresh_from_db()
    assert alice.language == "es"
    assert '<html lang="es"' in client.get(PROFILE).content.decode()


def test_the_switcher_changes_the_current_organisation(
    client: Client, alice: User, italy: Organisation, morocco: Organisation
) -> None:
    membership_add(organisation=morocco, user=alice, role="viewer")
    client.force_login(alice)
    response = client.post(SWITCH, {"organisation": str(morocco.pk), "next": PROFILE})
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert client.session["corridor_organisation"] == str(morocco.pk)
    assert f"Acting for <strong>{morocco.name}</strong>" in client.get(PROFILE).content.decode()


def test_the_switcher_refuses_an_organisation_one_does_not_belong_to(
    client: Client, alice: User, morocco: Organisation
) -> None:
    client.force_login(alice)
    client.post(SWITCH, {"organisation": str(morocco.pk)})
    assert "corridor_organisation" not in client.session
