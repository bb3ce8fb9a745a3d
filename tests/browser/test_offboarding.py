"""Offboarding in a real browser: an administrator removes an official through the one
confirmation page, picks the member who takes over what the official owned, and sees
the result; the official's own browser is signed out."""

from __future__ import annotations

import re
from typing import Any

from accounts.models import Membership, Organisation, User
from accounts.tenancy import Actor, unscoped
from opportunities.models import Listing
from tests.factories import member
from tests.opportunities.conftest import create_listing, seasonal_scheme


def test_an_admin_removes_an_official_and_transfers_what_they_owned(
    visitor_factory: Any, alice: User, bob: User, italy: Organisation
) -> None:
    carla = member(italy, "official", email="carla@lavoro.gov.example", full_name="Carla Verdi")
    listing = create_listing(
        Actor(user=bob, organisation=italy, role="official"),
        seasonal_scheme(title="Tomato harvest 2027", contact=str(bob.pk)),
    )
    # Bob is signed in on his own computer.
    bobs = visitor_factory()
    bobs.sign_in_as(bob)
    bobs.go("/accounts/profile/")

    admin = visitor_factory()
    page = admin.page
    admin.sign_in_as(alice)
    admin.go("/accounts/organisation/members/")
    admin.reset()
    page.get_by_role("link", name="Remove Bob Bianchi").click()
    admin.check(screenshot="offboarding-confirm")

    # One page says what moves (counts and titles), what ends, and asks to whom.
    assert page.get_by_role("heading", level=1).inner_text() == "Remove a member"
    moves = page.locator("#what-moves")
    assert moves.get_by_role("row", name=re.compile("Listings naming them as the contact")).inner_text().split(
        "\t"
    ) == ["Listings naming them as the contact", "1", "Tomato harvest 2027"]
    assert page.get_by_text("Every session of theirs ends, on every device").is_visible()
    page.get_by_label("Transfer what they own to").select_option(label="Carla Verdi (carla@lavoro.gov.example)")
    admin.reset()
    page.get_by_role("button", name="Transfer and remove member").click()
    admin.check()

    assert page.url.endswith("/accounts/organisation/members/")
    assert page.get_by_text(
        "Bob Bianchi is no longer a member. 2 things they owned now belong to Carla Verdi."
    ).is_visible()
    assert page.get_by_role("row", name=re.compile("bob@lavoro.gov.example")).count() == 0
    with unscoped("assertion"):
        assert not Membership.objects.filter(user=bob, organisation=italy).exists()
        assert Listing.objects.get(pk=listing.pk).contact == carla
    bob.refresh_from_db()
    assert not bob.is_active

    # Bob's next click finds him signed out.
    bobs.page.goto("/accounts/profile/")
    assert "/accounts/login/" in bobs.page.url
    assert admin.console_errors == []
