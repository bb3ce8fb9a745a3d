"""Browser tests: a real headless Chromium (Debian's package) driven by Playwright.

Every page a test visits through ``Visitor.go`` (or checks with ``Visitor.check``)
is held to the site's promises, in the browser, as a user would meet them:

* **Accessibility** — the vendored axe-core (tests/browser/vendor) runs on the page
  with the WCAG 2.0/2.1/2.2 A and AA rules; any *serious* or *critical* violation fails.
* **Weight** — the bytes Chromium received for the page and everything it loaded
  (HTML, CSS, JS, images, fonts; headers and bodies as sent, compressed or not) with
  the cache disabled, i.e. a first load with a cold cache, must stay within 150 KB.
  Bytes, not time: the figure is the same on every run.
* **Security headers** — the page came with a Content-Security-Policy whose
  ``script-src`` has neither ``'unsafe-inline'`` nor ``'unsafe-eval'`` (no directive
  has ``'unsafe-eval'``, ``style-src`` no ``'unsafe-inline'``), ``frame-ancestors
  'none'``, a ``Referrer-Policy`` and a ``Permissions-Policy``; and the browser
  reported no CSP violation on it (its console would say "Content Security Policy").
* **Figures** — with ``CORRIDOR_PAGE_WEIGHTS=<file>``, each page's byte count is
  appended to the file (for the README's figures).
* **Screenshots** — with ``CORRIDOR_SCREENSHOTS=<dir>`` (``make screenshots``),
  ``Visitor.check(screenshot="name")`` saves ``<dir>/name.png`` for docs/.

Chromium must be installed (``apt-get install -y chromium``; ``make test`` does it
when it can); a missing browser fails the run, it never skips.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

# Playwright's sync API runs an event loop in the test's thread; Django's ORM calls
# made by the test itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
PAGE_BUDGET_BYTES = 150 * 1024
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need a live server, hence real transactions (and the reference data back after)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail(f"Chromium is not installed at {path}: run 'apt-get install -y chromium' or set CHROMIUM_PATH.")
    return path


@pytest.fixture(scope="session")
def browser(django_db_setup: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    _keep_serialized_contents()  # before Playwright switches contexts

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Visitor:
    """One person in one browser context: navigates, and checks every page it sees."""

    def __init__(self, browser: Any, base_url: str, *, locale: str = "en-GB") -> None:
        self.base_url = base_url.rstrip("/")
        self.context = browser.new_context(
            base_url=self.base_url,
            locale=locale,
            extra_http_headers={"Accept-Language": locale},
            viewport={"width": 1100, "height": 760},
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self._bytes: dict[str, int] = {}
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        # Every load is a first load: nothing comes from the cache.
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.on("Network.loadingFinished", self._finished)
        self.console_errors: list[str] = []
        self.page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        self.pages_checked: list[str] = []
        self.document_headers: dict[str, str] = {}
        self.page.on("response", self._response)

    def _response(self, response: Any) -> None:
        request = response.request
        if request.resource_type == "document" and request.frame == self.page.main_frame:
            self.document_headers = {k.lower(): v for k, v in response.all_headers().items()}

    def _finished(self, event: dict[str, Any]) -> None:
        self._bytes[event["requestId"]] = int(event.get("encodedDataLength", 0))

    # --- Session --------------------------------------------------------------------

    def sign_in_as(self, user: Any) -> None:
        """A signed-in session without typing the password (the sign-in form has its own test).

        ``force_login`` (tests/conftest.py) gives a privileged person a session that
        has passed the second factor, as after typing a code.
        """
        client = Client()
        client.force_login(user)
        self.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": self.base_url}]
        )

    def sign_in_with_form(self, email: str, password: str, *, second_factor: bool = False) -> None:
        """The password step; with ``second_factor``, also the code step, typing the code
        the person's authenticator app shows now (computed from their device's key)."""
        self.go("/accounts/login/")
        self.page.get_by_label("E-mail").fill(email)
        self.page.get_by_label("Password").fill(password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Sign in").click()
        if second_factor:
            from django_otp.oath import totp
            from django_otp.plugins.otp_totp.models import TOTPDevice

            assert self.page.url.endswith("/accounts/login/verify/"), self.page.url
            device = TOTPDevice.objects.get(user__email__iexact=email, confirmed=True)
            code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
            self.page.get_by_label("Six-digit code").fill(f"{code:0{device.digits}d}")
            with self.page.expect_navigation():
                self.page.get_by_role("button", name="Verify the code").click()

    # --- Navigation and checks ----------------------------------------------------------

    def go(self, path: str, *, screenshot: str | None = None) -> Any:
        self.reset()
        response = self.page.goto(path)
        assert response is not None and response.status < 400, f"GET {path}: {response and response.status}"
        # The document's own headers, from goto's answer: the "response" event may not have
        # been dispatched yet when goto returns.
        self.document_headers = {k.lower(): v for k, v in response.all_headers().items()}
        self.check(screenshot=screenshot)
        return response

    def reset(self) -> None:
        """Start counting bytes afresh (call before an action that loads a new page)."""
        self._bytes.clear()

    def check(self, *, screenshot: str | None = None) -> None:
        """Axe, page weight and (optionally) a screenshot of the page now shown."""
        self.page.wait_for_load_state("load")
        self.assert_secure_headers()
        self.assert_accessible()
        self.assert_within_budget()
        if screenshot:
            self.screenshot(screenshot)
        self.pages_checked.append(self.page.url)

    def page_bytes(self) -> int:
        self.page.wait_for_load_state("networkidle")
        return sum(self._bytes.values())

    def assert_within_budget(self) -> None:
        total = self.page_bytes()
        record = os.environ.get("CORRIDOR_PAGE_WEIGHTS")  # a file: one "bytes url" line per page checked
        if record:
            with open(record, "a", encoding="utf-8") as handle:
                handle.write(f"{total} {self.page.url}\n")
        assert total <= PAGE_BUDGET_BYTES, f"{self.page.url} transferred {total} bytes (budget {PAGE_BUDGET_BYTES})"

    def assert_secure_headers(self) -> None:
        """The page's own response carried the security headers; no CSP violation so far."""
        url, headers = self.page.url, self.document_headers
        csp = headers.get("content-security-policy", "")
        directives = {part.split()[0]: part.split()[1:] for part in (p.strip() for p in csp.split(";")) if part}
        assert "script-src" in directives, f"{url}: no script-src in {csp!r}"
        assert "'unsafe-inline'" not in directives["script-src"], f"{url}: {csp!r}"
        assert "'unsafe-inline'" not in directives.get("style-src", []), f"{url}: {csp!r}"
        assert "'unsafe-eval'" not in csp, f"{url}: {csp!r}"
        assert directives.get("frame-ancestors") == ["'none'"], f"{url}: {csp!r}"
        assert directives.get("object-src") == ["'none'"], f"{url}: {csp!r}"
        assert headers.get("referrer-policy") == "same-origin", url
        assert "camera=()" in headers.get("permissions-policy", ""), url
        violations = [e for e in self.console_errors if "Content Security Policy" in e]
        assert not violations, f"{url}: {violations}"

    def axe_violations(self) -> list[dict[str, Any]]:
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, which the page's CSP does not
            # govern (a <script> tag with inline content would be refused, rightly).
            self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
        return [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]

    def assert_accessible(self) -> None:
        violations = self.axe_violations()
        report = "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
            for v in violations
        )
        assert not violations, f"axe-core on {self.page.url}:\n{report}"

    def screenshot(self, name: str) -> None:
        folder = os.environ.get("CORRIDOR_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor_factory(browser: Any, live_server: Any) -> Iterator[Any]:
    """``visitor_factory(locale="fr-FR")`` → a fresh ``Visitor`` (own cookies, cold cache)."""
    visitors: list[Visitor] = []

    def make(*, locale: str = "en-GB") -> Visitor:
        visitor = Visitor(browser, live_server.url, locale=locale)
        visitors.append(visitor)
        return visitor

    yield make
    for visitor in visitors:
        visitor.close()


def _keep_serialized_contents() -> None:
    """Keep the database snapshot of serialized rollback visible to every connection object.

    Playwright's sync API runs code in greenlets with their own context, where Django's
    context-local connection is a different object, without the snapshot taken at
    setup: every browser test after the first then restored an empty database (no
    reference data) whenever a non-browser test had run first. The snapshot moves to
    the connection class, which every connection object falls back to. Called once
    the test database exists, before Playwright starts.
    """
    from django.db import connections

    for conn in connections.all():
        contents = conn.__dict__.get("_test_serialized_contents")
        if contents:
            type(conn)._test_serialized_contents = contents


@pytest.fixture
def visitor(visitor_factory: Any) -> Visitor:
    return visitor_factory()
