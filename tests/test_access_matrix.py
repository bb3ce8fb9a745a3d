"""The exhaustive access matrix: every API operation and page × six roles × object kinds.

Roles: ``anonymous``; Morocco's ``gov_viewer``, ``gov_official`` and ``gov_admin``;
the agency's ``agency_moderator`` and ``agency_viewer``. Object kinds: ``own`` (the
caller's organisation's, where it can own one), ``private`` (another tenant's
private object: Italy's draft, subscription, token, invitation, member...),
``shared`` (another tenant's object the caller may read but whose private parts it
may not: Italy's published scheme with a rejected revision and a pending one, a
match between Italy and Moldova, Italy's public partnership with Moldova),
``missing`` (an id that exists nowhere) and ``collection`` (a route without an id).

Each case checks the status against ``API`` / ``PAGES`` below, that no private
value (``tests/access_matrix/world.py``: ``SENTINEL`` strings and ids) appears in
the body, and that the database did not change unless the row allows a write and
the case is a success. The world is built once per module; every case runs in a
savepoint that is rolled back, so the cases are independent of their order.

The product's rules, in short: another tenant's private object and a missing id
answer the same 404 (never a 403 that reveals existence); the anonymous caller gets
401 (``WWW-Authenticate: Token``) on the API and a redirect to sign in on pages; a
wrong role on a visible object is 403; a wrong state is 409. A published listing's
moderation feedback, pending revision and full history are for its owner and the
agency's moderators only; every other reader sees the public part of the history.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.tenancy import unscoped
from tests.access_matrix.runner import (
    COLLECTION,
    LOGIN,
    TARGETS,
    Case,
    Row,
    api_client,
    body_text,
    cases,
    fill,
    json_or_none,
    private_parts,
    row,
    schema_operations,
    status_ok,
    success,
    web_client,
    web_routes,
)
from tests.access_matrix.world import GOV, MISSING, MODERATION_AUDIENCE, World, build_world, snapshot

# The marker makes pytest-django create the test database; ``db`` gives each case its savepoint.
pytestmark = pytest.mark.django_db

# --- Request bodies ----------------------------------------------------------------------


def _days(n: int) -> str:
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()  # noqa: DTZ011


def listing_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {
        "direction": "supply",
        "title": "matrix-new-offer",
        "scheme_type": "seasonal",
        "starts_on": _days(30),
        "ends_on": _days(300),
        "application_deadline": _days(20),
        "occupation_lines": [{"isco_code": "9211", "quantity": 10}],
    }


def reason(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"reason": "matrix-reason"}


def message(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"message": "matrix-message"}


def name(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"name": "matrix-name"}


def profile_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"country": "MA", "year": 2030, "visibility": "members"}


def figure(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"indicator": "REMIT_IN_USD", "time_period": 2023, "value": "12.5", "source": "matrix"}


def skill_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"kind": "shortage", "isco_code": "9211", "severity": "low", "time_period": 2023, "source": "matrix"}


def sdmx_file(w: World, role: str, kind: str) -> dict[str, Any]:
    header = "DATAFLOW,REF_AREA,INDICATOR,SEX,AGE,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,SOURCE,COMMENT"
    return {
        "file": SimpleUploadedFile(
            "matrix.csv", f"{header}\nCORRIDOR:PROFILE(1.0),MAR,HDI,T,_T,2023,0.7,,m,\n".encode()
        )
    }


def outcome_body(w: World, role: str, kind: str) -> dict[str, Any]:
    """An entry for Morocco's own origin, in the year the scheme starts."""
    year = str(w.objects["italy_shared"].starts_on.year)
    return {"origin_country": "MA", "period": year, "stage": "selected", "sex": "F", "count": 1}


def outcome_file(w: World, role: str, kind: str) -> dict[str, Any]:
    year = w.objects["italy_shared"].starts_on.year
    text = f"origin_country,period,stage,sex,count\nMA,{year},selected,F,1\n"
    return {"file": SimpleUploadedFile("matrix-outcomes.csv", text.encode())}


def outcome_form(w: World, role: str, kind: str) -> dict[str, Any]:
    """The listing page's entry form, for Morocco's own origin."""
    return {"form_prefix": "new", **{f"new-{k}": v for k, v in outcome_body(w, role, kind).items()}}


def series_query(w: World, role: str, kind: str) -> dict[str, Any]:
    """Italy's series: its shared profile's figure, never its drafts'."""
    return {"country": "IT", "indicator": "MIG_STOCK_OUT"}


def narrative(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"migration_data": "matrix-narrative"}


def narrative_form(w: World, role: str, kind: str) -> dict[str, Any]:
    """The profile page's narrative form (part 1, the part the matrix opens)."""
    return {"action": "narrative", "text": "matrix-narrative", "language": "en"}


def partnership_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"name": "matrix-partnership", "kind": "mobility_partnership", "members": [str(w.orgs["italy"].pk)]}


def agreement_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"summary": "matrix-summary", "text": "matrix-text", "named_parties": ["matrix-party"]}


def committee_member_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"name": "matrix-member", "organisation": str(w.orgs["morocco"].pk), "role": "matrix-role"}


def committee_meeting_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"held_on": _days(-10), "title": "matrix-meeting"}


def committee_decision_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"decided_on": _days(-10), "text": "matrix-decision", "listings": []}


def subscription_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"name": "matrix-alert", "channels": [{"type": "inbox"}]}


def document_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("matrix.pdf", b"%PDF-1.7\nmatrix"), "document_type": "annex"}


def invitation_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"email": "matrix-invitee@example.org", "role": "viewer"}


def role_body(w: World, role: str, kind: str) -> dict[str, Any]:
    return {"role": "viewer"}


def form(w: World, role: str, kind: str) -> dict[str, Any]:
    """What a page's form posts: enough for the simple ones (a reason, a message)."""
    return {"reason": "matrix-reason", "message": "matrix-message", "role": "viewer", "name": "matrix-name"}


# --- Checks on the body beyond "no sentinel" ----------------------------------------------

PUBLIC_HISTORY = {"approve", "close", "withdraw", "expired"}


def public_history(w: World, role: str, kind: str, data: Any, text: str) -> list[str]:
    """Readers other than the owner and the moderators see published/closed/withdrawn/expired only."""
    if kind != "shared" or role in MODERATION_AUDIENCE or not isinstance(data, list):
        return []
    problems = []
    for entry in data:
        if entry.get("action") not in PUBLIC_HISTORY:
            problems.append(f"history shows the {entry.get('action')!r} step")
        if entry.get("reason") or entry.get("actor"):
            problems.append(f"history shows who/why of {entry.get('action')!r}")
    return problems


def no_other_match_counted(w: World, role: str, kind: str, data: Any, text: str) -> list[str]:
    """The Italy–Moldova match is theirs: the corridor MD-IT counts none of it for the callers."""
    if kind == "shared" and isinstance(data, dict) and any(data.get("matches_by_state", {}).values()):
        return [f"another tenant's match counted: {data['matches_by_state']}"]
    return []


def no_other_suggestion(w: World, role: str, kind: str, data: Any, text: str) -> list[str]:
    """Morocco's government does not see the suggestion between Italy and Moldova (the agencies do)."""
    if role in GOV and str(w.objects["other_suggestion"].pk) in text:
        return ["the Italy–Moldova suggestion is listed"]
    return []


def no_revisions(w: World, role: str, kind: str, data: Any, text: str) -> list[str]:
    if kind == "shared" and role not in MODERATION_AUDIENCE and isinstance(data, list) and data:
        return [f"{len(data)} revisions shown"]
    return []


# --- The API table -------------------------------------------------------------------------
# Shorthand in the specs: "gov" = Morocco's three roles, "agency" = the agency's two,
# "signed_in" = all five, "*" = everyone not named. Status sets only where the answer is
# genuinely either (none today).

WRITERS = "gov_official gov_admin"
MOD = "agency_moderator"
MANAGERS = "gov_official gov_admin agency_moderator"  # Actor.can_write: not viewers
ADMIN = "gov_admin"  # no agency admin among the callers


