"""Query counts, pinned: every read route of the API and every page, in the access matrix's world.

Each GET route of the OpenAPI schema and each page of tests/test_access_matrix.py has
a ceiling here (``API_BUDGETS``, ``PAGE_BUDGETS``): a new route without one fails
``test_every_read_route_has_a_query_budget``. Each is measured once warmed up (a
token's last use is written at most once a minute, reference code sets are read
once per process), as the first reader who gets a 200 (an official of Morocco,
then the agency's moderator), and a paginated list must cost the same for a page
of 5 as for a page of 50. Issue 15's budgets: a listing list or detail ≤ 4 (the
authentication statement included), an approval ≤ 12, a profile page ≤ 6.
Times are never asserted here; they are the benchmarks' business (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.access_matrix.runner import COLLECTION, Case, schema_operations
from tests.access_matrix.world import World
from tests.test_access_matrix import ROWS, _request
from tests.test_access_matrix import world as world  # the module-scoped world fixture, reused

READERS = ("gov_official", "gov_admin", "agency_moderator", "agency_viewer", "gov_viewer", "anonymous")

# The API's read routes: the ceiling of queries per request, authentication included
# (the token with its user, organisation and membership: 1 statement of each figure,
# 2 before accounts.services.token_authenticate read the membership in the same one).
# The listings' list (3 today) and detail (2) meet issue 15's budget of 4 with one
# statement to spare each (listing translations); the other figures are the counts
# measured when this test was written, held as ceilings.
API_BUDGETS: dict[str, int] = {
    "GET /api/v1/audit/": 4,
    "GET /api/v1/audit/actions/": 3,
    "GET /api/v1/consents/": 4,
    "GET /api/v1/corridors/{origin}-{destination}/": 13,
    "GET /api/v1/deliveries/": 4,
    "GET /api/v1/deliveries/{id}/": 3,
    "GET /api/v1/imports/{id}/": 3,
    "GET /api/v1/indicators/series/": 4,
    "GET /api/v1/listings/": 4,
    "GET /api/v1/listings/export/": 2,
    "GET /api/v1/listings/{id}/": 3,
    "GET /api/v1/listings/{id}/history/": 6,
    "GET /api/v1/listings/{id}/revisions/": 6,
    "GET /api/v1/listings/{listing_id}/consents/": 4,
    "GET /api/v1/listings/{listing_id}/matches/": 5,
    "GET /api/v1/listings/{listing_id}/outcomes/": 5,
    "GET /api/v1/listings/{listing_id}/outcomes/export.csv": 4,
    "GET /api/v1/listings/{listing_id}/outcomes/summary.csv": 4,
    "GET /api/v1/listings/{listing_id}/outcomes/summary/": 4,
    "GET /api/v1/matches/": 4,
    "GET /api/v1/matches/{id}/": 3,
    "GET /api/v1/matches/{id}/messages/": 4,
    "GET /api/v1/me/": 3,
    "GET /api/v1/me/data/": 24,  # 2 authentication, 19 reads (one per kind of data), the audit row
    "GET /api/v1/notifications/": 4,
    "GET /api/v1/notifications/unread-count/": 3,
    "GET /api/v1/notifications/{id}/": 3,
    "GET /api/v1/open-data/": 6,
    "GET /api/v1/open-data/{dataset}.csv": 4,
    "GET /api/v1/organisations/": 4,
    "GET /api/v1/organisations/{id}/": 5,
    "GET /api/v1/organisations/{organisation_id}/invitations/": 4,
    "GET /api/v1/organisations/{organisation_id}/invitations/{id}/": 3,
    "GET /api/v1/organisations/{organisation_id}/members/": 4,
    "GET /api/v1/organisations/{organisation_id}/members/{id}/": 3,
    "GET /api/v1/outcome-imports/{id}/": 3,
    "GET /api/v1/partnerships/": 7,
    "GET /api/v1/partnerships/{id}/": 6,
    "GET /api/v1/partnerships/{partnership_pk}/documents/": 5,
    "GET /api/v1/partnerships/{partnership_pk}/documents/{id}/": 3,
    "GET /api/v1/partnerships/{partnership_pk}/documents/{id}/download/": 3,
    "GET /api/v1/profiles/": 4,
    "GET /api/v1/profiles/{id}/": 3,
    "GET /api/v1/profiles/{id}/export.csv": 3,
    "GET /api/v1/profiles/{id}/versions/": 4,
    "GET /api/v1/profiles/{profile_pk}/observations/": 5,
    "GET /api/v1/profiles/{profile_pk}/observations/{id}/": 3,
    "GET /api/v1/profiles/{profile_pk}/skills/": 5,
    "GET /api/v1/profiles/{profile_pk}/skills/{id}/": 3,
    "GET /api/v1/public/listings/": 4,
    "GET /api/v1/public/listings/{id}/": 3,
    "GET /api/v1/reference/cefr-levels/": 2,
    "GET /api/v1/reference/countries/": 2,
    "GET /api/v1/reference/currencies/": 3,
    "GET /api/v1/reference/indicators/": 3,
    "GET /api/v1/reference/indicators/template.csv": 3,
    "GET /api/v1/reference/languages/": 3,
    "GET /api/v1/reference/occupations/": 3,
    "GET /api/v1/reference/occupations/{code}/": 5,
    "GET /api/v1/reference/sectors/": 3,
    "GET /api/v1/statistics/": 2,
    "GET /api/v1/statistics/{name}.csv": 3,
    "GET /api/v1/statistics/{name}/": 3,
    "GET /api/v1/subscriptions/": 5,
    "GET /api/v1/subscriptions/{id}/": 4,
    "GET /api/v1/suggestions/": 4,
    "GET /api/v1/suggestions/{id}/": 3,
    "GET /api/v1/tokens/": 4,
    "GET /api/v1/tokens/{id}/": 3,
    "GET /api/v1/partnerships/{partnership_pk}/agreement/": 6,
    "GET /api/v1/partnerships/{partnership_pk}/committee/decisions/": 6,
    "GET /api/v1/partnerships/{partnership_pk}/committee/decisions/{id}/": 4,
    "GET /api/v1/partnerships/{partnership_pk}/committee/meetings/": 5,
    "GET /api/v1/partnerships/{partnership_pk}/committee/meetings/{id}/": 3,
    "GET /api/v1/partnerships/{partnership_pk}/committee/members/": 5,
    "GET /api/v1/partnerships/{partnership_pk}/committee/members/{id}/": 3,
}

# The pages (GET), by route name: the session, its user, its memberships and the
# unread-notifications badge are 4 of each figure (5 before the user and the memberships
# were each read once per request, not twice). Issue 15 asks ≤ 6 for a profile page:
# the profile (its skills rows inlined) and its figures, 6 in all; and ≤ 1 query per
# chart on the statistics page: 7 charts in 7 statements, 11 with the shell. The other
# figures are held as measured before that (ceilings).
PAGE_BUDGETS: dict[str, int] = {
    "GET accounts:login": 0,
    "GET accounts:organisation": 8,
    "GET accounts:organisation_invitation_revoke": 7,
    "GET accounts:organisation_invitations": 8,
    # Offboarding's confirmation: + everything owned (one UNION ALL), the active tokens, the
    # other memberships (is it the last organisation?). With something to move, + the
    # transfer targets (tests/accounts/test_offboarding.py pins that case).
    "GET accounts:organisation_member_remove": 10,
    "GET accounts:organisation_members": 8,
    "GET accounts:organisation_members_csv": 5,
    "GET accounts:organisation_token_revoke": 7,
    "GET accounts:organisation_tokens": 8,
    "GET accounts:organisation_two_factor": 7,
    "GET accounts:organisation_sso": 8,
    "GET accounts:password_reset": 6,
    "GET accounts:password_reset_complete": 6,
    "GET accounts:password_reset_done": 6,
    "GET accounts:profile": 7,
    "GET accounts:data": 26,
    "GET accounts:erase": 11,
    "GET accounts:two_factor_setup": 10,
    "GET dashboard": 16,
    "GET exchange:corridor": 17,
    "GET exchange:corridor-list": 7,
    "GET exchange:deliveries": 9,
    "GET exchange:deliveries_export": 6,
    "GET exchange:inbox": 8,
    "GET exchange:match": 12,
    "GET exchange:matches": 9,
    "GET exchange:matches_export": 6,
    "GET exchange:open-data": 10,
    "GET exchange:partnership": 19,
    "GET exchange:partnership_print": 9,
    "GET exchange:public_partnership": 10,
    "GET exchange:public_partnerships": 9,
    "GET opportunities:listing_print": 10,
    "GET exchange:partnership_create": 9,
    "GET exchange:partnership_document": 6,
    "GET exchange:partnership_edit": 14,
    "GET exchange:partnerships": 9,
    "GET exchange:partnerships_export": 5,
    "GET exchange:profile-compare-countries": 7,
    "GET exchange:profile-compare-years": 8,
    "GET exchange:profile-create": 6,
    "GET exchange:profile-detail": 6,
    "GET exchange:profile-diff": 9,
    "GET exchange:profile-edit-part": 11,
    "GET exchange:profile-import": 7,
    "GET exchange:profile-import-status": 7,
    "GET exchange:profile-list": 9,
    "GET exchange:profile-versions": 10,
    "GET exchange:public-profile-detail": 6,
    "GET exchange:public-profile-list": 8,
    "GET exchange:statistics": 11,
    "GET exchange:statistics-csv": 6,
    "GET exchange:subscription": 10,
    "GET exchange:subscription_create": 7,
    "GET exchange:subscription_delete": 8,
    "GET exchange:subscription_edit": 9,
    "GET exchange:subscription_rotate": 8,
    "GET exchange:subscriptions": 9,
    "GET exchange:subscriptions_export": 7,
    "GET exchange:suggestion-detail": 9,
    "GET exchange:suggestion-list": 9,
    "GET help": 6,
    "GET privacy": 6,
    "GET home": 0,
    "GET listings-feed": 7,
    "GET opportunities:consents": 8,
    "GET opportunities:listing": 12,
    "GET opportunities:listing_create": 7,
    "GET opportunities:listing_edit": 12,
    "GET opportunities:listings": 10,
    "GET opportunities:listings_export": 5,
    "GET opportunities:moderation": 8,
    "GET opportunities:moderation_export": 5,
    "GET opportunities:moderation_review": 12,
    "GET organisation-moderation": 7,
    "GET organisation-moderation-review": 8,
    "GET public:listing": 9,
    "GET public:listings": 11,
    "GET public:listings_export": 6,
}

# Read routes no signed-in or anonymous reader of the matrix opens with a 200.
NOT_MEASURED = {
    "GET accounts:invitation": "an invitation's page needs the secret from its e-mail",
    "GET accounts:login_verify": "the second step of signing in, only after the first",
    "GET accounts:password_reset_confirm": "needs a reset token from an e-mail",
    "GET accounts:recovery_codes": "shown once, right after a second factor is confirmed",
    "GET accounts:signin_unlock": "needs the signed link from an unlock e-mail",
    "GET accounts:sso_start": "needs an organisation with its own identity provider (tests/sso/)",
    "GET accounts:sso_callback": "needs a sign-in started at an identity provider (tests/sso/)",
    "GET exchange:match_print": "the matrix's world has no agreed match (tests/exchange/test_records.py prints one)",
    "GET accounts:two_factor_disable": "only for a user enrolled in two-factor authentication",
    "GET exchange:profile-publish": "a confirmation step that redirects a GET",
    "GET exchange:unsubscribe": "needs the token from an e-mail",
    "GET set_language": "a redirect, not a page",
    "GET subscription-feed": "needs a feed channel's token",
}


def _read_rows() -> list[str]:
    return sorted(key for key in ROWS if key.startswith("GET "))


def _case(key: str) -> Case | None:
    row = ROWS[key]
    for kind in ("own", "shared", COLLECTION):
        by_role = row.expected.get(kind, {})
        for role in READERS:
            if by_role.get(role) in (200, frozenset({200})):
                return Case(key, role, kind)
    return None


def _count(w: World, case: Case, extra: str = "") -> tuple[int, Any]:
    row = ROWS[case.key]
    key = case.key + extra
    response, url = _request(w, Case(key, case.role, case.kind), row)  # warm up, and the URL
    if key.split(" ", 1)[1].startswith("/api/"):
        with CaptureQueriesContext(connection) as captured:
            response, _url = _request(w, Case(key, case.role, case.kind), row)
        return len(captured), response
    # A page: one browser session, signed in before the measure.
    client = Client()
    if case.role != "anonymous":
        client.force_login(w.users[case.role])
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return len(captured), response


def test_every_read_route_has_a_query_budget() -> None:
    api = sorted(op for op in schema_operations() if op.startswith("GET "))
    assert sorted(API_BUDGETS) == api
    pages = sorted(key for key in _read_rows() if not key.split(" ", 1)[1].startswith("/api/"))
    assert sorted([*PAGE_BUDGETS, *NOT_MEASURED]) == pages


@pytest.mark.parametrize("key", [key for key in _read_rows() if key not in NOT_MEASURED])
def test_a_read_stays_within_its_query_budget(key: str, world: World, db: Any) -> None:
    case = _case(key)
    assert case is not None, f"{key}: no reader gets a 200 in the matrix"
    budget = API_BUDGETS.get(key) or PAGE_BUDGETS[key]
    queries, response = _count(world, case)
    assert response.status_code == 200, (key, response.status_code)
    assert queries <= budget, f"{key}: {queries} queries, budget {budget}"
    if key.split(" ", 1)[1].startswith("/api/") and case.kind == COLLECTION and _paginated(response):
        five, _response = _count(world, case, "?page_size=5")
        fifty, _response = _count(world, case, "?page_size=50")
        assert five == fifty == queries, f"{key}: {five} queries for a page of 5, {fifty} for 50"


def _paginated(response: Any) -> bool:
    return (
        "json" in response.get("Content-Type", "")
        and isinstance(response.json(), dict)
        and ("results" in response.json())
    )


# A moderation approval of a pending revision, authentication included. Issue 15 asks
# ≤ 12; it is 12 (22 before the work of docs/benchmarks.md, 20 before this budget):
# 1 authentication (the token with its membership); 1 the listing found through the
# caller's scoped queryset and locked in the same statement (FOR UPDATE OF the listing),
# with its translations, lines, their occupations' titles and its pending revision;
# 1 the contact's membership (validation); 1 the revision decided (an UPDATE that finds
# it still pending); 1 the listing's UPDATE, which writes the search vector too; 1 the
# outbox's two tasks (one upsert); 1 the transition; 1 the audit row; 1 the fan-out;
# 1 the answer (lean). 2 are the savepoint and its release that the service's transaction
# becomes inside the test's own; in production they are BEGIN and COMMIT, which Django
# does not count but which are round trips too, so they are counted here: 10 statements
# of the request's own. Lines the revision leaves as they are are not written again;
# a revision that changes them costs 3 more (their titles, their DELETE and INSERT), one
# that changes the translations 1 or 2 more (their DELETE and INSERT).
APPROVAL_BUDGET = 12


def test_an_approval_stays_within_its_query_budget(world: World, db: Any) -> None:
    key = "POST /api/v1/listings/{id}/approve/"
    case = Case(key, "agency_moderator", "shared")
    _request(world, Case("GET /api/v1/listings/", "agency_moderator", COLLECTION), ROWS["GET /api/v1/listings/"])
    with CaptureQueriesContext(connection) as captured:
        response, _url = _request(world, case, ROWS[key])
    assert response.status_code == 200, response.content
    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) <= APPROVAL_BUDGET, "\n".join(sql[:100] for sql in statements)
    # The view's read and the service's lock are one statement; the lines, unchanged, are not rewritten.
    assert sum(sql.startswith('SELECT "opportunities_listing"."id"') for sql in statements) == 2  # the lock, the answer
    assert not any(sql.startswith('DELETE FROM "opportunities_occupationline"') for sql in statements)


def test_the_statistics_page_costs_at_most_one_statement_per_chart(world: World, db: Any) -> None:
    # Issue 15: ≤ 1 query per chart. The shell (session, user, memberships, unread badge)
    # is what the help page, which reads nothing of its own, costs the same reader.
    page, shell_page = _case("GET exchange:statistics"), _case("GET help")
    assert page is not None and shell_page is not None and page.role == shell_page.role
    queries, response = _count(world, page)
    shell, _response = _count(world, shell_page)
    charts = [section for section in response.context["sections"] if section["chart"] is not None]
    assert len(charts) >= 6, "the page draws its charts"
    assert queries - shell <= len(charts), f"{queries - shell} statements for {len(charts)} charts"
