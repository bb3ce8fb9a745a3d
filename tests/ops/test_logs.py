"""Structured logs: JSON lines a collector can parse, each with the request id."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings


@pytest.fixture
def json_lines(settings) -> Iterator[io.StringIO]:
    """The site's LOGGING with LOG_FORMAT=json, writing to a buffer instead of stderr."""
    stream = io.StringIO()
    config = json.loads(json.dumps(settings.LOGGING))  # a copy, as dictConfig mutates it
    config["handlers"]["console"]["formatter"] = "json"
    config["handlers"]["console"]["stream"] = stream
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logging.config.dictConfig(config)
    try:
        yield stream
    finally:
        logging.config.dictConfig(settings.LOGGING)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_the_access_line_is_json_with_route_status_duration_and_request_id(json_lines, client, db):
    client.get("/help/", HTTP_X_REQUEST_ID="log-req-1")
    [line] = [line for line in parsed(json_lines) if line["logger"] == "corridor.access"]
    assert line["request_id"] == "log-req-1"
    assert line["method"] == "GET" and line["route"] == "/help/" and line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO" and "time" in line
    assert line["organisation_id"] is None


def test_the_access_line_names_the_organisation_but_never_the_person(json_lines, bob_api, bob, italy):
    bob_api.get("/api/v1/me/", HTTP_X_REQUEST_ID="log-req-2")
    [line] = [line for line in parsed(json_lines) if line["logger"] == "corridor.access"]
    assert line["organisation_id"] == str(italy.pk)
    assert line["route"] == "/api/v1/me/"
    raw = json_lines.getvalue()
    assert bob.email not in raw and bob.full_name not in raw


def test_every_line_written_during_a_request_carries_its_id(json_lines, client, db):
    client.get("/no-such-page/?email=someone@example.org", HTTP_X_REQUEST_ID="log-req-3")
    lines = parsed(json_lines)
    assert {line["logger"] for line in lines} >= {"corridor.access", "django.request"}
    assert {line["request_id"] for line in lines} == {"log-req-3"}
    assert not any("request" in line for line in lines)  # its repr would carry the query string
    assert "someone@example.org" not in json_lines.getvalue()


def test_a_line_outside_any_request_has_an_empty_request_id(json_lines):
    logging.getLogger("corridor.test").warning("Outside a request")
    [line] = parsed(json_lines)
    assert line == {**line, "message": "Outside a request", "request_id": "", "level": "WARNING"}


def test_development_logs_are_plain_text_by_default():
    assert settings.LOG_FORMAT == "plain"
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "plain"


def test_production_logs_are_json_lines_by_default():
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "DEBUG", "CORRIDOR_ENV")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "s" * 60,
        "ALLOWED_HOSTS": "corridor.example",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.LOG_FORMAT)"
    completed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert completed.stdout.strip() == "json", completed.stderr
