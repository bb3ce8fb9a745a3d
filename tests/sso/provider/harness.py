"""Start the test OpenID Connect provider as a separate process, and sign people in at it.

``start_provider`` makes an RSA key for the run, picks a free port on loopback, starts
``tests/sso/provider/run.py`` (django-oauth-toolkit) with its own SQLite database and
waits until its discovery document answers. ``Provider.sign_in`` plays the person's
browser at the provider: it follows Corridor's redirect to the provider, types the user
name and password into the provider's sign-in form, and returns the address the provider
sends the browser back to (Corridor's callback, with the code and the state).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[3]
CLIENT_ID = "corridor-test-client"
CLIENT_SECRET = "corridor-test-secret-0123456789"
PASSWORD = "provider-password-1"

# The people the provider knows. Their groups are the role claim ("groups") Corridor maps.
PEOPLE = [
    {"username": "amina", "email": "amina.official@lavoro.gov.example", "groups": ["corridor-officials"]},
    {"username": "carlo", "email": "carlo.chief@lavoro.gov.example", "groups": ["corridor-admins", "staff"]},
    {"username": "nogroup", "email": "nora.nogroup@lavoro.gov.example", "groups": []},
    {"username": "eve", "email": "eve@webmail.example", "groups": ["corridor-officials"]},
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Provider:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/o"

    def sign_in(self, authorize_url: str, username: str, password: str = PASSWORD) -> str:
        """Follow the authorisation request as a browser would; return the redirect back to Corridor."""
        browser = httpx.Client(timeout=10, follow_redirects=False, trust_env=False)
        try:
            answer = browser.get(authorize_url)
            assert answer.status_code == 302, answer.text[:500]
            login_url = urljoin(self.base_url, answer.headers["location"])
            page = browser.get(login_url)
            assert page.status_code == 200, page.text[:500]
            token = browser.cookies["csrftoken"]
            next_url = httpx.URL(login_url).params["next"]
            answer = browser.post(
                login_url,
                data={"username": username, "password": password, "next": next_url, "csrfmiddlewaretoken": token},
                headers={"Referer": login_url},
            )
            assert answer.status_code == 302, answer.text[:500]
            answer = browser.get(urljoin(self.base_url, answer.headers["location"]))
            assert answer.status_code == 302, answer.text[:500]
            return str(answer.headers["location"])
        finally:
            browser.close()


def _rsa_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@contextmanager
def running_provider(workdir: Path, redirect_uris: list[str]) -> Iterator[Provider]:
    """The provider, up and answering, for the ``with`` block; stopped (by its own id) after."""
    port = free_port()
    log = workdir / "provider.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "PYTEST_"))
    }
    env.update(
        {
            "PROVIDER_PORT": str(port),
            "PROVIDER_DB": str(workdir / "provider.sqlite3"),
            "PROVIDER_ISSUER": f"http://127.0.0.1:{port}/o",
            "PROVIDER_RSA_KEY": _rsa_key(),
            "PROVIDER_FIXTURE": json.dumps(
                {
                    "people": [{**person, "password": PASSWORD} for person in PEOPLE],
                    "client": {
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        "redirect_uris": redirect_uris,
                    },
                }
            ),
            "PYTHONPATH": str(REPO),
        }
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.sso.provider.run"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    provider = Provider(port=port, process=process, log=log)
    try:
        _wait_until_up(provider)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(provider: Provider, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    url = f"{provider.issuer}/.well-known/openid-configuration"
    while time.monotonic() < deadline:
        if provider.process.poll() is not None:
            raise RuntimeError(f"The test provider stopped: {provider.log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"The test provider did not start in {seconds} s: {provider.log.read_text()[-3000:]}")
