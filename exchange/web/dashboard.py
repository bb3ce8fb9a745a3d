"""The alerts part of the dashboard (config/dashboard.py): unread notifications, failing webhooks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def section(request: HttpRequest) -> dict[str, Any] | None:
    return None
