"""Content-Security-Policy and the other security headers, on the pages people see.

The browser tests check the same headers on every page they visit and fail on any
CSP violation the browser reports (tests/browser/conftest.py); these tests are the
quick version, plus a look through the templates for inline code the policy would block.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# E-mail bodies are read in mail programs, which need inline styles and never see our headers.
EMAIL_TEMPLATES = ("email",)


def directives(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    parts = (part.strip().split() for part in header.split(";"))
    return {part[0]: part[1:] for part in parts if part}


def assert_secure(response: object, path: str) -> None:
    policy = directives(response)
    assert policy["script-src"] == ["'self'"], path
    assert policy["style-src"] == ["'self'"], path
    assert policy["default-src"] == ["'self'"], path
    assert policy["img-src"] == ["'self'", "data:"], path
    assert policy["object-src"] == ["'none'"], path
    assert policy["base-uri"] == ["'self'"], path
    assert policy["form-action"] == ["'self'"], path
    assert policy["frame-ancestors"] == ["'none'"], path
    assert not any("'unsafe-eval'" in values or "'unsafe-inline'" in values for values in policy.values()), path
    assert response["Referrer-Policy"] == "same-origin", path  # type: ignore[index]
    assert "camera=()" in response["Permissions-Policy"], path  # type: ignore[index]
    assert response["X-Frame-Options"] == "DENY", path  # type: ignore[index]


def inline_code(html: str) -> list[str]:
    """Inline scripts, event-handler attributes and style attributes in a page or template."""
    found = []
    for match in re.finditer(r"<script\b([^>]*)>", html):
        attributes = match.group(1)
        if "src=" not in attributes and "application/ld+json" not in attributes:
            found.append(match.group(0))
    found += re.findall(r"<[^>]+\son[a-z]+\s*=", html)
    found += re.findall(r"<[^>]+\sstyle\s*=", html)
    found += re.findall(r"<style\b", html)
    return found


@pytest.mark.parametrize(
    "path", ["/", "/public/listings/", "/accounts/login/", "/accounts/password-reset/", "/help/", "/api/docs/"]
)
def test_public_pages_carry_a_strict_policy(client: Client, path: str, db: None) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    assert_secure(response, path)


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/",
        "/accounts/profile/",
        "/accounts/2fa/setup/",
        "/accounts/organisation/",
        "/accounts/organisation/members/",
        "/listings/",
        "/inbox/",
        "/alerts/",
        "/matches/",
        "/corridors/",
    ],
)
def test_signed_in_pages_carry_a_strict_policy_and_no_inline_code(alice: User, path: str) -> None:
    response = signed_in(alice).get(path)
    assert response.status_code == 200, path
    assert_secure(response, path)
    assert inline_code(response.content.decode()) == [], path


def test_moderation_pages_carry_a_strict_policy(mona: User) -> None:
    response = signed_in(mona).get("/moderation/")
    assert response.status_code == 200
    assert_secure(response, "/moderation/")
    assert inline_code(response.content.decode()) == []


def test_no_template_has_inline_scripts_handlers_or_styles(db: None) -> None:
    offenders = {}
    for template in TEMPLATES.rglob("*.html"):
        if any(part in EMAIL_TEMPLATES for part in template.relative_to(TEMPLATES).parts):
            continue
        found = inline_code(template.read_text(encoding="utf-8"))
        if found:
            offenders[str(template.relative_to(TEMPLATES))] = found
    assert offenders == {}


def test_the_server_drawn_charts_use_classes_not_style_attributes(db: None) -> None:
    source = (Path(settings.BASE_DIR) / "config" / "charts.py").read_text(encoding="utf-8")
    assert "style=" not in source


def test_htmx_is_told_to_work_without_eval_or_injected_styles(client: Client, db: None) -> None:
    html = client.get("/").content.decode()
    assert '"allowEval":false' in html and '"includeIndicatorStyles":false' in html
    assert '"allowScriptTags":false' in html


def test_the_api_documentation_loads_its_script_from_a_file(client: Client, db: None) -> None:
    html = client.get("/api/docs/").content.decode()
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts and all("src=" in attributes for attributes in scripts)
    assert client.get("/api/docs/?script=").status_code == 200
