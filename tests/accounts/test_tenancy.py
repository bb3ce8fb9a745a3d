"""The scope lifecycle: one boundary enters and leaves the tenant scope, whatever happens inside.

After every request, streamed body and task, the thread's django-scopes state is
the very object it was before (``state.get()`` compared by identity), also when
the work raised. ``SEEN`` (in the failing URLconf) proves the scope was on inside.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django_scopes import ScopeError, get_scope, scope
from django_scopes.state import state

from accounts.models import Membership
from accounts.tenancy import Actor, OrganisationTask, tenant_boundary, tenant_scope, unscoped
from config.celery import app
from tests.config import urls_failing
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

FAILING = "tests.config.urls_failing"


@pytest.fixture(autouse=True)
def _fresh_seen() -> None:
    urls_failing.SEEN.clear()


STARTING_STATES = ["no scope", "an outer scope"]


@contextmanager
def starting_from(kind: str) -> Iterator[Any]:
    """The thread's state before the work: none, or some outer scope of its own. Yields that state.

    Not a fixture: fixture setup runs unscoped (tests/conftest.py), so the state
    must be entered in the test body itself.
    """
    if kind == "no scope":
        yield state.get()
        return
    with scope(organisation="outer"):
        yield state.get()


@pytest.mark.parametrize("kind", STARTING_STATES)
def test_the_boundary_restores_the_state_when_its_block_raises(alice, italy, kind):
    with starting_from(kind) as before:
        with pytest.raises(RuntimeError), tenant_boundary(Actor(user=alice, organisation=italy, role="admin")):
            assert get_scope()["organisation"] == italy.pk
            raise RuntimeError("boom")
        assert state.get() is before


@pytest.mark.parametrize("kind", STARTING_STATES)
def test_the_boundary_restores_a_scope_entered_by_hand_and_never_left(alice, italy, kind):
    with starting_from(kind) as before:
        with tenant_boundary():
            tenant_scope(Actor(user=alice, organisation=italy, role="admin")).__enter__()
        assert state.get() is before


def test_a_boundary_activates_one_actor_only(alice, italy, charlie, morocco):
    with tenant_boundary(Actor(user=alice, organisation=italy, role="admin")) as boundary, pytest.raises(RuntimeError):
        boundary.activate(Actor(user=charlie, organisation=morocco, role="admin"))


@pytest.mark.urls(FAILING)
@pytest.mark.parametrize("kind", STARTING_STATES)
def test_an_api_view_that_raises_is_a_500_and_leaves_the_scope_as_it_was(alice_api, italy, kind):
    with starting_from(kind) as before:
        alice_api.raise_request_exception = False
        response = alice_api.get("/api/v1/explode-in-scope/")
        assert response.status_code == 500
        assert [{"_enabled": True, "organisation": italy.pk}] == urls_failing.SEEN
        assert state.get() is before


@pytest.mark.urls(FAILING)
@pytest.mark.parametrize("kind", STARTING_STATES)
def test_an_anonymous_api_view_that_raises_leaves_the_scope_as_it_was(anon_api, kind):
    with starting_from(kind) as before:
        anon_api.raise_request_exception = False
        assert anon_api.get("/api/v1/explode-in-scope/").status_code == 500
        assert urls_failing.SEEN == [{"_enabled": True, "organisation": []}]
        assert state.get() is before


@pytest.mark.urls(FAILING)
def test_the_next_request_on_the_thread_does_not_inherit_the_failed_callers_scope(alice_api, charlie_api, morocco):
    alice_api.raise_request_exception = False
    assert alice_api.get("/api/v1/explode-in-scope/").status_code == 500
    with pytest.raises(ScopeError):
        list(Membership.objects.all())
    charlie_api.raise_request_exception = False
    assert charlie_api.get("/api/v1/explode-in-scope/").status_code == 500
    assert urls_failing.SEEN[-1]["organisation"] == morocco.pk


@pytest.mark.urls(FAILING)
@pytest.mark.parametrize("url", ["/explode/page/", "/explode/public/"])
@pytest.mark.parametrize("kind", STARTING_STATES)
def test_a_page_that_raises_is_a_500_and_leaves_the_scope_as_it_was(url, alice, italy, kind):
    with starting_from(kind) as before:
        client = signed_in(alice)
        client.raise_request_exception = False
        response = client.get(url)
        assert response.status_code == 500
        assert [{"_enabled": True, "organisation": italy.pk}] == urls_failing.SEEN
        assert state.get() is before


@pytest.mark.urls(FAILING)
@pytest.mark.parametrize("url", ["/explode/stream/", "/api/v1/explode-mid-stream/"])
@pytest.mark.parametrize("kind", STARTING_STATES)
def test_a_stream_that_raises_mid_body_is_scoped_per_chunk_and_leaves_the_scope_as_it_was(url, alice, italy, kind):
    with starting_from(kind) as before:
        client = signed_in(alice)
        response = client.get(url)
        assert response.status_code == 200 and response.streaming
        assert state.get() is before  # the body has not started: nothing is held open for it
        chunks = iter(response.streaming_content)
        assert b"column" in next(chunks)
        assert b"first row" in next(chunks)
        assert state.get() is before  # between chunks the scope is left, not held across the yield
        with pytest.raises(RuntimeError, match="mid-stream"):
            next(chunks)
        assert [{"_enabled": True, "organisation": italy.pk}] * 2 == urls_failing.SEEN
        assert state.get() is before
        response.close()
        assert state.get() is before


@app.task(base=OrganisationTask, name="tests.scoped_probe")
def scoped_probe(*, organisation_id: str, fail: bool = False) -> dict[str, Any]:
    seen = dict(get_scope())
    with unscoped("the probe counts what the scope lets it see, to compare"):
        everyone = Membership.objects.count()
    mine = Membership.objects.count()  # the task's scope filters this to its organisation
    if fail:
        raise RuntimeError("task boom")
    return {"organisation": str(seen["organisation"]), "mine": mine, "everyone": everyone}


@pytest.mark.parametrize("kind", STARTING_STATES)
def test_an_organisation_task_runs_in_that_organisations_scope(alice, bob, charlie, italy, kind):
    with starting_from(kind) as before:
        result = scoped_probe.apply(kwargs={"organisation_id": str(italy.pk)}).get()
        assert result == {"organisation": str(italy.pk), "mine": 2, "everyone": 3}
        assert state.get() is before


@pytest.mark.parametrize("kind", STARTING_STATES)
def test_an_organisation_task_that_raises_leaves_the_scope_as_it_was(alice, italy, kind):
    with starting_from(kind) as before:
        outcome = scoped_probe.apply(kwargs={"organisation_id": str(italy.pk), "fail": True}, throw=False)
        assert outcome.failed() and isinstance(outcome.result, RuntimeError)
        assert state.get() is before
        with pytest.raises(RuntimeError, match="task boom"):
            scoped_probe(organisation_id=str(italy.pk), fail=True)
        assert state.get() is before


@pytest.mark.parametrize("kind", STARTING_STATES)
def test_an_organisation_task_refuses_to_run_without_its_organisation(kind):
    with starting_from(kind) as before:
        with pytest.raises(TypeError, match="organisation_id"):
            scoped_probe()
        assert state.get() is before