def admin_only(route: str, kind: str, ok: Any, *, writes: bool = False) -> Any:
    """An admin-only page on one of the organisation's objects. The other roles are
    refused (403) before the object is looked up, for any id, so it reveals nothing."""
    deny = {ADMIN: 404, "*": 403}
    return row(route, kind, own={ADMIN: ok, "*": 403}, private=deny, missing=deny, writes=writes)


PUBLIC = {"public": True}
LEDGER_READ = {"gov": 404, "agency": 200}
LEDGER_WRITE = {"gov": 404, "agency": 403}

API: list[Row] = [
    # Listings
    row("GET /api/v1/listings/", collection=200),
    row("POST /api/v1/listings/", collection={WRITERS: 201, "*": 403}, body=listing_body, writes=True),
    row("GET /api/v1/listings/export/", collection=200),
    row("GET /api/v1/listings/{id}/", "listing", own=200, shared=200),
    # Own: published, so an edit is a revision for moderation. Shared: not the owner.
    row("PATCH /api/v1/listings/{id}/", "listing", own={WRITERS: 200, "*": 403}, shared=403, body=name, writes=True),
    row("DELETE /api/v1/listings/{id}/", "listing", own={WRITERS: 409, "*": 403}, shared=403, writes=True),
    row("POST /api/v1/listings/{id}/submit/", "listing", own={WRITERS: 409, "*": 403}, shared=403, writes=True),
    row("POST /api/v1/listings/{id}/withdraw/", "listing", own={WRITERS: 200, "*": 403}, shared=403, writes=True),
    row("POST /api/v1/listings/{id}/close/", "listing", own={WRITERS: 200, "*": 403}, shared=403, writes=True),
    # Moderators decide: own has no pending revision (409); Italy's shared one has one.
    *[
        row(
            f"POST /api/v1/listings/{{id}}/{action}/",
            "listing",
            own=403,
            shared={"agency_moderator": 200, "*": 403},
            body=reason,
            writes=True,
        )
        for action in ("approve", "request-changes", "reject")
    ],
    row("GET /api/v1/listings/{id}/history/", "listing", own=200, shared=200, check=public_history),
    row("GET /api/v1/listings/{id}/revisions/", "listing", own=200, shared=200, check=no_revisions),
    # Origin-government consent: Morocco decides its own (MA) consent on Italy's consent scheme;
    # Moldova's on the same listing is the agencies' to read (403 to decide), not Morocco's (404).
    row("GET /api/v1/consents/", collection=200),
    row("GET /api/v1/listings/{listing_id}/consents/", "consent", own=200, shared=200),
    *[
        row(
            f"POST /api/v1/listings/{{listing_id}}/consents/{{country}}/{decision}/",
            "consent",
            own={WRITERS: 200, "*": 403},
            shared={"gov": 404, "agency": 403},
            body=reason,
            writes=True,
        )
        for decision in ("accept", "refuse")
    ],
    # A listing's matches: the caller's own matches on it (none for an agency).
    row("GET /api/v1/listings/{listing_id}/matches/", "listing", own=200, shared=200),
    # Migration profiles: Morocco's published profile, Italy's draft (private) and
    # Italy's published one whose next version is an Italian draft.
    row("GET /api/v1/profiles/", collection=200),
    row("POST /api/v1/profiles/", collection={WRITERS: 201, "*": 403}, body=profile_body, writes=True),
    row("GET /api/v1/profiles/{id}/", "profile", own=200, shared=200),
    row(
        "PATCH /api/v1/profiles/{id}/", "profile", own={WRITERS: 200, "*": 403}, shared=403, body=narrative, writes=True
    ),
    row("DELETE /api/v1/profiles/{id}/", "profile", own={WRITERS: 409, "*": 403}, shared=403, writes=True),
    row("POST /api/v1/profiles/{id}/publish/", "profile", own={WRITERS: 409, "*": 403}, shared=403, writes=True),
    row("GET /api/v1/profiles/{id}/versions/", "profile", own=200, shared=200),
    # A profile's figures: the own and shared profiles are published, so no figure changes (409).
    row("GET /api/v1/profiles/{profile_pk}/observations/", "profile_figures", own=200, shared=200),
    row(
        "POST /api/v1/profiles/{profile_pk}/observations/",
        "profile_figures",
        own={WRITERS: 409, "*": 403},
        shared=403,
        body=figure,
        writes=True,
    ),
    row("GET /api/v1/profiles/{profile_pk}/observations/{id}/", "observation", own=200, shared=200),
    row(
        "PATCH /api/v1/profiles/{profile_pk}/observations/{id}/",
        "observation",
        own={WRITERS: 409, "*": 403},
        shared=403,
        body=figure,
        writes=True,
    ),
    row(
        "DELETE /api/v1/profiles/{profile_pk}/observations/{id}/",
        "observation",
        own={WRITERS: 409, "*": 403},
        shared=403,
        writes=True,
    ),
    # A profile's skills rows: the same rule as its figures.
    row("GET /api/v1/profiles/{profile_pk}/skills/", "profile_figures", own=200, shared=200),
    row(
        "POST /api/v1/profiles/{profile_pk}/skills/",
        "profile_figures",
        own={WRITERS: 409, "*": 403},
        shared=403,
        body=skill_body,
        writes=True,
    ),
    row("GET /api/v1/profiles/{profile_pk}/skills/{id}/", "skill", own=200, shared=200),
    row(
        "PATCH /api/v1/profiles/{profile_pk}/skills/{id}/",
        "skill",
        own={WRITERS: 409, "*": 403},
        shared=403,
        body=skill_body,
        writes=True,
    ),
    row(
        "DELETE /api/v1/profiles/{profile_pk}/skills/{id}/",
        "skill",
        own={WRITERS: 409, "*": 403},
        shared=403,
        writes=True,
    ),
    # Suggestions: the two countries' governments and the agencies read them; the
    # governments' officials and admins decide. Italy–Moldova's is not Morocco's (404).
    row("GET /api/v1/suggestions/", collection=200, check=no_other_suggestion),
    row("GET /api/v1/corridors/{origin}-{destination}/", "corridor", own=200, shared=200, check=no_other_match_counted),
    row("GET /api/v1/suggestions/{id}/", "suggestion", own=200, shared={"gov": 404, "agency": 200}),
    row(
        "POST /api/v1/suggestions/{id}/dismiss/",
        "suggestion",
        own={WRITERS: 200, "*": 403},
        shared={"gov": 404, "agency": 403},
        body=reason,
        writes=True,
    ),
    # Acting on it names one of the caller's listings: the body names none (400).
    row(
        "POST /api/v1/suggestions/{id}/act-on/",
        "suggestion",
        own={WRITERS: 400, "*": 403},
        shared={"gov": 404, "agency": 403},
        body=reason,
    ),
    # SDMX-CSV: the export is for readers; the import for the owner's writers, drafts only
    # (the own profile is published: 409); an import is its organisation's own.
    row("GET /api/v1/profiles/{id}/export.csv", "profile", own=200, shared=200),
    row(
        "POST /api/v1/profiles/{id}/import/",
        "profile",
        own={WRITERS: 409, "*": 403},
        shared=403,
        body=sdmx_file,
        multipart=True,
        writes=True,
    ),
    row("GET /api/v1/imports/{id}/", "profile_import", own=200),
    # The outcomes ledger: the owner, the admitted origin governments (Morocco, on Italy's
    # scheme open to it) and the agencies read it; a government that only reads the listing
    # gets 404. Morocco's officials and admins write for MA; the agencies never write.
    *[
        row(f"GET /api/v1/listings/{{listing_id}}/outcomes/{tail}", "ledger", own=200, shared=LEDGER_READ)
        for tail in ("", "summary/", "export.csv", "summary.csv")
    ],
    row(
        "POST /api/v1/listings/{listing_id}/outcomes/",
        "ledger",
        own={WRITERS: 201, "*": 403},
        shared=LEDGER_WRITE,
        body=outcome_body,
        writes=True,
    ),
    row(
        "POST /api/v1/listings/{listing_id}/outcomes/import/",
        "ledger",
        own={WRITERS: 202, "*": 403},
        shared=LEDGER_WRITE,
        body=outcome_file,
        multipart=True,
        writes=True,
    ),
    row("GET /api/v1/outcome-imports/{id}/", "outcome_import", own=200),
    # An indicator across years: published versions per visibility, public ones anonymously.
    row("GET /api/v1/indicators/series/", collection=200, body=series_query, **PUBLIC),
    # Matches: only their two parties see them.
    row("GET /api/v1/matches/", collection=200),
    row("GET /api/v1/matches/{id}/", "match", own=200, shared=404, writes=True),  # marks the thread read
    row(
        "POST /api/v1/matches/{id}/interest/",
        "match",
        own={WRITERS: 200, "*": 403},
        shared=404,
        body=message,
        writes=True,
    ),
    row("GET /api/v1/matches/{id}/messages/", "match", own=200, shared=404),
    row(
        "POST /api/v1/matches/{id}/messages/",
        "match",
        own={WRITERS: 409, "*": 403},
        shared=404,
        body=message,
        writes=True,
    ),
    row(
        "POST /api/v1/matches/{id}/accept/", "match", own={WRITERS: 409, "*": 403}, shared=404, body=reason, writes=True
    ),
    # A suggestion is declined only once someone expressed interest: 409 (wrong state).
    row(
        "POST /api/v1/matches/{id}/decline/",
        "match",
        own={WRITERS: 409, "*": 403},
        shared=404,
        body=reason,
        writes=True,
    ),
    # Partnerships: members, and every reader of a public one in force.
    row("GET /api/v1/partnerships/", collection=200),
    row("POST /api/v1/partnerships/", collection={WRITERS: 201, "*": 403}, body=partnership_body, writes=True),
    row("GET /api/v1/partnerships/{id}/", "partnership", own=200, shared=200),
    row(
        "PATCH /api/v1/partnerships/{id}/",
        "partnership",
        own={WRITERS: 200, "*": 403},
        shared=403,
        body=name,
        writes=True,
    ),
    row(
        "POST /api/v1/partnerships/{id}/confirm/", "partnership", own={WRITERS: 409, "*": 403}, shared=403, writes=True
    ),
    row(
        "POST /api/v1/partnerships/{id}/decline/", "partnership", own={WRITERS: 409, "*": 403}, shared=403, writes=True
    ),
    # Morocco is the only confirmed member of its own: it cannot leave (409).
    row("POST /api/v1/partnerships/{id}/leave/", "partnership", own={WRITERS: 409, "*": 403}, shared=403, writes=True),
    # Documents are for members only, also on a public partnership: to anyone else the
    # documents collection is as private as the documents (404, not 403).
    row("GET /api/v1/partnerships/{partnership_pk}/documents/", "partnership_documents", own=200, shared=404),
    row(
        "POST /api/v1/partnerships/{partnership_pk}/documents/",
        "partnership_documents",
        own={WRITERS: 201, "*": 403},
        shared=404,
        body=document_body,
        multipart=True,
        writes=True,
    ),
    row("GET /api/v1/partnerships/{partnership_pk}/documents/{id}/", "document", own=200, shared=404),
    row(
        "DELETE /api/v1/partnerships/{partnership_pk}/documents/{id}/",
        "document",
        own={WRITERS: 204, "*": 403},
        shared=404,
        writes=True,
    ),
    row("GET /api/v1/partnerships/{partnership_pk}/documents/{id}/download/", "document", own=200, shared=404),
    # The agreement: the partnership's readers (a public reader of one in force gets the
    # summary, never the signed text: the SENTINEL text is checked absent); written by
    # confirmed members' officials and admins.
    row("GET /api/v1/partnerships/{partnership_pk}/agreement/", "partnership_documents", own=200, shared=200),
    row(
        "PUT /api/v1/partnerships/{partnership_pk}/agreement/",
        "partnership_documents",
        own={WRITERS: 200, "*": 403},
        shared=403,
        body=agreement_body,
        writes=True,
    ),
    # The joint committee: members only, also on a public partnership (404 to anyone else).
    *(
        r
        for what, target, body in (
            ("members", "committee_member", committee_member_body),
            ("meetings", "committee_meeting", committee_meeting_body),
            ("decisions", "committee_decision", committee_decision_body),
        )
        for r in (
            row(
                f"GET /api/v1/partnerships/{{partnership_pk}}/committee/{what}/",
                "partnership_documents",
                own=200,
                shared=404,
            ),
            row(
                f"POST /api/v1/partnerships/{{partnership_pk}}/committee/{what}/",
                "partnership_documents",
                own={WRITERS: 201, "*": 403},
                shared=404,
                body=body,
                writes=True,
            ),
            row(f"GET /api/v1/partnerships/{{partnership_pk}}/committee/{what}/{{id}}/", target, own=200, shared=404),
            row(
                f"PUT /api/v1/partnerships/{{partnership_pk}}/committee/{what}/{{id}}/",
                target,
                own={WRITERS: 200, "*": 403},
                shared=404,
                body=body,
                writes=True,
            ),
            row(
                f"PATCH /api/v1/partnerships/{{partnership_pk}}/committee/{what}/{{id}}/",
                target,
                own={WRITERS: 200, "*": 403},
                shared=404,
                body=body,
                writes=True,
            ),
            row(
                f"DELETE /api/v1/partnerships/{{partnership_pk}}/committee/{what}/{{id}}/",
                target,
                own={WRITERS: 204, "*": 403},
                shared=404,
                writes=True,
            ),
        )
    ),
    # Subscriptions, deliveries, notifications: strictly the organisation's own.
    row("GET /api/v1/subscriptions/", collection=200),
    row("POST /api/v1/subscriptions/", collection={MANAGERS: 201, "*": 403}, body=subscription_body, writes=True),
    row("GET /api/v1/subscriptions/{id}/", "subscription", own=200),
    row("PATCH /api/v1/subscriptions/{id}/", "subscription", own={MANAGERS: 200, "*": 403}, body=name, writes=True),
    row("DELETE /api/v1/subscriptions/{id}/", "subscription", own={MANAGERS: 204, "*": 403}, writes=True),
    row("POST /api/v1/subscriptions/{id}/rotate-secret/", "subscription", own={MANAGERS: 200, "*": 403}, writes=True),
    row("POST /api/v1/subscriptions/{id}/test/", "subscription", own={MANAGERS: 202, "*": 403}, writes=True),
    row("GET /api/v1/deliveries/", collection=200),
    row("GET /api/v1/deliveries/{id}/", "delivery", own=200),
    row("POST /api/v1/deliveries/{id}/replay/", "delivery", own={MANAGERS: 202, "*": 403}, writes=True),
    row("GET /api/v1/notifications/", collection=200),
    row("GET /api/v1/notifications/unread-count/", collection=200),
    row("POST /api/v1/notifications/read-all/", collection=200, writes=True),
    row("GET /api/v1/notifications/{id}/", "notification", own=200),
    row("POST /api/v1/notifications/{id}/read/", "notification", own=200, writes=True),
    # Tokens: each user's own.
    row("GET /api/v1/tokens/", collection=200),
    row("POST /api/v1/tokens/", collection=201, body=name, writes=True),
    row("GET /api/v1/tokens/{id}/", "token", own=200),
    row("DELETE /api/v1/tokens/{id}/", "token", own=204, writes=True),
    # Organisations: a public directory; members and invitations are the admins' business.
    row("GET /api/v1/organisations/", collection=200),
    row("GET /api/v1/organisations/{id}/", "organisation", own=200, shared=200),
    # Another tenant's settings are private (accounts/api/views.py): 404, though its public card reads.
    row(
        "PATCH /api/v1/organisations/{id}/",
        "organisation",
        own={ADMIN: 200, "*": 403},
        shared=404,
        body=name,
        writes=True,
    ),
    # Verification: agency moderators decide, never on their own agency. Italy (shared) is
    # verified: verifying or reinstating it is a 409, suspending it (with a reason) works.
    *[
        row(
            f"POST /api/v1/organisations/{{id}}/{action}/",
            "organisation",
            own=403,
            shared={MOD: ok, "*": 403},
            body=reason,
            writes=True,
        )
        for action, ok in (("verify", 409), ("suspend", 200), ("reinstate", 409))
    ],
    row("GET /api/v1/organisations/{organisation_id}/members/", "org_members", own=200),
    row("GET /api/v1/organisations/{organisation_id}/members/{id}/", "member", own=200),
    row(
        "PATCH /api/v1/organisations/{organisation_id}/members/{id}/",
        "member",
        own={ADMIN: 200, "*": 403},
        body=role_body,
        writes=True,
    ),
    row(
        "DELETE /api/v1/organisations/{organisation_id}/members/{id}/",
        "member",
        # Offboarding answers with what moved (the matrix's member owns nothing: no transfer_to needed).
        own={ADMIN: 200, "*": 403},
        writes=True,
    ),
    row("GET /api/v1/organisations/{organisation_id}/invitations/", "org_members", own={ADMIN: 200, "*": 403}),
    row(
        "POST /api/v1/organisations/{organisation_id}/invitations/",
        "org_members",
        own={ADMIN: 201, "*": 403},
        body=invitation_body,
        writes=True,
    ),
    row("GET /api/v1/organisations/{organisation_id}/invitations/{id}/", "invitation", own={ADMIN: 200, "*": 403}),
    row(
        "DELETE /api/v1/organisations/{organisation_id}/invitations/{id}/",
        "invitation",
        own={ADMIN: 204, "*": 403},
        writes=True,
    ),
    row("GET /api/v1/me/", collection=200),
    row("PATCH /api/v1/me/", collection=200, body=lambda w, r, k: {"full_name": "Matrix Caller"}, writes=True),
    # A person's own data (issue 16): always the caller's own; the download is audited (a write).
    row("GET /api/v1/me/data/", collection=200, writes=True),
    row("GET /api/v1/audit/", collection={ADMIN: 200, "*": 403}),
    row("GET /api/v1/audit/actions/", collection={ADMIN: 200, "*": 403}),
    # Public: anyone, signed in or not.
    row("GET /api/v1/public/listings/", collection=200, **PUBLIC),
    row("GET /api/v1/public/listings/{id}/", "public_listing", shared=200, **PUBLIC),
    *[
        row(f"GET /api/v1/reference/{name}/", collection=200, **PUBLIC)
        for name in ("cefr-levels", "countries", "currencies", "indicators", "languages", "occupations", "sectors")
    ],
    row("GET /api/v1/reference/indicators/template.csv", collection=200, **PUBLIC),
    row("GET /api/v1/reference/occupations/{code}/", "occupation", shared=200, **PUBLIC),
    # Statistics and open data: anyone; each reader counts what it may see (docs/statistics.md).
    row("GET /api/v1/statistics/", collection=200, **PUBLIC),
    row("GET /api/v1/statistics/{name}/", "statistics_table", shared=200, **PUBLIC),
    row("GET /api/v1/statistics/{name}.csv", "statistics_table", shared=200, **PUBLIC),
    row("GET /api/v1/open-data/", collection=200, **PUBLIC),
    row("GET /api/v1/open-data/{dataset}.csv", "dataset", shared=200, **PUBLIC),
]


