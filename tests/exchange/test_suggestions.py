"""Suggestions from evidence: a destination's published shortage meets an origin's published surplus.

Germany (DE) reports shortages; the Philippines (PH) and Moldova (MD) report
surpluses. Profiles are written and published through the services, and the
publication's after-commit hook recomputes the suggestions (tasks run eagerly).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Organisation
from accounts.tenancy import Actor, unscoped
from exchange.models import MigrationProfile, Notification, ProfileSkill, Suggestion
from exchange.profiles.services import profile_create, profile_publish, profile_update, skill_delete, skill_save
from exchange.profiles.suggestions import suggestions_refresh
from tests.conftest import token_client
from tests.exchange.conftest import offer, published, run_on_commit, scheme
from tests.exchange.factories import ChannelFactory, SubscriptionFactory
from tests.factories import AgencyFactory, member
from tests.opportunities.conftest import transition

pytestmark = pytest.mark.django_db

URL = "/api/v1/suggestions/"


def _actor(org: Organisation, role: str = "official") -> Actor:
    user = member(org, role, email=f"{role}@{org.slug}.example")
    return Actor(user=user, organisation=org, role=role)


@pytest.fixture
def de(germany: Organisation) -> Actor:
    return _actor(germany)


@pytest.fixture
def ph(philippines: Organisation) -> Actor:
    return _actor(philippines)


@pytest.fixture
def md(moldova: Organisation) -> Actor:
    return _actor(moldova)


def api(actor: Actor) -> APIClient:
    assert actor.user is not None and actor.organisation is not None
    return token_client(actor.user, actor.organisation)


def evidence(
    actor: Actor, rows: list[tuple[str, str, str]], *, year: int = 2025, publish: bool = True
) -> MigrationProfile:
    """A profile of the actor's country with skills rows ``(kind, isco_code, severity)``."""
    profile = run_on_commit(
        profile_create, actor=actor, data={"country": actor.country, "year": year, "visibility": "members"}
    )
    for kind, code, severity in rows:
        run_on_commit(
            skill_save,
            actor=actor,
            profile=profile,
            data={"kind": kind, "occupation_id": code, "severity": severity, "time_period": year - 1, "source": "LFS"},
        )
    if publish:
        profile = run_on_commit(profile_publish, actor=actor, profile=profile)
    return profile


def _suggestions(client: APIClient, **filters: Any) -> list[dict[str, Any]]:
    response = client.get(URL, filters)
    assert response.status_code == 200, response.json()
    return list(response.json()["results"])


def _keys(rows: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(r["destination_country"], r["origin_country"], r["isco_code"]) for r in rows}


# --- The rule ---------------------------------------------------------------------------------


def test_a_shortage_meeting_a_surplus_in_the_same_unit_group_is_suggested_with_its_evidence(de, ph):
    shortage_profile = evidence(de, [("shortage", "2221", "high")])
    surplus_profile = evidence(ph, [("surplus", "2221", "medium")])
    rows = _suggestions(api(de))
    assert _keys(rows) == {("DE", "PH", "2221")}
    found = rows[0]
    assert found["isco_title"] == "Nursing professionals" and found["state"] == "open" and found["listing"] is None
    shortage, surplus = found["evidence"]["shortage"], found["evidence"]["surplus"]
    assert (shortage["isco_code"], shortage["severity"], shortage["time_period"], shortage["source"]) == (
        "2221",
        "high",
        2024,
        "LFS",
    )
    assert shortage["profile"] == {"id": str(shortage_profile.pk), "country": "DE", "year": 2025, "version": 1}
    assert surplus["profile"] == {"id": str(surplus_profile.pk), "country": "PH", "year": 2025, "version": 1}
    assert found["evidence"]["level"] == "unit_group"
    assert _keys(_suggestions(api(ph))) == {("DE", "PH", "2221")}  # the origin sees it too


def test_rows_meeting_at_the_minor_or_sub_major_group_are_suggested_but_not_at_the_major_group(de, ph, md, italy):
    it = _actor(italy)
    evidence(de, [("shortage", "2221", "high"), ("shortage", "71", "medium")])
    evidence(ph, [("surplus", "2222", "high")])  # nursing and midwifery professionals: minor group 222
    # 71 is 7126's sub-major group; 2310 meets 2221 at the major group (2) only.
    evidence(md, [("surplus", "7126", "low"), ("surplus", "2310", "high")])
    evidence(it, [("diaspora", "2221", "high")])  # a diaspora row is neither a shortage nor a surplus
    rows = _suggestions(api(de))
    assert _keys(rows) == {("DE", "PH", "222"), ("DE", "MD", "71")}
    levels = {r["isco_code"]: r["evidence"]["level"] for r in rows}
    assert levels == {"222": "minor_group", "71": "sub_major_group"}


