"""Refusals and missing pages are explained in the site's own design, in the user's language."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_a_page_that_does_not_exist_explains_itself(client: Any) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert 'href="/accounts/login/"' in html  # the shell, with its sign-in link


def test_a_refused_page_names_the_rule(client: Any, bob: Any) -> None:
    client.force_login(bob)  # an official, not an admin
    response = client.get("/accounts/organisation/members/")
    assert response.status_code == 403
    assert "<h1>You cannot do this</h1>" in response.content.decode()


def test_the_server_error_page_renders_without_a_request_context() -> None:
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Sorry, there is a problem with the service" in html
    assert 'lang="fr"' in html