# --- The pages -----------------------------------------------------------------------------
# Keys are "METHOD url-name", with "[variant]" where one route takes several actions.
# The matrix posts the same small body to every form. Where that body is not a valid
# form, an allowed role gets the form back with its errors: INVALID (400). Refusals the
# API answers with 409 (wrong state) come back on pages as a redirect with a message:
# REFUSED (302), and the database must not change. FORM_OK: done (302) or the form again.

FORM_OK = {200, 302}
INVALID = 400
REFUSED = 302
WEB_VARIANTS = {
    "opportunities:listing_transition": ("submit", "withdraw", "close"),
    "opportunities:moderation_decide": ("approve", "request-changes", "reject"),
    "exchange:match_decide": ("accept", "decline"),
    "exchange:partnership_committee_add": ("members", "meetings", "decisions"),
    "exchange:partnership_committee_delete": ("members",),
    "organisation-moderation-decide": ("verify", "suspend", "reinstate"),
}
PAGE_TARGETS = {
    "accounts:invitation": "credential",
    "accounts:signin_unlock": "credential",
    "accounts:password_reset_confirm": "credential",
    "exchange:unsubscribe": "credential",
    "subscription-feed": "credential",
    "accounts:organisation_member_role": "member",
    "accounts:organisation_member_remove": "member",
    "accounts:organisation_invitation_revoke": "invitation",
    "accounts:organisation_token_revoke": "token",
    "exchange:suggestion-detail": "suggestion",
    "exchange:listing-outcomes-record": "ledger",
    "exchange:listing-outcomes-upload": "ledger",
    "exchange:suggestion-dismiss": "suggestion",
    "exchange:suggestion-act-on": "suggestion",
    "exchange:match": "match",
    "exchange:match_interest": "match",
    "exchange:match_message": "match",
    "exchange:match_decide": "match",
    "exchange:partnership": "partnership",
    "exchange:partnership_edit": "partnership",
    "exchange:partnership_confirm": "partnership",
    "exchange:partnership_decline": "partnership",
    "exchange:partnership_document_upload": "partnership",
    "exchange:partnership_document": "document",
    "exchange:partnership_agreement": "partnership",
    "exchange:partnership_committee_add": "partnership",
    "exchange:partnership_committee_delete": "committee_member",
    "exchange:partnership_print": "partnership",
    "exchange:match_print": "match",
    "opportunities:listing_print": "listing",
    "exchange:delivery_replay": "delivery",
    "exchange:subscription": "subscription",
    "exchange:subscription_edit": "subscription",
    "exchange:subscription_test": "subscription",
    "exchange:subscription_rotate": "subscription",
    "exchange:subscription_delete": "subscription",
    "exchange:inbox_read": "notification",
    "opportunities:listing": "listing",
    "opportunities:listing_edit": "listing",
    "opportunities:listing_transition": "listing",
    "opportunities:moderation_review": "listing",
    "opportunities:moderation_decide": "listing",
    "opportunities:consent_decide": "consent",
    "public:listing": "public_listing",
    "exchange:statistics-csv": "statistics_table",
    **{f"exchange:profile-{name}": "profile" for name in ("detail", "edit-part", "publish", "versions", "diff")},
    "exchange:public-profile-detail": "public_profile",
    "exchange:public_partnership": "public_partnership",
    "exchange:corridor": "corridor",
    "organisation-moderation-review": "organisation",
    "organisation-moderation-decide": "organisation",
}
CREDENTIALS = {
    "secret": "not-a-real-invitation-secret",
    "uidb64": "MQ",
    "token": "not-a-real-token-0123456789abcdef0123456789",
}