def test_a_broader_group_is_not_suggested_beside_a_narrower_one_of_the_same_two_countries(de, ph):
    """Cooks short, cooks and waiters in surplus: cooks (5120), not also personal services (51)."""
    evidence(de, [("shortage", "5120", "high")])
    evidence(ph, [("surplus", "5120", "medium"), ("surplus", "5131", "medium")])
    assert _keys(_suggestions(api(de))) == {("DE", "PH", "5120")}


def test_a_draft_profile_gives_nothing_and_a_superseded_version_no_longer_counts(de, ph, md):
    evidence(ph, [("surplus", "2221", "high")])
    draft = evidence(de, [("shortage", "2221", "high")], publish=False)
    suggestions_refresh()
    assert _suggestions(api(de)) == [] and _suggestions(api(ph)) == []

    run_on_commit(profile_publish, actor=de, profile=draft)
    [first] = _suggestions(api(de))
    # The next version drops the shortage; once it is published, the first version is superseded.
    following = run_on_commit(profile_update, actor=de, profile=draft, data={"labour_market": "eased"})
    with unscoped("test setup"):
        copied = ProfileSkill.objects.get(profile=following)
    run_on_commit(skill_delete, actor=de, skill=copied)
    assert _suggestions(api(de))[0]["id"] == first["id"]  # the draft changes nothing yet
    run_on_commit(profile_publish, actor=de, profile=following)
    assert _suggestions(api(de)) == [] and _suggestions(api(ph)) == []
    agency = AgencyFactory()
    assert _suggestions(api(_actor(agency, "viewer"))) == []


def test_a_new_version_updates_the_evidence_of_the_open_suggestion(de, ph):
    first_version = evidence(de, [("shortage", "2221", "medium")])
    evidence(ph, [("surplus", "2221", "high")])
    [before] = _suggestions(api(de))
    following = run_on_commit(profile_update, actor=de, profile=first_version, data={"labour_market": "worse"})
    with unscoped("test setup"):
        row = ProfileSkill.objects.get(profile=following)
    run_on_commit(skill_save, actor=de, profile=following, data={"severity": "high"}, skill=row)
    run_on_commit(profile_publish, actor=de, profile=following)
    [after] = _suggestions(api(de))
    assert after["id"] == before["id"]
    assert after["evidence"]["shortage"]["severity"] == "high"
    assert after["evidence"]["shortage"]["profile"]["version"] == 2


def _listing_pair(de: Actor, ph: Actor, moderator: Actor, code: str = "2221") -> tuple[Any, Any]:
    lines = [{"isco_code": code, "quantity": 20}]
    demand = published(de, moderator, scheme(title="Nurses for clinics", occupation_lines=lines))
    supply = published(ph, moderator, offer(title="Trained nurses", occupation_lines=lines))
    return demand, supply


def test_no_suggestion_where_a_live_listing_pair_already_connects_the_two_countries(de, ph, moderator):
    _listing_pair(de, ph, moderator)
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    assert _suggestions(api(de)) == []


def test_a_listing_pair_opening_later_removes_the_suggestion_and_closing_brings_it_back(de, ph, moderator):
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    assert len(_suggestions(api(de))) == 1
    demand = published(de, moderator, scheme(title="Nurses", occupation_lines=[{"isco_code": "2221", "quantity": 5}]))
    assert len(_suggestions(api(de))) == 1  # one side alone connects nothing
    published(ph, moderator, offer(title="Nurses", occupation_lines=[{"isco_code": "2221", "quantity": 5}]))
    assert _suggestions(api(de)) == []
    run_on_commit(transition, demand, de, "close")
    assert _keys(_suggestions(api(de))) == {("DE", "PH", "2221")}


def test_a_scheme_not_open_to_the_origin_or_in_another_group_does_not_connect_them(de, ph, moderator):
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    published(
        de,
        moderator,
        scheme(partner_countries=["MD"], occupation_lines=[{"isco_code": "2221", "quantity": 5}]),
    )
    published(ph, moderator, offer(occupation_lines=[{"isco_code": "2221", "quantity": 5}]))
    published(de, moderator, scheme(occupation_lines=[{"isco_code": "9211", "quantity": 5}]))
    assert len(_suggestions(api(de))) == 1


# --- Who sees what --------------------------------------------------------------------------


