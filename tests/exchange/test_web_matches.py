"""The match pages as the two governments use them: the list, the explanation, the dialogue.

Germany's Federal Employment Agency (Greta) runs *Triple Win* (nurses, German B1);
the Philippines' Department of Migrant Workers (Paolo) offers registered nurses
with German A2. Moldova (Mihai) is the third government, who must see nothing.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from accounts.tenancy import unscoped
from exchange.models import Match, MatchState, Message
from exchange.models.matching import MatchRead
from tests.conftest import signed_in
from tests.exchange.conftest import offer, published, scheme
from tests.factories import member
from tests.opportunities.conftest import days

pytestmark = pytest.mark.django_db


def triple_win(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Triple Win: nurses for German hospitals",
        "scheme_type": "talent_partnership",
        "partner_countries": ["PH"],
        "fair_recruitment": True,
        "occupation_lines": [
            {"isco_code": "2221", "quantity": 450, "languages": [{"language": "de", "level": "B1"}]},
            {"isco_code": "2222", "quantity": 20},
        ],
    }
    return scheme(**{**payload, **overrides})


def philippine_nurses(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": "Registered nurses ready for deployment",
        "scheme_type": "talent_partnership",
        "occupation_lines": [
            {
                "isco_code": "2221",
                "quantity": 300,
                "languages": [{"language": "de", "level": "A2"}, {"language": "en", "level": "C1"}],
            }
        ],
    }
    return offer(**{**payload, **overrides})


@pytest.fixture
def match(germany_actor, philippines_actor, moderator) -> Match:
    demand = published(germany_actor, moderator, triple_win())
    supply = published(philippines_actor, moderator, philippine_nurses())
    return Match.objects.get(demand=demand, supply=supply)


def url(match: Match, tail: str = "") -> str:
    return f"/matches/{match.pk}/{tail}"


def text(response: Any) -> str:
    return response.content.decode()


# --- The list -----------------------------------------------------------------------------


def test_both_governments_list_the_match_and_a_third_sees_nothing(match, greta_web, paolo_web, mihai_web):
    for client, other in ((greta_web, "Department of Migrant Workers"), (paolo_web, "Federal Employment Agency")):
        page = text(client.get("/matches/"))
        assert "Triple Win: nurses for German hospitals" in page
        assert "Registered nurses ready for deployment" in page
        assert other in page
        assert f'href="/matches/{match.pk}/"' in page
        assert "New" in page  # never opened
    assert match.score == pytest.approx(0.791)
    assert "79%" in text(greta_web.get("/matches/")) and "Weak match" not in text(greta_web.get("/matches/"))
    outsider = mihai_web.get("/matches/")
    assert "Triple Win" not in text(outsider) and "No match yet" in text(outsider)
    assert mihai_web.get(url(match)).status_code == 404
    assert mihai_web.post(url(match, "interest/"), {"message": "Us too"}).status_code == 404
    assert mihai_web.get(url(match, "accept/")).status_code == 404
    assert not Message.objects.exists()


def test_the_list_filters_by_listing_state_and_unread(match, germany_actor, philippines_actor, moderator, greta_web):
    other_offer = published(philippines_actor, moderator, philippine_nurses(title="Nurses with German B1"))
    second = Match.objects.get(supply=other_offer)
    page = text(greta_web.get("/matches/", {"state": "suggested", "sort": "newest"}))
    assert page.index("Nurses with German B1") < page.index("Registered nurses ready for deployment")
    mine = text(greta_web.get("/matches/", {"listing": str(match.demand_id)}))
    assert "2 matches" in mine
    Message.objects.create(match=second, organisation=philippines_actor.organisation, body="Hello")
    Match.objects.filter(pk=second.pk).update(state=MatchState.INTEREST_EXPRESSED)
    unread = text(greta_web.get("/matches/", {"show": "unread"}))
    assert "Nurses with German B1" in unread and "Registered nurses ready for deployment" not in unread
    assert "1 unread message" in unread
    assert "1 match" in text(greta_web.get("/matches/", {"state": "interest_expressed"}))


def test_the_list_keeps_to_a_fixed_number_of_queries(
    match, philippines_actor, moderator, greta_web, django_assert_max_num_queries
):
    for n in range(4):
        published(philippines_actor, moderator, philippine_nurses(title=f"Nurses, cohort {n}"))
    with django_assert_max_num_queries(10):
        response = greta_web.get("/matches/")
    assert text(response).count('href="/matches/') >= 5


def test_the_csv_export_has_the_same_rows(match, greta_web):
    response = greta_web.get("/matches/export.csv", {"state": "suggested"})
    assert response["Content-Disposition"] == 'attachment; filename="matches.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Match", "Your listing", "Their listing"]
    assert rows[1][1:5] == [
        "Triple Win: nurses for German hospitals",
        "Registered nurses ready for deployment",
        "Department of Migrant Workers",
        "PH",
    ]


# --- The explanation ----------------------------------------------------------------------


def test_the_explanation_is_laid_out_for_a_person(match, greta_web):
    page = text(greta_web.get(url(match)))
    # Occupation pairs with ISCO titles, and the level at which they meet.
    assert "Nursing professionals" in page
    assert "Same unit group" in page
    assert "Same minor group" in page and "Nursing and midwifery professionals" in page
    assert "Midwifery professionals" in page
    # Quantities side by side.
    assert '<td class="num">470</td><td class="num">300</td>' in page
    assert "The offer covers 300 of the 470 places matched." in page
    # The language gap, flagged, and what is met.
    assert '<li class="gap">' in page
    assert "Requires German B1 for 2221 Nursing professionals; the offer has A2." in page
    # The window overlap: the demand's dates (60 to 300 days from now), 241 days.
    assert "241 days" in page
    assert "The scheme guarantees fair recruitment" in page
    assert "Philippines is a partner country of the scheme." in page
    # What is missing, and how the score is made (weights from exchange/matching/scoring.py).
    assert "What is missing" in page and "The scheme does not guarantee pension portability." in page
    assert "45%" in page and "15%" in page
    assert "<h1>" in page and page.count("<h1") == 1


def test_the_explanation_reads_in_french_with_french_isco_titles(match, greta_web):
    page = text(greta_web.get(url(match), HTTP_ACCEPT_LANGUAGE="fr"))
    assert 'lang="fr"' in page
    assert "Cadres infirmiers" in page  # title_fr of 2221
    assert "Cadres infirmiers et sages-femmes" in page  # title_fr of 222
    assert "Allemand" in page  # the language's French name


# --- The dialogue ---------------------------------------------------------------------------


def test_interest_reply_and_acceptance_without_javascript(match, greta_web, paolo_web):
    response = greta_web.post(url(match, "interest/"), {"message": "Can you field 300 nurses by March?"})
    assert response.status_code == 302 and response["Location"] == f"/matches/{match.pk}/#dialogue-heading"
    match.refresh_from_db()
    assert match.state == MatchState.INTEREST_EXPRESSED
    assert match.interest_by_id == match.demand_owner_id
    page = text(greta_web.get(url(match)))
    assert "Interest expressed: your message was sent." in page
    assert '<li class="mine">' in page and "Can you field 300 nurses by March?" in page
    assert "accepts or declines the match" in page  # Greta waits for the Philippines' decision

    paolo_page = text(paolo_web.get(url(match)))
    assert "Can you field 300 nurses by March?" in paolo_page and '<li class="mine">' not in paolo_page
    assert paolo_web.post(url(match, "messages/"), {"message": "Yes, with B1 courses."}).status_code == 302
    match.refresh_from_db()
    assert match.state == MatchState.IN_DIALOGUE
    assert list(match.messages.values_list("body", flat=True)) == [
        "Can you field 300 nurses by March?",
        "Yes, with B1 courses.",
    ]

    # The party that expressed interest does not decide.
    assert greta_web.get(url(match, "accept/")).status_code == 403
    assert greta_web.post(url(match, "accept/")).status_code == 403
    confirm = paolo_web.get(url(match, "accept/"))
    assert confirm.status_code == 200 and "Accept the match" in text(confirm) and 'name="reason"' in text(confirm)
    done = paolo_web.post(url(match, "accept/"), {"reason": "Agreed at the joint committee."})
    assert done.status_code == 302
    match.refresh_from_db()
    assert match.state == MatchState.AGREED and match.decision_reason == "Agreed at the joint committee."
    page = text(greta_web.get(url(match)))
    assert "Department of Migrant Workers accepted the match." in page and "Agreed at the joint committee." in page


def test_the_other_party_declines_with_a_reason(match, greta_web, paolo_web):
    paolo_web.post(url(match, "interest/"), {"message": "Interested."})
    assert paolo_web.get(url(match, "decline/")).status_code == 403
    response = greta_web.post(url(match, "decline/"), {"reason": "Quota already filled."}, follow=True)
    assert "You declined the match." in text(response)
    match.refresh_from_db()
    assert match.state == MatchState.DECLINED and match.decision_reason == "Quota already filled."
    # The dialogue is over: the state's message, shown on the page.
    again = paolo_web.post(url(match, "messages/"), {"message": "More?"}, follow=True)
    assert "The dialogue is over: this match is declined." in text(again)


def test_htmx_gets_the_dialogue_fragment_and_a_plain_post_a_redirect(match, greta_web, paolo_web):
    response = greta_web.post(url(match, "interest/"), {"message": "We would like to talk."}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="dialogue">')
    assert "<html" not in fragment and "<h1" not in fragment
    assert "We would like to talk." in fragment
    assert 'id="dialogue-status" hx-swap-oob="innerHTML">Interest expressed: your message was sent.' in fragment
    assert 'id="match-state" hx-swap-oob="true"' in fragment and "Interest expressed" in fragment

    reply = paolo_web.post(url(match, "messages/"), {"message": "Happy to."}, HTTP_HX_REQUEST="true")
    assert "Message sent." in text(reply) and "Happy to." in text(reply)
    assert "Accept the match" in text(reply)  # Paolo now decides
    plain = paolo_web.post(url(match, "messages/"), {"message": "And the dates?"})
    assert plain.status_code == 302


def test_an_empty_message_is_refused_inline_and_nothing_is_sent(match, greta_web):
    page = greta_web.post(url(match, "interest/"), {"message": "   "})
    assert page.status_code == 400
    assert "There is a problem" in text(page) and 'href="#interest-message"' in text(page)
    assert "This field is required." in text(page)
    fragment = greta_web.post(url(match, "interest/"), {"message": ""}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "This field is required." in text(fragment)
    assert "The message was not sent" in text(fragment)
    match.refresh_from_db()
    assert match.state == MatchState.SUGGESTED and not Message.objects.exists()


def test_a_message_before_interest_is_a_state_conflict_shown_on_the_page(match, greta_web):
    response = greta_web.post(url(match, "messages/"), {"message": "Hello"}, follow=True)
    assert "Express interest first" in text(response)
    assert not Message.objects.exists()


def test_viewers_read_the_dialogue_but_do_not_take_part(match, germany, greta_web):
    greta_web.post(url(match, "interest/"), {"message": "Interested."})
    viewer = signed_in(member(germany, "viewer", email="vera@arbeitsagentur.example"))
    page = text(viewer.get(url(match)))
    assert "Interested." in page and "As a viewer" in page and 'name="message"' not in page
    assert viewer.post(url(match, "messages/"), {"message": "Me too"}).status_code == 403
    assert Message.objects.count() == 1


# --- New matches and unread messages on the dashboard ----------------------------------------


def figure(client: Client, name: str) -> str:
    page = text(client.get("/dashboard/"))
    start = page.index(f'id="{name}">') + len(f'id="{name}">')
    return page[start : page.index("<", start)]


def unread_threads(client: Client) -> str:
    return figure(client, "unread-threads")


def test_the_dashboard_counts_new_matches_and_unread_threads(match, greta_web, paolo_web):
    dashboard = text(greta_web.get("/dashboard/"))
    assert "Matches and dialogue" in dashboard and "new match, not opened yet" in dashboard
    assert figure(greta_web, "new-matches") == "1"
    assert unread_threads(greta_web) == "0"
    greta_web.get(url(match))  # Greta opens it: no longer new
    with unscoped("assertion"):
        assert MatchRead.objects.filter(match=match, organisation=match.demand_owner).exists()
    assert figure(greta_web, "new-matches") == "0"

    paolo_web.post(url(match, "interest/"), {"message": "Shall we talk?"})
    paolo_web.post(url(match, "messages/"), {"message": "We have 300 nurses."})
    assert unread_threads(greta_web) == "1"
    dashboard = text(greta_web.get("/dashboard/"))
    assert "2 unread messages" in dashboard and f'href="/matches/{match.pk}/"' in dashboard
    assert "2 unread messages" in text(greta_web.get("/matches/"))

    page = text(greta_web.get(url(match)))  # reading the thread marks it read
    assert page.count('<span class="unread">New</span>') == 2
    assert unread_threads(greta_web) == "0"
    # Paolo's own messages are never unread to him.
    assert unread_threads(paolo_web) == "0"


def test_a_third_government_has_no_match_on_its_dashboard(match, mihai_web):
    assert unread_threads(mihai_web) == "0"
    assert "Triple Win" not in text(mihai_web.get("/dashboard/"))


def test_dates_in_the_window_are_shown(match, greta_web):
    page = text(greta_web.get(url(match)))
    from datetime import date

    start = date.fromisoformat(days(60))
    assert f"{start.day} {start:%b} {start.year}" in page