PAGES: list[Row] = [
    row("GET home", collection={"anonymous": 200, "*": 302}, **PUBLIC),  # signed in: to the dashboard
    row("GET dashboard", collection=200),
    row("GET help", collection=200, **PUBLIC),
    row("GET set_language", collection=302, **PUBLIC),  # Django's view: back where you came from
    row("POST set_language", collection=302, **PUBLIC),
    row("GET listings-feed", collection=200, **PUBLIC),
    row("GET subscription-feed", "credential", missing=404, **PUBLIC),
    # Accounts
    row("GET accounts:login", collection={"anonymous": 200, "*": 302}, **PUBLIC),
    row("POST accounts:login", collection={"anonymous": 200, "*": 302}, **PUBLIC),
    row("GET accounts:login_verify", collection=302, **PUBLIC),
    row("POST accounts:logout", collection=302, **PUBLIC),
    # Single sign-on: an organisation without its own provider has no start or callback.
    row("GET accounts:sso_start", "sso_organisation", missing=404, **PUBLIC),
    row("GET accounts:sso_callback", "sso_organisation", missing=404, **PUBLIC),
    row("GET accounts:two_factor_setup", collection=200),
    row("POST accounts:two_factor_setup", collection=200),
    row("GET accounts:two_factor_disable", collection=302),
    row("GET accounts:recovery_codes", collection=302),  # nobody here has an authenticator app yet
    row("GET accounts:signin_unlock", "credential", missing=404, **PUBLIC),
    row("GET accounts:profile", collection=200),
    row("POST accounts:profile", collection=FORM_OK, writes=True),
    row("POST accounts:set_language", collection=302, writes=True, **PUBLIC),
    # A person's own data (issue 16). The erasure form posted without a password is shown
    # again (400) to those who hold nothing; the last admin, a focal point or an owner of
    # live listings is sent back with the reason (REFUSED), and nothing is erased.
    row("GET privacy", collection=200, **PUBLIC),
    row("GET accounts:data", collection=200, writes=True),
    row("GET accounts:erase", collection=200),
    row("POST accounts:erase", collection={"gov_viewer agency_viewer": INVALID, "*": REFUSED}),
    row("GET accounts:invitation", "credential", missing=404, **PUBLIC),
    row("GET accounts:password_reset", collection=200, **PUBLIC),
    row("GET accounts:password_reset_done", collection=200, **PUBLIC),
    row("GET accounts:password_reset_confirm", "credential", missing=200, **PUBLIC),
    row("GET accounts:password_reset_complete", collection=200, **PUBLIC),
    row("POST accounts:switch_organisation", collection=302),
    row("GET accounts:organisation", collection={ADMIN: 200, "*": 403}),
    row("GET accounts:organisation_two_factor", collection={ADMIN: 200, "*": 403}),
    row("POST accounts:organisation_focal_point", collection={ADMIN: INVALID, "*": 403}, writes=True),
    row("GET accounts:organisation_members", collection={ADMIN: 200, "*": 403}),
    row("GET accounts:organisation_members_csv", collection={ADMIN: 200, "*": 403}),
    row("GET accounts:organisation_invitations", collection={ADMIN: 200, "*": 403}),
    row("POST accounts:organisation_invitations", collection={ADMIN: INVALID, "*": 403}, writes=True),
    row("GET accounts:organisation_sso", collection={ADMIN: 200, "*": 403}),
    row("POST accounts:organisation_sso", collection={ADMIN: INVALID, "*": 403}, writes=True),
    row("GET accounts:organisation_tokens", collection=200),
    row("POST accounts:organisation_tokens", collection=FORM_OK, writes=True),
    # The admin-only pages refuse a non-admin before looking the object up: a 403 for
    # any id, so it reveals nothing.
    admin_only("POST accounts:organisation_member_role", "member", 302, writes=True),
    admin_only("GET accounts:organisation_member_remove", "member", 200),
    admin_only("POST accounts:organisation_member_remove", "member", 302, writes=True),
    admin_only("GET accounts:organisation_invitation_revoke", "invitation", 200),
    admin_only("POST accounts:organisation_invitation_revoke", "invitation", 302, writes=True),
    row("GET accounts:organisation_token_revoke", "token", own=200),
    row("POST accounts:organisation_token_revoke", "token", own=302, writes=True),
    # Listings and moderation
    row("GET opportunities:listings", collection=200),
    row("GET opportunities:listings_export", collection=200),
    row("GET opportunities:listing_create", collection={WRITERS: 200, "*": 403}),
    row("POST opportunities:listing_create", collection={WRITERS: INVALID, "*": 403}),
    row("GET opportunities:listing", "listing", own=200, shared=200),
    row("GET opportunities:listing_edit", "listing", own={WRITERS: 200, "*": 403}, shared=403),
    row("POST opportunities:listing_edit", "listing", own={WRITERS: INVALID, "*": 403}, shared=403),
    row("POST opportunities:listing_transition[submit]", "listing", own={WRITERS: REFUSED, "*": 403}, shared=403),
    *[
        row(
            f"POST opportunities:listing_transition[{action}]",
            "listing",
            own={WRITERS: 302, "*": 403},
            shared=403,
            writes=True,
        )
        for action in ("withdraw", "close")
    ],
    # The origin government's consent page (as the API's consent rows).
    row("GET opportunities:consents", collection=200),
    *[
        row(
            f"POST opportunities:consent_decide[{decision}]",
            "consent",
            own={WRITERS: 302, "*": 403},
            shared={"gov": 404, "agency": 403},
            writes=True,
        )
        for decision in ("accept", "refuse")
    ],
    row("GET opportunities:moderation", collection={MOD: 200, "*": 403}),
    row("GET opportunities:moderation_export", collection={MOD: 200, "*": 403}),
    row(
        "GET opportunities:moderation_review",
        "listing",
        own=403,
        private={MOD: 404, "*": 403},
        missing={MOD: 404, "*": 403},
        shared={MOD: 200, "*": 403},
    ),
    *[
        row(
            f"POST opportunities:moderation_decide[{action}]",
            "listing",
            own=403,
            private={MOD: 404, "*": 403},
            missing={MOD: 404, "*": 403},
            shared={MOD: 302, "*": 403},
            writes=True,
        )
        for action in ("approve", "request-changes", "reject")
    ],
    # Verification of organisations: agency moderators only, refused before the lookup (403 for
    # any id). Italy (shared) is verified: verify and reinstate re-render with the conflict (409).
    row("GET organisation-moderation", collection={MOD: 200, "*": 403}),
    row(
        "GET organisation-moderation-review",
        "organisation",
        own={MOD: 200, "*": 403},
        shared={MOD: 200, "*": 403},
        missing={MOD: 404, "*": 403},
    ),
    *[
        row(
            f"POST organisation-moderation-decide[{decision}]",
            "organisation",
            own=403,
            shared={MOD: ok, "*": 403},
            missing={MOD: 404, "*": 403},
            writes=True,
        )
        for decision, ok in (("verify", 409), ("suspend", 302), ("reinstate", 409))
    ],
    # Matches
    row("GET exchange:matches", collection=200),
    row("GET exchange:matches_export", collection=200),
    row("GET exchange:match", "match", own=200, shared=404, writes=True),
    row("POST exchange:match_interest", "match", own={WRITERS: 302, "*": 403}, shared=404, writes=True),
    row("POST exchange:match_message", "match", own={WRITERS: REFUSED, "*": 403}, shared=404),
    row("POST exchange:match_decide[accept]", "match", own={WRITERS: REFUSED, "*": 403}, shared=404),
    row("POST exchange:match_decide[decline]", "match", own={WRITERS: REFUSED, "*": 403}, shared=404),
    # Suggestions from evidence
    row("GET exchange:suggestion-list", collection=200, check=no_other_suggestion),
    row("GET exchange:suggestion-detail", "suggestion", own=200, shared={"gov": 404, "agency": 200}),
    # The outcomes ledger's entry form on a listing's page: an entry for MA is recorded by
    # Morocco's writers (302); the agencies and viewers are refused; not admitted: 404.
    row(
        "POST exchange:listing-outcomes-record",
        "ledger",
        own={WRITERS: 302, "*": 403},
        shared={"gov": 404, "agency": 403},
        body=outcome_form,
        writes=True,
    ),
    row(
        "POST exchange:listing-outcomes-upload",
        "ledger",
        own={WRITERS: 302, "*": 403},
        shared={"gov": 404, "agency": 403},
        body=outcome_file,
        multipart=True,
        writes=True,
    ),
    row(
        "POST exchange:suggestion-dismiss",
        "suggestion",
        own={WRITERS: 302, "*": 403},
        shared={"gov": 404, "agency": 403},
        writes=True,
    ),
    row(
        "POST exchange:suggestion-act-on",
        "suggestion",
        own={WRITERS: INVALID, "*": 403},
        shared={"gov": 404, "agency": 403},
    ),
    # Partnerships
    row("GET exchange:partnerships", collection=200),
    row("GET exchange:partnerships_export", collection=200),
    row("GET exchange:partnership_create", collection={WRITERS: 200, "*": 403}),
    row("POST exchange:partnership_create", collection={WRITERS: INVALID, "*": 403}),
    row("GET exchange:partnership", "partnership", own=200, shared=200),
    row("GET exchange:partnership_edit", "partnership", own={WRITERS: 200, "*": 403}, shared=403),
    row("POST exchange:partnership_edit", "partnership", own={WRITERS: INVALID, "*": 403}, shared=403),
    row("POST exchange:partnership_confirm", "partnership", own={WRITERS: REFUSED, "*": 403}, shared=403),
    row("POST exchange:partnership_decline", "partnership", own={WRITERS: REFUSED, "*": 403}, shared=403),
    row("POST exchange:partnership_document_upload", "partnership", own={WRITERS: INVALID, "*": 403}, shared=404),
    row("GET exchange:partnership_document", "document", own=200, shared=404),
    # The agreement's form: confirmed members' officials and admins (an empty form is a valid one).
    row(
        "POST exchange:partnership_agreement", "partnership", own={WRITERS: REFUSED, "*": 403}, shared=403, writes=True
    ),
    # The committee's forms: members only (404 to a public reader); an empty form is refused (400).
    *(
        row(
            f"POST exchange:partnership_committee_add[{what}]",
            "partnership",
            own={WRITERS: INVALID, "*": 403},
            shared=404,
        )
        for what in ("members", "meetings", "decisions")
    ),
    row(
        "POST exchange:partnership_committee_delete[members]",
        "committee_member",
        own={WRITERS: REFUSED, "*": 403},
        shared=404,
        writes=True,
    ),
    # Official records: the readers of the object's page. Only an agreed match has a record
    # (Morocco's own match is a suggestion: 404; tests/exchange/test_records.py prints an agreed one).
    row("GET exchange:partnership_print", "partnership", own=200, shared=200),
    row("GET exchange:match_print", "match", own=404, shared=404),
    row("GET opportunities:listing_print", "listing", own=200, shared=200),
    # A profile's SDMX-CSV import: the owner's writers, drafts only (the own profile is
    # published: the page explains, a post is refused); the import is its organisation's own.
    row("GET exchange:profile-import", "profile", own={WRITERS: 200, "*": 403}, shared=403),
    row("POST exchange:profile-import", "profile", own={WRITERS: REFUSED, "*": 403}, shared=403),
    row("GET exchange:profile-import-status", "profile_import", own=200),
    # Migration profiles: Morocco's published one (own), Italy's draft (private), Italy's
    # published one (shared) whose next version is an Italian draft. Editing the own
    # published profile opens its next version (a write); publishing it again is a 409,
    # which a page answers with a redirect and a message (REFUSED).
    row("GET exchange:profile-list", collection=200),
    row("GET exchange:profile-create", collection={WRITERS: 200, "*": 403}),
    row("POST exchange:profile-create", collection={WRITERS: INVALID, "*": 403}),
    row("GET exchange:profile-compare-years", collection=200),
    row("GET exchange:profile-compare-countries", collection=200),
    row("GET exchange:corridor-list", collection=200),
    row("GET exchange:corridor", "corridor", own=200, shared=200),
    row("GET exchange:profile-detail", "profile", own=200, shared=200),
    row("GET exchange:profile-edit-part", "profile", own={WRITERS: 200, "*": 403}, shared=403),
    row(
        "POST exchange:profile-edit-part",
        "profile",
        own={WRITERS: 302, "*": 403},
        shared=403,
        body=narrative_form,
        writes=True,
    ),
    row("GET exchange:profile-publish", "profile", own={WRITERS: REFUSED, "*": 403}, shared=403),
    row("POST exchange:profile-publish", "profile", own={WRITERS: REFUSED, "*": 403}, shared=403),
    row("GET exchange:profile-versions", "profile", own=200, shared=200),
    row("GET exchange:profile-diff", "profile", own=200, shared=200),
    row("GET exchange:public-profile-list", collection=200, **PUBLIC),
    row("GET exchange:public-profile-detail", "public_profile", shared=200, **PUBLIC),
    # Alerts, deliveries, inbox
    row("GET exchange:subscriptions", collection=200),
    row("GET exchange:subscriptions_export", collection=200),
    row("GET exchange:subscription_create", collection={MANAGERS: 200, "*": 403}),
    row("POST exchange:subscription_create", collection={MANAGERS: INVALID, "*": 403}),
    row("GET exchange:subscription", "subscription", own=200),
    row("GET exchange:subscription_edit", "subscription", own={MANAGERS: 200, "*": 403}),
    row("POST exchange:subscription_edit", "subscription", own={MANAGERS: INVALID, "*": 403}),
    row("POST exchange:subscription_test", "subscription", own={MANAGERS: 302, "*": 403}, writes=True),
    row("GET exchange:subscription_rotate", "subscription", own={MANAGERS: 200, "*": 403}),
    row("POST exchange:subscription_rotate", "subscription", own={MANAGERS: 200, "*": 403}, writes=True),
    row("GET exchange:subscription_delete", "subscription", own={MANAGERS: 200, "*": 403}),
    row("POST exchange:subscription_delete", "subscription", own={MANAGERS: 302, "*": 403}, writes=True),
    row("GET exchange:deliveries", collection=200),
    row("GET exchange:deliveries_export", collection=200),
    row("POST exchange:delivery_replay", "delivery", own={MANAGERS: 302, "*": 403}, writes=True),
    row("GET exchange:inbox", collection=200),
    row("POST exchange:inbox_read_all", collection=302, writes=True),
    row("POST exchange:inbox_read", "notification", own=302, writes=True),
    row("GET exchange:unsubscribe", "credential", missing=404, **PUBLIC),
    # Public pages
    # Agreements made public (ILO 13.1): partnerships public and in force, to anyone.
    row("GET exchange:public_partnerships", collection=200, **PUBLIC),
    row("GET exchange:public_partnership", "public_partnership", shared=200, **PUBLIC),
    row("GET public:listings", collection=200, **PUBLIC),
    row("GET public:listings_export", collection=200, **PUBLIC),
    row("GET public:listing", "public_listing", shared=200, **PUBLIC),
    # Statistics and open data: anyone.
    row("GET exchange:statistics", collection=200, **PUBLIC),
    row("GET exchange:statistics-csv", "statistics_table", shared=200, **PUBLIC),
    row("GET exchange:open-data", collection=200, **PUBLIC),
]

