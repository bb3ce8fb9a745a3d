"""The soak's load (``make soak``): people browsing, searching, posting and moderating.

Run by tools/soak/run.py, which seeds the data and passes the credentials in the
environment: API tokens for a destination government's official (posts listings),
the agency's moderator (approves them) and an origin government's official
(searches), and the demo password for signing in to the web pages.
"""

from __future__ import annotations

import datetime
import itertools
import os
import random

from locust import HttpUser, between, task

TODAY = datetime.datetime.now(tz=datetime.UTC).date()
_serial = itertools.count(1)
SEARCHES = ["harvest", "nurse", "construction", "seasonal", "care", "software", "farm", "hospitality"]


def _day(offset: int) -> str:
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def _token(name: str) -> dict[str, str]:
    return {"Authorization": f"Token {os.environ[name]}"}


class Browser(HttpUser):
    """An official reading the site in a browser: public pages, then signed-in ones."""

    weight = 3
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.client.get("/accounts/login/", name="/accounts/login/")
        csrf = self.client.cookies.get("csrftoken", "")
        self.client.post(
            "/accounts/login/",
            {"email": os.environ["SOAK_BROWSER_EMAIL"], "password": os.environ["SOAK_PASSWORD"]},
            headers={"X-CSRFToken": csrf, "Referer": f"{self.host}/accounts/login/"},
            name="/accounts/login/ (sign in)",
        )

    @task(3)
    def listings(self) -> None:
        self.client.get("/listings/", name="/listings/")

    @task(2)
    def public_pages(self) -> None:
        self.client.get("/", name="/")
        self.client.get("/public/listings/", name="/public/listings/")

    @task(1)
    def dashboard(self) -> None:
        self.client.get("/dashboard/", name="/dashboard/")

    @task(1)
    def help_page(self) -> None:
        self.client.get("/help/", name="/help/")


class Searcher(HttpUser):
    """A partner government's system searching the API."""

    weight = 2
    wait_time = between(0.5, 2)

    @task(3)
    def search(self) -> None:
        params = {"search": random.choice(SEARCHES), "page_size": 25}  # noqa: S311 - load, not security
        self.client.get(
            "/api/v1/listings/", params=params, headers=_token("SOAK_SEARCH_TOKEN"), name="/api/v1/listings/?search"
        )

    @task(1)
    def public_api(self) -> None:
        self.client.get("/api/v1/public/listings/", name="/api/v1/public/listings/")


class PosterAndModerator(HttpUser):
    """A destination government posts a scheme and submits it; the agency approves it.

    Each approval publishes the listing and fans out to the soak's webhook subscriptions.
    """

    weight = 1
    wait_time = between(1, 3)

    @task
    def post_submit_approve(self) -> None:
        n = next(_serial)
        payload = {
            "direction": "demand",
            "title": f"Soak seasonal harvest scheme {os.getpid()}-{n}",
            "summary": "Seasonal harvest contracts with return guaranteed (soak test).",
            "scheme_type": "seasonal",
            "starts_on": _day(60),
            "ends_on": _day(240),
            "application_deadline": _day(30),
            "partner_countries": [],
            "occupation_lines": [{"isco_code": "9211", "quantity": 10 + n % 50, "languages": []}],
        }
        poster = _token("SOAK_POSTER_TOKEN")
        created = self.client.post("/api/v1/listings/", json=payload, headers=poster, name="/api/v1/listings/ (post)")
        if created.status_code != 201:
            return
        listing = created.json()["id"]
        submitted = self.client.post(
            f"/api/v1/listings/{listing}/submit/", headers=poster, name="/api/v1/listings/[id]/submit/"
        )
        if submitted.status_code != 200:
            return
        self.client.post(
            f"/api/v1/listings/{listing}/approve/",
            headers=_token("SOAK_MODERATOR_TOKEN"),
            name="/api/v1/listings/[id]/approve/",
        )