def test_each_government_sees_its_own_countrys_suggestions_and_agencies_see_all(de, ph, md, italy):
    it = _actor(italy)
    evidence(de, [("shortage", "2221", "high")])
    evidence(it, [("shortage", "7126", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    evidence(md, [("surplus", "7126", "high")])
    assert _keys(_suggestions(api(de))) == {("DE", "PH", "2221")}
    assert _keys(_suggestions(api(md))) == {("IT", "MD", "7126")}
    agency = api(_actor(AgencyFactory(), "viewer"))
    assert _keys(_suggestions(agency)) == {("DE", "PH", "2221"), ("IT", "MD", "7126")}
    assert _keys(_suggestions(agency, destination_country="IT")) == {("IT", "MD", "7126")}
    assert _keys(_suggestions(agency, origin_country="PH", isco_code="2221")) == {("DE", "PH", "2221")}
    assert _suggestions(agency, state="dismissed") == []
    assert agency.get(URL, {"origin_country": "ZZ"}).status_code == 400
    other = _suggestions(agency, destination_country="IT")[0]
    assert api(de).get(f"{URL}{other['id']}/").status_code == 404
    assert api(de).post(f"{URL}{other['id']}/dismiss/", {"reason": "x"}, format="json").status_code == 404
    assert APIClient().get(URL).status_code == 401


def test_an_inactive_organisation_and_the_anonymous_see_none(de, ph):
    from exchange.access import suggestion_visible_to

    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    with unscoped("assertion"):
        assert suggestion_visible_to(actor=ph).count() == 1
        Organisation.objects.filter(pk=ph.org.pk).update(is_active=False)
        ph.org.refresh_from_db()
        assert suggestion_visible_to(actor=ph).count() == 0
        assert suggestion_visible_to(actor=Actor.anonymous()).count() == 0


# --- Deciding -------------------------------------------------------------------------------


def test_either_government_dismisses_an_open_suggestion_with_a_reason_and_it_stays_dismissed(de, ph, md):
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    [found] = _suggestions(api(de))
    url = f"{URL}{found['id']}/dismiss/"
    no_reason = api(ph).post(url, {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    assert api(_actor(ph.org, "viewer")).post(url, {"reason": "no"}, format="json").status_code == 403
    assert api(_actor(AgencyFactory(), "moderator")).post(url, {"reason": "no"}, format="json").status_code == 403
    assert api(md).post(url, {"reason": "no"}, format="json").status_code == 404
    response = api(ph).post(url, {"reason": "Our nurses are committed to the national plan."}, format="json")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["reason"]) == (
        "dismissed",
        "Our nurses are committed to the national plan.",
    )
    assert api(de).post(url, {"reason": "again"}, format="json").status_code == 409
    # Recomputing leaves a dismissed suggestion as it is: it is not suggested again.
    suggestions_refresh()
    assert [(r["id"], r["state"]) for r in _suggestions(api(de))] == [(found["id"], "dismissed")]


def test_acting_on_a_suggestion_links_one_of_the_callers_listings(de, ph, md, moderator):
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    [found] = _suggestions(api(de))
    url = f"{URL}{found['id']}/act-on/"
    mine = published(de, moderator, scheme(title="Nurses", occupation_lines=[{"isco_code": "2221", "quantity": 5}]))
    theirs = published(md, moderator, offer(title="Moldovan nurses"))
    for body in ({}, {"listing": str(theirs.pk)}, {"listing": "00000000-0000-4000-8000-00000000dead"}):
        response = api(de).post(url, body, format="json")
        assert response.status_code == 400 and "listing" in response.json(), body
    response = api(de).post(url, {"listing": str(mine.pk)}, format="json")
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["listing"]) == ("acted_on", str(mine.pk))
    assert api(ph).get(f"{URL}{found['id']}/").json()["listing"] == str(mine.pk)  # a published listing: readable
    assert api(ph).post(url, {"listing": str(mine.pk)}, format="json").status_code == 409
    assert api(ph).post(f"{URL}{found['id']}/dismiss/", {"reason": "late"}, format="json").status_code == 409


# --- Telling both governments ---------------------------------------------------------------


def test_suggestion_created_reaches_the_inboxes_of_both_governments_only(de, ph, md):
    for actor in (de, ph, md):
        ChannelFactory(subscription=SubscriptionFactory(organisation=actor.org, name="All news"))
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    [found] = _suggestions(api(de))
    for actor in (de, ph):
        items = api(actor).get("/api/v1/notifications/").json()["results"]
        assert [(n["type"], n["data"]["suggestion_id"]) for n in items] == [("suggestion.created", found["id"])]
        assert items[0]["data"]["destination_country"] == "DE" and items[0]["data"]["isco_code"] == "2221"
    assert api(md).get("/api/v1/notifications/").json()["results"] == []
    # The inbox page renders it, linking to the suggestion's page.
    client = Client()
    assert ph.user is not None
    client.force_login(ph.user)
    page = client.get("/inbox/").content.decode()
    assert "New suggestion from evidence" in page and f"/suggestions/{found['id']}/" in page
    # Recomputing does not announce it again.
    suggestions_refresh()
    with unscoped("assertion"):
        assert Notification.objects.filter(delivery__organisation=de.org).count() == 1


def test_suggestions_rest_only_on_published_versions(de, ph):
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    with unscoped("assertion"):
        suggestion = Suggestion.objects.get()
        assert suggestion.shortage is not None and suggestion.surplus is not None
        assert {suggestion.shortage.profile.status, suggestion.surplus.profile.status} == {"published"}


# --- The pages --------------------------------------------------------------------------------


def _page(actor: Actor | None, path: str, data: dict[str, Any] | None = None) -> Any:
    client = Client()
    if actor is not None:
        assert actor.user is not None
        client.force_login(actor.user)
    return client.post(path, data or {}) if data is not None else client.get(path)


def test_the_suggestions_page_shows_each_country_its_own_and_the_agencies_all(de, ph, md):
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "medium")])
    with unscoped("assertion"):
        suggestion = Suggestion.objects.get()
    detail = f"/suggestions/{suggestion.pk}/"
    for actor in (de, ph, _actor(AgencyFactory(), "viewer")):
        page = _page(actor, "/suggestions/")
        assert page.status_code == 200 and "Nursing professionals" in page.content.decode()
        assert detail in page.content.decode()
    page = _page(md, "/suggestions/")
    assert page.status_code == 200 and detail not in page.content.decode()
    assert _page(md, detail).status_code == 404
    anonymous = _page(None, "/suggestions/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert _page(None, detail).status_code == 302

    text = _page(ph, detail).content.decode()
    assert "Germany" in text and "Philippines" in text and "LFS" in text  # the evidence, with its source
    assert 'for="id_reason"' in text and 'for="id_listing"' not in text  # a labelled reason; no listing to act with
    viewer_text = _page(_actor(ph.org, "viewer"), detail).content.decode()
    assert "Dismiss the suggestion" not in viewer_text  # viewers read, they do not decide


def test_the_dashboard_panel_lists_the_open_suggestions_of_the_callers_country(de, ph, md):
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "medium")])
    text = _page(de, "/dashboard/").content.decode()
    assert "Suggestions from evidence" in text and "Nursing professionals" in text
    assert "Shortage in Germany, surplus in Philippines" in text
    other = _page(md, "/dashboard/").content.decode()
    assert "Suggestions from evidence" in other and "Nursing professionals" not in other