ROWS = {r.key: r for r in [*API, *PAGES]}
CASES = cases([*API, *PAGES])


# --- The world, once per module ------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[World]:
    """Built once inside a transaction that is rolled back when the module is done."""
    media = tmp_path_factory.mktemp("media")
    with (
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=str(media),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        ),
        django_db_blocker.unblock(),
    ):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with unscoped("test world"):
                built = build_world()
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def in_savepoint(world: World, db: Any) -> World:
    """``db`` wraps each case in a savepoint of the world's transaction, rolled back after it."""
    return world


def _request(w: World, case: Case, r: Row) -> tuple[Any, str]:
    method, rest = case.key.split(" ", 1)
    kwargs = TARGETS[r.target].resolve(w, case.role, case.kind) if r.target else {}
    if rest.startswith("/api/"):
        if "pk" in kwargs:  # the schema's names for the object's own id
            kwargs["listing_id" if "{listing_id}" in rest else "id"] = kwargs.pop("pk")
        url = rest.format(**kwargs)
        client = api_client(w, case.role)
        data = r.body(w, case.role, case.kind) if r.body else None
        fmt = "multipart" if r.multipart else "json"
        return getattr(client, method.lower())(url, data, format=fmt), url
    name, _, variant = rest.partition("[")
    route = web_routes()[name]
    if r.target == "credential":
        kwargs = {**CREDENTIALS}
    elif "document_pk" in route:
        kwargs = {"pk": kwargs["partnership_pk"], "document_pk": kwargs["pk"]}
    elif "row_pk" in route:
        kwargs = {"pk": kwargs["partnership_pk"], "row_pk": kwargs["pk"]}
    if "<int:part>" in route:  # a profile's part: the first
        kwargs["part"] = "1"
    if variant:
        key = "kind" if "<kind>" in route else "decision" if "decision" in route else "action"
        kwargs[key] = variant.rstrip("]")
    url = fill(route, kwargs)
    client = web_client(w, case.role)
    data = (r.body or form)(w, case.role, case.kind) if method == "POST" else None
    return getattr(client, method.lower())(url, data), url


