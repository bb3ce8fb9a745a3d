"""Settings read the environment through helpers that refuse bad values by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "value", "reader"),
    [
        ("DEBUG", "maybe", lambda: env.env_bool("DEBUG")),
        ("EMAIL_PORT", "smtp", lambda: env.env_int("EMAIL_PORT", 587)),
        ("CORRIDOR_ENV", "staging", lambda: env.env_choice("CORRIDOR_ENV", ("development", "production"), "x")),
        ("API_THROTTLE_USER", "lots", lambda: env.env_rate("API_THROTTLE_USER", "1000/hour")),
        ("REDIS_URL", "http://cache:6379", lambda: env.redis_url("REDIS_URL")),
    ],
)
def test_it_rejects_a_bad_value_naming_the_variable(monkeypatch, name, value, reader):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        reader()


def test_it_accepts_only_postgresql_urls():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.database_from_url("DATABASE_URL", "sqlite:///db.sqlite3")
    db = env.database_from_url("DATABASE_URL", "postgresql://root@127.0.0.1:5432/corridor")
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == ("127.0.0.1", "5432", "corridor", "root")
    socket = env.database_from_url("DATABASE_URL", "postgresql://postgres:@/corridor?host=/run/pg")
    assert socket["HOST"] == "/run/pg" and socket["OPTIONS"] == {}


def test_it_reads_comma_separated_hosts(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "corridor.example, api.corridor.example ,")
    assert env.env_list("ALLOWED_HOSTS") == ["corridor.example", "api.corridor.example"]


def _manage(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CORRIDOR_", "DJANGO_", "REDIS_URL"))}
    environment.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_the_production_profile_passes_the_deployment_checklist():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="x7!Rk2#pQ9@vL4$mN8^bT1&cW6*hJ3(zF5)dG0-sY7_eU2+aK9=",
        ALLOWED_HOSTS="corridor.example",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_the_production_profile_refuses_to_start_without_a_secret_key():
    result = _manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        ALLOWED_HOSTS="corridor.example",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_fall_back_to_the_embedded_database_or_inline_tasks():
    secrets = {"SECRET_KEY": "x7!Rk2#pQ9@vL4$mN8^bT1&cW6*hJ3(zF5)dG0-sY7_eU2+aK9=", "ALLOWED_HOSTS": "corridor.example"}
    no_redis = _manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", **secrets)
    assert no_redis.returncode != 0 and "REDIS_URL" in no_redis.stderr


def test_production_turns_on_https_and_hsts_where_debug_off_alone_does_not():
    code = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"  # noqa: E501
    dev = _manage("shell", "-c", code, DEBUG="0")
    assert dev.stdout.splitlines()[-1].split() == ["False", "False", "0"], dev.stderr
    prod = _manage(
        "shell",
        "-c",
        code,
        CORRIDOR_ENV="production",
        DEBUG="0",
        SECRET_KEY="x7!Rk2#pQ9@vL4$mN8^bT1&cW6*hJ3(zF5)dG0-sY7_eU2+aK9=",
        ALLOWED_HOSTS="corridor.example",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert prod.stdout.splitlines()[-1].split() == ["True", "True", "31536000"], prod.stderr