def test_dismissing_and_acting_on_through_the_pages(de, ph, moderator):
    evidence(de, [("shortage", "2221", "high"), ("shortage", "7126", "low")])
    evidence(ph, [("surplus", "2221", "medium"), ("surplus", "7126", "high")])
    with unscoped("assertion"):
        nurses = Suggestion.objects.get(occupation_id="2221")
        plumbers = Suggestion.objects.get(occupation_id="7126")
    empty = _page(ph, f"/suggestions/{nurses.pk}/dismiss/", {"reason": ""})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    done = _page(ph, f"/suggestions/{nurses.pk}/dismiss/", {"reason": "Needed at home"})
    assert done.status_code == 302
    again = _page(de, f"/suggestions/{nurses.pk}/dismiss/", {"reason": "Twice"})
    assert again.status_code == 302  # back to the page, with the reason it is refused
    assert "Needed at home" in _page(de, f"/suggestions/{nurses.pk}/").content.decode()

    scheme_listing = published(
        de, moderator, scheme(title="Plumbers wanted", occupation_lines=[{"isco_code": "7126", "quantity": 5}])
    )
    form = _page(de, f"/suggestions/{plumbers.pk}/").content.decode()
    assert 'for="id_listing"' in form and "Plumbers wanted" in form
    assert _page(de, f"/suggestions/{plumbers.pk}/act-on/", {"listing": ""}).status_code == 400
    assert _page(de, f"/suggestions/{plumbers.pk}/act-on/", {"listing": str(scheme_listing.pk)}).status_code == 302
    with unscoped("assertion"):
        nurses.refresh_from_db()
        plumbers.refresh_from_db()
    assert (nurses.state, nurses.reason) == ("dismissed", "Needed at home")
    assert (plumbers.state, plumbers.listing_id) == ("acted_on", scheme_listing.pk)
    assert "Plumbers wanted" in _page(ph, f"/suggestions/{plumbers.pk}/").content.decode()