@pytest.mark.parametrize("case", CASES, ids=str)
def test_access(case: Case, in_savepoint: World) -> None:
    w = in_savepoint
    r = ROWS[case.key]
    expected = r.expected[case.kind][case.role]
    before = snapshot()
    response, url = _request(w, case, r)
    text = body_text(response)
    problems = []
    if not status_ok(expected, response):
        wanted = sorted(expected) if isinstance(expected, frozenset) else expected
        problems.append(f"status {response.status_code}, expected {wanted}")
    leaked = [v for v in w.leaks_for(case.role, case.kind) if v in text and v not in url]
    if leaked:
        problems.append(f"leaked {leaked}")
    data = json_or_none(text) if "json" in response.get("Content-Type", "") else None
    problems += list(private_parts(w, case.role, data))
    if r.check:
        problems += r.check(w, case.role, case.kind, data, text)
    if not (r.writes and success(expected) and status_ok(expected, response)):
        after = snapshot()
        changed = sorted(t for t in before if before[t] != after[t])
        if changed:
            problems.append(f"changed {changed}")
    assert not problems, problems


# --- The table covers every route, and says nothing that would reveal existence -----------


def test_every_api_operation_has_a_row() -> None:
    assert sorted(k for k in ROWS if k.split(" ", 1)[1].startswith("/api/")) == schema_operations()


