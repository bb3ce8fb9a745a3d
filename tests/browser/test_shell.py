"""The shell every page shares: header, navigation, language, footer."""

from __future__ import annotations

from typing import Any


def test_signed_out_pages_link_sign_in_and_pass_axe_and_budget(visitor: Any) -> None:
    for path in ("/", "/public/listings/", "/help/", "/accounts/login/"):
        visitor.go(path, screenshot="shell-" + (path.strip("/").replace("/", "-") or "home"))
        assert visitor.page.get_by_role("link", name="Sign in").first.get_attribute("href") == "/accounts/login/"
        assert visitor.page.locator("html").get_attribute("lang") == "en"
    assert visitor.console_errors == []