# --- More of what users notice ----------------------------------------------------------------


def test_an_email_channel_gets_the_new_suggestion_described(de, ph, settings):
    from django.core import mail

    settings.SITE_URL = "https://corridor.example"
    admin = member(de.org, "admin", email="admin@de.example")
    subscription = SubscriptionFactory(organisation=de.org, name="Everything")
    ChannelFactory(subscription=subscription, type="email")
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    with unscoped("assertion"):
        suggestion = Suggestion.objects.get()
    [message] = [m for m in mail.outbox if admin.email in m.to]
    assert message.subject == "New suggestion from evidence: 2221 Nursing professionals"
    assert "no listings connect them yet" in message.body
    assert "Destination country: DE" in message.body and "Origin country: PH" in message.body
    assert f"https://corridor.example/api/v1/suggestions/{suggestion.pk}/" in message.body


def test_publishing_through_the_api_makes_the_suggestion(de, ph, django_capture_on_commit_callbacks):
    evidence(ph, [("surplus", "2221", "high")])
    client = api(de)
    draft = client.post("/api/v1/profiles/", {"country": "DE", "year": 2025, "visibility": "public"}, format="json")
    skills = f"/api/v1/profiles/{draft.json()['id']}/skills/"
    row = {"kind": "shortage", "isco_code": "2221", "severity": "high", "time_period": 2024, "source": "BA"}
    assert client.post(skills, row, format="json").status_code == 201
    assert _suggestions(client) == []  # a draft is evidence for nobody
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit, as in production
        assert client.post(f"/api/v1/profiles/{draft.json()['id']}/publish/").status_code == 200
    assert _keys(_suggestions(client)) == {("DE", "PH", "2221")}


def test_the_read_rule_and_its_readers_agree(de, ph, md, italy):
    from exchange.access import suggestion_readers, suggestion_visible_to

    it = _actor(italy)
    agency = _actor(AgencyFactory(), "viewer")
    evidence(de, [("shortage", "2221", "high")])
    evidence(it, [("shortage", "7126", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    evidence(md, [("surplus", "7126", "high")])
    with unscoped("assertion"):
        suggestions = list(Suggestion.objects.all())
        for actor in (de, ph, md, it, agency):
            visible = set(suggestion_visible_to(actor=actor).values_list("pk", flat=True))
            readers = {s.pk for s in suggestions if suggestion_readers(s).filter(pk=actor.org.pk).exists()}
            assert visible == readers, actor.org.name


def test_the_list_costs_the_same_queries_for_one_suggestion_or_many(de, ph, md, italy):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(_actor(AgencyFactory(), "viewer"))
    evidence(de, [("shortage", "2221", "high")])
    evidence(ph, [("surplus", "2221", "high")])
    _suggestions(client)  # the first request makes one-time lookups and writes (the token's use, caches)
    with CaptureQueriesContext(connection) as one:
        assert len(_suggestions(client)) == 1
    evidence(_actor(italy), [("shortage", "7126", "high"), ("shortage", "2221", "low")])
    evidence(md, [("surplus", "7126", "high"), ("surplus", "2221", "low")])
    with CaptureQueriesContext(connection) as many:
        assert len(_suggestions(client)) == 5
    assert len(many) == len(one)


def test_a_refresh_waits_its_turn_behind_a_longer_refresh_instead_of_failing_on_the_lock_timeout():
    """Refreshes take turns on one advisory lock. One that waits longer than a request's
    ``lock_timeout`` (another refresh is slow, as under load) still runs once the lock is free,
    and the rest of its transaction gets the ordinary lock limit back."""
    import threading
    import time

    import psycopg
    from django.db import connection

    from exchange.profiles.suggestions import _LOCK_KEY

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('lock_timeout'), extract(epoch FROM current_setting('lock_timeout')::interval)"
        )
        setting, seconds = cursor.fetchone()
    assert 0 < float(seconds) < 10
    db = connection.settings_dict
    other = psycopg.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )
    other.execute("SELECT pg_advisory_lock(hashtext(%s))", [_LOCK_KEY])  # a refresh running elsewhere
    release = threading.Timer(float(seconds) + 1.5, lambda: other.execute("SELECT pg_advisory_unlock_all()"))
    release.start()
    try:
        started = time.monotonic()
        suggestions_refresh()
        waited = time.monotonic() - started
    finally:
        release.join()
        other.close()
    assert waited > float(seconds) + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        assert cursor.fetchone()[0] == setting