def test_every_page_has_a_row() -> None:
    named = {k.split(" ", 1)[1].partition("[")[0] for k in ROWS if not k.split(" ", 1)[1].startswith("/api/")}
    assert sorted(set(web_routes()) - named) == []
    assert sorted(named - set(web_routes())) == []
    for name, variants in WEB_VARIANTS.items():
        assert {k for k in ROWS if f" {name}[" in k} == {f"POST {name}[{v}]" for v in variants}


def test_the_table_never_tells_a_private_object_from_a_missing_one() -> None:
    for r in ROWS.values():
        if "private" in r.expected and "missing" in r.expected:
            assert r.expected["private"] == r.expected["missing"], r.key


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 1000
    assert COLLECTION and LOGIN and MISSING  # the vocabulary of the table


# --- Foreign ids in bodies, filters and headers; mass assignment ---------------------------
# Each case: (who, method, url, body, expected status, what must hold in the database after).
# Ids the caller may not see are refused (400 in a body, 403 in X-Organisation) or filtered
# out, never acted on; fields the caller does not own (status, owner, dates of moderation)
# are ignored.


def _own_draft(w: World) -> Any:
    from accounts.tenancy import Actor
    from tests.opportunities.conftest import create_listing

    actor = Actor(user=w.users["gov_official"], organisation=w.orgs["morocco"], role="official")
    with unscoped("test setup"):
        return create_listing(actor, listing_body(w, "gov_official", "own"))


def _listings(w: World, **filters: Any) -> int:
    from opportunities.models import Listing

    with unscoped("test assertion"):
        return Listing.objects.filter(**filters).count()


SNEAKY = {
    "status": "published",
    "owner": "ITALY",
    "published_at": "2020-01-01T00:00:00Z",
    "submitted_at": "2020-01-01T00:00:00Z",
    "created_by": "ITALY_USER",
    "decided_by": "ITALY_USER",
}


def _sneaky(w: World) -> dict[str, Any]:
    values = {"ITALY": str(w.orgs["italy"].pk), "ITALY_USER": str(w.users["italy_official"].pk)}
    return {k: values.get(v, v) for k, v in SNEAKY.items()}


def _assert_listing_untouched(w: World, listing: Any, *, status: str) -> None:
    from opportunities.models import Listing

    with unscoped("test assertion"):
        fresh = Listing.objects.get(pk=listing.pk)
        assert fresh.status == status
        assert fresh.owner_id == w.orgs["morocco"].pk
        assert (fresh.published_at, fresh.submitted_at) == (listing.published_at, listing.submitted_at)
        for revision in fresh.revisions.all():
            assert not set(SNEAKY) & set(revision.data), revision.data


def case_listing_contact_of_another_org(w: World, client: Any) -> None:
    body = {**listing_body(w, "gov_official", "-"), "contact": str(w.users["italy_official"].pk)}
    assert client.post("/api/v1/listings/", body, format="json").status_code == 400
    assert _listings(w, title="matrix-new-offer") == 0


def case_listing_patch_contact_of_another_org(w: World, client: Any) -> None:
    draft = _own_draft(w)
    response = client.patch(f"/api/v1/listings/{draft.pk}/", {"contact": str(w.users["italy_official"].pk)})
    assert response.status_code == 400
    with unscoped("test assertion"):
        draft.refresh_from_db()
    assert draft.contact_id != w.users["italy_official"].pk


def case_partnership_naming_an_invisible_listing(w: World, client: Any) -> None:
    body = {**partnership_body(w, "gov_official", "-"), "listings": [str(w.objects["italy_draft"].pk)]}
    assert client.post("/api/v1/partnerships/", body, format="json").status_code == 400
    from exchange.models import Partnership

    with unscoped("test assertion"):
        assert not Partnership.objects.filter(name="matrix-partnership").exists()


def case_partnership_naming_another_tenants_match(w: World, client: Any) -> None:
    body = {**partnership_body(w, "gov_official", "-"), "matches": [str(w.objects["other_match"].pk)]}
    assert client.post("/api/v1/partnerships/", body, format="json").status_code == 400


def case_partnership_patch_with_an_invisible_listing(w: World, client: Any) -> None:
    url = f"/api/v1/partnerships/{w.objects['own_partnership'].pk}/"
    response = client.patch(url, {"listings": [str(w.objects["italy_draft"].pk)]}, format="json")
    assert response.status_code == 400
    with unscoped("test assertion"):
        assert not w.objects["own_partnership"].listings.filter(pk=w.objects["italy_draft"].pk).exists()


def case_matches_filtered_by_another_tenants_listing(w: World, client: Any) -> None:
    for listing in ("italy_draft", "italy_shared", "moldova_listing"):
        response = client.get(f"/api/v1/matches/?listing={w.objects[listing].pk}")
        assert response.status_code == 200
        assert str(w.objects["other_match"].pk) not in response.content.decode()
        assert "SENTINEL-match-message" not in response.content.decode()


def case_deliveries_filtered_by_another_tenants_subscription(w: World, client: Any) -> None:
    response = client.get(f"/api/v1/deliveries/?subscription={w.objects['italy_subscription'].pk}")
    assert response.status_code == 200
    assert response.json()["results"] == []


def case_listing_matches_of_another_tenants_draft_filtered(w: World, client: Any) -> None:
    url = f"/api/v1/listings/{w.objects['own_listing'].pk}/matches/?listing={w.objects['other_match'].demand_id}"
    response = client.get(url)
    assert response.status_code == 200
    assert str(w.objects["other_match"].pk) not in response.content.decode()


def case_email_channel_to_another_tenants_member(w: World, client: Any) -> None:
    body = {"name": "matrix-alert", "channels": [{"type": "email", "members": [str(w.users["italy_official"].pk)]}]}
    assert client.post("/api/v1/subscriptions/", body, format="json").status_code == 400


def case_focal_point_from_another_org(w: World, client: Any) -> None:
    url = f"/api/v1/organisations/{w.orgs['morocco'].pk}/"
    response = client.patch(url, {"focal_point": str(w.users["italy_official"].pk)}, format="json")
    assert response.status_code == 400
    with unscoped("test assertion"):
        w.orgs["morocco"].refresh_from_db()
    assert w.orgs["morocco"].focal_point_id != w.users["italy_official"].pk


def case_own_org_with_another_tenants_member(w: World, client: Any) -> None:
    url = f"/api/v1/organisations/{w.orgs['morocco'].pk}/members/{w.objects['italy_member'].pk}/"
    assert client.patch(url, {"role": "viewer"}, format="json").status_code == 404
    assert client.delete(url).status_code == 404
    from accounts.models import Membership

    with unscoped("test assertion"):
        assert Membership.objects.get(pk=w.objects["italy_member"].pk).role == "official"


def case_own_org_with_another_tenants_invitation(w: World, client: Any) -> None:
    url = f"/api/v1/organisations/{w.orgs['morocco'].pk}/invitations/{w.objects['italy_invitation'].pk}/"
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404


def case_another_partnerships_document_under_own_partnership(w: World, client: Any) -> None:
    url = (
        f"/api/v1/partnerships/{w.objects['own_partnership'].pk}/documents/{w.objects['private_document'].pk}/download/"
    )
    assert client.get(url).status_code == 404


def case_x_organisation_of_an_org_i_am_not_in(w: World, client: Any) -> None:
    session = APIClient()
    session.force_login(w.users["gov_official"])
    for org in (w.orgs["italy"].slug, str(w.orgs["italy"].pk), "no-such-org"):
        response = session.get("/api/v1/subscriptions/", HTTP_X_ORGANISATION=org)
        assert response.status_code == 403, (org, response.status_code)
        assert "SENTINEL" not in response.content.decode()


def case_listing_create_ignores_status_owner_dates(w: World, client: Any) -> None:
    response = client.post("/api/v1/listings/", {**listing_body(w, "gov_official", "-"), **_sneaky(w)}, format="json")
    assert response.status_code in (201, 400), response.status_code
    from opportunities.models import Listing

    with unscoped("test assertion"):
        for listing in Listing.objects.filter(title="matrix-new-offer"):
            assert (listing.status, listing.owner_id) == ("draft", w.orgs["morocco"].pk)
            assert listing.published_at is None and listing.submitted_at is None


def case_listing_patch_draft_ignores_status_owner_dates(w: World, client: Any) -> None:
    draft = _own_draft(w)
    response = client.patch(f"/api/v1/listings/{draft.pk}/", {"title": "matrix-edited", **_sneaky(w)}, format="json")
    assert response.status_code in (200, 400), response.status_code
    _assert_listing_untouched(w, draft, status="draft")


def case_listing_patch_published_ignores_status_owner_dates(w: World, client: Any) -> None:
    listing = w.objects["own_listing"]
    response = client.patch(f"/api/v1/listings/{listing.pk}/", {"title": "matrix-edited", **_sneaky(w)}, format="json")
    assert response.status_code in (200, 400), response.status_code
    _assert_listing_untouched(w, listing, status="published")


def case_submit_ignores_moderator_fields(w: World, client: Any) -> None:
    draft = _own_draft(w)
    response = client.post(f"/api/v1/listings/{draft.pk}/submit/", _sneaky(w), format="json")
    assert response.status_code == 200
    from opportunities.models import Listing

    with unscoped("test assertion"):
        fresh = Listing.objects.get(pk=draft.pk)
        assert (fresh.status, fresh.published_at, fresh.owner_id) == ("submitted", None, w.orgs["morocco"].pk)
        assert not fresh.transitions.exclude(actor=w.users["gov_official"]).exists()


def case_interest_ignores_state_and_decider(w: World, client: Any) -> None:
    match = w.objects["own_match"]
    body = {"message": "matrix", "state": "agreed", "decided_by": str(w.orgs["italy"].pk), "interest_by": "x"}
    assert client.post(f"/api/v1/matches/{match.pk}/interest/", body, format="json").status_code == 200
    with unscoped("test assertion"):
        match.refresh_from_db()
    assert (match.state, match.interest_by_id, match.decided_by_id) == (
        "interest_expressed",
        w.orgs["morocco"].pk,
        None,
    )


def case_subscription_create_ignores_organisation(w: World, client: Any) -> None:
    body = {**subscription_body(w, "gov_official", "-"), "organisation": str(w.orgs["italy"].pk)}
    assert client.post("/api/v1/subscriptions/", body, format="json").status_code == 201
    from exchange.models import Subscription

    with unscoped("test assertion"):
        assert Subscription.objects.get(name="matrix-alert").organisation_id == w.orgs["morocco"].pk


def case_token_create_ignores_organisation_and_user(w: World, client: Any) -> None:
    body = {"name": "matrix-token", "organisation": str(w.orgs["italy"].pk), "user": str(w.users["italy_admin"].pk)}
    assert client.post("/api/v1/tokens/", body, format="json").status_code == 201
    from accounts.models import ApiToken

    with unscoped("test assertion"):
        token = ApiToken.objects.get(name="matrix-token")
    assert (token.organisation_id, token.user_id) == (w.orgs["morocco"].pk, w.users["gov_official"].pk)


def case_me_ignores_staff_flags(w: World, client: Any) -> None:
    body = {"full_name": "Matrix", "is_staff": True, "is_superuser": True, "email": "taken@over.example"}
    client.patch("/api/v1/me/", body, format="json")
    user = w.users["gov_official"]
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser and user.email == "official@ma.example"


def case_member_role_ignores_user_and_organisation(w: World, client: Any) -> None:
    membership = w.objects["morocco_member"]
    url = f"/api/v1/organisations/{w.orgs['morocco'].pk}/members/{membership.pk}/"
    body = {"role": "viewer", "organisation": str(w.orgs["italy"].pk), "user": str(w.users["italy_admin"].pk)}
    assert client.patch(url, body, format="json").status_code == 200
    from accounts.models import Membership

    with unscoped("test assertion"):
        fresh = Membership.objects.get(pk=membership.pk)
    assert (fresh.organisation_id, fresh.user_id, fresh.role) == (w.orgs["morocco"].pk, membership.user_id, "viewer")


def case_offboarding_to_another_tenants_member(w: World, client: Any) -> None:
    """Nothing can be handed to someone outside the organisation (accounts.access.transfer_targets)."""
    membership = w.objects["morocco_member"]
    url = f"/api/v1/organisations/{w.orgs['morocco'].pk}/members/{membership.pk}/"
    for outsider in (w.users["italy_admin"], w.users["agency_moderator"]):
        response = client.delete(f"{url}?transfer_to={outsider.pk}")
        assert response.status_code == 400 and list(response.json()) == ["transfer_to"], response.content
        assert "SENTINEL" not in response.content.decode()
    from accounts.models import Membership

    with unscoped("test assertion"):
        assert Membership.objects.filter(pk=membership.pk).exists()


BODY_CASES = [
    ("gov_official", case_listing_contact_of_another_org),
    ("gov_official", case_listing_patch_contact_of_another_org),
    ("gov_official", case_partnership_naming_an_invisible_listing),
    ("gov_official", case_partnership_naming_another_tenants_match),
    ("gov_official", case_partnership_patch_with_an_invisible_listing),
    ("gov_official", case_matches_filtered_by_another_tenants_listing),
    ("gov_official", case_deliveries_filtered_by_another_tenants_subscription),
    ("gov_official", case_listing_matches_of_another_tenants_draft_filtered),
    ("gov_official", case_email_channel_to_another_tenants_member),
    ("gov_admin", case_focal_point_from_another_org),
    ("gov_admin", case_own_org_with_another_tenants_member),
    ("gov_admin", case_own_org_with_another_tenants_invitation),
    ("gov_official", case_another_partnerships_document_under_own_partnership),
    ("gov_official", case_x_organisation_of_an_org_i_am_not_in),
    ("gov_official", case_listing_create_ignores_status_owner_dates),
    ("gov_official", case_listing_patch_draft_ignores_status_owner_dates),
    ("gov_official", case_listing_patch_published_ignores_status_owner_dates),
    ("gov_official", case_submit_ignores_moderator_fields),
    ("gov_official", case_interest_ignores_state_and_decider),
    ("gov_official", case_subscription_create_ignores_organisation),
    ("gov_official", case_token_create_ignores_organisation_and_user),
    ("gov_official", case_me_ignores_staff_flags),
    ("gov_admin", case_member_role_ignores_user_and_organisation),
    ("gov_admin", case_offboarding_to_another_tenants_member),
]


@pytest.mark.parametrize(("role", "check"), BODY_CASES, ids=[c.__name__.removeprefix("case_") for _, c in BODY_CASES])
def test_foreign_ids_and_mass_assignment(role: str, check: Any, in_savepoint: World) -> None:
    check(in_savepoint, api_client(in_savepoint, role))
